"""The control-character boundary of every mutation (``resolvers.text_input``).

Each root mutation field's resolver is wrapped (``guard_mutations``) so it sees the
field's arguments before strawberry decodes them; refused text answers the field's own
payload with one ``ValidationError`` (every payload has defaults and an ``errors``
list), so no resolver runs.  Only the mutation roots are wrapped: a schema extension's
``resolve`` hook would wrap every field of every query too (about 1,500 calls for one
diary), for nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from graphql import GraphQLField, GraphQLResolveInfo, GraphQLSchema, get_named_type

from resolvers.errors import ValidationFailed
from resolvers.text_input import clean_arguments
from schema.errors import to_user_error


def guard_mutations(schema: GraphQLSchema) -> None:
    """Wrap the resolver of every root mutation field with the text check."""
    if schema.mutation_type is None:
        return
    for field in schema.mutation_type.fields.values():
        if not getattr(field.resolve, "text_guarded", False):
            field.resolve = _guarded(field)


def _guarded(field: GraphQLField) -> Callable[..., Any]:
    resolve = field.resolve
    assert resolve is not None, "strawberry gives every root field a resolver"

    @wraps(resolve)
    def checked(root: Any, info: GraphQLResolveInfo, **kwargs: Any) -> Any:
        if kwargs:
            try:
                kwargs = clean_arguments(kwargs)
            except ValidationFailed as exc:
                named = get_named_type(info.return_type)
                definition = (named.extensions or {}).get("strawberry-definition")
                if definition is None:
                    raise
                return definition.origin(errors=[to_user_error(exc)])
        return resolve(root, info, **kwargs)

    checked.text_guarded = True  # type: ignore[attr-defined]
    return checked
