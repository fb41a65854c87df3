"""Occurrences of a snapshot in a time window (RFC 5545 sections 3.8.4.4 and 3.8.5).

Owns combining a series master with its overrides: an override replaces the occurrence
named by its RECURRENCE-ID (a moved one shows at its new time and not at the original
slot), a cancelled one removes it, an EXDATE beats an override, and a
``RANGE=THISANDFUTURE`` override shifts every later occurrence by its own time shift and
lends them its properties (section 3.2.13).  A non-recurring snapshot goes through the
same function so callers treat both alike.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass
from datetime import datetime, timedelta

from calcore.ical_tz import iana_zone
from calcore.model import EventSnapshot
from calcore.recurrence import DEFAULT_EXPANSION_LIMIT, expand
from calcore.rrule_model import ExpansionLimitError, RecurrenceError
from calcore.rrule_parse import parse_rrule

__all__ = ["Occurrence", "occurrences"]

_ZERO = timedelta(0)


@dataclass(frozen=True, slots=True)
class Occurrence:
    """One occurrence: original start (UTC; None when not recurring), actual times, data.

    ``snapshot`` supplies the occurrence's properties (the override when one applies,
    else the master); ``override`` is the applying override or None.  ``sequence`` is
    the revision of the calendar object as a whole: the highest SEQUENCE of the master
    and its overrides (RFC 5546 section 2.1.4), as recurring-ical-events reports it.
    """

    recurrence_id: datetime | None
    start: datetime
    end: datetime
    snapshot: EventSnapshot
    override: EventSnapshot | None = None
    sequence: int = 0


def _times(snap: EventSnapshot) -> tuple[datetime, datetime] | None:
    """Return the (start, end) of a snapshot; a task without start uses its due time."""
    start = snap.start if snap.start is not None else snap.due
    if start is None:
        return None
    end = snap.end if snap.end is not None else (snap.due if snap.due is not None else start)
    if snap.all_day and end <= start:
        end = start + timedelta(days=1)
    return start, max(end, start)


def _overlaps(start: datetime, end: datetime, ws: datetime, we: datetime) -> bool:
    """Whether [start, end) meets [ws, we); a zero-length occurrence counts at its start."""
    return start < we and (end > ws or start >= ws)


def occurrences(
    snapshot: EventSnapshot,
    window_start: datetime,
    window_end: datetime,
    limit: int = DEFAULT_EXPANSION_LIMIT,
    *,
    include_cancelled: bool = False,
) -> list[Occurrence]:
    """Return the occurrences overlapping ``[window_start, window_end)``, by start.

    Cancelled occurrences are skipped unless ``include_cancelled``; more than ``limit``
    occurrences raise ``ExpansionLimitError``.
    """
    times = _times(snapshot)
    if times is None:
        return []
    start, end = times
    if not snapshot.rrule and not snapshot.rdates:
        if (snapshot.cancelled and not include_cancelled) or not _overlaps(
            start, end, window_start, window_end
        ):
            return []
        return [Occurrence(snapshot.recurrence_id, start, end, snapshot, None, snapshot.sequence)]
    zone = iana_zone(snapshot.tzid)
    if zone is None:
        raise RecurrenceError(f"unknown time zone {snapshot.tzid!r}")
    length = end - start
    exdates = set(snapshot.exdates)
    explicit = {
        o.recurrence_id: o for o in snapshot.overrides
        if o.recurrence_id is not None and o.recurrence_id not in exdates
    }
    ranges = sorted((o for o in explicit.values() if o.this_and_future),
                    key=lambda o: o.recurrence_id)  # type: ignore[arg-type,return-value]
    range_ids = [o.recurrence_id for o in ranges if o.recurrence_id is not None]
    reach = _ZERO
    longest = length
    for o in ranges:
        t = _times(o)
        if t is not None and o.recurrence_id is not None:
            reach = max(reach, abs(t[0] - o.recurrence_id))
            longest = max(longest, t[1] - t[0])
    rule = parse_rrule(snapshot.rrule) if snapshot.rrule else None
    instants = expand(
        start.astimezone(zone),
        rule,
        rdates=snapshot.rdates,
        exdates=snapshot.exdates,
        window_start=window_start - reach,
        window_end=window_end + reach,
        limit=limit,
        duration=longest,
        all_day=snapshot.all_day,
    )
    seq = max([snapshot.sequence, *(o.sequence for o in snapshot.overrides)])
    skip_master = snapshot.cancelled and not include_cancelled
    if not snapshot.overrides:
        if skip_master:
            return []
        out = [
            Occurrence(rid, rid, rid + length, snapshot, None, seq)
            for rid in instants
            if rid + length > window_start or rid >= window_start
        ]
        if len(out) > limit:
            raise ExpansionLimitError(limit)
        return out
    out = []
    for rid in instants:
        if rid in explicit:
            continue
        source: EventSnapshot | None = None
        s, e = rid, rid + length
        if ranges:
            i = bisect_left(range_ids, rid)
            if i > 0:
                source = ranges[i - 1]
                t = _times(source)
                if t is not None:
                    s = rid + (t[0] - range_ids[i - 1])
                    e = s + (t[1] - t[0])
        cancelled = source.cancelled if source is not None else snapshot.cancelled
        if (cancelled or skip_master) and not include_cancelled:
            continue
        if _overlaps(s, e, window_start, window_end):
            out.append(Occurrence(rid, s, e, source or snapshot, source, seq))
    for rid, o in explicit.items():
        t = _times(o)
        if t is None or (o.cancelled and not include_cancelled):
            continue
        if _overlaps(t[0], t[1], window_start, window_end):
            out.append(Occurrence(rid, t[0], t[1], o, o, seq))
    if len(out) > limit:
        raise ExpansionLimitError(limit)
    out.sort(key=lambda occ: occ.start)
    return out
