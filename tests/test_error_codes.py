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
