"""Every ```graphql block of README.md validates, and runs as written on the demo data.

Each block may hold several operations; each is validated against schema.graphql on its
own.  Queries run over HTTP as the demo admin on a freshly loaded demo database (no
errors; the diary example returns items).  Mutations of the kinds a fresh demo can carry
out (follow-ups, participants, preferences, calls, the CRM records) run each on its own
fresh demo database and must answer no errors; the others (mailboxes, CalDAV accounts,
inbound mail, proposals) need servers or mail and are validated only.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from graphql import OperationDefinitionNode, build_schema, parse, print_ast, validate

from app.demo import load_demo
from tests.helpers import Gql

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = build_schema((ROOT / "schema.graphql").read_text(encoding="utf-8"))
RUN_MUTATIONS = (
    "createFollowUp", "makeCall", "completeFollowUp", "updateFollowUp", "setPreference",
    "callPhone", "saveParticipants", "toggleParticipantStatus",
    "createCompany", "updateCompany", "deleteCompany", "createPerson", "updatePerson",
    "deletePerson", "createProject", "updateProject", "deleteProject", "createSale",
    "updateSale", "deleteSale", "createSelection", "updateSelection", "deleteSelection",
    "createAssociate", "updateAssociate", "createUserGroup", "updateUserGroup",
    "deleteUserGroup", "createResource", "updateResource", "createResourceGroup",
    "updateResourceGroup", "deleteResourceGroup", "createActivityType",
    "updateActivityType", "deleteActivityType",
)


def _operations() -> list[tuple[str, str, str]]:
    """(kind, first root field, document) of every operation in the README's blocks."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    found = []
    for block in re.findall(r"```graphql\n(.*?)```", text, re.S):
        for definition in parse(block).definitions:
            assert isinstance(definition, OperationDefinitionNode)
            field = definition.selection_set.selections[0].name.value  # type: ignore[attr-defined]
            found.append((definition.operation.value, field, print_ast(definition)))
    return found


OPERATIONS = _operations()
QUERIES = [doc for kind, _, doc in OPERATIONS if kind == "query"]
MUTATIONS = [doc for kind, field, doc in OPERATIONS if kind == "mutation" and field in RUN_MUTATIONS]


def test_the_readme_has_examples() -> None:
    assert len(QUERIES) >= 8 and len(MUTATIONS) >= 12
    assert any("diary(" in q for q in QUERIES)


@pytest.mark.parametrize("document", [doc for _, _, doc in OPERATIONS])
def test_every_example_validates(document: str) -> None:
    assert validate(SCHEMA, parse(document)) == [], document


@pytest.fixture
async def demo(http: Any) -> Gql:
    return Gql(http, await load_demo())


async def test_every_query_runs_clean_on_the_demo(demo: Gql) -> None:
    for document in QUERIES:
        body = await demo.raw(document)
        assert not body.get("errors"), (document, body["errors"])
        if "diary(" in document:
            titles = [item["title"] for item in body["data"]["diary"]]
            assert "Licence renewal with Acme" in titles and len(titles) == 3, titles
            assert body["data"]["todos"]["nodes"], body
            assert body["data"]["activities"]["totalCount"] >= 1
            assert body["data"]["persons"]["nodes"][0]["fullName"] == "Kari Nordmann"


async def test_every_query_answers_the_same_with_the_stock_executor(
    demo: Gql, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``schema.executor`` inlines plain fields; graphql-core's own path gives the same."""
    from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

    from schema import schema

    fast = [await demo.raw(document) for document in QUERIES]
    monkeypatch.setattr(schema, "execution_context_class", StrawberryGraphQLCoreExecutionContext)
    stock = [await demo.raw(document) for document in QUERIES]
    for document, ours, theirs in zip(QUERIES, fast, stock, strict=True):
        if "followUpChangesSince" in document:  # its empty-feed cursor is "now"
            continue
        ours.get("extensions", {}).pop("cost", None)
        theirs.get("extensions", {}).pop("cost", None)
        assert ours == theirs, document


def _payload_errors(data: Any) -> list[Any]:
    found: list[Any] = []
    if isinstance(data, dict):
        for key, value in data.items():
            if key == "errors" and isinstance(value, list):
                found.extend(value)
            else:
                found.extend(_payload_errors(value))
    return found


@pytest.mark.parametrize("document", MUTATIONS)
async def test_mutation_example_runs_on_a_fresh_demo(demo: Gql, document: str) -> None:
    body = await demo.raw(document)
    assert not body.get("errors"), (document, body["errors"])
    assert _payload_errors(body["data"]) == [], (document, body["data"])
