"""Keyset pages of a query: stable pages without OFFSET scans, and their cursors.

``schema.pagination`` wraps the rows in Relay connections; a cursor is the (sort value,
id) of the last row, read back strictly (a forged one is VALIDATION, never INTERNAL).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from config.settings import Settings
from resolvers.errors import ValidationFailed


def page_size(first: int | None, settings: Settings, name: str = "first") -> int:
    size = settings.default_page_size if first is None else first
    if not 1 <= size <= settings.max_page_size:
        raise ValidationFailed(name, f"{name} must be 1..{settings.max_page_size}")
    return size


@dataclass(frozen=True)
class Window:
    """What a connection was asked for: ``size`` items after/before the cursors, from the
    start of that range (``first``) or from its end (``backward``: ``last``)."""

    size: int
    backward: bool = False
    after: str | None = None
    before: str | None = None


def window(
    first: int | None, after: str | None, last: int | None, before: str | None, settings: Settings
) -> Window:
    """The Relay arguments checked: first or last (not both), each 1..MAX_PAGE_SIZE."""
    if first is not None and last is not None:
        raise ValidationFailed("last", "give first or last, not both")
    if last is not None:
        return Window(page_size(last, settings, "last"), True, after, before)
    return Window(page_size(first, settings), False, after, before)


@dataclass
class Page:
    """One page of rows in list order, and whether the list holds more on either side."""

    rows: list[Any]
    has_previous: bool
    has_next: bool
    total: int


def encode(values: list[Any]) -> str:
    raw = [v.isoformat() if isinstance(v, datetime) else v for v in values]
    return base64.urlsafe_b64encode(json.dumps(raw).encode()).decode()


def key(value: Any) -> int:
    """A row key or list position inside a cursor: a non-negative integer of bounded size."""
    if type(value) is not int or not 0 <= value < 2**62:
        raise ValueError(value)
    return value


def decode(cursor: str, *columns: Callable[[Any], Any], arg: str = "after") -> list[Any]:
    """The values of a cursor this service gave out, each checked by its column's reader."""
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        if not isinstance(values, list) or len(values) != len(columns):
            raise ValueError
        return [read(value) for read, value in zip(columns, values, strict=True)]
    except (ValueError, TypeError, OverflowError) as exc:
        raise ValidationFailed(arg, f"{arg} is not a cursor this list gave out") from exc


def _ordered(after: list[Any] | None, before: list[Any] | None, descending: bool) -> None:
    if after is not None and before is not None:
        forward = tuple(after) < tuple(before)
        if forward == descending or tuple(after) == tuple(before):
            raise ValidationFailed("before", "before must name an item that comes after after")


def list_window(count: int, page: Window) -> tuple[int, int]:
    """The [start, end) positions of a page of a list of ``count`` items."""
    lo = decode(page.after, key)[0] + 1 if page.after is not None else 0
    hi = decode(page.before, key, arg="before")[0] if page.before is not None else count
    _ordered(
        [lo - 1] if page.after is not None else None,
        [hi] if page.before is not None else None,
        False,
    )
    lo, hi = min(lo, count), min(hi, count)
    if page.backward:
        return max(lo, hi - page.size), hi
    return lo, min(hi, lo + page.size)


async def keyset_page(
    query: QuerySet[Any],
    page: Window,
    *,
    sort: str | None = None,
    descending: bool = False,
) -> Page:
    """One page ordered by (``sort``, id), in either direction, with the total count.

    ``has_previous``/``has_next`` say whether the whole list holds items before/after the
    page (an indexed existence check beyond a cursor, the extra row on the paged side).
    """
    total = await query.count()
    columns: tuple[Callable[[Any], Any], ...] = (
        (key,) if sort is None else (datetime.fromisoformat, key)
    )
    after = decode(page.after, *columns) if page.after is not None else None
    before = decode(page.before, *columns, arg="before") if page.before is not None else None
    _ordered(after, before, descending)
    up, down = ("lt", "gt") if descending else ("gt", "lt")

    def beyond(values: list[Any], op: str) -> Q:
        if sort is None:
            return Q(**{f"id__{op}": values[0]})
        strict = op[:2]
        return Q(**{f"{sort}__{strict}": values[0]}) | Q(
            **{sort: values[0], f"id__{op}": values[1]}
        )

    bounded = query
    if after is not None:
        bounded = bounded.filter(beyond(after, up))
    if before is not None:
        bounded = bounded.filter(beyond(before, down))
    forward, backward = ("-" if descending else ""), ("" if descending else "-")
    prefix = backward if page.backward else forward
    order = [f"{prefix}{sort}"] if sort else []
    rows = list(await bounded.order_by(*order, f"{prefix}id").limit(page.size + 1))
    more = len(rows) > page.size
    rows = rows[: page.size]
    if page.backward:
        rows.reverse()
    has_previous = more if page.backward else False
    has_next = False if page.backward else more
    if after is not None and not has_previous:
        has_previous = await query.filter(beyond(after, _not(up))).exists()
    if before is not None and not has_next:
        has_next = await query.filter(beyond(before, _not(down))).exists()
    return Page(rows, has_previous, has_next, total)


def _not(op: str) -> str:
    """The complement of a strict comparison: not greater is less or equal."""
    return {"gt": "lte", "lt": "gte"}[op]
