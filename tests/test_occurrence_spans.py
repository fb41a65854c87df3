"""Property: ``orm.occurrences.spans`` gives the same spans on its fast path
(``calcore.rrule_window``, COUNT rules and series with overrides included) as on the
general path (``recurrence.expand`` walking the rule from DTSTART with its own fast path switched
off, overrides applied one by one).

Rows are stand-ins with the columns ``spans`` reads (as ``busy_sql.SeriesRow``), so no
database is needed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from calcore import recurrence
from calcore.recurrence import expand
from orm import occurrences
from orm.occurrences import Span, intervals, spans

ZONES = ["Europe/Oslo", "America/New_York", "UTC", "Australia/Sydney", "Asia/Kolkata"]
DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


@dataclass
class Row:
    id: int
    rrule: str | None
    tzid: str
    start_at: datetime | None
    end_at: datetime | None
    deadline: datetime | None
    rdates: list[str] = field(default_factory=list)
    exdates: list[str] = field(default_factory=list)
    all_day: bool = False


@dataclass
class Override:
    recurrence_id: datetime
    start_at: datetime | None = None
    end_at: datetime | None = None
    deadline: datetime | None = None
    cancelled: bool = False


@st.composite
def series(draw: st.DrawFn) -> dict[str, Any]:
    zone = draw(st.sampled_from(ZONES))
    wall = draw(st.datetimes(min_value=datetime(2021, 1, 1), max_value=datetime(2026, 1, 1)))
    start = wall.replace(second=0, microsecond=0, tzinfo=ZoneInfo(zone)).astimezone(UTC)
    parts = [draw(st.sampled_from(["FREQ=DAILY", "FREQ=WEEKLY"]))]
    if draw(st.booleans()):
        parts.append(f"INTERVAL={draw(st.integers(2, 3))}")
    if parts[0] == "FREQ=WEEKLY" and draw(st.booleans()):
        days = draw(st.lists(st.integers(0, 6), min_size=1, max_size=3, unique=True))
        parts.append("BYDAY=" + ",".join(DAYS[d] for d in sorted(days)))
    bound = draw(st.sampled_from(["count", "count", "until", "none"]))
    if bound == "count":
        parts.append(f"COUNT={draw(st.integers(1, 300))}")
    elif bound == "until":
        until = start + timedelta(days=draw(st.integers(0, 900)))
        parts.append(f"UNTIL={until.strftime('%Y%m%dT%H%M%SZ')}")
    kind = draw(st.sampled_from(["meeting", "meeting", "task", "timed-task"]))
    length = timedelta(minutes=draw(st.sampled_from([0, 30, 60, 24 * 60])))
    row = Row(
        id=draw(st.integers(1, 5)),
        rrule=";".join(parts),
        tzid=zone,
        start_at=None if kind == "task" else start,
        end_at=start + length if kind == "meeting" else None,
        deadline=start + timedelta(hours=2) if kind != "meeting" else None,
    )
    lo = start + timedelta(hours=draw(st.integers(-24 * 10, 24 * 800)))
    hi = lo + timedelta(hours=draw(st.integers(1, 24 * 21)))
    return {
        "row": row,
        "lo": lo,
        "hi": hi,
        "picks": draw(
            st.lists(
                st.tuples(
                    st.integers(0, 30),
                    st.sampled_from(["cancel", "move", "deadline", "same"]),
                    st.integers(-48, 48),
                ),
                max_size=4,
            )
        ),
        "ex": draw(st.lists(st.integers(0, 30), max_size=2)),
    }


def _overrides(row: Row, case: dict[str, Any]) -> list[Override]:
    """Overrides of occurrences near (and in) the window, some moved across its edges."""
    zone = ZoneInfo(row.tzid)
    anchor = row.start_at or row.deadline
    assert anchor is not None and row.rrule is not None
    near = expand(
        anchor.astimezone(zone),
        row.rrule,
        window_start=case["lo"] - timedelta(days=7),
        window_end=case["hi"] + timedelta(days=7),
    )
    out: dict[datetime, Override] = {}
    for index, what, hours in case["picks"]:
        if index >= len(near):
            continue
        rid = near[index]
        shift = timedelta(hours=hours)
        if what == "cancel":
            out[rid] = Override(rid, cancelled=True)
        elif what == "move" and row.start_at is not None:
            out[rid] = Override(rid, rid + shift, rid + shift + timedelta(minutes=45))
        elif what == "deadline":
            out[rid] = Override(rid, deadline=rid + shift)
        else:
            out[rid] = Override(rid)
    for index in case["ex"]:
        if index < len(near):
            row.exdates.append(near[index].isoformat())
    return list(out.values())


def _general(row: Row, overrides: list[Override], lo: datetime, hi: datetime) -> list[Span]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(occurrences, "_fast_spans", lambda *args: None)
        patch.setattr(recurrence, "window_instants", lambda *args, **kwargs: None)
        return spans(cast(Any, row), cast(Any, overrides), lo, hi, 10_000)


def _plain(found: list[Span]) -> list[tuple[Any, ...]]:
    return [(s.start, s.end, s.deadline, s.recurrence_id, s.override) for s in found]


@settings(max_examples=400, deadline=None)
@given(case=series())
def test_fast_spans_equal_the_general_path(case: dict[str, Any]) -> None:
    row: Row = case["row"]
    overrides = _overrides(row, case)
    lo, hi = case["lo"], case["hi"]
    want = _general(row, overrides, lo, hi)
    got = spans(cast(Any, row), cast(Any, overrides), lo, hi, 10_000)
    assert _plain(got) == _plain(want)


@settings(max_examples=300, deadline=None)
@given(case=series(), with_overrides=st.booleans())
def test_busy_intervals_are_the_timed_spans(case: dict[str, Any], with_overrides: bool) -> None:
    """``intervals`` (free/busy) equals ``spans`` filtered to timed spans meeting the window."""
    row: Row = case["row"]
    overrides = _overrides(row, case) if with_overrides else []
    lo, hi = case["lo"], case["hi"]
    want = [
        (s.start, s.end)
        for s in _general(row, overrides, lo, hi)
        if s.start is not None and s.end is not None and s.start < hi and s.end > lo
    ]
    assert intervals(cast(Any, row), cast(Any, overrides), lo, hi, 10_000) == want


def test_count_series_with_overrides_takes_the_fast_path() -> None:
    start = datetime(2026, 11, 2, 8, tzinfo=UTC)  # Monday 09:00 Europe/Oslo
    row = Row(1, "FREQ=WEEKLY;COUNT=6", "Europe/Oslo", start, start + timedelta(hours=1), None)
    moved = start + timedelta(weeks=1)
    overrides = [
        Override(moved, moved + timedelta(hours=2), moved + timedelta(hours=3)),
        Override(start + timedelta(weeks=2), cancelled=True),
    ]
    lo, hi = datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 31, tzinfo=UTC)
    assert occurrences._fast_spans(cast(Any, row), lo, hi, 100) is not None
    got = spans(cast(Any, row), cast(Any, overrides), lo, hi, 100)
    assert [s.start for s in got] == [
        start,
        moved + timedelta(hours=2),
        start + timedelta(weeks=3),
        start + timedelta(weeks=4),
        start + timedelta(weeks=5),
    ]
    assert _plain(got) == _plain(_general(row, overrides, lo, hi))
