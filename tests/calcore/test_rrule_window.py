"""Property: the fast path (``calcore.rrule_window``) equals a walk from DTSTART.

The reference iterates the rule from DTSTART (``rrule_expand.iterate``, no skip-ahead)
and converts every wall time through the zone; the fast path jumps to the window and
converts with the zone's one offset there.  Random plain DAILY/WEEKLY rules, zones with
and without DST, windows around transitions, durations and EXDATEs.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from calcore.recurrence import expand
from calcore.rrule_expand import iterate
from calcore.rrule_model import Freq, RecurrenceRule
from calcore.rrule_window import count_until, quiet_offset, window_instants

ZONES = [
    "Europe/Oslo",
    "America/New_York",
    "UTC",
    "Australia/Sydney",
    "Asia/Kolkata",
    "Australia/Lord_Howe",
    "America/Sao_Paulo",
]


@st.composite
def cases(draw: st.DrawFn) -> dict[str, object]:
    freq = draw(st.sampled_from([Freq.DAILY, Freq.WEEKLY]))
    byday: tuple[tuple[int | None, int], ...] = ()
    if freq is Freq.WEEKLY:
        days = draw(st.lists(st.integers(0, 6), max_size=4, unique=True))
        byday = tuple((None, d) for d in sorted(days))
    zone = ZoneInfo(draw(st.sampled_from(ZONES)))
    wall = draw(st.datetimes(min_value=datetime(2019, 1, 1), max_value=datetime(2022, 1, 1)))
    start = wall.replace(
        microsecond=0, second=draw(st.sampled_from([0, 30])), tzinfo=zone
    ).astimezone(UTC)
    until = None
    if draw(st.booleans()):
        until = start + timedelta(hours=draw(st.integers(0, 24 * 800)))
    rule = RecurrenceRule(
        freq=freq,
        interval=draw(st.integers(1, 4)),
        byday=byday,
        wkst=draw(st.integers(0, 6)),
        until=until,
    )
    lo = start + timedelta(hours=draw(st.integers(-24 * 20, 24 * 700)))
    hi = lo + timedelta(hours=draw(st.integers(1, 24 * 30)))
    duration = timedelta(minutes=draw(st.sampled_from([0, 0, 30, 60, 23 * 60, 24 * 60])))
    return {
        "rule": rule,
        "zone": zone,
        "start": start,
        "lo": lo,
        "hi": hi,
        "duration": duration,
        "exdate_picks": draw(st.lists(st.integers(0, 40), max_size=3)),
    }


def _reference(
    start: datetime,
    zone: ZoneInfo,
    rule: RecurrenceRule,
    lo: datetime,
    hi: datetime,
    duration: timedelta,
) -> list[datetime]:
    out = []
    local = start.astimezone(zone).replace(tzinfo=None)
    stop = (hi.astimezone(zone) + timedelta(days=3)).replace(tzinfo=None)
    for wall in iterate(local, rule.__class__(**{**rule.__dict__, "until": None}), stop_after=stop):
        inst = wall.replace(tzinfo=zone).astimezone(UTC)
        if rule.until is not None and inst > rule.until:  # type: ignore[operator]
            continue
        if inst < hi and (inst + duration > lo if duration else inst >= lo):
            out.append(inst)
    return sorted(out)


@settings(max_examples=400, deadline=None)
@given(case=cases())
def test_fast_path_equals_walking_from_dtstart(case: dict[str, object]) -> None:
    start, zone, rule = case["start"], case["zone"], case["rule"]
    lo, hi, duration = case["lo"], case["hi"], case["duration"]
    assert isinstance(start, datetime) and isinstance(zone, ZoneInfo)
    assert isinstance(rule, RecurrenceRule) and isinstance(duration, timedelta)
    assert isinstance(lo, datetime) and isinstance(hi, datetime)
    want = _reference(start, zone, rule, lo, hi, duration)
    picks = case["exdate_picks"]
    assert isinstance(picks, list)
    exdates = {want[i] for i in picks if i < len(want)}
    got = window_instants(start, zone, rule, lo, hi, duration, exdates=exdates, limit=10_000)
    if got is not None:
        assert got == [i for i in want if i not in exdates]
    via_expand = expand(
        start.astimezone(zone),
        rule,
        exdates=exdates,
        window_start=lo,
        window_end=hi,
        duration=duration,
    )
    assert via_expand == [i for i in want if i not in exdates]


def test_quiet_offset_sees_transitions() -> None:
    oslo = ZoneInfo("Europe/Oslo")
    assert quiet_offset(
        oslo, datetime(2026, 12, 1, tzinfo=UTC), datetime(2026, 12, 15, tzinfo=UTC)
    ) == timedelta(hours=1)
    assert (
        quiet_offset(oslo, datetime(2026, 3, 20, tzinfo=UTC), datetime(2026, 4, 3, tzinfo=UTC))
        is None
    )
    # the margin: a transition a day after the window still counts
    assert (
        quiet_offset(oslo, datetime(2026, 3, 15, tzinfo=UTC), datetime(2026, 3, 28, tzinfo=UTC))
        is None
    )


@st.composite
def count_cases(draw: st.DrawFn) -> dict[str, object]:
    case = draw(cases())
    rule = case["rule"]
    assert isinstance(rule, RecurrenceRule)
    count = draw(st.one_of(st.integers(1, 5), st.integers(1, 400)))
    case["rule"] = rule.__class__(**{**rule.__dict__, "until": None, "count": count})
    return case


def _walk_with_count(
    start: datetime,
    zone: ZoneInfo,
    rule: RecurrenceRule,
    lo: datetime,
    hi: datetime,
    duration: timedelta,
) -> list[datetime]:
    """The COUNT reference: iterate from DTSTART, counting every instance the rule makes."""
    local = start.astimezone(zone).replace(tzinfo=None)
    out = set()
    for wall in iterate(local, rule):
        inst = wall.replace(tzinfo=zone).astimezone(UTC)
        if inst < hi and (inst + duration > lo if duration else inst >= lo):
            out.add(inst)
    return sorted(out)


@settings(max_examples=400, deadline=None)
@given(case=count_cases())
def test_count_fast_path_equals_walking_from_dtstart(case: dict[str, object]) -> None:
    """COUNT turned into an UNTIL (``count_until``) keeps exactly the first COUNT instances."""
    start, zone, rule = case["start"], case["zone"], case["rule"]
    lo, hi, duration = case["lo"], case["hi"], case["duration"]
    assert isinstance(start, datetime) and isinstance(zone, ZoneInfo)
    assert isinstance(rule, RecurrenceRule) and isinstance(duration, timedelta)
    assert isinstance(lo, datetime) and isinstance(hi, datetime)
    want = _walk_with_count(start, zone, rule, lo, hi, duration)
    picks = case["exdate_picks"]
    assert isinstance(picks, list)
    exdates = {want[i] for i in picks if i < len(want)}
    got = window_instants(start, zone, rule, lo, hi, duration, exdates=exdates, limit=10_000)
    if got is not None:
        assert got == [i for i in want if i not in exdates]
    via_expand = expand(
        start.astimezone(zone),
        rule,
        exdates=exdates,
        window_start=lo,
        window_end=hi,
        duration=duration,
    )
    assert via_expand == [i for i in want if i not in exdates]


@settings(max_examples=300, deadline=None)
@given(case=count_cases())
def test_count_until_is_the_last_instance_of_the_walk(case: dict[str, object]) -> None:
    start, zone, rule = case["start"], case["zone"], case["rule"]
    assert isinstance(start, datetime) and isinstance(zone, ZoneInfo)
    assert isinstance(rule, RecurrenceRule)
    walls = list(iterate(start.astimezone(zone).replace(tzinfo=None), rule))
    last = count_until(start, zone, rule)
    if not walls:
        return
    assert len(walls) == rule.count
    assert last == walls[-1].replace(tzinfo=zone).astimezone(UTC)
    assert count_until(start, zone, rule) == last  # cached


def test_count_fast_path_is_taken_in_a_quiet_window() -> None:
    oslo = ZoneInfo("Europe/Oslo")
    start = datetime(2026, 11, 2, 9, tzinfo=oslo).astimezone(UTC)  # a Monday
    rule = RecurrenceRule(freq=Freq.WEEKLY, byday=((None, 0), (None, 2)), count=5)
    lo, hi = datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 31, tzinfo=UTC)
    got = window_instants(start, oslo, rule, lo, hi, timedelta(hours=1), limit=100)
    assert got == [datetime(2026, 11, d, 8, tzinfo=UTC) for d in (2, 4, 9, 11, 16)]
