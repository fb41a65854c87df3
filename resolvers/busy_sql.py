"""The SQL of busy time (``resolvers.availability``): raw, index-shaped, no models.

Free/busy is the hottest read (every invitation dialog, every slot search), so its
statements are written out instead of built by the ORM: building a Tortoise query costs
about a millisecond and instantiating a model row tens of microseconds, both more than
the database needs for an indexed lookup.  One statement per relation, whatever the
number of entities or follow-ups:

* own follow-ups in the window: ``(owner_id, end_at)`` -- a window near today scans only
  the rows ending after it starts, not the owner's whole history;
* own series overlapping the window: ``(owner_id, rrule)``;
* invitations and room bookings: their copy of the follow-up's busy span (``busy_from``,
  ``busy_until``, ``busy_series``, kept by triggers, see migration 0004) in the covering
  ``(associate_id | person_id | resource_id, busy_until, ...)`` indexes -- only links
  ending after the window starts are read, and no follow-up row;
* the series rows to expand, by id, with only the columns expansion needs.

Timestamps come back as ``datetime`` (PostgreSQL) or as Tortoise's SQLite text
(``2026-12-07 09:00:00+00:00``) and are parsed here; SQLite parameters are given as that
same text, so comparisons stay textual comparisons of one format.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise.connection import get_connection

_PENDING = ("INVITED", "TENTATIVE")


@dataclass(frozen=True, slots=True)
class SeriesRow:
    """The columns of a series that ``resolvers.occurrences.spans`` reads."""

    id: int
    rrule: str | None
    rdates: list[str]
    exdates: list[str]
    tzid: str
    start_at: datetime | None
    end_at: datetime | None
    deadline: datetime | None


@dataclass(frozen=True, slots=True)
class Link:
    """A follow-up busy for one entity: the entity's id, the follow-up and its times.

    ``single`` is false for a series (its times are the first occurrence's).
    """

    entity: int
    followup_id: int
    start: datetime | None
    end: datetime | None
    single: bool
    tentative: bool


class _Sql:
    def __init__(self) -> None:
        self.conn = get_connection("default")
        self.sqlite = self.conn.capabilities.dialect == "sqlite"
        self.values: list[Any] = []

    def param(self, value: Any) -> str:
        if self.sqlite and isinstance(value, datetime):
            value = str(value)
        self.values.append(value)
        return "?" if self.sqlite else f"${len(self.values)}"

    def many(self, values: Sequence[Any]) -> str:
        return ", ".join(self.param(v) for v in values)

    def time(self, value: Any) -> datetime | None:
        if value is None or isinstance(value, datetime):
            return value
        return datetime.fromisoformat(value)

    async def rows(self, sql: str) -> Sequence[Any]:
        _, rows = await self.conn.execute_query(sql, self.values)
        return rows


async def own(owners: Sequence[int], lo: datetime, hi: datetime) -> list[Link]:
    """Follow-ups owned by ``owners`` that may be busy in [lo, hi): two statements."""
    q = _Sql()
    singles = await q.rows(
        "SELECT f.owner_id, f.id, f.start_at, f.end_at, f.rrule IS NULL FROM followup f "
        f"WHERE f.owner_id IN ({q.many(owners)}) AND f.busy = {q.param(True)} "
        f"AND f.end_at > {q.param(lo)} AND f.start_at < {q.param(hi)}"
    )
    out = [Link(r[0], r[1], q.time(r[2]), q.time(r[3]), True, False) for r in singles if r[4]]
    q = _Sql()
    series = await q.rows(
        "SELECT f.owner_id, f.id FROM followup f "
        f"WHERE f.owner_id IN ({q.many(owners)}) AND f.busy = {q.param(True)} "
        "AND f.rrule IS NOT NULL "  # untimed series are dropped by series_rows
        f"AND f.sort_at < {q.param(hi)} "
        f"AND (f.series_end IS NULL OR f.series_end > {q.param(lo)})"
    )
    out += [Link(r[0], r[1], None, None, False, False) for r in series]
    return out


async def invited(column: str, keys: Sequence[int], lo: datetime, hi: datetime) -> list[Link]:
    """Follow-ups ``keys`` (associates or persons, by ``column``) are invited to and have
    not declined, that may be busy in [lo, hi); INVITED and TENTATIVE are tentative."""
    assert column in ("associate_id", "person_id")
    q = _Sql()
    rows = await q.rows(
        f"SELECT p.{column}, p.status, p.followup_id, p.busy_from, p.busy_until, "
        f"p.busy_series FROM participant p WHERE p.{column} IN ({q.many(keys)}) "
        f"AND p.busy_until > {q.param(lo)} AND p.busy_from < {q.param(hi)} "
        f"AND p.organiser = {q.param(False)} AND p.status <> {q.param('DECLINED')}"
    )
    return [Link(r[0], r[2], q.time(r[3]), q.time(r[4]), not r[5], r[1] in _PENDING) for r in rows]


async def booked(resources: Sequence[int], lo: datetime, hi: datetime) -> list[Link]:
    """Follow-ups booking ``resources`` that may be busy in [lo, hi)."""
    q = _Sql()
    rows = await q.rows(
        "SELECT b.resource_id, b.followup_id, b.busy_from, b.busy_until, b.busy_series "
        f"FROM resource_booking b WHERE b.resource_id IN ({q.many(resources)}) "
        f"AND b.busy_until > {q.param(lo)} AND b.busy_from < {q.param(hi)}"
    )
    return [Link(r[0], r[1], q.time(r[2]), q.time(r[3]), not r[4], False) for r in rows]


async def series_rows(ids: Sequence[int], lo: datetime, hi: datetime) -> list[SeriesRow]:
    """The timed series among ``ids`` whose occurrences may fall in [lo, hi)."""
    q = _Sql()
    rows = await q.rows(
        "SELECT f.id, f.rrule, f.rdates, f.exdates, f.tzid, f.start_at, f.end_at, f.deadline "
        f"FROM followup f WHERE f.id IN ({q.many(ids)}) AND f.rrule IS NOT NULL "
        f"AND f.start_at IS NOT NULL AND f.sort_at < {q.param(hi)} "
        f"AND (f.series_end IS NULL OR f.series_end > {q.param(lo)})"
    )
    return [
        SeriesRow(
            r[0],
            r[1],
            _json_list(r[2]),
            _json_list(r[3]),
            r[4],
            q.time(r[5]),
            q.time(r[6]),
            q.time(r[7]),
        )
        for r in rows
    ]


def _json_list(value: Any) -> list[str]:
    if not value or value == "[]":
        return []
    if isinstance(value, str | bytes):
        value = json.loads(value)
    return list(value)
