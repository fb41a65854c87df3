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

from orm import models as m
from resolvers.diary import expand_rows, overlapping_series


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


_TENTATIVE = {m.ParticipantStatus.INVITED, m.ParticipantStatus.TENTATIVE}


def _singles(query: m.QuerySet, lo: datetime, hi: datetime) -> m.QuerySet:  # type: ignore[name-defined]
    return query.filter(
        followup__busy=True,
        followup__rrule__isnull=True,
        followup__start_at__lt=hi,
        followup__end_at__gt=lo,
    )


async def busy_times(
    associates: Iterable[int],
    resources: Iterable[int],
    persons: Iterable[int],
    lo: datetime,
    hi: datetime,
    limit: int,
) -> dict[Key, list[Busy]]:
    """Every busy interval in [lo, hi) per entity (not merged)."""
    a_ids, r_ids, p_ids = sorted(set(associates)), sorted(set(resources)), sorted(set(persons))
    out: dict[Key, list[Busy]] = defaultdict(list)
    # (entity key, follow-up id, tentative) of each link to a recurring follow-up
    series_links: list[tuple[Key, int, bool]] = []
    if a_ids:
        own = m.FollowUp.filter(owner_id__in=a_ids, busy=True)
        for row in await own.filter(rrule__isnull=True, start_at__lt=hi, end_at__gt=lo).values(
            "id", "owner_id", "start_at", "end_at"
        ):
            out[(Entity.ASSOCIATE, row["owner_id"])].append(
                Busy(row["start_at"], row["end_at"], False, row["id"])
            )
        series_owned = await overlapping_series(own.filter(start_at__isnull=False), lo, hi).values(
            "id", "owner_id"
        )
        series_links += [((Entity.ASSOCIATE, r["owner_id"]), r["id"], False) for r in series_owned]
    people = []
    if a_ids:
        people.append(
            (Entity.ASSOCIATE, "associate_id", m.Participant.filter(associate_id__in=a_ids))
        )
    if p_ids:
        people.append((Entity.PERSON, "person_id", m.Participant.filter(person_id__in=p_ids)))
    for entity, column, query in people:
        query = query.filter(organiser=False).exclude(status=m.ParticipantStatus.DECLINED)
        for row in await _singles(query, lo, hi).values(
            column, "status", "followup_id", "followup__start_at", "followup__end_at"
        ):
            out[(entity, row[column])].append(
                Busy(
                    row["followup__start_at"],
                    row["followup__end_at"],
                    row["status"] in _TENTATIVE,
                    row["followup_id"],
                )
            )
        for row in await query.filter(
            followup__busy=True, followup__rrule__isnull=False, followup__start_at__lt=hi
        ).values(column, "status", "followup_id"):
            series_links.append(
                ((entity, row[column]), row["followup_id"], row["status"] in _TENTATIVE)
            )
    if r_ids:
        bookings = m.ResourceBooking.filter(resource_id__in=r_ids)
        for row in await _singles(bookings, lo, hi).values(
            "resource_id", "followup_id", "followup__start_at", "followup__end_at"
        ):
            out[(Entity.RESOURCE, row["resource_id"])].append(
                Busy(row["followup__start_at"], row["followup__end_at"], False, row["followup_id"])
            )
        for row in await bookings.filter(
            followup__busy=True, followup__rrule__isnull=False, followup__start_at__lt=hi
        ).values("resource_id", "followup_id"):
            series_links.append(((Entity.RESOURCE, row["resource_id"]), row["followup_id"], False))
    if series_links:
        wanted = {fid for _, fid, _ in series_links}
        rows = await overlapping_series(m.FollowUp.filter(id__in=sorted(wanted)), lo, hi)
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
