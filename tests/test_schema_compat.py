"""No change to the schema breaks a client of the last release without a deprecation first.

graphql-core lists the breaking changes between the released schema
(``tests/data/schema/released.graphql``) and today's ``schema.graphql``; each one must
concern a field, argument or enum value the release had already marked ``@deprecated``.
"""

from __future__ import annotations

import re
from pathlib import Path

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    build_schema,
    find_breaking_changes,
)

ROOT = Path(__file__).resolve().parents[1]
RELEASED = ROOT / "tests" / "data" / "schema" / "released.graphql"


def _deprecated(schema: GraphQLSchema, type_name: str, member: str) -> bool:
    """Whether ``type_name.member`` (a field, input field or enum value) was deprecated."""
    kind = schema.get_type(type_name)
    if isinstance(kind, GraphQLObjectType | GraphQLInterfaceType | GraphQLInputObjectType):
        field = kind.fields.get(member)
        return bool(field is not None and getattr(field, "deprecation_reason", None))
    if isinstance(kind, GraphQLEnumType):
        value = kind.values.get(member)
        return bool(value is not None and value.deprecation_reason)
    return False


def test_no_undeprecated_breaking_change() -> None:
    released = build_schema(RELEASED.read_text())
    current = build_schema((ROOT / "schema.graphql").read_text())
    unannounced = []
    for change in find_breaking_changes(released, current):
        where = re.search(r"\b([A-Z]\w*)\.(\w+)", change.description)
        if where is None or not _deprecated(released, where.group(1), where.group(2)):
            unannounced.append(f"{change.type.name}: {change.description}")
    assert not unannounced, "breaking changes without a deprecation first:\n" + "\n".join(
        unannounced
    )


def test_the_check_sees_a_breaking_change() -> None:
    """The test above can fail: removing a released field is reported."""
    released = build_schema(RELEASED.read_text())
    trimmed = build_schema(RELEASED.read_text().replace("  redacted: Boolean!\n", "", 1))
    assert any("redacted" in c.description for c in find_breaking_changes(released, trimmed))
