"""Relay connections with keyset cursors: stable pages without OFFSET scans.

The pages themselves (queries and cursor values) are ``resolvers.pages``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

import strawberry

from resolvers.pages import decode, encode, key, keyset_page, page_size

__all__ = ["Connection", "Edge", "PageInfo", "connection", "keyset_page", "list_page", "page_size"]

T = TypeVar("T")


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.type
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo
    total_count: int

    @strawberry.field
    def nodes(self) -> list[T]:
        return [edge.node for edge in self.edges]


def connection(
    rows: Sequence[Any],
    has_next: bool,
    total: int,
    make: Callable[[Any], T],
    sort: str | None = None,
) -> Connection[T]:
    def cursor(row: Any) -> str:
        return encode([getattr(row, sort), row.id] if sort else [row.id])

    edges = [Edge(cursor=cursor(row), node=make(row)) for row in rows]
    return Connection(
        edges=edges,
        page_info=PageInfo(has_next_page=has_next, end_cursor=edges[-1].cursor if edges else None),
        total_count=total,
    )


def list_page(
    items: Sequence[Any], first: int, after: str | None, make: Callable[[Any], T]
) -> Connection[T]:
    """One page of an already bounded, ordered list (cursors are positions in it)."""
    start = decode(after, key)[0] + 1 if after is not None else 0
    chunk = items[start : start + first]
    edges = [Edge(cursor=encode([start + i]), node=make(x)) for i, x in enumerate(chunk)]
    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=start + first < len(items),
            end_cursor=edges[-1].cursor if edges else None,
        ),
        total_count=len(items),
    )
