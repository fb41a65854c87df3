"""The fast execution context answers exactly what graphql-core's own does.

``schema.executor`` completes plain leaf fields (and nulls of plain nullable fields)
inline. Each case runs the same document through Strawberry's stock execution context and
through ours, and compares data and errors (message, path, locations); the bad values
(null for a non-null field, a string for an Int, an unknown enum member, an exception
object, a missing attribute) must fail the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import pytest
import strawberry
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from schema.executor import LOADABLE, ExecutionContext, plain_fields


@strawberry.enum
class Colour(Enum):
    RED = "red"
    BLUE = "blue"


@strawberry.interface
class Named:
    """An interface gives Leafy an ``is_type_of`` check (as Node does in the service)."""

    name: str


@strawberry.type
class Leafy(Named):
    count: int
    maybe: int | None
    colour: Colour
    when: str | None
    child: Leafy | None
    children: list[Leafy] | None

    @strawberry.field
    def computed(self) -> str:
        return self.name.upper()


def _leafy(**changes: Any) -> Leafy:
    base: dict[str, Any] = dict(
        name="a",
        count=1,
        maybe=None,
        colour=Colour.RED,
        when="x",
        child=None,
        children=None,
    )
    base.update(changes)
    return Leafy(**base)


@dataclass
class Bare:
    """A source without some of the attributes the type declares."""

    name: str = "bare"


@dataclass
class Lookalike:
    """Every attribute Leafy has, but not a Leafy: graphql-core refuses it."""

    name: str = "look"
    count: int = 1
    maybe: int | None = None
    colour: Colour = Colour.BLUE
    when: str | None = None
    child: Any = None
    children: Any = None


CASES: dict[str, Any] = {
    "plain": _leafy(),
    "nested": _leafy(child=_leafy(name="b", maybe=3), children=[_leafy(name="c"), _leafy()]),
    "null for non-null leaf": _leafy(name=None),
    "string for Int": _leafy(count="seven"),
    "float for Int": _leafy(count=1.5),
    "unknown enum member": _leafy(colour="GREEN"),
    "exception as value": _leafy(maybe=ValueError("boom")),
    "missing attributes": Bare(),
    "null in a list item": _leafy(children=[_leafy(name=None), _leafy()]),
    "deep bad value": _leafy(child=_leafy(child=_leafy(count="x")), children=[_leafy(colour=1)]),
    "list is a tuple": _leafy(children=(_leafy(name="t"),)),
    # made per run: a generator can be read once
    "list is a generator": lambda: _leafy(children=(_leafy(name=str(i)) for i in range(2))),
    "list is not a list": _leafy(children=7),
    "object of another type": _leafy(child=Bare()),
    "look-alike object": _leafy(child=Lookalike(), children=[Lookalike()]),
    "exception as object": _leafy(child=ValueError("boom")),
}


@strawberry.type
class Query:
    @strawberry.field
    def item(self, which: str) -> Leafy | None:
        return _case(which)

    @strawberry.field
    def items(self, which: str) -> list[Leafy]:
        return [_case(which), _leafy(name="second")]


def _case(which: str) -> Any:
    value = CASES[which]
    return value() if callable(value) else value


DOCUMENT = """
query($which: String!) {
  item(which: $which) {
    name count maybe colour when computed
    alias: name
    ... on Leafy { count }
    ...F
    skipped: name @skip(if: true)
    included: count @include(if: true)
    child { name count maybe colour child { name } }
    children { name colour maybe }
  }
}
fragment F on Leafy { colour when }
"""

#: only plain fields under a resolver: the whole sub-selection completes by a plan
PLANNED = """
query($which: String!) {
  items(which: $which) {
    __typename name count maybe colour when again: name
    child { name count child { __typename name maybe } }
    children { name colour maybe child { name } }
  }
}
"""


def _run(context_class: type, which: str, document: str = DOCUMENT) -> tuple[Any, list[Any]]:
    schema = strawberry.Schema(query=Query, execution_context_class=context_class)
    result = schema.execute_sync(document, variable_values={"which": which}, root_value=Query())
    errors = [(e.message, e.path, [(loc.line, loc.column) for loc in e.locations or []])
              for e in result.errors or []]  # fmt: skip
    return result.data, sorted(errors, key=repr)


@pytest.mark.parametrize("document", [DOCUMENT, PLANNED], ids=["mixed", "planned"])
@pytest.mark.parametrize("which", list(CASES))
def test_fast_context_answers_like_graphql_core(which: str, document: str) -> None:
    stock = _run(StrawberryGraphQLCoreExecutionContext, which, document)
    assert _run(ExecutionContext, which, document) == stock


def test_a_plain_sub_selection_is_completed_by_one_plan(monkeypatch: pytest.MonkeyPatch) -> None:
    """The planned document completes each item without graphql-core's per-field path,
    and a document with a fragment or a directive under the resolver does not."""
    calls: list[str] = []
    original = StrawberryGraphQLCoreExecutionContext.execute_field

    def counting(self: Any, parent_type: Any, source: Any, details: Any, *args: Any) -> Any:
        calls.append(f"{parent_type.name}.{details[0].node.name.value}")
        return original(self, parent_type, source, details, *args)

    monkeypatch.setattr(StrawberryGraphQLCoreExecutionContext, "execute_field", counting)
    _run(ExecutionContext, "nested", PLANNED)
    assert calls == ["Query.items"]  # every Leafy field of both items by the plan
    calls.clear()
    _run(ExecutionContext, "nested", PLANNED.replace("again: name", "...on Leafy { name }"))
    # a fragment: the items by graphql-core (leaves and nulls still inline), the first
    # item's child and children by graphql-core, their sub-selections by plans again
    typename = "Leafy.__typename"
    assert calls == ["Query.items", typename, "Leafy.child", "Leafy.children", typename]
    calls.clear()
    _run(ExecutionContext, "nested", PLANNED.replace("child { name count", "child { computed"))
    assert "Leafy.computed" in calls  # a resolver below needs graphql-core's path


def test_bad_values_are_errors_not_silent() -> None:
    """The comparison above is not vacuous: bad values do produce errors."""
    for which in ("null for non-null leaf", "string for Int", "unknown enum member"):
        _data, errors = _run(ExecutionContext, which)
        assert errors, which


def test_only_plain_fields_are_inlined() -> None:
    schema = strawberry.Schema(query=Query, execution_context_class=ExecutionContext)
    leafy = schema._schema.type_map["Leafy"]
    found = plain_fields(leafy)  # type: ignore[arg-type]
    assert {"name", "count", "maybe", "colour", "when", "child", "children"} == set(found)
    assert "computed" not in found  # a resolver
    assert found["child"].leaf is None and found["name"].leaf is not None
    assert plain_fields(schema._schema.type_map["Query"]) == {}  # type: ignore[arg-type]


def test_the_service_schema_uses_the_fast_context() -> None:
    from schema import schema

    assert schema.execution_context_class is ExecutionContext


RESOLVED: list[str] = []


@strawberry.type
class Item(strawberry.relay.Node):
    """A Node with fields a list may have batch-loaded (``LOADABLE``)."""

    id: strawberry.relay.NodeID[str]
    loaded: strawberry.Private[dict[str, Any]] = field(default_factory=dict)

    @strawberry.field(graphql_type=list[str], metadata=LOADABLE)
    def tags(self) -> Any:
        RESOLVED.append(self.id)
        return [f"resolved-{self.id}"]

    @strawberry.field(graphql_type=str | None, metadata=LOADABLE)
    def note(self) -> Any:
        RESOLVED.append(f"note {self.id}")
        return "resolved"

    @classmethod
    def resolve_nodes(cls, *, info: Any, node_ids: Any, required: bool = False) -> list[Any]:
        return [Item(id=n) for n in node_ids]


@strawberry.type
class ItemQuery:
    @strawberry.field
    def items(self) -> list[Item]:
        return [Item(id="1", loaded={"tags": ["loaded"], "note": None}), Item(id="2")]


def test_loaded_values_and_node_ids_answer_like_their_resolvers() -> None:
    """A value an item was built with is read instead of resolved; an item without one
    is resolved; relay IDs are the ones strawberry's resolver makes."""
    document = "{ items { id tags note } }"
    answers = []
    for context_class in (StrawberryGraphQLCoreExecutionContext, ExecutionContext):
        RESOLVED.clear()
        schema = strawberry.Schema(query=ItemQuery, execution_context_class=context_class)
        result = schema.execute_sync(document)
        assert result.errors is None
        answers.append((result.data, list(RESOLVED)))
    stock, fast = answers
    assert stock[1] == ["1", "note 1", "2", "note 2"]  # the stock path resolves all
    assert fast[1] == ["2", "note 2"]  # a loaded null is a value, not "not loaded"
    first = {"id": str(strawberry.relay.GlobalID("Item", "1")), "tags": ["loaded"], "note": None}
    second = {"id": str(strawberry.relay.GlobalID("Item", "2")), "tags": ["resolved-2"],
              "note": "resolved"}  # fmt: skip
    assert fast[0] == {"items": [first, second]}
    assert stock[0] == {"items": [first | {"tags": ["resolved-1"], "note": "resolved"}, second]}
