"""Busy time of associates, contact persons and resources, merged per entity.

Busy time comes from *busy* follow-ups only (a "free" one blocks no one), recurring
occurrences included, cancelled occurrences and declined invitations excluded.  An
associate's own follow-ups and accepted invitations are BUSY; invitations not yet
answered or answered tentatively are TENTATIVE.  The SQL count is fixed (two statements,
``resolvers.busy_sql``), whatever the number of entities or follow-ups.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from enum import Enum
from typing import Any, NamedTuple, cast

from orm import models as m
from orm.occurrences import intervals
from resolvers import busy_sql


class Entity(str, Enum):
    ASSOCIATE = "ASSOCIATE"
    PERSON = "PERSON"
    RESOURCE = "RESOURCE"


Key = tuple[Entity, int]

_ENTITY = {
    busy_sql.OWN: Entity.ASSOCIATE,
    busy_sql.ASSOCIATE: Entity.ASSOCIATE,
    busy_sql.PERSON: Entity.PERSON,
    busy_sql.RESOURCE: Entity.RESOURCE,
}


class Busy(NamedTuple):
    """One busy interval (a tuple: hundreds are made per free/busy request)."""

    start: datetime
    end: datetime
    tentative: bool
    followup_id: int


async def busy_times(
    associates: Iterable[int],
    resources: Iterable[int],
    persons: Iterable[int],
    lo: datetime,
    hi: datetime,
    limit: int,
) -> dict[Key, list[Busy]]:
    """Every busy interval in [lo, hi) per entity (not merged).

    The statements are in ``resolvers.busy_sql``: two (the links of the entities to
    follow-ups, the series to expand with their overrides), whatever the number of
    entities or follow-ups.
    """
    a_ids, r_ids, p_ids = sorted(set(associates)), sorted(set(resources)), sorted(set(persons))
    out: dict[Key, list[Busy]] = defaultdict(list)
    series_links: list[tuple[Key, int, bool]] = []
    for source, link in await busy_sql.links(a_ids, p_ids, r_ids, lo, hi):
        key = (_ENTITY[source], link.entity)
        if link.single:
            if link.start is not None and link.end is not None:
                out[key].append(Busy(link.start, link.end, link.tentative, link.followup_id))
        else:
            series_links.append((key, link.followup_id, link.tentative))
    if series_links:
        wanted = sorted({fid for _, fid, _ in series_links})
        pairs_by_row = {
            row.id: intervals(cast(m.FollowUp, row), cast(Any, overrides), lo, hi, limit)
            for row, overrides in await busy_sql.series(wanted, lo, hi)
        }
        for key, fid, tentative in series_links:
            out[key].extend(Busy(s, e, tentative, fid) for s, e in pairs_by_row.get(fid, ()))
    return out


def merge(
    intervals: Iterable[Busy],
) -> tuple[list[tuple[datetime, datetime]], list[tuple[datetime, datetime]]]:
    """Merge into (busy, tentative) lists; tentative time already busy is dropped."""
    busy = union((b.start, b.end) for b in intervals if not b.tentative)
    tentative = subtract(union((b.start, b.end) for b in intervals if b.tentative), busy)
    return busy, tentative


def union(pairs: Iterable[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    result: list[tuple[datetime, datetime]] = []
    for start, end in sorted(pairs):
        if result and start <= result[-1][1]:
            if end > result[-1][1]:
                result[-1] = (result[-1][0], end)
        else:
            result.append((start, end))
    return result


def subtract(
    pairs: list[tuple[datetime, datetime]], cuts: list[tuple[datetime, datetime]]
) -> list[tuple[datetime, datetime]]:
    result: list[tuple[datetime, datetime]] = []
    for start, end in pairs:
        pieces = [(start, end)]
        for cut_start, cut_end in cuts:
            if cut_end <= start or cut_start >= end:
                continue
            next_pieces = []
            for s, e in pieces:
                if cut_start > s:
                    next_pieces.append((s, min(e, cut_start)))
                if cut_end < e:
                    next_pieces.append((max(s, cut_end), e))
            pieces = [(s, e) for s, e in next_pieces if s < e]
        result.extend(pieces)
    return result


def clip(
    pairs: list[tuple[datetime, datetime]], lo: datetime, hi: datetime
) -> list[tuple[datetime, datetime]]:
    return [(max(s, lo), min(e, hi)) for s, e in pairs if s < hi and e > lo]


def conflicts_with(busy: Iterable[Busy], start: datetime, end: datetime, own_followup: int) -> bool:
    """Whether some other follow-up's busy time overlaps [start, end)."""
    return any(b.followup_id != own_followup and b.start < end and b.end > start for b in busy)
