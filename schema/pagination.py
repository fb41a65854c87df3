"""Relay connections with keyset cursors: stable pages without OFFSET scans."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Generic, TypeVar

import strawberry
from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from config.settings import Settings
from resolvers.errors import ValidationFailed

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


def page_size(first: int | None, settings: Settings) -> int:
    size = settings.default_page_size if first is None else first
    if not 1 <= size <= settings.max_page_size:
        raise ValidationFailed("first", f"first must be 1..{settings.max_page_size}")
    return size


def _encode(values: list[Any]) -> str:
    raw = [v.isoformat() if isinstance(v, datetime) else v for v in values]
    return base64.urlsafe_b64encode(json.dumps(raw).encode()).decode()


def _key(value: Any) -> int:
    """A row key or list position inside a cursor: a non-negative integer of bounded size."""
    if type(value) is not int or not 0 <= value < 2**62:
        raise ValueError(value)
    return value


def _decode(cursor: str, *columns: Callable[[Any], Any]) -> list[Any]:
    """The values of a cursor this service gave out, each checked by its column's reader."""
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        if not isinstance(values, list) or len(values) != len(columns):
            raise ValueError
        return [read(value) for read, value in zip(columns, values, strict=True)]
    except (ValueError, TypeError, OverflowError) as exc:
        raise ValidationFailed("after", "after is not a cursor this list gave out") from exc


async def keyset_page(
    query: QuerySet[Any],
    *,
    first: int,
    after: str | None,
    sort: str | None = None,
    descending: bool = False,
) -> tuple[list[Any], bool, int]:
    """One page ordered by (``sort``, id); returns rows, has_next and the total count."""
    total = await query.count()
    op = "lt" if descending else "gt"
    if after is not None:
        if sort is None:
            (last_id,) = _decode(after, _key)
            query = query.filter(**{f"id__{op}": last_id})
        else:
            moment, last_id = _decode(after, datetime.fromisoformat, _key)
            before: dict[str, Any] = {f"{sort}__{op}": moment}
            tie: dict[str, Any] = {sort: moment, f"id__{op}": last_id}
            query = query.filter(Q(**before) | Q(**tie))
    prefix = "-" if descending else ""
    order = [f"{prefix}{sort}"] if sort else []
    rows = await query.order_by(*order, f"{prefix}id").limit(first + 1)
    return list(rows[:first]), len(rows) > first, total


def connection(
    rows: Sequence[Any],
    has_next: bool,
    total: int,
    make: Callable[[Any], T],
    sort: str | None = None,
) -> Connection[T]:
    def cursor(row: Any) -> str:
        return _encode([getattr(row, sort), row.id] if sort else [row.id])

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
    start = _decode(after, _key)[0] + 1 if after is not None else 0
    chunk = items[start : start + first]
    edges = [Edge(cursor=_encode([start + i]), node=make(x)) for i, x in enumerate(chunk)]
    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=start + first < len(items),
            end_cursor=edges[-1].cursor if edges else None,
        ),
        total_count=len(items),
    )
