"""The RRULE iterator on wall-clock (naive) date-times (RFC 5545 section 3.3.10).

Owns the period-by-period evaluation of a rule: every FREQ period (year, month, week,
day, hour, minute, second; every INTERVAL-th one) yields the set of candidates its BY*
parts expand to and limit to (the table in section 3.3.10), BYSETPOS picks from that
sorted set, and COUNT/UNTIL end the series.  Time zones are the caller's business
(``recurrence.expand``); this module never sees one.

Where RFC 5545 leaves room, libical's behaviour is followed:

* DTSTART is only an instance if it matches the rule (a rule iterator never invents it).
* Missing parts are taken from DTSTART: YEARLY with BYWEEKNO only uses DTSTART's weekday;
  YEARLY with BYMONTHDAY but neither BYMONTH, BYDAY, BYWEEKNO nor BYYEARDAY uses
  DTSTART's month.
* With BYWEEKNO the YEARLY period is the week-numbering year (week 1 is the WKST week
  holding 4 January), counted from the week-year DTSTART falls in.
* BYHOUR/BYMINUTE/BYSECOND are ignored for DATE (all-day) series; BYSECOND=60 (a leap
  second) never matches, since Python date-times cannot express it.

``start_from`` makes the iterator jump straight to the period holding that instant,
by a whole multiple of INTERVAL periods, which is what keeps a two-week window of a
series started years ago cheap.  Rules with COUNT always walk from DTSTART.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta

from calcore.rrule_model import Freq, RecurrenceRule

_DAY = timedelta(days=1)
_MAX = datetime(9999, 12, 31, 23, 59, 59)
_STEP = {Freq.HOURLY: 3600, Freq.MINUTELY: 60, Freq.SECONDLY: 1}


def _days_in_month(year: int, month: int) -> int:
    """Return the number of days of a month."""
    if month == 12:
        return 31
    return (date(year, month + 1, 1) - date(year, month, 1)).days


def _week_year_start(year: int, wkst: int) -> int:
    """Return the ordinal of the first day of week 1 of ``year`` (RFC 5545 BYWEEKNO)."""
    jan4 = date(year, 1, 4).toordinal()
    return jan4 - ((date(year, 1, 4).weekday() - wkst) % 7)


class _Plan:
    """A rule prepared against one DTSTART: defaults filled in, sets precomputed."""

    def __init__(self, rule: RecurrenceRule, dtstart: datetime, date_only: bool) -> None:
        self.rule = rule
        self.freq = rule.freq
        self.interval = rule.interval
        self.dtstart = dtstart
        f = rule.freq
        bymonth, bymonthday, byday = rule.bymonth, rule.bymonthday, rule.byday
        if f is Freq.YEARLY:
            day_parts = rule.byweekno or rule.byyearday or bymonthday or byday
            if not bymonth and not day_parts:
                bymonth, bymonthday = (dtstart.month,), (dtstart.day,)
            elif not day_parts:
                bymonthday = (dtstart.day,)
            elif rule.byweekno and not (rule.byyearday or bymonthday or byday):
                byday = ((None, dtstart.weekday()),)
            elif bymonthday and not (bymonth or byday or rule.byweekno or rule.byyearday):
                bymonth = (dtstart.month,)
        elif f is Freq.MONTHLY and not bymonthday and not byday:
            bymonthday = (dtstart.day,)
        elif f is Freq.WEEKLY and not byday:
            byday = ((None, dtstart.weekday()),)
        self.months = frozenset(bymonth)
        self.monthdays = frozenset(bymonthday)
        self.yeardays = frozenset(rule.byyearday)
        self.weekdays = frozenset(w for o, w in byday if o is None)
        self.ordinal_days = tuple((o, w) for o, w in byday if o is not None)
        self.byday = byday
        self.setpos = rule.bysetpos
        self.hours = frozenset(rule.byhour)
        self.minutes = frozenset(rule.byminute)
        self.seconds = frozenset(s for s in rule.bysecond if s < 60)
        self.offsets = self._offsets(dtstart, date_only)

    def _offsets(self, dt: datetime, date_only: bool) -> list[timedelta]:
        """Return the sorted time offsets inside one period (from its base)."""
        if date_only:
            return [timedelta(0)]
        r, f = self.rule, self.freq
        secs = sorted(self.seconds) if r.bysecond else [dt.second]
        if f is Freq.SECONDLY:
            return [timedelta(0)]
        mins = sorted(r.byminute) if r.byminute else [dt.minute]
        if f is Freq.MINUTELY:
            return [timedelta(seconds=s) for s in secs]
        if f is Freq.HOURLY:
            return [timedelta(minutes=m, seconds=s) for m in mins for s in secs]
        hours = sorted(r.byhour) if r.byhour else [dt.hour]
        return [timedelta(hours=h, minutes=m, seconds=s) for h in hours for m in mins for s in secs]

    # -- day level -----------------------------------------------------------------

    def day_ok(self, d: date) -> bool:
        """Whether one day passes the limiting BY* parts (DAILY and shorter FREQs)."""
        if self.months and d.month not in self.months:
            return False
        if self.monthdays:
            n = _days_in_month(d.year, d.month)
            if d.day not in self.monthdays and d.day - n - 1 not in self.monthdays:
                return False
        if self.yeardays:
            yd = d.timetuple().tm_yday
            n = 366 if _days_in_month(d.year, 2) == 29 else 365
            if yd not in self.yeardays and yd - n - 1 not in self.yeardays:
                return False
        return not self.weekdays or d.weekday() in self.weekdays

    def _byday_in(self, first: int, last: int) -> set[int]:
        """Expand BYDAY (with ordinals) inside the span of day ordinals [first, last]."""
        out: set[int] = set()
        fw = date.fromordinal(first).weekday()
        for ordinal, wd in self.byday:
            start = first + (wd - fw) % 7
            days = range(start, last + 1, 7)
            if ordinal is None:
                out.update(days)
            elif 0 < ordinal <= len(days):
                out.add(days[ordinal - 1])
            elif ordinal < 0 and -ordinal <= len(days):
                out.add(days[ordinal])
        return out

    def _filter_days(self, days: set[int], ordinal_span_by_month: bool) -> set[int]:
        """Intersect candidate day ordinals with BYMONTH/BYYEARDAY/BYMONTHDAY."""
        keep: set[int] = set()
        for o in days:
            d = date.fromordinal(o)
            if self.months and d.month not in self.months:
                continue
            if self.yeardays:
                yd = d.timetuple().tm_yday
                n = 366 if _days_in_month(d.year, 2) == 29 else 365
                if yd not in self.yeardays and yd - n - 1 not in self.yeardays:
                    continue
            if self.monthdays:
                n = _days_in_month(d.year, d.month)
                if d.day not in self.monthdays and d.day - n - 1 not in self.monthdays:
                    continue
            keep.add(o)
        return keep

    def month_days(self, year: int, month: int) -> list[int]:
        """Return the sorted candidate day ordinals of one MONTHLY period."""
        if self.months and month not in self.months:
            return []
        first = date(year, month, 1).toordinal()
        n = _days_in_month(year, month)
        last = first + n - 1
        if self.monthdays:
            days = {first + (m - 1 if m > 0 else n + m) for m in self.monthdays if abs(m) <= n}
            if self.byday:
                days &= self._byday_in(first, last)
        else:
            days = self._byday_in(first, last)
        return sorted(days)

    def year_days(self, year: int) -> list[int]:
        """Return the sorted candidate day ordinals of one YEARLY period."""
        if self.rule.byweekno:
            start = _week_year_start(year, self.rule.wkst)
            weeks = (_week_year_start(year + 1, self.rule.wkst) - start) // 7
            days: set[int] = set()
            for w in self.rule.byweekno:
                index = w - 1 if w > 0 else weeks + w
                if 0 <= index < weeks:
                    first = start + 7 * index
                    days.update(
                        o for o in range(first, first + 7)
                        if not self.weekdays or date.fromordinal(o).weekday() in self.weekdays
                    )
            return sorted(self._filter_days(days, False))
        first = date(year, 1, 1).toordinal()
        last = date(year, 12, 31).toordinal()
        if self.byday and self.months and not self.yeardays:
            days = set()
            for m in self.months:
                mf = date(year, m, 1).toordinal()
                days |= self._byday_in(mf, mf + _days_in_month(year, m) - 1)
            return sorted(self._filter_days(days, True))
        if self.yeardays:
            n = last - first + 1
            days = {first + (y - 1 if y > 0 else n + y) for y in self.yeardays if abs(y) <= n}
        elif self.monthdays:
            months = self.months or range(1, 13)
            days = set()
            for m in months:
                mf = date(year, m, 1).toordinal()
                n = _days_in_month(year, m)
                days.update(mf + (d - 1 if d > 0 else n + d) for d in self.monthdays if abs(d) <= n)
        elif self.byday:
            days = self._byday_in(first, last)
        else:
            days = {
                date(year, m, 1).toordinal() + d
                for m in self.months
                for d in range(_days_in_month(year, m))
            }
        if self.byday:
            days &= self._byday_in(first, last)
        return sorted(self._filter_days(days, False))

    # -- periods -------------------------------------------------------------------

    def week_base(self, d: date) -> date:
        """Return the first day (WKST) of the week holding ``d``."""
        return d - timedelta(days=(d.weekday() - self.rule.wkst) % 7)

    def first_year(self) -> int:
        """Return the YEARLY period the series starts in.

        That is DTSTART's calendar year, except that with BYWEEKNO a DTSTART which is
        itself an instance anchors the series in its week-numbering year (libical).
        """
        d = self.dtstart.date().toordinal()
        y = self.dtstart.year
        if self.rule.byweekno:
            wy = y
            if d < _week_year_start(y, self.rule.wkst):
                wy = y - 1
            elif d >= _week_year_start(y + 1, self.rule.wkst):
                wy = y + 1
            if wy != y and d in self.year_days(wy):
                return wy
        return y

    def periods(self, start_from: datetime | None) -> Iterator[tuple[list[datetime], datetime]]:
        """Yield (sorted candidate bases, earliest moment the period can hold) per period."""
        f, step, dt = self.freq, self.interval, self.dtstart
        if f is Freq.YEARLY:
            y0 = self.first_year()
            k = 0
            if start_from is not None and start_from.year - 1 > y0:
                k = (start_from.year - 1 - y0) // step
            y = y0 + k * step
            while y <= 9998:
                yield ([datetime.fromordinal(o) for o in self.year_days(y)],
                       datetime(y, 1, 1) - timedelta(days=7))
                y += step
        elif f is Freq.MONTHLY:
            m0 = dt.year * 12 + dt.month - 1
            k = 0
            if start_from is not None:
                k = max(0, (start_from.year * 12 + start_from.month - 1 - m0) // step)
            m = m0 + k * step
            while m < 10000 * 12:
                year, month = divmod(m, 12)
                yield ([datetime.fromordinal(o) for o in self.month_days(year, month + 1)],
                       datetime(year, month + 1, 1))
                m += step
        elif f is Freq.WEEKLY:
            w0 = self.week_base(dt.date()).toordinal()
            k = 0
            if start_from is not None:
                k = max(0, (start_from.toordinal() - w0) // (7 * step))
            w = w0 + 7 * k * step
            wds = self.weekdays
            while w < _MAX.toordinal():
                bases = []
                for i in range(7):
                    d = date.fromordinal(w + i)
                    if d.weekday() in wds and (not self.months or d.month in self.months):
                        bases.append(datetime.fromordinal(w + i))
                yield sorted(bases), datetime.fromordinal(w)
                w += 7 * step
        elif f is Freq.DAILY:
            d0 = dt.toordinal()
            k = 0
            if start_from is not None:
                k = max(0, (start_from.toordinal() - d0) // step)
            o = d0 + k * step
            while o < _MAX.toordinal():
                d = date.fromordinal(o)
                here = datetime.fromordinal(o)
                if self.day_ok(d):
                    yield [here], here
                    o += step
                elif self.months and d.month not in self.months:
                    nxt = date(d.year + d.month // 12, d.month % 12 + 1, 1).toordinal()
                    o += -(-(nxt - o) // step) * step
                    yield [], here
                else:
                    o += step
                    yield [], here
        else:
            yield from self._subdaily(start_from)

    def _subdaily(self, start_from: datetime | None) -> Iterator[tuple[list[datetime], datetime]]:
        """Yield the periods of HOURLY, MINUTELY and SECONDLY rules."""
        f, dt = self.freq, self.dtstart
        unit = _STEP[f]
        base = dt.replace(second=0) if f is Freq.MINUTELY else dt
        if f is Freq.HOURLY:
            base = dt.replace(minute=0, second=0)
        step = timedelta(seconds=unit * self.interval)
        stride = unit * self.interval
        cur = base
        if start_from is not None and start_from > base:
            cur = base + step * (int((start_from - base).total_seconds()) // stride)

        def skip_to(target: datetime) -> datetime:
            n = -(-int((target - cur).total_seconds()) // stride)
            return cur + step * max(n, 1)

        while cur <= _MAX - step:
            d = cur.date()
            if not self.day_ok(d):
                here, cur = cur, skip_to(datetime(d.year, d.month, d.day) + _DAY)
                yield [], here
                continue
            if self.hours and cur.hour not in self.hours:
                here, cur = cur, skip_to(cur.replace(minute=0, second=0) + timedelta(hours=1))
                yield [], here
                continue
            if f is not Freq.HOURLY and self.minutes and cur.minute not in self.minutes:
                here, cur = cur, skip_to(cur.replace(second=0) + timedelta(minutes=1))
                yield [], here
                continue
            if f is Freq.SECONDLY and self.rule.bysecond and cur.second not in self.seconds:
                cur += step
                yield [], cur - step
                continue
            yield [cur], cur
            cur += step


def iterate(
    dtstart: datetime,
    rule: RecurrenceRule,
    *,
    date_only: bool = False,
    until: datetime | None = None,
    start_from: datetime | None = None,
    stop_after: datetime | None = None,
) -> Iterator[datetime]:
    """Yield the rule's instances (naive wall-clock) in order.

    ``until`` is the inclusive end in the same wall clock (the caller converts UNTIL);
    ``start_from`` skips instances before it (jumping ahead when the rule has no COUNT);
    ``stop_after`` ends the iteration without being part of the rule.
    """
    plan = _Plan(rule, dtstart, date_only)
    offsets = plan.offsets
    count = rule.count
    end = min(until or _MAX, stop_after or _MAX)
    lower = dtstart if start_from is None or start_from < dtstart else start_from
    produced = 0
    setpos = plan.setpos
    empty = 0
    for bases, period_start in plan.periods(None if count is not None else start_from):
        if period_start > end:
            return
        if not bases:
            empty += 1
            if empty > 200_000:
                return
            continue
        if setpos:
            total = len(bases) * len(offsets)
            n = len(offsets)
            picked = sorted(
                {i for i in (p - 1 if p > 0 else total + p for p in setpos) if 0 <= i < total}
            )
            candidates = [bases[i // n] + offsets[i % n] for i in picked]
        else:
            candidates = [b + o for b in bases for o in offsets]
        hit = False
        for c in candidates:
            if c < dtstart:
                continue
            if c > end:
                return
            hit = True
            produced += 1
            if c >= lower:
                yield c
            if count is not None and produced >= count:
                return
        empty = 0 if hit else empty + 1
        if empty > 200_000:
            return


def simple_walls(
    dtstart: datetime,
    rule: RecurrenceRule,
    *,
    until: datetime | None,
    start_from: datetime,
    stop_after: datetime,
) -> list[datetime] | None:
    """Return the instances of a plain DAILY/WEEKLY rule arithmetically, or None.

    "Plain" means no COUNT, no BYSETPOS and no BY* part other than weekday-only BYDAY;
    the common diary series.  Same result as ``iterate`` without the per-period work.
    """
    if (
        rule.freq not in (Freq.DAILY, Freq.WEEKLY)
        or rule.count is not None
        or rule.bysetpos
        or rule.bymonth
        or rule.bymonthday
        or rule.byyearday
        or rule.byhour
        or rule.byminute
        or rule.bysecond
        or any(o is not None for o, _ in rule.byday)
    ):
        return None
    end = min(until or _MAX, stop_after)
    out: list[datetime] = []
    d0 = dtstart.toordinal()
    if rule.freq is Freq.DAILY:
        if rule.byday:
            return None
        step = rule.interval
        k = max(0, (start_from.toordinal() - d0) // step)
        wall = dtstart + timedelta(days=k * step)
        delta = timedelta(days=step)
        while wall <= end:
            out.append(wall)
            wall += delta
        return out
    wkst = rule.wkst
    weekdays = {w for _, w in rule.byday} or {dtstart.weekday()}
    offsets = sorted((w - wkst) % 7 for w in weekdays)
    w0 = d0 - (dtstart.weekday() - wkst) % 7
    span = 7 * rule.interval
    k = max(0, (start_from.toordinal() - w0) // span)
    base = dtstart - timedelta(days=d0 - w0) + timedelta(days=k * span)
    deltas = [timedelta(days=o) for o in offsets]
    stride = timedelta(days=span)
    while base <= end:
        for delta in deltas:
            wall = base + delta
            if wall > end:
                return out
            if wall >= dtstart:
                out.append(wall)
        base += stride
    return out
