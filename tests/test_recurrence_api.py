"""Recurring follow-ups through GraphQL: DST, occurrences, edit scopes and limits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from orm import models as m
from tests.helpers import associate, client_for, gid, snapshot

CREATE = """mutation($input: FollowUpInput!) { createFollowUp(input: $input) {
  followUp { id seriesId version
    recurrence { rrule freq interval byDay count until summary timeZone } }
  errors { code message path } } }"""
DIARY = """query($ids: [ID!]!, $from: DateTime!, $to: DateTime!) {
  diary(associateIds: $ids, from: $from, to: $to) { id seriesId recurrenceId start end title } }"""
UPDATE = """mutation($id: ID!, $v: Int!, $input: FollowUpInput!, $scope: EditScope!) {
  updateFollowUp(id: $id, version: $v, input: $input, scope: $scope) {
    followUp { id seriesId start end title version } errors { code message path } } }"""
DELETE = """mutation($id: ID!, $scope: EditScope!) { deleteFollowUp(id: $id, scope: $scope) {
  deletedId errors { code message } } }"""


def z(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


@pytest.fixture
async def oslo(db: str) -> m.Associate:
    me = await associate("Ola")
    await m.Preference.create(
        key="TIME_ZONE",
        scope=m.PreferenceScope.ASSOCIATE,
        scope_key=f"associate:{me.id}",
        value="Europe/Oslo",
    )
    return me


@pytest.fixture
async def gql(http: Any, oslo: m.Associate) -> Any:
    return await client_for(http, oslo)


async def _diary(gql: Any, who: m.Associate, lo: str, hi: str) -> list[dict[str, Any]]:
    data = await gql(DIARY, {"ids": [gid("Associate", who.id)], "from": lo, "to": hi})
    return list(data["diary"])


async def _weekly(gql: Any, **recurrence: Any) -> dict[str, Any]:
    # Monday 2026-03-16 09:00 Oslo (CET, +01:00); DST starts 2026-03-29.
    result = await gql(
        CREATE,
        {
            "input": {
                "title": "Standup",
                "start": "2026-03-16T09:00:00+01:00",
                "recurrence": recurrence,
            }
        },
    )
    assert not result["createFollowUp"]["errors"], result
    return dict(result["createFollowUp"]["followUp"])


async def test_weekly_series_stays_at_local_time_across_dst(gql: Any, oslo: m.Associate) -> None:
    series = await _weekly(gql, freq="WEEKLY", byDay=["MO"], count=4)
    assert series["recurrence"]["rrule"] == "FREQ=WEEKLY;COUNT=4;BYDAY=MO"
    assert series["recurrence"]["summary"]
    assert series["recurrence"]["timeZone"] == "Europe/Oslo"
    items = await _diary(gql, oslo, "2026-03-01T00:00:00Z", "2026-05-01T00:00:00Z")
    assert [i["start"] for i in items] == [
        "2026-03-16T08:00:00+00:00",
        "2026-03-23T08:00:00+00:00",
        "2026-03-30T07:00:00+00:00",
        "2026-04-06T07:00:00+00:00",
    ]
    assert len({i["id"] for i in items}) == 4 and {i["seriesId"] for i in items} == {series["id"]}


async def test_rrule_text_with_trailing_semicolon_is_accepted(gql: Any) -> None:
    series = await _weekly(gql, rrule="FREQ=MONTHLY;BYDAY=-1FR;INTERVAL=1;")
    assert series["recurrence"]["freq"] == "MONTHLY"
    assert series["recurrence"]["byDay"] == ["-1FR"]


@pytest.mark.parametrize(
    "recurrence",
    [
        {"rrule": "FREQ=FORTNIGHTLY"},
        {"rrule": "FREQ=MONTHLY;BYSETPOS=-1"},
        {"rrule": "FREQ=DAILY;COUNT=3;UNTIL=20260401T000000Z"},
        {"rrule": "FREQ=DAILY;UNTIL=20260101T000000Z"},
        {"freq": "WEEKLY", "byDay": ["XX"]},
        {"freq": "DAILY", "interval": 0},
        {},
    ],
)
async def test_invalid_rules_are_rejected(gql: Any, recurrence: dict[str, Any]) -> None:
    before = await snapshot()
    result = await gql(
        CREATE, {"input": {"title": "x", "start": "2026-03-16T09:00:00Z", "recurrence": recurrence}}
    )
    errors = result["createFollowUp"]["errors"]
    assert errors and errors[0]["code"] == "VALIDATION" and errors[0]["path"][0] == "recurrence"
    assert await snapshot() == before


async def test_move_one_occurrence_only(gql: Any, oslo: m.Associate) -> None:
    series = await _weekly(gql, freq="WEEKLY", count=4)
    items = await _diary(gql, oslo, "2026-03-01T00:00:00Z", "2026-05-01T00:00:00Z")
    second = items[1]
    moved = await gql(
        UPDATE,
        {
            "id": second["id"],
            "v": series["version"],
            "scope": "THIS",
            "input": {"start": "2026-03-24T13:00:00+01:00", "title": "Moved"},
        },
    )
    assert not moved["updateFollowUp"]["errors"], moved
    after = await _diary(gql, oslo, "2026-03-01T00:00:00Z", "2026-05-01T00:00:00Z")
    assert [(i["start"], i["title"]) for i in after] == [
        ("2026-03-16T08:00:00+00:00", "Standup"),
        ("2026-03-24T12:00:00+00:00", "Moved"),
        ("2026-03-30T07:00:00+00:00", "Standup"),
        ("2026-04-06T07:00:00+00:00", "Standup"),
    ]
    assert after[1]["id"] == second["id"], "an occurrence keeps its ID (series + original start)"
    node = await gql(
        "query($id: ID!) { node(id: $id) { ... on FollowUp { title start } } }",
        {"id": second["id"]},
    )
    assert node["node"] == {"title": "Moved", "start": "2026-03-24T12:00:00+00:00"}


async def test_this_and_following_splits_the_series(gql: Any, oslo: m.Associate) -> None:
    series = await _weekly(gql, freq="WEEKLY", count=5)
    items = await _diary(gql, oslo, "2026-03-01T00:00:00Z", "2026-05-01T00:00:00Z")
    await gql(
        UPDATE, {"id": items[3]["id"], "v": 1, "scope": "THIS", "input": {"title": "Special"}}
    )
    result = await gql(
        UPDATE,
        {"id": items[2]["id"], "v": 2, "scope": "FOLLOWING", "input": {"title": "Standup v2"}},
    )
    assert not result["updateFollowUp"]["errors"], result
    after = await _diary(gql, oslo, "2026-03-01T00:00:00Z", "2026-05-01T00:00:00Z")
    assert [i["title"] for i in after] == [
        "Standup",
        "Standup",
        "Standup v2",
        "Special",
        "Standup v2",
    ]
    assert [i["start"] for i in after] == [i["start"] for i in items]
    old_ids = {i["seriesId"] for i in after[:2]}
    new_ids = {i["seriesId"] for i in after[2:]}
    assert old_ids == {series["id"]} and len(new_ids) == 1 and new_ids != old_ids


async def test_whole_series_change_keeps_matching_overrides(gql: Any, oslo: m.Associate) -> None:
    await _weekly(gql, freq="WEEKLY", count=3)
    items = await _diary(gql, oslo, "2026-03-01T00:00:00Z", "2026-05-01T00:00:00Z")
    await gql(
        UPDATE,
        {"id": items[1]["id"], "v": 1, "scope": "THIS", "input": {"agenda": "x", "title": "Own"}},
    )
    await gql(UPDATE, {"id": items[0]["id"], "v": 2, "scope": "ALL", "input": {"title": "Renamed"}})
    after = await _diary(gql, oslo, "2026-03-01T00:00:00Z", "2026-05-01T00:00:00Z")
    assert [i["title"] for i in after] == ["Renamed", "Own", "Renamed"]
    moved = await gql(
        UPDATE,
        {
            "id": items[0]["id"],
            "v": 3,
            "scope": "ALL",
            "input": {"start": "2026-03-16T10:00:00+01:00"},
        },
    )
    assert not moved["updateFollowUp"]["errors"]
    later = await _diary(gql, oslo, "2026-03-01T00:00:00Z", "2026-05-01T00:00:00Z")
    assert [(i["start"][11:16], i["title"]) for i in later] == [
        ("09:00", "Renamed"),
        ("09:00", "Renamed"),
        ("08:00", "Renamed"),
    ], "overrides of 09:00 occurrences no longer match the 10:00 series and are dropped"


async def test_delete_scopes(gql: Any, oslo: m.Associate) -> None:
    await _weekly(gql, freq="WEEKLY", count=5)
    window = ("2026-03-01T00:00:00Z", "2026-05-01T00:00:00Z")
    items = await _diary(gql, oslo, *window)
    await gql(DELETE, {"id": items[1]["id"], "scope": "THIS"})
    assert len(await _diary(gql, oslo, *window)) == 4
    await gql(DELETE, {"id": items[3]["id"], "scope": "FOLLOWING"})
    assert [i["id"] for i in await _diary(gql, oslo, *window)] == [items[0]["id"], items[2]["id"]]
    gone = await gql(DELETE, {"id": items[1]["id"], "scope": "THIS"})
    assert gone["deleteFollowUp"]["errors"][0]["code"] == "NOT_FOUND"
    await gql(DELETE, {"id": items[0]["id"], "scope": "ALL"})
    assert await _diary(gql, oslo, *window) == []
    assert await m.FollowUp.all().count() == 0


async def test_completing_a_recurring_task_occurrence(gql: Any) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    result = await gql(
        CREATE,
        {
            "input": {
                "kind": "TASK",
                "title": "Report",
                "deadline": z(now + timedelta(days=1)),
                "recurrence": {"freq": "DAILY", "count": 3},
            }
        },
    )
    assert not result["createFollowUp"]["errors"], result
    todo = (await gql("{ todo { id title deadline done } }"))["todo"]
    assert len(todo) == 3
    done = await gql(
        "mutation($id: ID!) { completeFollowUp(id: $id) { followUp { done } errors { code } } }",
        {"id": todo[0]["id"]},
    )
    assert done["completeFollowUp"]["followUp"]["done"] is True
    left = (await gql("{ todo { id } }"))["todo"]
    assert [t["id"] for t in left] == [t["id"] for t in todo[1:]]


async def test_activities_list_occurrences_in_a_window(gql: Any, oslo: m.Associate) -> None:
    company = await m.Company.create(name="Acme")
    result = await gql(
        CREATE,
        {
            "input": {
                "title": "Review",
                "start": "2026-03-02T09:00:00Z",
                "companyId": gid("Company", company.id),
                "recurrence": {"freq": "WEEKLY", "count": 10},
            }
        },
    )
    assert not result["createFollowUp"]["errors"]
    query = """query($c: ID!, $from: DateTime, $to: DateTime, $after: String) {
      activities(companyId: $c, from: $from, to: $to, first: 2, after: $after) {
        totalCount pageInfo { hasNextPage endCursor } nodes { id start } } }"""
    whole = (await gql(query, {"c": gid("Company", company.id)}))["activities"]
    assert whole["totalCount"] == 1, "without a window a series is listed once"
    window = {
        "c": gid("Company", company.id),
        "from": "2026-03-01T00:00:00Z",
        "to": "2026-03-25T00:00:00Z",
    }
    page = (await gql(query, window))["activities"]
    assert page["totalCount"] == 4 and page["pageInfo"]["hasNextPage"]
    assert [n["start"][:10] for n in page["nodes"]] == ["2026-03-23", "2026-03-16"]
    rest = (await gql(query, {**window, "after": page["pageInfo"]["endCursor"]}))["activities"]
    assert [n["start"][:10] for n in rest["nodes"]] == ["2026-03-09", "2026-03-02"]
    assert not rest["pageInfo"]["hasNextPage"]
