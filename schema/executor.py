"""How the schema executes: graphql-core's executor with a fast path for plain leaves.

Most fields of a large answer (a diary of 50 items has ~1,000) are scalars or enums read
straight off an attribute, or nulls (a participant's person when it is an associate): no
resolver, no argument, no field extension. graphql-core builds a resolve info and runs the
whole completion chain for each of them. Here such a field is read and serialised (or
answered null) inline; anything out of the ordinary (null for a non-null
field, a value the scalar refuses, a missing attribute, middleware) takes graphql-core's
own path, so results, errors and their paths are exactly what the plain executor gives
(``tests/test_executor.py`` compares both on the whole schema).

A subscription event can come as a ``SharedEvent``: the subscribers whose answer is the
same (same selection, same sight of the follow-up: ``schema.live``) share one execution;
the first to get there runs it, the others await its result.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Hashable
from typing import Any, NamedTuple

from graphql import (
    GraphQLLeafType,
    GraphQLObjectType,
    is_leaf_type,
    is_non_null_type,
)
from graphql.pyutils import Path, Undefined
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.field import StrawberryField


class _Plain(NamedTuple):
    attribute: str
    leaf: GraphQLLeafType | None  # None: an object or list type (only null is inlined)
    non_null: bool


_PLAIN: dict[GraphQLObjectType, dict[str, _Plain]] = {}


def plain_fields(parent_type: GraphQLObjectType) -> dict[str, _Plain]:
    """The fields of ``parent_type`` that are plain attributes: of a leaf type, or of a
    nullable type (a null is answered inline)."""
    found = _PLAIN.get(parent_type)
    if found is None:
        found = {}
        for name, field in parent_type.fields.items():
            definition = (field.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
            resolve = field.resolve
            if (
                not isinstance(definition, StrawberryField)
                or not definition.is_basic_field
                or definition.default_resolver is not getattr
                or field.args
                or getattr(resolve, "__name__", "") != "_get_basic_result"
            ):
                continue
            non_null = is_non_null_type(field.type)
            inner = field.type.of_type if non_null else field.type  # type: ignore[attr-defined]
            if is_leaf_type(inner):
                found[name] = _Plain(definition.python_name, inner, non_null)
            elif not non_null:
                found[name] = _Plain(definition.python_name, None, non_null)
        _PLAIN[parent_type] = found
    return found


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
            value = getattr(source, plain.attribute, Undefined)
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
