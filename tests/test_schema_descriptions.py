"""Every type, field, argument, input field and enum value of the schema is described.

(issue 13; what GitHub's and Shopify's APIs do).  A new element without a description
fails the test, named by its coordinate.
"""

from __future__ import annotations

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLUnionType,
)

from schema import schema

BUILT_IN = {"String", "Int", "Float", "Boolean", "ID"}


def undescribed() -> list[str]:
    """The coordinates (``Type.field(arg:)``) of every element without a description."""
    missing: list[str] = []
    for name, kind in schema._schema.type_map.items():
        if name.startswith("__") or name in BUILT_IN:
            continue
        if not (kind.description or "").strip():
            missing.append(name)
        if isinstance(kind, GraphQLEnumType):
            missing += [
                f"{name}.{value}"
                for value, spec in kind.values.items()
                if not (spec.description or "").strip()
            ]
        if isinstance(kind, (GraphQLObjectType, GraphQLInterfaceType)):
            for field_name, spec in kind.fields.items():
                if not (spec.description or "").strip():
                    missing.append(f"{name}.{field_name}")
                missing += [
                    f"{name}.{field_name}({arg}:)"
                    for arg, arg_spec in spec.args.items()
                    if not (arg_spec.description or "").strip()
                ]
        if isinstance(kind, GraphQLInputObjectType):
            missing += [
                f"{name}.{field_name}"
                for field_name, spec in kind.fields.items()
                if not (spec.description or "").strip()
            ]
        assert isinstance(
            kind,
            (
                GraphQLEnumType,
                GraphQLObjectType,
                GraphQLInterfaceType,
                GraphQLInputObjectType,
                GraphQLScalarType,
                GraphQLUnionType,
            ),
        )
    return missing


def test_every_schema_element_is_described() -> None:
    missing = undescribed()
    assert not missing, f"{len(missing)} undescribed: " + ", ".join(missing)


def test_each_connection_and_edge_type_names_its_item_type() -> None:
    types = schema._schema.type_map
    specialised = [n for n in types if n.endswith(("Connection", "Edge")) and n != "Connection"]
    assert "CompanyConnection" in specialised and "FollowUpEdge" in specialised
    assert types["CompanyConnection"].description.startswith("A page of Companies:")
    assert types["PersonEdge"].description == "One Person in a page of Persons, with its cursor."
    for name in specialised:
        item = name.removesuffix("Connection").removesuffix("Edge")
        assert f" {item} " in (types[name].description or ""), name
