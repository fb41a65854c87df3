"""Property: expanding a window equals the window's slice of a full expansion.

The windowed call jumps straight to the period holding the window (a whole multiple of
INTERVAL periods); the full expansion walks every period from DTSTART.  Equality over
random rules, zones and windows is what shows the skip-ahead keeps BY* semantics.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from calcore.recurrence import expand
from calcore.rrule_expand import iterate, simple_walls
from calcore.rrule_model import Freq, RecurrenceRule
from calcore.rrule_parse import check_rule

ZONES = ["Europe/Oslo", "America/New_York", "UTC", "Australia/Sydney", "Asia/Kolkata"]
FREQS = [Freq.DAILY, Freq.WEEKLY, Freq.MONTHLY, Freq.YEARLY, Freq.HOURLY]


@st.composite
def rules(draw: st.DrawFn) -> RecurrenceRule:
    freq = draw(st.sampled_from(FREQS))
    ordinal_ok = freq in (Freq.MONTHLY, Freq.YEARLY)
    ordinals = st.one_of(st.none(), st.integers(-4, 4).filter(bool)) if ordinal_ok else st.none()
    byday = draw(st.lists(st.tuples(ordinals, st.integers(0, 6)), max_size=3, unique=True))
    bymonthday = (
        draw(st.lists(st.integers(-31, 31).filter(bool), max_size=3, unique=True))
        if freq is not Freq.WEEKLY
        else []
    )
    bymonth = draw(st.lists(st.integers(1, 12), max_size=3, unique=True))
    byweekno = (
        draw(st.lists(st.integers(-53, 53).filter(bool), max_size=2, unique=True))
        if freq is Freq.YEARLY and not any(o for o, _ in byday)
        else []
    )
    byhour = draw(st.lists(st.integers(0, 23), max_size=2, unique=True))
    has_by = bool(byday or bymonthday or bymonth or byweekno or byhour)
    bysetpos = (
        draw(st.lists(st.integers(-3, 3).filter(bool), max_size=2, unique=True)) if has_by else []
    )
    count = draw(st.one_of(st.none(), st.integers(1, 60)))
    rule = RecurrenceRule(
        freq=freq,
        interval=draw(st.integers(1, 5)),
        count=count,
        byday=tuple(sorted(set(byday), key=lambda p: (p[0] is not None, p[0] or 0, p[1]))),
        bymonthday=tuple(sorted(bymonthday)),
        bymonth=tuple(sorted(bymonth)),
        byweekno=tuple(sorted(byweekno)),
        byhour=tuple(sorted(byhour)),
        bysetpos=tuple(sorted(bysetpos)),
        wkst=draw(st.integers(0, 6)),
    )
    check_rule(rule)
    return rule


@settings(max_examples=300, deadline=None)
@given(
    rule=rules(),
    zone=st.sampled_from(ZONES),
    start=st.datetimes(datetime(2018, 1, 1), datetime(2026, 12, 31)),
    offset_days=st.integers(-30, 3 * 365),
    length_hours=st.integers(1, 60 * 24),
    duration_minutes=st.sampled_from([0, 30, 90, 24 * 60 * 3]),
)
def test_window_equals_slice_of_full_expansion(
    rule: RecurrenceRule,
    zone: str,
    start: datetime,
    offset_days: int,
    length_hours: int,
    duration_minutes: int,
) -> None:
    dtstart = start.replace(microsecond=0, tzinfo=ZoneInfo(zone))
    window_start = dtstart.astimezone(UTC) + timedelta(days=offset_days, minutes=17)
    window_end = window_start + timedelta(hours=length_hours)
    duration = timedelta(minutes=duration_minutes)
    full = expand(
        dtstart, rule, window_start=dtstart - timedelta(days=1), window_end=window_end, limit=10**7
    )
    expected = [
        t for t in full if t < window_end and (t >= window_start or t + duration > window_start)
    ]
    got = expand(
        dtstart,
        rule,
        window_start=window_start,
        window_end=window_end,
        limit=10**7,
        duration=duration,
    )
    assert got == expected


@settings(max_examples=200, deadline=None)
@given(
    freq=st.sampled_from([Freq.DAILY, Freq.WEEKLY]),
    interval=st.integers(1, 6),
    weekdays=st.lists(st.integers(0, 6), max_size=4, unique=True),
    wkst=st.integers(0, 6),
    start=st.datetimes(datetime(2018, 1, 1), datetime(2026, 12, 31)),
    skip_days=st.integers(0, 4000),
)
def test_arithmetic_fast_path_matches_the_period_iterator(
    freq: Freq, interval: int, weekdays: list[int], wkst: int, start: datetime, skip_days: int
) -> None:
    rule = RecurrenceRule(
        freq=freq,
        interval=interval,
        wkst=wkst,
        byday=tuple((None, w) for w in sorted(weekdays)) if freq is Freq.WEEKLY else (),
    )
    dtstart = start.replace(microsecond=0)
    start_from = dtstart + timedelta(days=skip_days)
    stop = start_from + timedelta(days=60)
    fast = simple_walls(dtstart, rule, until=None, start_from=start_from, stop_after=stop)
    slow = list(iterate(dtstart, rule, start_from=start_from, stop_after=stop))
    assert fast is not None
    assert [w for w in fast if w >= start_from] == slow
