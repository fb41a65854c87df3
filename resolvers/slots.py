"""First free slots: when everyone is free, inside each associate's working hours.

Working hours come from each associate's WORKING_HOURS and TIME_ZONE preferences, so two
people in different zones only share the overlap of their local days.  Busy and
tentative time both block.  Candidate starts are aligned to ``step`` minutes.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from orm.models import Associate
from resolvers.availability import busy_times, subtract, union
from resolvers.preference_keys import PreferenceKey, WorkingHours, parse_working_hours
from resolvers.preferences import effective_for

Interval = tuple[datetime, datetime]


def working_intervals(hours: WorkingHours, zone: str, lo: datetime, hi: datetime) -> list[Interval]:
    """The associate's working time within [lo, hi), as UTC intervals."""
    tz = ZoneInfo(zone)
    day = lo.astimezone(tz).date() - timedelta(days=1)
    last = hi.astimezone(tz).date() + timedelta(days=1)
    out: list[Interval] = []
    while day <= last:
        span = hours.days.get(day.weekday())
        if span is not None:
            start = datetime.combine(day, span[0], tz).astimezone(UTC)
            end = datetime.combine(day, span[1], tz).astimezone(UTC)
            if start < hi and end > lo:
                out.append((max(start, lo), min(end, hi)))
        day += timedelta(days=1)
    return out


def intersect(a: list[Interval], b: list[Interval]) -> list[Interval]:
    out: list[Interval] = []
    i = j = 0
    while i < len(a) and j < len(b):
        start, end = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if start < end:
            out.append((start, end))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return out


def first_slots(
    allowed: list[Interval],
    blocked: Iterable[Interval],
    duration: timedelta,
    step: timedelta,
    limit: int,
) -> list[Interval]:
    """Up to ``limit`` slots of ``duration`` inside ``allowed`` avoiding ``blocked``."""
    free = subtract(union(allowed), union(blocked))
    out: list[Interval] = []
    epoch = datetime(2000, 1, 1, tzinfo=UTC)
    for start, end in free:
        offset = (start - epoch) % step
        at = start if not offset else start + (step - offset)
        while at + duration <= end and len(out) < limit:
            out.append((at, at + duration))
            at += step
        if len(out) >= limit:
            break
    return out


async def free_slots(
    entities: tuple[list[int], list[int], list[int]],
    lo: datetime,
    hi: datetime,
    duration: timedelta,
    step: timedelta,
    limit: int,
    max_occurrences: int,
) -> list[tuple[datetime, datetime]]:
    """The first free slots in [lo, hi) for the associates, resources and persons given.

    Free: inside every associate's working hours (their own zone) and busy for none.
    """
    a, r, p = entities
    people = await Associate.filter(id__in=a or [0])
    allowed = [(lo, hi)]
    for values in (await effective_for(people)).values():
        hours = parse_working_hours(values[PreferenceKey.WORKING_HOURS].value)
        zone = values[PreferenceKey.TIME_ZONE].value
        allowed = intersect(allowed, working_intervals(hours, zone, lo, hi))
    busy = await busy_times(a, r, p, lo, hi, max_occurrences)
    blocked = [(b.start, b.end) for items in busy.values() for b in items]
    return first_slots(allowed, blocked, duration, step, limit)
