"""Busy time of associates, contact persons and resources, merged per entity.

Busy time comes from *busy* follow-ups only (a "free" one blocks no one), recurring
occurrences included, cancelled occurrences and declined invitations excluded.  An
associate's own follow-ups and accepted invitations are BUSY; invitations not yet
answered or answered tentatively are TENTATIVE.  The SQL count is fixed (one query per
relation), whatever the number of entities or follow-ups.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import cast

from orm import models as m
from resolvers import busy_sql
from resolvers.diary import expand_rows


class Entity(str, Enum):
    ASSOCIATE = "ASSOCIATE"
    PERSON = "PERSON"
    RESOURCE = "RESOURCE"


Key = tuple[Entity, int]


@dataclass(frozen=True)
class Busy:
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

    The statements are in ``resolvers.busy_sql``: at most six (own follow-ups, own
    series, invitations of associates, of persons, bookings, the series to expand) and
    the overrides of those series, whatever the number of entities or follow-ups.
    """
    a_ids, r_ids, p_ids = sorted(set(associates)), sorted(set(resources)), sorted(set(persons))
    links: list[tuple[Entity, busy_sql.Link]] = []
    if a_ids:
        links += [(Entity.ASSOCIATE, x) for x in await busy_sql.own(a_ids, lo, hi)]
        invited = await busy_sql.invited("associate_id", a_ids, lo, hi)
        links += [(Entity.ASSOCIATE, x) for x in invited]
    if p_ids:
        links += [(Entity.PERSON, x) for x in await busy_sql.invited("person_id", p_ids, lo, hi)]
    if r_ids:
        links += [(Entity.RESOURCE, x) for x in await busy_sql.booked(r_ids, lo, hi)]
    out: dict[Key, list[Busy]] = defaultdict(list)
    series_links: list[tuple[Key, int, bool]] = []
    for entity, link in links:
        if link.single:
            if link.start is not None and link.end is not None:
                out[(entity, link.entity)].append(
                    Busy(link.start, link.end, link.tentative, link.followup_id)
                )
        else:
            series_links.append(((entity, link.entity), link.followup_id, link.tentative))
    if series_links:
        wanted = sorted({fid for _, fid, _ in series_links})
        rows = cast(list[m.FollowUp], await busy_sql.series_rows(wanted, lo, hi))
        spans_by_row: dict[int, list[tuple[datetime, datetime]]] = defaultdict(list)
        for span in await expand_rows(rows, lo, hi, limit):
            if (
                span.start is not None
                and span.end is not None
                and span.start < hi
                and span.end > lo
            ):
                spans_by_row[span.row.id].append((span.start, span.end))
        for key, fid, tentative in series_links:
            out[key].extend(Busy(s, e, tentative, fid) for s, e in spans_by_row.get(fid, ()))
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
