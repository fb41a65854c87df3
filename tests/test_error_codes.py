"""Every error a document or an argument can cause carries a code and says nothing of the code."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import pytest

from orm import models as m
from tests.helpers import associate, client_for, gid


def cursor(values: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode()


async def test_syntax_and_validation_errors_carry_a_code(http: httpx.AsyncClient, db: str) -> None:
    gql = await client_for(http, await associate("Ann"))
    syntax = await gql.raw("{ me { ")
    assert syntax["errors"][0]["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"
    unknown = await gql.raw("{ nosuch }")
    assert unknown["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    several = await gql.raw("{ nosuch { a } other }")
    assert {e["extensions"]["code"] for e in several["errors"]} == {"GRAPHQL_VALIDATION_FAILED"}


@pytest.mark.parametrize(
    "values",
    [["abc"], [1.5], [True], [-1], [2**70], ["2026-01-01T00:00:00", "x"], [None], "x", {}],
)
async def test_forged_cursors_are_validation_errors(
    http: httpx.AsyncClient, db: str, values: Any
) -> None:
    """Cursors are read back strictly: no ``invalid literal for int()``, never INTERNAL."""
    ann = await associate("Ann")
    company = await m.Company.create(name="Acme")
    gql = await client_for(http, ann)
    after = cursor(values)
    documents = [
        f'{{ companies(after: "{after}") {{ totalCount }} }}',
        f'{{ activities(companyId: "{gid("Company", company.id)}", after: "{after}") {{ totalCount }} }}',
        f'{{ activities(companyId: "{gid("Company", company.id)}", after: "{after}", '
        'from: "2026-01-01T00:00:00Z", to: "2026-02-01T00:00:00Z") { totalCount } }',
    ]
    for document in documents:
        body = await gql.raw(document)
        assert body["errors"], body
        error = body["errors"][0]
        assert error["extensions"]["code"] == "VALIDATION", error
        assert "invalid literal" not in error["message"] and "int()" not in error["message"]


WEEK = """query($from: DateTime!, $to: DateTime!) {
  diary(associateIds: [%s], from: $from, to: $to) {
    id kind title start end location redacted private done conflict
    owner { id name } company { id name } person { id fullName }
    participants { id status emailInvitation associate { id name } person { id fullName }
      statusHistory { status setAt via setBy { id name } } }
    resources { id name }
  }
}"""


async def test_a_week_view_of_five_people_fits_the_default_cost(
    http: httpx.AsyncClient, db: str
) -> None:
    """A realistic screen passes the default limit, and the answer says what it cost."""
    people = [await associate(f"P{i}") for i in range(5)]
    gql = await client_for(http, people[0])
    ids = ", ".join(f'"{gid("Associate", p.id)}"' for p in people)
    window = {"from": "2026-03-02T00:00:00Z", "to": "2026-03-09T00:00:00Z"}
    body = await gql.raw(WEEK % ids, window)
    assert not body.get("errors"), body
    cost = body["extensions"]["cost"]
    assert 0 < cost["requested"] <= cost["limit"] == 50_000
