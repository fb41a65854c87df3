"""Keyset pages of a query: stable pages without OFFSET scans, and their cursors.

``schema.pagination`` wraps the rows in Relay connections; a cursor is the (sort value,
id) of the last row, read back strictly (a forged one is VALIDATION, never INTERNAL).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from config.settings import Settings
from resolvers.errors import ValidationFailed


def page_size(first: int | None, settings: Settings) -> int:
    size = settings.default_page_size if first is None else first
    if not 1 <= size <= settings.max_page_size:
        raise ValidationFailed("first", f"first must be 1..{settings.max_page_size}")
    return size


def encode(values: list[Any]) -> str:
    raw = [v.isoformat() if isinstance(v, datetime) else v for v in values]
    return base64.urlsafe_b64encode(json.dumps(raw).encode()).decode()


def key(value: Any) -> int:
    """A row key or list position inside a cursor: a non-negative integer of bounded size."""
    if type(value) is not int or not 0 <= value < 2**62:
        raise ValueError(value)
    return value


def decode(cursor: str, *columns: Callable[[Any], Any]) -> list[Any]:
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
            (last_id,) = decode(after, key)
            query = query.filter(**{f"id__{op}": last_id})
        else:
            moment, last_id = decode(after, datetime.fromisoformat, key)
            before: dict[str, Any] = {f"{sort}__{op}": moment}
            tie: dict[str, Any] = {sort: moment, f"id__{op}": last_id}
            query = query.filter(Q(**before) | Q(**tie))
    prefix = "-" if descending else ""
    order = [f"{prefix}{sort}"] if sort else []
    rows = await query.order_by(*order, f"{prefix}id").limit(first + 1)
    return list(rows[:first]), len(rows) > first, total
