"""Reads through HTTP: query counts, activities paging, privacy, phone links, node lookups."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from orm import models as m
from resolvers import followups
from tests.helpers import QueryCounter, associate, client_for, gid

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
WEEK = {"from": "2026-03-01T00:00:00Z", "to": "2026-04-30T00:00:00Z"}
DIARY = """query($ids: [ID!]!, $from: DateTime!, $to: DateTime!) {
  diary(associateIds: $ids, from: $from, to: $to) {
    id title start end redacted owner { name userGroup { name } timeZone }
    company { name phones { link } } person { fullName emails phones { dial link } }
    type { name colour } sale { title company { name } } project { name }
  }
}"""


async def _seed(owner: m.Associate, count: int) -> None:
    kind = await m.ActivityType.create(name="Meeting")
    for i in range(count):
        company = await m.Company.create(name=f"C{i}", country="NO")
        person = await m.Person.create(first_name="P", last_name=str(i), company=company)
        await m.EmailAddress.create(person=person, address=f"p{i}@x.example")
        await m.PhoneNumber.create(person=person, number="22 33 44 55")
        sale = await m.Sale.create(title=f"S{i}", company=company)
        project = await m.Project.create(name=f"Pr{i}")
        await followups.create(
            owner,
            {
                "title": f"M{i}",
                "start_at": T0 + timedelta(hours=i),
                "type_id": kind.id,
                "company_id": company.id,
                "person_id": person.id,
                "sale_id": sale.id,
                "project_id": project.id,
            },
        )


async def _diary_queries(http: Any, count: int) -> int:
    group = await m.UserGroup.create(name=f"G{count}")
    owner = await associate(f"Owner{count}", group=group)
    await _seed(owner, count)
    gql = await client_for(http, owner)
    with QueryCounter() as counter:
        data = await gql(DIARY, {"ids": [gid("Associate", owner.id)], **WEEK})
    assert len(data["diary"]) == count
    assert data["diary"][0]["person"]["phones"][0]["dial"] == "+4722334455"
    return counter.count


async def test_sql_queries_do_not_grow_with_items(http: Any) -> None:
    small = await _diary_queries(http, 10)
    large = await _diary_queries(http, 200)
    assert small == large, f"{small} queries for 10 items, {large} for 200"


async def test_activities_pages_with_cursor(http: Any) -> None:
    owner = await associate("Ann")
    company = await m.Company.create(name="Acme")
    for i in range(5):
        await followups.create(
            owner, {"title": f"M{i}", "company_id": company.id, "start_at": T0 + timedelta(days=i)}
        )
    await followups.create(
        owner,
        {
            "title": "T",
            "kind": m.Kind.TASK,
            "company_id": company.id,
            "deadline": T0 + timedelta(days=10),
        },
    )
    await followups.create(owner, {"title": "other", "start_at": T0})
    gql = await client_for(http, owner)
    query = """query($c: ID!, $after: String) {
      activities(companyId: $c, first: 4, after: $after) {
        totalCount pageInfo { hasNextPage endCursor } nodes { title kind }
      }
    }"""
    first = (await gql(query, {"c": gid("Company", company.id)}))["activities"]
    assert first["totalCount"] == 6 and first["pageInfo"]["hasNextPage"]
    assert [n["title"] for n in first["nodes"]] == ["T", "M4", "M3", "M2"]
    cursor = first["pageInfo"]["endCursor"]
    second = (await gql(query, {"c": gid("Company", company.id), "after": cursor}))["activities"]
    assert [n["title"] for n in second["nodes"]] == ["M1", "M0"]
    assert not second["pageInfo"]["hasNextPage"]
    bad = await gql.raw(query, {"c": gid("Company", company.id), "after": "!!"})
    assert bad["errors"][0]["extensions"]["code"] == "VALIDATION"


async def test_private_follow_up_is_busy_only_for_others(http: Any) -> None:
    owner = await associate("Ann")
    other = await associate("Bob")
    company = await m.Company.create(name="Secret AS")
    await followups.create(
        owner,
        {
            "title": "Dentist",
            "private": True,
            "agenda": "molar",
            "company_id": company.id,
            "start_at": T0,
        },
    )
    query = """query($ids: [ID!]!, $from: DateTime!, $to: DateTime!) {
      diary(associateIds: $ids, from: $from, to: $to) {
        title agenda company { name } redacted start
      }
    }"""
    variables = {"ids": [gid("Associate", owner.id)], **WEEK}
    mine = (await (await client_for(http, owner))(query, variables))["diary"][0]
    assert mine["title"] == "Dentist" and mine["company"]["name"] == "Secret AS"
    theirs = (await (await client_for(http, other))(query, variables))["diary"][0]
    assert theirs == {
        "title": None,
        "agenda": None,
        "company": None,
        "redacted": True,
        "start": mine["start"],
    }


async def test_others_cannot_change_a_follow_up(http: Any) -> None:
    owner = await associate("Ann")
    other = await associate("Bob")
    public = await followups.create(owner, {"title": "Open", "start_at": T0})
    private = await followups.create(owner, {"title": "Hidden", "start_at": T0, "private": True})
    gql = await client_for(http, other)
    update = """mutation($id: ID!) { updateFollowUp(id: $id, version: 1, input: {title: "x"}) {
      errors { code } } }"""
    result = await gql(update, {"id": gid("FollowUp", public.id)})
    assert result["updateFollowUp"]["errors"] == [{"code": "FORBIDDEN"}]
    result = await gql(update, {"id": gid("FollowUp", private.id)})
    assert result["updateFollowUp"]["errors"] == [{"code": "NOT_FOUND"}]
    assert (await m.FollowUp.get(id=public.id)).title == "Open"


@pytest.mark.parametrize(
    ("link_format", "expected"),
    [
        ("tel:%p", "tel:+4722334455"),
        ("callto:%p", "callto:+4722334455"),
        ("facetime:%p", "facetime:+4722334455"),
        (
            "domycall:%p?who={fullName}&co={companyName}",
            "domycall:+4722334455?who=Kari%20Nordmann&co=Acme%20AS",
        ),
    ],
)
async def test_phone_links_follow_the_format(http: Any, link_format: str, expected: str) -> None:
    me = await associate("Ann")
    await m.Preference.create(
        key="PHONE_LINK_FORMAT",
        scope=m.PreferenceScope.ASSOCIATE,
        scope_key=f"associate:{me.id}",
        value=link_format,
    )
    acme = await m.Company.create(name="Acme AS", country="NO")
    kari = await m.Person.create(first_name="Kari", last_name="Nordmann", company=acme)
    await m.PhoneNumber.create(person=kari, number="22 33 44 55")
    await m.PhoneNumber.create(
        person=kari, number="(555) 0100-99", kind=m.PhoneKind.MOBILE, position=1
    )
    gql = await client_for(http, me)
    data = await gql(
        "query($id: ID!) { node(id: $id) { ... on Person { phones { kind dial link } } } }",
        {"id": gid("Person", kari.id)},
    )
    phones = data["node"]["phones"]
    assert phones[0]["link"] == expected
    assert phones[1]["dial"] == "555010099"  # not a valid NO number: digits only


async def test_call_phone_creates_a_made_call(http: Any) -> None:
    me = await associate("Ann")
    acme = await m.Company.create(name="Acme AS", country="NO")
    kari = await m.Person.create(first_name="Kari", last_name="Nordmann", company=acme)
    phone = await m.PhoneNumber.create(
        person=kari, number="+47 912 34 567", kind=m.PhoneKind.MOBILE
    )
    gql = await client_for(http, me)
    data = await gql(
        """mutation($p: ID!) { callPhone(phoneId: $p) {
        link followUp { kind title durationMinutes person { fullName } company { name } }
        errors { code } } }""",
        {"p": gid("PhoneNumber", phone.id)},
    )
    call = data["callPhone"]
    assert call["link"] == "tel:+4791234567"
    assert call["followUp"] == {
        "kind": "CALL",
        "title": "Call Kari Nordmann",
        "durationMinutes": 15,
        "person": {"fullName": "Kari Nordmann"},
        "company": {"name": "Acme AS"},
    }


async def test_lists_and_node_lookup(http: Any) -> None:
    group = await m.UserGroup.create(name="Support")
    me = await associate("Ann", group=group)
    await associate("Bob")
    rooms = await m.ResourceGroup.create(name="Rooms")
    await m.Resource.create(name="Fjord", group=rooms)
    await m.Resource.create(name="Projector", kind=m.ResourceKind.EQUIPMENT)
    gql = await client_for(http, me)
    data = await gql(
        """query($g: ID!, $r: ID!) {
      associates(userGroupId: $g) { nodes { name } }
      all: associates { totalCount }
      resources(resourceGroupId: $r) { nodes { name kind } }
      userGroups { name } activityTypes { name }
      companies { totalCount } persons { totalCount } projects { totalCount }
      sales { totalCount } selections { totalCount } resourceGroups { name }
    }""",
        {"g": gid("UserGroup", group.id), "r": gid("ResourceGroup", rooms.id)},
    )
    assert data["associates"]["nodes"] == [{"name": "Ann"}]
    assert data["all"]["totalCount"] == 2
    assert data["resources"]["nodes"] == [{"name": "Fjord", "kind": "ROOM"}]
    node = await gql(
        "query($id: ID!) { node(id: $id) { id ... on Associate { name } } }",
        {"id": gid("Associate", me.id)},
    )
    assert node["node"]["name"] == "Ann"
    missing = await gql("query($id: ID!) { node(id: $id) { id } }", {"id": gid("Associate", 999)})
    assert missing["node"] is None


async def test_window_limits_are_typed_errors(http: Any) -> None:
    me = await associate("Ann")
    gql = await client_for(http, me)
    query = """query($ids: [ID!]!, $from: DateTime!, $to: DateTime!) {
      diary(associateIds: $ids, from: $from, to: $to) { id } }"""
    ids = [gid("Associate", me.id)]
    backwards = await gql.raw(
        query, {"ids": ids, "from": "2026-03-02T00:00:00Z", "to": "2026-03-01T00:00:00Z"}
    )
    assert backwards["errors"][0]["extensions"]["code"] == "VALIDATION"
    huge = await gql.raw(
        query, {"ids": ids, "from": "2020-01-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"}
    )
    assert "at most" in huge["errors"][0]["message"]
