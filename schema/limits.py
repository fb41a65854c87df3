"""Request limits enforced before a query runs: depth, cost, aliases, tokens, operations.

Cost: every selected field costs 1, times the product of the sizes of the lists above it
(``first:`` where given, else the default page size for connections; ``diary`` and
``freeBusy`` by the number of associates and resources asked for; nested lists of one
object by ``LIST_SIZES`` - participants 8, status history 5, ... - else
``NESTED_LIST_SIZE``; other root lists as the maximum page size), so a request is priced
by how many objects it can return.  Every answer reports its cost and the limit in
``extensions.cost``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLList,
    GraphQLNonNull,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationRule,
    VariableNode,
    get_named_type,
)
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import MaxTokensLimiter, ParserCache, SchemaExtension, ValidationCache
from strawberry.extensions.max_aliases import create_validator as alias_validator
from strawberry.extensions.query_depth_limiter import create_validator as depth_validator

from config.settings import Settings

NESTED_LIST_SIZE = 10
#: Lexical tokens per document; the parser stops beyond this (a fixed guard, not a setting).
MAX_TOKENS = 5_000


def _is_list(type_: Any) -> bool:
    while isinstance(type_, GraphQLNonNull):
        type_ = type_.of_type
    return isinstance(type_, GraphQLList)


#: How many items a list field is expected to hold when it takes no ``first:`` (nested lists
#: of one object, or bounded root lists).  ``diary`` and ``freeBusy`` are priced per
#: requested associate or resource (a busy fortnight holds ~25 items per associate).
LIST_SIZES = {
    "participants": 8,
    "statusHistory": 5,
    "resources": 3,
    "conflicts": 5,
    "phones": 3,
    "emails": 3,
    "proposals": 3,
    "mailDeliveries": 5,
    "members": 20,
}
PER_ID = {
    "diary": ("associateIds", 25),
    "resourceDiary": ("resourceIds", 25),
    "freeBusy": ("associateIds", 1),
    "nodes": ("ids", 1),
}
#: What a list of IDs given as a variable counts as (its length is unknown when validating).
VARIABLE_IDS = 5


class Cost:
    """The price of one operation: every field 1, times the sizes of the lists above it."""

    def __init__(self, schema: Any, document: Any, settings: Settings) -> None:
        self.schema, self.settings = schema, settings
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }

    def of(self, node: OperationDefinitionNode) -> int:
        root = {
            "query": self.schema.query_type,
            "mutation": self.schema.mutation_type,
            "subscription": self.schema.subscription_type,
        }[node.operation.value]
        return self._cost(node.selection_set, root, 1, 0)

    def _size(self, field: FieldNode, listed: bool, connection: bool, depth: int) -> int:
        settings = self.settings
        for arg in field.arguments or ():
            if arg.name.value in ("first", "last", "limit"):
                if isinstance(arg.value, IntValueNode):
                    return max(1, int(arg.value.value))
                if isinstance(arg.value, VariableNode):
                    return settings.max_page_size
        name = field.name.value
        if name in PER_ID:
            argument, each = PER_ID[name]
            count = 0
            for arg in field.arguments or ():
                if arg.name.value in (argument, "resourceIds"):
                    values = getattr(arg.value, "values", None)
                    count += len(values) if values is not None else VARIABLE_IDS
            return max(1, count) * each
        if connection:
            return settings.default_page_size
        if not listed:
            return 1
        if name in LIST_SIZES:
            return LIST_SIZES[name]
        return settings.max_page_size if depth == 0 else NESTED_LIST_SIZE

    def _cost(
        self, selection: SelectionSetNode | None, parent: Any, multiplier: int, depth: int
    ) -> int:
        if selection is None or parent is None or depth > 50:
            return 0
        total = 0
        for item in selection.selections:
            if isinstance(item, FieldNode):
                definition = getattr(parent, "fields", {}).get(item.name.value)
                total += multiplier
                if definition is None:
                    continue
                named = get_named_type(definition.type)
                connection = named.name.endswith("Connection")
                factor = self._size(item, _is_list(definition.type), connection, depth)
                if item.name.value in ("edges", "nodes"):
                    factor = 1
                total += self._cost(item.selection_set, named, multiplier * factor, depth + 1)
            elif isinstance(item, InlineFragmentNode):
                target = parent
                if item.type_condition is not None:
                    target = self.schema.get_type(item.type_condition.name.value)
                total += self._cost(item.selection_set, target, multiplier, depth + 1)
            elif isinstance(item, FragmentSpreadNode):
                fragment = self.fragments.get(item.name.value)
                if fragment is not None:
                    target = self.schema.get_type(fragment.type_condition.name.value)
                    total += self._cost(fragment.selection_set, target, multiplier, depth + 1)
        return total


def document_cost(schema: Any, document: Any, settings: Settings) -> int:
    """The highest cost of the document's operations."""
    cost = Cost(schema, document, settings)
    return max(
        (cost.of(d) for d in document.definitions if isinstance(d, OperationDefinitionNode)),
        default=0,
    )


def cost_rule(settings: Settings) -> type[ValidationRule]:
    """A validation rule refusing documents whose cost exceeds MAX_QUERY_COST."""

    class QueryCost(ValidationRule):
        def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
            cost = Cost(self.context.schema, self.context.document, settings).of(node)
            if cost > settings.max_query_cost:
                self.report_error(
                    GraphQLError(
                        f"query cost {cost} exceeds the limit of {settings.max_query_cost}; "
                        "ask for smaller pages or fewer fields",
                        node,
                        extensions={"code": "QUERY_TOO_COSTLY"},
                    )
                )

    return QueryCost


class CostReport(SchemaExtension):
    """Say what a request cost, and the limit, in the answer's ``extensions``."""

    def get_results(self) -> dict[str, Any]:
        # asked again for every event of a subscription: the same document, the same cost
        report: dict[str, Any] | None = getattr(self, "_report", None)
        if report is None:
            report = self._results()
            if report:  # not before the document is parsed
                self._report = report
        return report

    def _results(self) -> dict[str, Any]:
        context = self.execution_context
        settings: Settings | None = getattr(context.context, "settings", None)
        if settings is None or context.graphql_document is None or not context.query:
            return {}
        cost = _cached_cost(context.query, context.schema._schema, settings)
        return {"cost": {"requested": cost, "limit": settings.max_query_cost}}


@lru_cache(maxsize=1000)
def _cached_cost(query: str, schema: Any, settings: Settings) -> int:
    from graphql import parse

    return document_cost(schema, parse(query), settings)


def operations_rule(settings: Settings) -> type[ValidationRule]:
    """Refuse documents with more operations than MAX_OPERATIONS."""

    class OperationCount(ValidationRule):
        def enter_document(self, node: Any, *_: Any) -> None:
            count = sum(isinstance(d, OperationDefinitionNode) for d in node.definitions)
            if count > settings.max_operations:
                self.report_error(
                    GraphQLError(
                        f"a request may hold at most {settings.max_operations} operations",
                        extensions={"code": "TOO_MANY_OPERATIONS"},
                    )
                )

    return OperationCount


@lru_cache(maxsize=16)
def rules_for(
    key: tuple[int, int, int, int, int, int, bool], settings: Settings
) -> tuple[type[ValidationRule], ...]:
    """The settings-bound validation rules (built once per set of limits)."""
    rules: list[type[ValidationRule]] = [
        depth_validator(settings.max_query_depth, None),
        alias_validator(settings.max_aliases),
        cost_rule(settings),
        operations_rule(settings),
    ]
    if not settings.introspection:
        rules.append(NoSchemaIntrospectionCustomRule)
    return tuple(rules)


class RequestLimits(SchemaExtension):
    """Add the limit rules of the request's settings to its validation."""

    def on_operation(self) -> Iterator[None]:
        settings: Settings = self.execution_context.context.settings
        key = (
            settings.max_query_depth,
            settings.max_aliases,
            settings.max_query_cost,
            settings.max_operations,
            settings.default_page_size,
            settings.max_page_size,
            settings.introspection,
        )
        self.execution_context.validation_rules = (
            *self.execution_context.validation_rules,
            *rules_for(key, settings),
        )
        yield


#: graphql-core's "Did you mean 'a', 'b' or 'c'?" (names cannot hold a question mark).
SUGGESTION = re.compile(r"\s*Did you mean [^?]*\?")


class HideSuggestions(SchemaExtension):
    """With introspection off, error messages must not list the schema's names either."""

    def on_operation(self) -> Iterator[None]:
        yield
        settings: Settings = self.execution_context.context.settings
        result = self.execution_context.result
        if settings.introspection or result is None or not getattr(result, "errors", None):
            return
        result.errors = [_without_suggestions(e) for e in result.errors or []]


def _without_suggestions(error: GraphQLError) -> GraphQLError:
    message = SUGGESTION.sub("", error.message)
    if message == error.message:
        return error
    return GraphQLError(
        message,
        error.nodes,
        error.source,
        error.positions,
        error.path,
        error.original_error,
        error.extensions,
    )


def extensions() -> list[SchemaExtension | type[SchemaExtension]]:
    """The schema's limit extensions; the limits themselves come from each request."""
    # ValidationCache: the rules depend only on the document and the settings-bound rule
    # tuple (its cache key), never on variables; validating every request cost ~10 % CPU.
    return [
        ParserCache(maxsize=1000),
        MaxTokensLimiter(max_token_count=MAX_TOKENS),
        RequestLimits,
        ValidationCache(maxsize=1000),
        HideSuggestions,
        CostReport,
    ]
