"""The read side of follow-ups: diary windows and to-do lists, occurrences expanded."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from tortoise.expressions import Q, Subquery
from tortoise.queryset import QuerySet

from config.settings import Settings
from orm import models as m
from orm.occurrences import Span, spans
from resolvers import visibility
from resolvers.errors import ValidationFailed
from resolvers.followup_rules import aware

#: How far back and ahead the to-do list looks for occurrences of recurring tasks.
TODO_SERIES_REACH = timedelta(days=31)


def check_window(start: datetime, end: datetime, settings: Settings) -> tuple[datetime, datetime]:
    """Validate a time window (bounded by MAX_WINDOW_DAYS) and return it in UTC."""
    lo, hi = aware(start, "from"), aware(end, "to")
    assert lo is not None and hi is not None
    if hi <= lo:
        raise ValidationFailed("to", "to must be after from")
    if hi - lo > timedelta(days=settings.max_window_days):
        raise ValidationFailed("to", f"a window may span at most {settings.max_window_days} days")
    return lo, hi


def overlapping_series(
    query: QuerySet[m.FollowUp], lo: datetime, hi: datetime
) -> QuerySet[m.FollowUp]:
    """Series masters whose occurrences may fall in [lo, hi)."""
    return query.filter(rrule__isnull=False, sort_at__lt=hi).filter(
        Q(series_end__isnull=True) | Q(series_end__gt=lo)
    )


async def expand_rows(
    rows: Iterable[m.FollowUp], lo: datetime, hi: datetime, limit: int
) -> list[Span]:
    """Every span of ``rows`` in the window; overrides loaded in one query."""
    rows = list(rows)
    series_ids = [r.id for r in rows if r.rrule is not None]
    overrides: dict[int, list[m.Occurrence]] = defaultdict(list)
    if series_ids:
        for o in await m.Occurrence.filter(series_id__in=series_ids):
            overrides[o.series_id].append(o)
    out: list[Span] = []
    for row in rows:
        out.extend(spans(row, overrides.get(row.id, ()), lo, hi, limit))
    return out


#: follow-up ids per ``id IN (...)`` statement of ``_linked`` (bound parameters stay well
#: below SQLite's and PostgreSQL's limits)
ID_CHUNK = 2000


async def _linked(links: QuerySet[Any]) -> list[QuerySet[m.FollowUp]]:
    """Queries for the follow-ups whose ids ``links`` (a link table's ``followup_id``
    values) gives. On PostgreSQL the ids are read first: as an ``id IN (subquery)`` the
    window's conditions made its planner hash-join the link rows against a scan of the
    whole ``followup`` table (25 ms at 100k) where a lookup by id per link takes a
    fraction of a millisecond. SQLite probes by id from the subquery itself."""
    if m.FollowUp._meta.db.capabilities.dialect == "sqlite":
        return [m.FollowUp.filter(id__in=Subquery(links.values("followup_id")))]
    ids = sorted(set(await links.values_list("followup_id", flat=True)))
    return [m.FollowUp.filter(id__in=ids[i : i + ID_CHUNK]) for i in range(0, len(ids), ID_CHUNK)]


async def diary(associate_ids: list[int], start: datetime, end: datetime, limit: int) -> list[Span]:
    """Timed follow-ups (meetings, made calls, timed tasks) owned or attended in the window.

    Owned and attended ones are read apart: on PostgreSQL an OR of the two conditions
    defeats both indexes and scans the whole table.
    """
    attending = m.Participant.filter(associate_id__in=associate_ids).exclude(
        status=m.ParticipantStatus.DECLINED
    )
    owned = m.FollowUp.filter(owner_id__in=associate_ids)
    return await _window((owned, *await _linked(attending)), start, end, limit)


async def diary_columns(associate_ids: list[int], found: Iterable[Span]) -> dict[int, list[int]]:
    """For each follow-up of a diary, the requested associates whose column it is in:
    its owner when requested, and every requested associate on it who has not declined
    (so an item shows in each of those columns).  One statement for the whole diary."""
    rows = {s.row.id: s.row for s in found}
    if len(associate_ids) == 1:  # every item of a one-column diary is in that column
        return {k: list(associate_ids) for k in rows}
    wanted = set(associate_ids)
    out: dict[int, set[int]] = {k: ({r.owner_id} & wanted) for k, r in rows.items()}
    if rows:
        attending = (
            await m.Participant.filter(associate_id__in=associate_ids, followup_id__in=list(rows))
            .exclude(status=m.ParticipantStatus.DECLINED)
            .values_list("followup_id", "associate_id")
        )
        for followup_id, associate_id in attending:
            out[followup_id].add(associate_id)
    return {k: sorted(v) for k, v in out.items()}


async def resource_diary(
    resource_ids: list[int], start: datetime, end: datetime, limit: int
) -> list[Span]:
    """Timed follow-ups booking these rooms or equipment in the window."""
    booked = m.ResourceBooking.filter(resource_id__in=resource_ids)
    return await _window(await _linked(booked), start, end, limit)


async def resource_columns(resource_ids: list[int], found: Iterable[Span]) -> dict[int, list[int]]:
    """For each follow-up of a resource diary, the requested resources it books."""
    keys = sorted({s.row.id for s in found})
    if len(resource_ids) == 1:  # every item of a one-column diary books that resource
        return {k: list(resource_ids) for k in keys}
    out: dict[int, set[int]] = {k: set() for k in keys}
    if keys:
        for followup_id, resource_id in await m.ResourceBooking.filter(
            resource_id__in=resource_ids, followup_id__in=keys
        ).values_list("followup_id", "resource_id"):
            out[followup_id].add(resource_id)
    return {k: sorted(v) for k, v in out.items()}


async def _window(
    queries: Iterable[QuerySet[m.FollowUp]], start: datetime, end: datetime, limit: int
) -> list[Span]:
    """The spans in [start, end) of the timed follow-ups of ``queries``, series expanded.

    Singles and series of each query are index-shaped statements of their own, sent at
    once (separate read connections on SQLite, pooled ones on PostgreSQL)."""
    statements: list[QuerySet[m.FollowUp]] = []
    for mine in queries:
        statements.append(mine.filter(rrule__isnull=True, start_at__lt=end, end_at__gt=start))
        statements.append(overlapping_series(mine.filter(start_at__isnull=False), start, end))
    found = await asyncio.gather(*statements)
    singles = {row.id: row for rows in found[0::2] for row in rows}
    series = {row.id: row for rows in found[1::2] for row in rows}
    result = [Span.single(r) for r in singles.values()]
    result += await expand_rows(series.values(), start, end, limit)
    result.sort(key=lambda s: (s.start, s.row.id))
    return result


async def todo(
    associate_id: int, include_done: bool, size: int | None, now: datetime, limit: int
) -> list[Span]:
    """Tasks and planned calls by deadline; recurring ones within a month of now.

    ``size`` None: all of them (the to-do connection pages the whole list)."""
    query = m.FollowUp.filter(owner_id=associate_id).filter(
        Q(kind=m.Kind.TASK) | Q(kind=m.Kind.CALL, start_at__isnull=True)
    )
    singles = query.filter(rrule__isnull=True)
    if not include_done:
        singles = singles.filter(done=False)
    ordered = singles.order_by("deadline", "id")
    rows = await (ordered.limit(size) if size is not None else ordered)
    lo, hi = now - TODO_SERIES_REACH, now + TODO_SERIES_REACH
    series = await overlapping_series(query, lo, hi)
    occurrences = [
        s
        for s in await expand_rows(series, lo, hi, limit)
        if include_done or not (s.override and s.override.done)
    ]
    result = [Span.single(r) for r in rows] + occurrences
    result.sort(key=lambda s: (s.deadline or s.start or now, s.row.id))
    return result[:size] if size is not None else result


async def activities_in(
    query: QuerySet[m.FollowUp], lo: datetime, hi: datetime, include_done: bool, limit: int
) -> list[Span]:
    """A record's follow-ups in [lo, hi) with series expanded into occurrences, newest first."""
    singles = await query.filter(rrule__isnull=True, sort_at__gte=lo, sort_at__lt=hi)
    series = await overlapping_series(query, lo, hi)
    found = [Span.single(r) for r in singles]
    for span in await expand_rows(series, lo, hi, limit):
        at = span.start or span.deadline
        done = span.override.done if span.override else span.row.done
        if at is not None and lo <= at < hi and (include_done or not done):
            found.append(span)
    found.sort(key=lambda s: (s.start or s.deadline or lo, s.row.id), reverse=True)
    return found


def activities_query(
    viewer: m.Associate, given: dict[str, int], kinds: list[Any] | None, include_done: bool
) -> Any:
    """The follow-ups of one record (``given``: one reference column) the viewer may list.

    A private item the viewer may not see in full is not listed under the record at all
    (the listing would tell the link): out of the page and the count.
    """
    query = m.FollowUp.filter(visibility.listed_for(viewer), **given)
    if kinds:
        query = query.filter(kind__in=list(kinds))
    if not include_done:
        query = query.filter(Q(done=False))
    return query
