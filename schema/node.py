"""The base of every GraphQL type backed by a table: Relay node lookups through loaders."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Self

from strawberry import relay

from resolvers.context import Info
from resolvers.records import Table


class ModelNode(relay.Node):
    """A node whose ``id`` is the primary key of the rows of ``table()``."""

    @classmethod
    def table(cls) -> Table:
        raise NotImplementedError

    @classmethod
    def from_model(cls, row: Any) -> Self:
        raise NotImplementedError

    @staticmethod
    async def rows_of(cls: type[ModelNode], info: Info, node_ids: Iterable[str]) -> list[Any]:
        """The rows of ``node_ids`` (None where unknown), through the request's loader."""
        return await cls.table().nodes(info, node_ids)

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Self | None]:
        rows = await ModelNode.rows_of(cls, info, node_ids)
        return [cls.from_model(row) if row is not None else None for row in rows]
