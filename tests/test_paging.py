"""Relay paging in both directions (keyset and list connections), and nodes(ids:)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from orm import models as m
from resolvers import followups
from tests.helpers import associate, client_for, gid

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)

PAGE = """query($first: Int, $after: String, $last: Int, $before: String) {
  companies(first: $first, after: $after, last: $last, before: $before) {
    totalCount nodes { name }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}"""


async def test_keyset_pages_backwards_and_forwards(http: Any) -> None:
    owner = await associate("Ann")
    for i in range(7):
        await m.Company.create(name=f"c{i}")
    gql = await client_for(http, owner)
    tail = (await gql(PAGE, {"last": 3}))["companies"]
    assert [n["name"] for n in tail["nodes"]] == ["c4", "c5", "c6"]
    info = tail["pageInfo"]
    assert info["hasPreviousPage"] and not info["hasNextPage"] and tail["totalCount"] == 7
    before = (await gql(PAGE, {"last": 3, "before": info["startCursor"]}))["companies"]
    assert [n["name"] for n in before["nodes"]] == ["c1", "c2", "c3"]
    assert before["pageInfo"]["hasPreviousPage"] and before["pageInfo"]["hasNextPage"]
    start = await gql(PAGE, {"last": 5, "before": before["pageInfo"]["startCursor"]})
    assert [n["name"] for n in start["companies"]["nodes"]] == ["c0"]
    assert not start["companies"]["pageInfo"]["hasPreviousPage"]
    forward = await gql(PAGE, {"first": 2, "after": before["pageInfo"]["startCursor"]})
    page = forward["companies"]
    assert [n["name"] for n in page["nodes"]] == ["c2", "c3"]
    assert page["pageInfo"]["hasPreviousPage"] and page["pageInfo"]["hasNextPage"]
    both = await gql.raw(PAGE, {"first": 2, "last": 2})
    assert both["errors"][0]["extensions"]["code"] == "VALIDATION"
    crossed = await gql.raw(
        PAGE, {"after": info["endCursor"], "before": before["pageInfo"]["startCursor"]}
    )
    assert crossed["errors"][0]["extensions"]["code"] == "VALIDATION"
    bad = await gql.raw(PAGE, {"last": 2, "before": "!!"})
    assert bad["errors"][0]["path"] == ["companies"]
    assert bad["errors"][0]["extensions"]["code"] == "VALIDATION"


async def test_todos_page_past_the_first_page(http: Any) -> None:
    owner = await associate("Ann")
    for i in range(5):
        await followups.create(
            owner, {"kind": "TASK", "title": f"t{i}", "deadline": T0 + timedelta(days=i)}
        )
    gql = await client_for(http, owner)
    query = """query($after: String, $last: Int, $first: Int) {
      todos(first: $first, after: $after, last: $last) { totalCount nodes { title }
        pageInfo { hasNextPage hasPreviousPage endCursor } } }"""
    one = (await gql(query, {"first": 2}))["todos"]
    assert one["totalCount"] == 5 and [n["title"] for n in one["nodes"]] == ["t0", "t1"]
    two = (await gql(query, {"first": 2, "after": one["pageInfo"]["endCursor"]}))["todos"]
    assert [n["title"] for n in two["nodes"]] == ["t2", "t3"]
    assert two["pageInfo"]["hasPreviousPage"] and two["pageInfo"]["hasNextPage"]
    tail = (await gql(query, {"last": 1}))["todos"]
    assert [n["title"] for n in tail["nodes"]] == ["t4"]


async def test_nodes_answers_in_order_with_nulls(http: Any) -> None:
    owner = await associate("Ann")
    other = await associate("Bob")
    company = await m.Company.create(name="Acme")
    gql = await client_for(http, owner)
    query = "query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }"
    ids = [gid("Company", company.id), gid("Company", 999999), gid("Associate", other.id)]
    got = (await gql(query, {"ids": ids}))["nodes"]
    assert got[0]["id"] == ids[0] and got[1] is None and got[2]["id"] == ids[2]
    bad = await gql.raw(query, {"ids": ["not an id!"]})
    assert bad["errors"][0]["extensions"]["code"] == "VALIDATION"
    many = await gql.raw(query, {"ids": [ids[0]] * 101})
    assert many["errors"][0]["extensions"]["code"] == "VALIDATION"
