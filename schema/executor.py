"""How the schema executes: graphql-core's executor with a fast path for plain fields.

Most fields of a large answer (a diary of 50 items has ~1,000) are scalars or enums read
straight off an attribute, or nulls (a participant's person when it is an associate): no
resolver, no argument, no field extension. graphql-core builds a resolve info and runs the
whole completion chain for each of them. Here such a field is read and serialised (or
answered null) inline, and a value whose whole sub-selection is plain fields (a diary
item's participants with their associate's name) is completed by a plan built once per
operation. Anything out of the ordinary (null for a non-null field, a value the scalar
refuses, a missing attribute, an object of another type, fragments, directives,
middleware) takes graphql-core's own path, so results, errors and their paths are exactly
what the plain executor gives (``tests/test_executor.py`` compares both).

A subscription event can come as a ``SharedEvent``: the subscribers whose answer is the
same (same selection, same sight of the follow-up: ``schema.live``) share one execution;
the first to get there runs it, the others await its result.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Hashable
from enum import Enum
from typing import Any, NamedTuple

from graphql import (
    FieldNode,
    GraphQLField,
    GraphQLLeafType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    SelectionSetNode,
    is_leaf_type,
)
from graphql.pyutils import Path, Undefined
from strawberry import relay
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.field import StrawberryField

#: Field metadata: the value of this field (one with a resolver) may already be in the
#: source's ``loaded`` dict under the field's name, put there by whoever built the object
#: (a list's prefetch: a diary item's owner and participants loaded for the whole list);
#: the executor then reads it instead of calling the resolver, which must answer the same.
LOADABLE: dict[str, bool] = {"loadable": True}


class _Read(Enum):
    ATTRIBUTE = "a plain attribute"
    LOADED = "a value in the source's loaded dict, else the resolver"
    NODE_ID = "a relay Node's global ID from its NodeID attribute"


class _Plain(NamedTuple):
    attribute: str
    leaf: GraphQLLeafType | None  # None: an object or list type
    non_null: bool
    read: _Read = _Read.ATTRIBUTE
    node: type | None = None  # NODE_ID: the Node class the source must be


_PLAIN: dict[GraphQLObjectType, dict[str, _Plain]] = {}


def plain_fields(parent_type: GraphQLObjectType) -> dict[str, _Plain]:
    """The fields of ``parent_type`` the executor may read without graphql-core's resolver
    path: plain attributes, batch-loaded values (``LOADABLE``) and relay IDs."""
    found = _PLAIN.get(parent_type)
    if found is None:
        found = {}
        for name, field in parent_type.fields.items():
            plain = _plain(parent_type, field)
            if plain is not None:
                found[name] = plain
        _PLAIN[parent_type] = found
    return found


def _plain(parent_type: GraphQLObjectType, field: GraphQLField) -> _Plain | None:
    definition = (field.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
    if not isinstance(definition, StrawberryField) or definition.extensions or field.args:
        return None
    non_null = isinstance(field.type, GraphQLNonNull)
    inner = field.type.of_type if isinstance(field.type, GraphQLNonNull) else field.type
    leaf = inner if is_leaf_type(inner) else None
    resolver = definition.base_resolver
    if resolver is None:
        basic = getattr(field.resolve, "__name__", "") == "_get_basic_result"
        if definition.default_resolver is not getattr or not basic:
            return None
        return _Plain(definition.python_name, leaf, non_null)
    if dict(definition.metadata or {}).get("loadable"):
        return _Plain(definition.python_name, leaf, non_null, _Read.LOADED)
    node = _node_class(parent_type)
    if node is not None and getattr(resolver.wrapped_func, "__func__", None) is _NODE_ID:
        return _Plain(node.resolve_id_attr(), leaf, non_null, _Read.NODE_ID, node)
    return None


_NODE_ID = relay.Node._id.__func__  # type: ignore[attr-defined]


def _node_class(parent_type: GraphQLObjectType) -> type[relay.Node] | None:
    """The Node class of ``parent_type`` when its ID is the default one (its NodeID
    attribute and its GraphQL type name)."""
    definition = (parent_type.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
    origin = getattr(definition, "origin", None)
    if not (isinstance(origin, type) and issubclass(origin, relay.Node)):
        return None
    defaults = (
        origin.resolve_id.__func__ is relay.Node.resolve_id.__func__  # type: ignore[attr-defined]
        and origin.resolve_typename.__func__  # type: ignore[attr-defined]
        is relay.Node.resolve_typename.__func__  # type: ignore[attr-defined]
    )
    return origin if defaults else None


def _read(plain: _Plain, type_name: str, source: Any) -> Any:
    """The field's value on ``source``; Undefined when it must take graphql-core's path."""
    if plain.read is _Read.ATTRIBUTE:
        return getattr(source, plain.attribute, Undefined)
    if plain.read is _Read.LOADED:
        loaded = getattr(source, "loaded", None)
        return loaded.get(plain.attribute, Undefined) if isinstance(loaded, dict) else Undefined
    value = getattr(source, plain.attribute, None)
    if value is None:
        return Undefined
    if plain.node is None or not isinstance(source, plain.node):
        return Undefined
    return relay.GlobalID(type_name=type_name, node_id=str(value))


class _Fallback(Exception):
    """A value the plan does not complete exactly like graphql-core: let it do it."""


#: completes one value of a field (raises ``_Fallback`` for anything unusual)
_Plan = Callable[[Any, GraphQLResolveInfo], Any]


def _leaf_plan(leaf: GraphQLLeafType) -> _Plan:
    coerce = leaf.coerce_output_value

    def complete(value: Any, _info: GraphQLResolveInfo) -> Any:
        if isinstance(value, Exception):
            raise _Fallback
        try:
            coerced = coerce(value)
        except Exception as error:
            raise _Fallback from error
        if coerced is None or coerced is Undefined:
            raise _Fallback
        return coerced

    return complete


def _object_plan(parent: GraphQLObjectType, selection_set: SelectionSetNode) -> _Plan | None:
    """A plan for an object whose selection is only plain fields without directives."""
    plain = plain_fields(parent)
    parts: list[tuple[str, _Plain | None, Any]] = []
    for selection in selection_set.selections:
        if not isinstance(selection, FieldNode) or selection.directives or selection.arguments:
            return None
        key = (selection.alias or selection.name).value
        if any(key == seen for seen, _, _ in parts):
            return None  # one key from two nodes: graphql-core merges their selections
        name = selection.name.value
        if name == "__typename":
            parts.append((key, None, parent.name))
            continue
        field = plain.get(name)
        if field is None:
            return None
        sub = _value_plan(parent.fields[name].type, selection.selection_set)
        if sub is None:
            return None
        parts.append((key, field, sub))
    is_type_of = parent.is_type_of
    type_name = parent.name

    def complete(value: Any, info: GraphQLResolveInfo) -> Any:
        if is_type_of is not None and is_type_of(value, info) is not True:
            raise _Fallback
        return {
            key: (sub(_read(field, type_name, value), info) if field else sub)
            for key, field, sub in parts
        }

    return complete


def _value_plan(kind: GraphQLOutputType, selection_set: SelectionSetNode | None) -> _Plan | None:
    """A plan for a value of ``kind`` with ``selection_set`` (None: not plannable)."""
    non_null = isinstance(kind, GraphQLNonNull)
    inner = kind.of_type if isinstance(kind, GraphQLNonNull) else kind
    sub: _Plan | None
    if is_leaf_type(inner):
        sub = None if selection_set is not None else _leaf_plan(inner)
    elif isinstance(inner, GraphQLList):
        item = _value_plan(inner.of_type, selection_set)
        sub = None if item is None else _list_plan(item)
    elif isinstance(inner, GraphQLObjectType) and selection_set is not None:
        sub = _object_plan(inner, selection_set)
    else:  # interfaces and unions: graphql-core resolves the runtime type
        sub = None
    if sub is None:
        return None
    return _nullable(sub, non_null)


def _list_plan(item: _Plan) -> _Plan:
    def complete(value: Any, info: GraphQLResolveInfo) -> Any:
        if not isinstance(value, (list, tuple)):
            raise _Fallback  # any other iterable may be consumed only once
        return [item(each, info) for each in value]

    return complete


def _nullable(sub: _Plan, non_null: bool) -> _Plan:
    def complete(value: Any, info: GraphQLResolveInfo) -> Any:
        if value is None:
            if non_null:
                raise _Fallback
            return None
        if value is Undefined:  # missing, or not loaded: graphql-core's path decides
            raise _Fallback
        return sub(value, info)

    return complete


class SharedEvent:
    """A subscription event whose answer every subscriber with the same ``key`` shares.

    ``answers`` is the event's memo (one task per key), ``value`` the root value to run
    the selection on and ``context`` how to make the execution's context from the first
    subscriber's."""

    __slots__ = ("answers", "context", "key", "value")

    def __init__(
        self,
        value: Any,
        key: Hashable,
        answers: dict[Hashable, Any],
        context: Callable[[Any], Any],
    ) -> None:
        self.value, self.key, self.answers, self.context = value, key, answers, context


class Counts:
    """Executions of shared subscription events in this process."""

    shared_executions = 0


class _Answered:
    """The per-event executor of a subscriber whose answer another one is computing."""

    __slots__ = ("answer",)

    def __init__(self, answer: asyncio.Future[Any]) -> None:
        self.answer = answer

    def execute_operation(self, serially: bool | None = None) -> Any:
        return asyncio.shield(self.answer)


class ExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's execution context with plain leaf and null fields completed inline."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # strawberry always passes a manager; it wraps resolvers only when an extension
        # resolves fields, and then every field must go through it
        self.inline_leaves = not getattr(self.middleware_manager, "middlewares", None)
        # plans for this operation's field nodes (ids are stable while the document lives)
        self.plans: dict[tuple[int, int], _Plan | None] = {}

    def build_per_event_executor(self, payload: Any) -> Any:
        if isinstance(payload, SharedEvent):
            found = payload.answers.get(payload.key)
            if found is not None:  # no copy of the executor for a known answer
                return _Answered(found)
        return super().build_per_event_executor(payload)

    def execute_operation(self, serially: bool | None = None) -> Any:
        shared = self.root_value
        if not isinstance(shared, SharedEvent):
            return super().execute_operation(serially)
        found = shared.answers.get(shared.key)
        if found is None:
            # this executor is the first subscriber's per-event copy: run it on the event's
            # own context, not to be aborted by that subscriber leaving
            self.root_value = shared.value
            self.context_value = shared.context(self.context_value)
            self.abort_signal = None
            found = shared.answers[shared.key] = asyncio.ensure_future(self._run(serially))
        return asyncio.shield(found)

    async def _run(self, serially: bool | None) -> Any:
        Counts.shared_executions += 1
        result = super().execute_operation(serially)
        return await result if self.is_awaitable(result) else result

    def complete_value(
        self,
        return_type: GraphQLOutputType,
        field_details_list: Any,
        info: GraphQLResolveInfo,
        path: Path,
        result: Any,
        position_context: Any,
    ) -> Any:
        if self.inline_leaves and len(field_details_list) == 1:
            details = field_details_list[0]
            key = (id(return_type), id(details.node))
            try:
                plan = self.plans[key]
            except KeyError:
                plan = self.plans[key] = (
                    None
                    if details.defer_usage is not None
                    or details.fragment_variable_values is not None
                    or is_leaf_type(return_type)
                    else _value_plan(return_type, details.node.selection_set)
                )
            if plan is not None:
                try:
                    return plan(result, info)
                except _Fallback:
                    pass
        return super().complete_value(
            return_type, field_details_list, info, path, result, position_context
        )

    def execute_field(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: Any,
        path: Path,
        position_context: Any,
    ) -> Any:
        plain = plain_fields(parent_type).get(field_details_list[0].node.name.value)
        if plain is not None and self.inline_leaves:
            value = _read(plain, parent_type.name, source)
            if value is None and not plain.non_null:
                return None
            leaf = plain.leaf
            if (
                leaf is not None
                and value is not None
                and value is not Undefined
                and not isinstance(value, Exception)
            ):
                try:
                    coerced = leaf.coerce_output_value(value)
                except Exception:  # the full path below reports it
                    coerced = None
                if coerced is not None and coerced is not Undefined:
                    return coerced
        return super().execute_field(
            parent_type, source, field_details_list, path, position_context
        )
