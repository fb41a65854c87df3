"""The control-character boundary of every mutation (``resolvers.text_input``).

A schema extension sees each root mutation field's arguments before strawberry decodes
them; refused text answers the field's own payload with one ``ValidationError`` (every
payload has defaults and an ``errors`` list), so no resolver runs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graphql import GraphQLResolveInfo, get_named_type
from strawberry.extensions import SchemaExtension

from resolvers.errors import ValidationFailed
from resolvers.text_input import clean_arguments
from schema.errors import to_user_error


class MutationText(SchemaExtension):
    """Check and clean the text arguments of every root mutation field."""

    def resolve(
        self, _next: Callable[..., Any], root: Any, info: GraphQLResolveInfo, *args: Any,
        **kwargs: Any,
    ) -> Any:  # fmt: skip
        if kwargs and info.path.prev is None and info.operation.operation.value == "mutation":
            try:
                kwargs = clean_arguments(kwargs)
            except ValidationFailed as exc:
                named = get_named_type(info.return_type)
                definition = (named.extensions or {}).get("strawberry-definition")
                if definition is None:
                    raise
                return definition.origin(errors=[to_user_error(exc)])
        return _next(root, info, *args, **kwargs)
