"""The invitation dialog's ``candidates`` connection: search in SQL, paging both ways."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from orm import models as m
from tests.helpers import associate, client_for, gid
from tests.test_participants import T0, meeting, world  # noqa: F401 (fixture)
from tests.test_recurrence_api import z

QUERY = """query($s: CandidateSource!, $start: DateTime!, $end: DateTime!, $q: String, $c: ID,
  $pr: ID, $first: Int, $after: String, $last: Int, $before: String) {
  candidates(source: $s, start: $start, end: $end, search: $q, companyId: $c, projectId: $pr,
             first: $first, after: $after, last: $last, before: $before) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    nodes { name email busy } } }"""
BASE = {"start": z(T0), "end": z(T0 + timedelta(hours=1))}


def _names(got: dict[str, Any]) -> list[str]:
    return [n["name"] for n in got["candidates"]["nodes"]]


async def test_search_matches_every_word_in_names_and_addresses(
    http: Any,
    world: dict[str, Any],  # noqa: F811
) -> None:
    gql = await client_for(http, world["ann"])
    acme = gid("Company", world["acme"].id)
    contacts = {**BASE, "s": "CONTACTS", "c": acme}
    assert _names(await gql(QUERY, {**contacts, "q": "kAR"})) == ["Kari K"]
    assert _names(await gql(QUERY, {**contacts, "q": "acme.example"})) == ["Kari K"]  # e-mail
    assert _names(await gql(QUERY, {**contacts, "q": "ola o"})) == ["Ola O"]  # both words
    assert _names(await gql(QUERY, {**contacts, "q": "kari ola"})) == []
    assert _names(await gql(QUERY, {**contacts, "q": "  "})) == ["Kari K", "Ola O"]
    for wildcard in ("%", "_", "K%", "\\"):  # LIKE's metacharacters match themselves only
        assert _names(await gql(QUERY, {**contacts, "q": wildcard})) == [], wildcard
    rooms = await gql(QUERY, {**BASE, "s": "RESOURCES", "q": "OAR"})
    assert _names(rooms) == ["Board"]
    team = await gql(
        QUERY, {**BASE, "s": "PROJECT", "pr": gid("Project", world["project"].id), "q": "bo"}
    )
    assert _names(team) == ["Bob"]


async def test_bad_search_text_is_a_typed_error(http: Any, world: dict[str, Any]) -> None:  # noqa: F811
    gql = await client_for(http, world["ann"])
    for bad in ("a\x00b", "x" * 201):
        answer = await gql.raw(QUERY, {**BASE, "s": "ASSOCIATES", "q": bad})
        (error,) = answer["errors"]
        assert error["extensions"]["code"] == "VALIDATION" and error["path"] == ["candidates"]


async def test_pages_forward_and_backward_with_busy_for_the_page(http: Any, db: str) -> None:
    people = [await associate(f"Person {i:02d}") for i in range(25)]
    await meeting(people[11])  # busy at T0; shown on the second page
    gql = await client_for(http, people[0])
    seen: list[str] = []
    after = None
    while True:
        got = (await gql(QUERY, {**BASE, "s": "ASSOCIATES", "first": 10, "after": after}))
        page = got["candidates"]
        assert page["totalCount"] == 25
        seen += [n["name"] for n in page["nodes"]]
        if "Person 11" in [n["name"] for n in page["nodes"]]:
            busy = {n["name"]: n["busy"] for n in page["nodes"]}
            assert busy["Person 11"] is True and busy["Person 10"] is False
        assert page["pageInfo"]["hasPreviousPage"] is (after is not None)
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == [f"Person {i:02d}" for i in range(25)]
    tail = (await gql(QUERY, {**BASE, "s": "ASSOCIATES", "last": 5}))["candidates"]
    assert _names({"candidates": tail}) == [f"Person {i:02d}" for i in range(20, 25)]
    assert tail["pageInfo"]["hasPreviousPage"] and not tail["pageInfo"]["hasNextPage"]
    before = tail["pageInfo"]["startCursor"]
    prior = await gql(QUERY, {**BASE, "s": "ASSOCIATES", "last": 3, "before": before})
    assert _names(prior) == ["Person 17", "Person 18", "Person 19"]
    assert await m.Associate.all().count() == 25
