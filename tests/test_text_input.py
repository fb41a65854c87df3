"""Control characters in mutation input: refused on single-line fields, cleaned on
multi-line ones, for every text argument of every mutation in ``schema.graphql``."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
)

from orm import models as m
from resolvers.errors import ValidationFailed
from resolvers.text_input import MULTI_LINE, RAW, clean_arguments, multi_line
from schema import schema
from tests.helpers import associate, client_for, snapshot

GRAPHQL = schema._schema
DUMMY = {"String": "x", "ID": "x", "Int": 1, "Boolean": False, "Float": 1.0,
         "DateTime": "2026-03-02T09:00:00Z"}  # fmt: skip


def _dummy(kind: Any) -> Any:
    """A value of a GraphQL input type: required input fields filled in."""
    if isinstance(kind, GraphQLNonNull):
        return _dummy(kind.of_type)
    if isinstance(kind, GraphQLList):
        return [_dummy(kind.of_type)]
    if isinstance(kind, GraphQLEnumType):
        return next(iter(kind.values))
    if isinstance(kind, GraphQLInputObjectType):
        return {n: _dummy(f.type) for n, f in kind.fields.items() if _required(f)}
    assert isinstance(kind, GraphQLScalarType)
    return DUMMY[kind.name]


def _required(field: Any) -> bool:
    return isinstance(field.type, GraphQLNonNull) and field.default_value is None


def _text_leaves(kind: Any, path: list[str]) -> list[tuple[list[str], Any]]:
    """Every String leaf under an input type, as (path, type) (IDs are decoded apart)."""
    inner = kind.of_type if isinstance(kind, GraphQLNonNull) else kind
    if isinstance(inner, GraphQLList):
        return _text_leaves(inner.of_type, [*path, "0"])
    if isinstance(inner, GraphQLInputObjectType):
        return [
            leaf for name, f in inner.fields.items() for leaf in _text_leaves(f.type, [*path, name])
        ]
    if isinstance(inner, GraphQLScalarType) and inner.name == "String":
        return [(path, inner)]
    return []


def _cases() -> list[tuple[str, list[str]]]:
    mutation = GRAPHQL.mutation_type
    assert mutation is not None
    out = []
    for name, field in mutation.fields.items():
        for arg, spec in field.args.items():
            for path, _ in _text_leaves(spec.type, [arg]):
                if not MULTI_LINE & set(path) and not RAW & set(path):
                    out.append((name, path))
    return out


CASES = _cases()


def _set(tree: dict[str, Any], path: list[str], value: Any, kinds: Any) -> None:
    """Put ``value`` at ``path`` (creating the input objects and lists on the way)."""
    node: Any = tree
    for i, key in enumerate(path[:-1]):
        nxt = path[i + 1]
        if isinstance(node, list):
            node = node[int(key)]
            continue
        if key not in node or node[key] is None:
            node[key] = [] if nxt.isdigit() else {}
        if nxt.isdigit() and not node[key]:
            node[key].append({} if i + 2 < len(path) else None)
        node = node[key]
    last = path[-1]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value


def _document(field_name: str) -> tuple[str, dict[str, Any]]:
    mutation = GRAPHQL.mutation_type
    assert mutation is not None
    field = mutation.fields[field_name]
    params = ", ".join(f"${a}: {spec.type}" for a, spec in field.args.items())
    uses = ", ".join(f"{a}: ${a}" for a in field.args)
    variables = {a: _dummy(spec.type) for a, spec in field.args.items()}
    doc = f"mutation({params}) {{ {field_name}({uses}) {{ errors {{ code path }} }} }}"
    return doc, variables


def test_every_text_argument_is_covered() -> None:
    names = {name for name, _ in CASES}
    assert {"createFollowUp", "updateFollowUp", "setPreference", "callPhone",
            "createApiToken", "createCalendarAccount"} <= names  # fmt: skip
    assert ("createFollowUp", ["input", "title"]) in CASES
    assert ("createFollowUp", ["input", "agenda"]) not in CASES


BAD = ["a\r\nb", "a\x00", "\x1b[31m", "a\u2028b", "a\x85", "a\tb", "a\x7f"]


@pytest.mark.parametrize(
    ("field_name", "path", "bad"),
    [(n, p, BAD[i % len(BAD)]) for i, (n, p) in enumerate(CASES)],
    ids=[f"{n}:{'.'.join(p)}" for n, p in CASES],
)
async def test_control_characters_are_refused_on_every_single_line_field(
    http: Any, field_name: str, path: list[str], bad: str
) -> None:
    gql = await client_for(http, await associate("Ann", is_admin=True))
    doc, variables = _document(field_name)
    _set(variables, path, bad, None)
    before = await snapshot()
    body = await gql.raw(doc, variables)
    assert "errors" not in body, body
    want = path[1:] if path[0] == "input" else path
    assert body["data"][field_name]["errors"] == [{"code": "VALIDATION", "path": want}]
    assert await snapshot() == before


async def test_multi_line_fields_keep_lines_and_tabs(http: Any) -> None:
    gql = await client_for(http, await associate("Ann"))
    data = await gql(
        """mutation($i: FollowUpInput!) { createFollowUp(input: $i) {
          followUp { agenda title } errors { code path } } }""",
        {"i": {"title": "Plan", "start": "2026-03-02T09:00:00Z",
               "agenda": "one\r\ntwo\rthree\u2028four\n\tfive\x00\x1b[0m\x7f"}},
    )  # fmt: skip
    assert data["createFollowUp"]["followUp"]["agenda"] == "one\ntwo\nthree\nfour\n\tfive[0m"
    assert (await m.FollowUp.get()).agenda == "one\ntwo\nthree\nfour\n\tfive[0m"


def test_clean_arguments_paths_and_raw_fields() -> None:
    message = "From: a@b\r\n\r\nbody\x00"
    assert clean_arguments({"message": message}) == {"message": message}
    with pytest.raises(ValidationFailed) as caught:
        clean_arguments({"participants": [{"personId": "1"}, {"personId": "2\n"}]})
    assert caught.value.path == ["participants", "1", "personId"]
    for bad in BAD:
        with pytest.raises(ValidationFailed):
            clean_arguments({"title": bad})
    assert multi_line("a\tb") == "a\tb"
