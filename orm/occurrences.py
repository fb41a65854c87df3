"""Occurrences: what a follow-up (single or series) puts in a time window.

A single follow-up is one span.  A series is expanded in its owner's zone by
``calcore.recurrence`` and its overrides (``orm.models.Occurrence``) are applied:
cancelled ones vanish, moved ones appear at their new time and not at the old one.
An occurrence's ID is ``<series id>@<original start as YYYYMMDDTHHMMSSZ>``.

A series with more than ``limit`` occurrences in the window never fails the read: its
``limit`` earliest are returned, each marked ``truncated`` (busy time just holds them),
so one dense series (stored by an older release) cannot break anyone's diary.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from calcore.ical_tz import iana_zone
from calcore.recurrence import expand_capped, parse_rrule
from calcore.rrule_window import window_instants
from orm.models import FollowUp, Occurrence

STAMP = "%Y%m%dT%H%M%SZ"
_ZERO = timedelta(0)


@dataclass(frozen=True)
class Span:
    """One appearance of a follow-up in time."""

    row: FollowUp
    start: datetime | None
    end: datetime | None
    recurrence_id: datetime | None = None
    override: Occurrence | None = None
    deadline: datetime | None = None
    #: its series has more occurrences in the window than the expansion limit
    truncated: bool = False

    @classmethod
    def single(cls, row: FollowUp) -> Span:
        return cls(row, row.start_at, row.end_at, deadline=row.deadline)

    @property
    def key(self) -> str:
        return occurrence_key(self.row.id, self.recurrence_id)


def occurrence_key(series_id: int, recurrence_id: datetime | None) -> str:
    if recurrence_id is None:
        return str(series_id)
    return f"{series_id}@{recurrence_id.astimezone(UTC).strftime(STAMP)}"


def parse_key(key: str) -> tuple[int, datetime | None]:
    """Split an occurrence key; raises ValueError on garbage."""
    base, _, stamp = key.partition("@")
    if not base.isdigit() or len(base) > 18:
        raise ValueError(key)
    if not stamp:
        return int(base), None
    return int(base), datetime.strptime(stamp, STAMP).replace(tzinfo=UTC)


def anchor(row: FollowUp) -> datetime:
    """What a series' rule repeats: the start, or the deadline of an untimed task/call."""
    value = row.start_at or row.deadline
    assert value is not None
    return value


def _duration(row: FollowUp) -> timedelta:
    return (row.end_at - row.start_at) if row.end_at and row.start_at else timedelta(0)


def _deadline_offset(row: FollowUp) -> timedelta | None:
    if row.deadline is None:
        return None
    return row.deadline - anchor(row)


def _series_starts(
    row: FollowUp, lo: datetime, hi: datetime, limit: int
) -> tuple[list[datetime], bool]:
    """The original starts meeting [lo, hi) (the ``limit`` earliest) and whether more exist."""
    assert row.rrule is not None
    return expand_capped(
        anchor(row).astimezone(ZoneInfo(row.tzid)),
        parse_rrule(row.rrule),
        rdates=[datetime.fromisoformat(v) for v in row.rdates or []],
        exdates=[datetime.fromisoformat(v) for v in row.exdates or []],
        window_start=lo,
        window_end=hi,
        limit=limit,
        duration=_duration(row),
    )


def _fast_starts(
    row: FollowUp, lo: datetime, hi: datetime, limit: int
) -> tuple[list[datetime], timedelta, bool] | None:
    """The original starts of a plain series without RDATEs meeting [lo, hi) (the
    ``limit`` earliest), its length and whether more exist, in one arithmetic pass
    (``calcore.rrule_window``), or None."""
    assert row.rrule is not None
    zone = iana_zone(row.tzid)
    if zone is None or row.rdates:
        return None
    start, end = row.start_at, row.end_at
    at = start or row.deadline
    if at is None:
        return None
    length = end - start if end is not None and start is not None else _ZERO
    exdates = {datetime.fromisoformat(v) for v in row.exdates} if row.exdates else ()
    starts = window_instants(
        at, zone, parse_rrule(row.rrule), lo, hi, length, exdates=exdates, limit=limit, cut=True
    )
    if starts is None:
        return None
    if len(starts) > limit:
        return starts[:limit], length, True
    return starts, length, False


def _fast_spans(row: FollowUp, lo: datetime, hi: datetime, limit: int) -> list[Span] | None:
    """Spans of a plain series without RDATEs in one arithmetic pass (overrides not
    applied: ``spans`` does that), or None.

    The duration and deadline offset are computed once per series instead of once per
    occurrence (``one``).
    """
    found = _fast_starts(row, lo, hi, limit)
    if found is None:
        return None
    starts, length, cut = found
    start, deadline = row.start_at, row.deadline
    if start is None:
        assert deadline is not None
        return [Span(row, None, None, s, None, s, cut) for s in starts]
    if deadline is None:
        return [Span(row, s, s + length, s, None, None, cut) for s in starts]
    offset = deadline - start
    return [Span(row, s, s + length, s, None, s + offset, cut) for s in starts]


def intervals(
    row: FollowUp, overrides: Iterable[Occurrence], lo: datetime, hi: datetime, limit: int
) -> list[tuple[datetime, datetime]]:
    """(start, end) of every timed span of ``row`` overlapping [lo, hi): what busy time
    reads of ``spans``, the same pairs, without building a Span per occurrence."""
    if row.rrule is not None and not overrides and row.start_at is not None and not row.all_day:
        found = _fast_starts(row, lo, hi, limit)
        if found is not None:
            starts, length, _ = found
            if length:  # window_instants kept exactly those ending after lo
                return [(s, s + length) for s in starts]
            return [(s, s) for s in starts if s > lo]
    return [
        (s.start, s.end)
        for s in spans(row, overrides, lo, hi, limit)
        if s.start is not None and s.end is not None and s.start < hi and s.end > lo
    ]


def spans(
    row: FollowUp, overrides: Iterable[Occurrence], lo: datetime, hi: datetime, limit: int
) -> list[Span]:
    """The spans of ``row`` overlapping [lo, hi) (touching a point for untimed windows);
    an all-day series' occurrences last whole local days (``whole_days``)."""
    found = _spans(row, overrides, lo, hi, limit)
    return whole_days(row, found) if row.all_day and row.rrule else found


def _spans(
    row: FollowUp, overrides: Iterable[Occurrence], lo: datetime, hi: datetime, limit: int
) -> list[Span]:
    if row.rrule is None:
        return [Span.single(row)]
    fast = _fast_spans(row, lo, hi, limit)
    if fast is not None and not overrides:
        return fast
    by_id = {o.recurrence_id.astimezone(UTC): o for o in overrides}
    if fast is not None:  # expanded fast, the overrides applied below
        out = [s for s in fast if s.recurrence_id not in by_id]
        cut = bool(fast) and fast[0].truncated
    else:
        starts, cut = _series_starts(row, lo, hi, limit)
        out = [one(row, None, start, cut) for start in starts if start not in by_id]
    for rid, override in by_id.items():
        if override.cancelled:
            continue
        span = one(row, override, rid, cut)
        at = span.start or span.deadline
        end = span.end or at
        if at is not None and end is not None and at < hi and (end > lo or at >= lo):
            out.append(span)
    out.sort(key=lambda s: (s.start or s.deadline or lo, s.row.id))
    return out


def one(
    row: FollowUp, override: Occurrence | None, recurrence_id: datetime, truncated: bool = False
) -> Span:
    """The span of one occurrence by its original start (override applied)."""
    timed = row.start_at is not None
    offset = _deadline_offset(row)
    start = recurrence_id if timed else None
    end = recurrence_id + _duration(row) if timed else None
    if timed and row.all_day:
        end = day_end(row, recurrence_id)
    deadline = recurrence_id + offset if offset is not None else None
    if override is not None:
        start = override.start_at if override.start_at is not None else start
        end = override.end_at if override.end_at is not None else end
        deadline = override.deadline if override.deadline is not None else deadline
    return Span(row, start, end, recurrence_id, override, deadline, truncated)


# All-day series: occurrences last whole local days (a day stays a day across DST).


def local_date(instant: datetime, tzid: str) -> date:
    """The date of ``instant`` on the wall clock of ``tzid``."""
    return instant.astimezone(ZoneInfo(tzid)).date()


def length_in_days(row: FollowUp) -> int:
    if row.start_at is None or row.end_at is None:
        return 0
    return (local_date(row.end_at, row.tzid) - local_date(row.start_at, row.tzid)).days


def day_end(row: FollowUp, start: datetime) -> datetime:
    """The end of an all-day occurrence starting at ``start``: as many days as the row."""
    day = local_date(start, row.tzid) + timedelta(days=length_in_days(row))
    return datetime.combine(day, time()).replace(tzinfo=ZoneInfo(row.tzid)).astimezone(UTC)


def whole_days(row: FollowUp, found: Iterable[Span]) -> list[Span]:
    """Spans of an all-day series with each end on a local midnight (a day stays a day)."""
    out = []
    for span in found:
        if span.start is not None and (span.override is None or span.override.end_at is None):
            span = replace(span, end=day_end(row, span.start))
        out.append(span)
    return out
