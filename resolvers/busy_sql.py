"""The SQL of busy time (``resolvers.availability``): raw, index-shaped, no models.

Free/busy is the hottest read (every invitation dialog, every slot search), so its
statements are written out instead of built by the ORM: building a Tortoise query costs
about a millisecond and instantiating a model row tens of microseconds, both more than
the database needs for an indexed lookup.  Two statements, whatever the number of
entities or follow-ups (each round trip costs more than most of the lookups in it):

``links``, a ``UNION ALL`` of one index-shaped part per relation:

* own follow-ups in the window: the partial ``(owner_id, end_at, start_at, id) WHERE
  busy AND rrule IS NULL`` (migration 0005) -- a window near today scans only the
  entries ending after it starts, not the owner's whole history, and reads the table
  only for those starting before it ends;
* own series overlapping the window: the partial ``(owner_id, series_end, sort_at, id)
  WHERE busy AND rrule IS NOT NULL``, bounded series and open-ended ones apart;
* invitations and room bookings: their copy of the follow-up's busy span (``busy_from``,
  ``busy_until``, ``busy_series``, kept by triggers, see migration 0004) in the covering
  ``(associate_id | person_id | resource_id, busy_until, ...)`` indexes -- only links
  ending after the window starts are read, and no follow-up row;

``series``: the series rows to expand, by id, with only the columns expansion needs,
joined to their overrides (``occurrence``, by its ``(series_id, recurrence_id)`` key)
with the columns applying them needs.

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

#: What a link row is of (``links``): an associate's own follow-up, an associate's or a
#: person's invitation, a resource's booking.
OWN, ASSOCIATE, PERSON, RESOURCE = 0, 1, 2, 3


@dataclass(frozen=True, slots=True)
class SeriesRow:
    """The columns of a series that ``orm.occurrences.spans`` reads."""

    id: int
    rrule: str | None
    rdates: list[str]
    exdates: list[str]
    tzid: str
    start_at: datetime | None
    end_at: datetime | None
    deadline: datetime | None
    all_day: bool = False


@dataclass(frozen=True, slots=True)
class OverrideRow:
    """The columns of an override that ``orm.occurrences.spans`` reads."""

    recurrence_id: datetime
    start_at: datetime | None
    end_at: datetime | None
    deadline: datetime | None
    cancelled: bool


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

    def among(self, column: str, values: Sequence[Any]) -> str:
        """``column`` is one of ``values``: one array parameter on PostgreSQL."""
        if self.sqlite:
            return f"{column} IN ({', '.join(self.param(v) for v in values)})"
        return f"{column} = ANY({self.param(list(values))})"

    def likely(self, term: str) -> str:
        """``term``, marked as true for most rows on SQLite.

        Its planner takes ``rrule IS NULL`` for a selective equality on the (owner_id,
        rrule) index (most rules are distinct texts) instead of the partial indexes of
        migration 0005; a marked term still selects them.
        """
        return f"likelihood({term}, 0.9)" if self.sqlite else term

    def time(self, value: Any) -> datetime | None:
        if value is None or isinstance(value, datetime):
            return value
        return datetime.fromisoformat(value)

    async def rows(self, sql: str) -> Sequence[Any]:
        _, rows = await self.conn.execute_query(sql, self.values)
        return rows


async def links(
    associates: Sequence[int],
    persons: Sequence[int],
    resources: Sequence[int],
    lo: datetime,
    hi: datetime,
) -> list[tuple[int, Link]]:
    """What may make these entities busy in [lo, hi), as (``OWN`` | ``ASSOCIATE`` |
    ``PERSON`` | ``RESOURCE``, link): one statement.

    Associates' own follow-ups and series; invitations of associates and persons they
    have not declined (INVITED and TENTATIVE ones are tentative); room bookings.
    """
    q = _Sql()
    parts = []
    if associates:
        owners = q.among("f.owner_id", associates)
        parts.append(
            f"SELECT {OWN}, f.owner_id, f.id, f.start_at, f.end_at, FALSE, FALSE "
            f"FROM followup f WHERE {owners} AND f.busy AND {q.likely('f.rrule IS NULL')} "
            f"AND f.end_at > {q.param(lo)} AND f.start_at < {q.param(hi)}"
        )
        # untimed series are dropped by ``series``; open-ended ones are read apart (an OR
        # of the two would read all of an owner's series)
        for bounded in (True, False):
            # (SQLite's parameters are positional: each made in the order of the text)
            sql = (
                f"SELECT {OWN}, f.owner_id, f.id, NULL, NULL, TRUE, FALSE FROM followup f "
                f"WHERE {q.among('f.owner_id', associates)} AND f.busy "
                f"AND {q.likely('f.rrule IS NOT NULL')} AND "
            )
            sql += f"f.series_end > {q.param(lo)}" if bounded else "f.series_end IS NULL"
            parts.append(sql + f" AND f.sort_at < {q.param(hi)}")
    for kind, column, keys in (
        (ASSOCIATE, "associate_id", associates),
        (PERSON, "person_id", persons),
    ):
        if keys:
            parts.append(
                f"SELECT {kind}, p.{column}, p.followup_id, p.busy_from, p.busy_until, "
                f"p.busy_series, p.status IN ({q.param(_PENDING[0])}, {q.param(_PENDING[1])}) "
                f"FROM participant p WHERE {q.among(f'p.{column}', keys)} "
                f"AND p.busy_until > {q.param(lo)} AND p.busy_from < {q.param(hi)} "
                f"AND p.organiser = {q.param(False)} AND p.status <> {q.param('DECLINED')}"
            )
    if resources:
        parts.append(
            f"SELECT {RESOURCE}, b.resource_id, b.followup_id, b.busy_from, b.busy_until, "
            "b.busy_series, FALSE FROM resource_booking b "
            f"WHERE {q.among('b.resource_id', resources)} "
            f"AND b.busy_until > {q.param(lo)} AND b.busy_from < {q.param(hi)}"
        )
    if not parts:
        return []
    rows = await q.rows(" UNION ALL ".join(parts))
    time = q.time
    return [(r[0], Link(r[1], r[2], time(r[3]), time(r[4]), not r[5], bool(r[6]))) for r in rows]


async def series(
    ids: Sequence[int], lo: datetime, hi: datetime
) -> list[tuple[SeriesRow, list[OverrideRow]]]:
    """The timed series among ``ids`` whose occurrences may fall in [lo, hi), each with
    its overrides: one statement."""
    q = _Sql()
    rows = await q.rows(
        "SELECT f.id, f.rrule, f.rdates, f.exdates, f.tzid, f.start_at, f.end_at, f.deadline, "
        "o.recurrence_id, o.start_at, o.end_at, o.deadline, o.cancelled, f.all_day "
        "FROM followup f LEFT JOIN occurrence o ON o.series_id = f.id "
        f"WHERE {q.among('f.id', ids)} AND f.rrule IS NOT NULL "
        f"AND f.start_at IS NOT NULL AND f.sort_at < {q.param(hi)} "
        f"AND (f.series_end IS NULL OR f.series_end > {q.param(lo)})"
    )
    time = q.time
    out: dict[int, tuple[SeriesRow, list[OverrideRow]]] = {}
    for r in rows:
        found = out.get(r[0])
        if found is None:
            row = SeriesRow(
                r[0], r[1], _json_list(r[2]), _json_list(r[3]), r[4], time(r[5]), time(r[6]),
                time(r[7]), bool(r[13]),
            )  # fmt: skip
            found = out[r[0]] = (row, [])
        rid = time(r[8])
        if rid is not None:
            found[1].append(OverrideRow(rid, time(r[9]), time(r[10]), time(r[11]), bool(r[12])))
    return list(out.values())


def _json_list(value: Any) -> list[str]:
    if not value or value == "[]":
        return []
    if isinstance(value, str | bytes):
        value = json.loads(value)
    return list(value)
