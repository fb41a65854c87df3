"""Benchmark: recurring series vs single events in a two-week window.

ARCHITECTURE.md: "recurring series ... at most 1.3x the cost of the same number of single
events"; the issue: "with 10,000 series started five years back (daily and weekly), the
window costs at most 1.3x the same number of single events".

Two levels, each measured in the same run against its own baseline:

* service: 10,000 stored-style ``FollowUp`` rows (rrule text, ISO rdates/exdates, IANA
  ``tzid``; half daily, half weekly, some with INTERVAL, started five years back, a few
  zones) expanded by ``orm.occurrences.spans`` -- the path ``resolvers.diary`` uses --
  against as many single-event rows as the series produced occurrences, each in the
  window, through the same ``spans`` call (one ``Span`` each).
* calcore: the same series as ``EventSnapshot`` through ``calcore.occurrences.occurrences``
  against as many single snapshots as occurrences produced (the overlap check and one
  ``Occurrence`` each).

"The same number of single events" is read per occurrence: N series produce K occurrences
and are compared with K single events producing K occurrences (ratio per item is printed
too, for information).  Medians of several interleaved runs.
Run: ``.venv/bin/python bench/bench_recurrence.py``.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from calcore.model import EventSnapshot, Kind
from calcore.occurrences import occurrences
from orm import db as orm_db
from orm import models as m
from orm.occurrences import spans

N = 10_000
RUNS = 9
LIMIT = 10_000
ZONES = ("Europe/Oslo", "Europe/London", "America/New_York", "Asia/Tokyo", "Australia/Sydney")
WEEKLY_DAYS = ("MO", "TU,TH", "MO,WE,FR", "FR")


def _series_specs(rng: random.Random, now: datetime) -> list[tuple[datetime, int, str, str]]:
    """(start, minutes, rrule, tzid) of N series that started about five years ago."""
    out = []
    for i in range(N):
        start = (now - timedelta(days=5 * 365 + rng.randint(0, 60))).replace(
            hour=rng.randint(6, 18), minute=rng.choice((0, 15, 30, 45)), second=0, microsecond=0
        )
        interval = rng.choice((1, 1, 1, 2, 3))
        if i % 2 == 0:
            rule = "FREQ=DAILY" + (f";INTERVAL={interval}" if interval > 1 else "")
        else:
            rule = f"FREQ=WEEKLY;BYDAY={rng.choice(WEEKLY_DAYS)}" + (
                f";INTERVAL={interval}" if interval > 1 else ""
            )
        out.append((start, rng.choice((30, 45, 60)), rule, ZONES[i % len(ZONES)]))
    return out


def _single_specs(rng: random.Random, lo: datetime, count: int) -> list[tuple[datetime, int, str]]:
    """(start, minutes, tzid) of ``count`` single events, each inside the window."""
    return [
        (
            lo + timedelta(minutes=rng.randint(0, 13 * 24 * 60)),
            rng.choice((30, 45, 60)),
            ZONES[i % len(ZONES)],
        )
        for i in range(count)
    ]


def _row(i: int, start: datetime, minutes: int, tzid: str, rrule: str | None) -> m.FollowUp:
    """An unsaved FollowUp as the database returns it."""
    return m.FollowUp(
        id=i + 1,
        kind=m.Kind.MEETING,
        owner_id=1,
        title="x",
        start_at=start,
        end_at=start + timedelta(minutes=minutes),
        sort_at=start,
        uid=f"u{i}",
        tzid=tzid,
        rrule=rrule,
        rdates=[],
        exdates=[],
        series_end=None,
    )


def _snap(i: int, start: datetime, minutes: int, tzid: str, rrule: str | None) -> EventSnapshot:
    return EventSnapshot(
        uid=f"s{i}",
        kind=Kind.MEETING,
        title="x",
        start=start,
        end=start + timedelta(minutes=minutes),
        tzid=tzid,
        rrule=rrule,
    )


def _timed(fn: Callable[[Any], int], items: Sequence[Any]) -> tuple[float, int]:
    t0 = time.perf_counter()
    produced = 0
    for item in items:
        produced += fn(item)
    return time.perf_counter() - t0, produced


def _compare(
    name: str, expand_one: Callable[[Any], int], series: Sequence[Any], singles: Sequence[Any]
) -> float:
    """Print and return the median per-occurrence ratio (series / single events)."""
    _timed(expand_one, series[:500])
    _timed(expand_one, singles[:500])
    s_times, e_times = [], []
    s_occ = e_occ = 0
    for _ in range(RUNS):
        t, s_occ = _timed(expand_one, series)
        s_times.append(t)
        t, e_occ = _timed(expand_one, singles)
        e_times.append(t)
    ratios = [(s / s_occ) / (e / e_occ) for s, e in zip(s_times, e_times, strict=True)]
    s_med, e_med = statistics.median(s_times), statistics.median(e_times)
    ratio = statistics.median(ratios)
    print(f"[{name}]")
    print(
        f"  {len(series)} recurring series: {s_med * 1000:8.1f} ms, {s_occ} occurrences "
        f"({s_med / s_occ * 1e6:.2f} us each)"
    )
    print(
        f"  {len(singles)} single events:    {e_med * 1000:8.1f} ms, {e_occ} occurrences "
        f"({e_med / e_occ * 1e6:.2f} us each)"
    )
    print(f"  ratio per occurrence (series / single events): {ratio:5.2f}x  (target <= 1.3x)")
    print(
        f"  (per item, {len(series)} series / {len(series)} singles: "
        f"{s_med / (e_med * len(series) / len(singles)):.1f}x)"
    )
    return ratio


async def main() -> None:
    """Run both levels and print medians and ratios."""
    await orm_db.connect("sqlite://:memory:")  # binds the models; rows are never saved
    try:
        rng = random.Random(20260101)
        now = datetime.now(UTC).replace(microsecond=0)
        lo, hi = now, now + timedelta(days=14)
        print(f"window: {lo:%Y-%m-%d} .. {hi:%Y-%m-%d}, median of {RUNS} runs")
        specs = _series_specs(rng, now)
        rows = [_row(i, s, mins, tz, rule) for i, (s, mins, rule, tz) in enumerate(specs)]
        count = sum(len(spans(r, (), lo, hi, LIMIT)) for r in rows)
        singles = [
            _row(N + i, s, mins, tz, None)
            for i, (s, mins, tz) in enumerate(_single_specs(rng, lo, count))
        ]
        _compare(
            "service: orm.occurrences.spans",
            lambda r: len(spans(r, (), lo, hi, LIMIT)),
            rows,
            singles,
        )
        snaps = [_snap(i, s, mins, tz, rule) for i, (s, mins, rule, tz) in enumerate(specs)]
        single_snaps = [
            _snap(N + i, s, mins, tz, None)
            for i, (s, mins, tz) in enumerate(_single_specs(rng, lo, count))
        ]
        _compare(
            "calcore: calcore.occurrences.occurrences",
            lambda s: len(occurrences(s, lo, hi)),
            snaps,
            single_snaps,
        )
    finally:
        await orm_db.close()


if __name__ == "__main__":
    asyncio.run(main())
