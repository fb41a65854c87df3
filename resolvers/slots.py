"""First free slots: when everyone is free, inside each associate's working hours.

Working hours come from each associate's WORKING_HOURS and TIME_ZONE preferences, so two
people in different zones only share the overlap of their local days.  Busy and
tentative time both block.  Candidate starts are aligned to ``step`` minutes.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from resolvers.availability import subtract, union
from resolvers.preference_keys import WorkingHours

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
