"""The fast path of recurrence expansion: plain DAILY/WEEKLY series in a quiet window.

Owns expanding the common diary series -- FREQ=DAILY or FREQ=WEEKLY (weekday-only
BYDAY), INTERVAL, UNTIL in UTC, COUNT or neither, no other BY* part -- into UTC instants
without walking from DTSTART and without converting each occurrence through the zone.

COUNT becomes an UNTIL once per series (``count_until``): the COUNT-th instance's wall
time is arithmetic (the n-th day, or the n-th listed weekday counted from DTSTART's
week), converted through the zone as the general path converts it.  Every instance of
such a rule is at DTSTART's time of day on a different day, so instants grow with the
wall clock and "the first COUNT instances" are exactly "the instances up to the last".

A per-zone cache records whether the zone keeps one UTC offset over a window (widened
by a margin); when it does, every wall-clock time in the window maps to an instant with
that one offset (RFC 5545 section 3.3.5 gaps and folds cannot occur where there is no
transition), so occurrences are an arithmetic progression in UTC.  A window holding a
transition, a long occurrence, RDATEs or any other rule shape returns ``None`` and the
caller takes the general path (``recurrence.expand``), which gives the same result.

Whether a zone is "quiet" is decided by probing its offset every six hours across the
widened window: a transition and its reversal inside six hours would go unseen; no zone
in the tz database does that.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime, timedelta, tzinfo
from functools import lru_cache
from itertools import accumulate, repeat

from calcore.rrule_model import ExpansionLimitError, Freq, RecurrenceRule

__all__ = ["count_until", "quiet_offset", "window_instants"]

_MARGIN = timedelta(days=2)
_PROBE = timedelta(hours=6)
_ZERO = timedelta(0)
_NO_SHIFT = (_ZERO,)
_DAYS = tuple(timedelta(days=n) for n in range(64))
#: Longest occurrence the fast path takes (it must fit in the margin).
MAX_DURATION = timedelta(days=1)


@lru_cache(maxsize=1024)
def quiet_offset(zone: tzinfo, lo: datetime, hi: datetime) -> timedelta | None:
    """Return the zone's one UTC offset over [lo - margin, hi + margin], or None."""
    t = (lo - _MARGIN).astimezone(UTC)
    end = (hi + _MARGIN).astimezone(UTC)
    offset = t.astimezone(zone).utcoffset()
    if offset is None:
        return None
    while t < end:
        t = min(t + _PROBE, end)
        if t.astimezone(zone).utcoffset() != offset:
            return None
    return offset


_SHAPES: dict[int, tuple[RecurrenceRule, tuple[int, tuple[timedelta, ...] | None] | None]] = {}


def _shape_of(rule: RecurrenceRule) -> tuple[int, tuple[timedelta, ...] | None] | None:
    """Return ``_shape(rule)``, cached by identity (hashing a rule costs more than this)."""
    hit = _SHAPES.get(id(rule))
    if hit is not None and hit[0] is rule:
        return hit[1]
    if len(_SHAPES) > 4096:
        _SHAPES.clear()
    shape = _shape(rule)
    _SHAPES[id(rule)] = (rule, shape)  # the strong reference keeps the id from reuse
    return shape


def _shape(rule: RecurrenceRule) -> tuple[int, tuple[timedelta, ...] | None] | None:
    """Return (period in days, day offsets from WKST or None) of a plain rule, else None.

    None offsets: DAILY, or WEEKLY without BYDAY (DTSTART's weekday decides).
    """
    if (
        rule.freq not in (Freq.DAILY, Freq.WEEKLY)
        or (rule.count is not None and (rule.until is not None or rule.count < 1))
        or rule.bysetpos
        or rule.bymonth
        or rule.bymonthday
        or rule.byyearday
        or rule.byweekno
        or rule.byhour
        or rule.byminute
        or rule.bysecond
        or any(o is not None for o, _ in rule.byday)
        or (rule.until is not None and not (
            isinstance(rule.until, datetime) and rule.until.tzinfo is not None))
    ):
        return None
    if rule.freq is Freq.DAILY:
        return (None if rule.byday else (rule.interval, None))
    offsets = sorted({timedelta(days=(w - rule.wkst) % 7) for _, w in rule.byday})
    return 7 * rule.interval, tuple(offsets) or None


_COUNT_UNTIL: dict[tuple[int, datetime, tzinfo], tuple[RecurrenceRule, datetime]] = {}


def count_until(start: datetime, zone: tzinfo, rule: RecurrenceRule) -> datetime | None:
    """Return the UTC instant of the last (COUNT-th) instance of a plain COUNT rule.

    None when the rule has no COUNT or is not plain (see ``_shape``).  Cached per rule
    object, DTSTART and zone (the series of a diary repeat from request to request).
    """
    if rule.count is None:
        return None
    key = (id(rule), start, zone)
    hit = _COUNT_UNTIL.get(key)
    if hit is not None and hit[0] is rule:
        return hit[1]
    shape = _shape_of(rule)
    if shape is None:
        return None
    period, day_offsets = shape
    local = start.astimezone(zone).replace(tzinfo=None)
    n = rule.count - 1  # instances after the first
    if day_offsets is None:
        # DAILY, or WEEKLY on DTSTART's weekday: DTSTART is the first instance
        wall = local + timedelta(days=period * n)
    else:
        into_week = timedelta(days=(local.weekday() - rule.wkst) % 7)
        week0 = local - into_week  # DTSTART's time of day, on the week's first day
        first = [o for o in day_offsets if o >= into_week]  # days of DTSTART's week
        if n < len(first):
            wall = week0 + first[n]
        else:
            weeks, index = divmod(n - len(first), len(day_offsets))
            wall = week0 + timedelta(days=period * (weeks + 1)) + day_offsets[index]
    last = wall.replace(tzinfo=zone).astimezone(UTC)  # RFC 5545 3.3.5, as ``expand``
    if len(_COUNT_UNTIL) > 8192:
        _COUNT_UNTIL.clear()
    _COUNT_UNTIL[key] = (rule, last)  # the strong reference keeps the id from reuse
    return last


def _progression(
    first: datetime, stride: timedelta, after: datetime, strict: bool, stop: datetime,
    limit: int, cut: int | None = None,
) -> list[datetime]:
    """Return ``first + k * stride`` (k >= 0) in (after, stop), or [after, stop) if not strict.

    More than ``limit`` raise ``ExpansionLimitError``, unless ``cut`` says how many of the
    earliest to return instead."""
    if first > after or (first == after and not strict):
        k = 0
    elif strict:
        k = (after - first) // stride + 1
    else:
        k = -((first - after) // stride)
    x = first + k * stride
    if x >= stop:
        return []
    n = -((x - stop) // stride)
    if n > limit:
        if cut is None:
            raise ExpansionLimitError(limit)
        n = min(n, cut)
    # datetime + timedelta, summed in C (typeshed wants one type for accumulate).
    return list(accumulate(repeat(stride, n - 1), initial=x))  # type: ignore[arg-type]


def window_instants(
    start: datetime,
    zone: tzinfo,
    rule: RecurrenceRule,
    lo: datetime,
    hi: datetime,
    duration: timedelta,
    *,
    exdates: Collection[datetime] = (),
    limit: int,
    cut: bool = False,
) -> list[datetime] | None:
    """Return the sorted UTC starts of occurrences meeting [lo, hi), or None (no fast path).

    ``start`` is DTSTART as an aware instant, ``zone`` the zone the rule runs in,
    ``exdates`` UTC instants.  An occurrence is wanted when it starts before ``hi`` and
    ends after ``lo`` (or, lasting no time, starts at or after ``lo``), as in
    ``recurrence.expand``.  Raises ``ExpansionLimitError`` past ``limit`` occurrences;
    with ``cut`` returns the ``limit + 1`` earliest instead (``recurrence.expand_capped``).
    """
    shape = _shape_of(rule)
    if shape is None or duration > MAX_DURATION or duration < _ZERO:
        return None
    if start >= hi:
        return []
    offset = quiet_offset(zone, lo, hi)
    if offset is None:
        return None
    period, day_offsets = shape
    if start.tzinfo is not UTC:
        start = start.astimezone(UTC)
    local = start.astimezone(zone)
    # DTSTART's wall clock read with the window's offset: where the rule's days fall.
    base = start + (local.utcoffset() - offset)  # type: ignore[operator]
    if day_offsets is None:
        firsts: tuple[timedelta, ...] = _NO_SHIFT
    else:
        base -= _DAYS[(local.weekday() - rule.wkst) % 7]
        firsts = day_offsets
    stride = _DAYS[period] if period < len(_DAYS) else timedelta(days=period)
    stop = hi
    until = rule.until if rule.count is None else count_until(start, zone, rule)
    if isinstance(until, datetime):
        stop = min(hi, until + timedelta(microseconds=1))
    low = lo - duration
    if not duration:
        after, strict = max(start, lo), False
    elif start > low:
        after, strict = start, False
    else:
        after, strict = low, True
    keep = limit + 1 + len(exdates) if cut else None
    if len(firsts) == 1:
        out = _progression(base + firsts[0], stride, after, strict, stop, limit, keep)
    else:
        out = []
        for first in firsts:
            out += _progression(base + first, stride, after, strict, stop, limit, keep)
        out.sort()
    if exdates:
        out = [i for i in out if i not in exdates]
    if len(out) > limit:
        if not cut:
            raise ExpansionLimitError(limit)
        del out[limit + 1 :]
    return out
