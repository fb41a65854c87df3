"""The recurrence-tz corpus imported as stored series and expanded by the service.

Every file of ``tests/data/recurrence-tz/`` goes through ``resolvers.ical_series``
into FollowUp/Occurrence rows (on SQLite and PostgreSQL), and every expectation of
``expectations.json`` is checked through ``resolvers.diary.diary`` -- the service's own
query and expansion (``expand_rows`` -> ``occurrences.spans``) -- the way
``tests/calcore/test_import_expectations.py`` checks them on snapshots.  'at' is every
occurrence overlapping that local day (or month), 'between' those overlapping
[start, end); local means the case's ``tz`` or else each series' own zone.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from orm import models as m
from orm.occurrences import Span
from resolvers.diary import diary
from resolvers.errors import ValidationFailed
from resolvers.ical_series import import_series
from tests.helpers import associate

DATA = Path(__file__).resolve().parent / "data" / "recurrence-tz"
CASES: list[dict[str, Any]] = json.loads((DATA / "expectations.json").read_text())["cases"]
FILES = sorted(p.name for p in DATA.glob("*.ics"))
LIMIT = 10_000


def _window(case: dict[str, Any], zone: ZoneInfo) -> tuple[datetime, datetime]:
    """Return the aware window a case asks about."""
    if "between" in case:
        a, b = (datetime.fromisoformat(t if "T" in t else t + "T00:00") for t in case["between"])
        return a.replace(tzinfo=zone), b.replace(tzinfo=zone)
    at: str = case["at"]
    if len(at) == 7:
        year, month = map(int, at.split("-"))
        start = datetime(year, month, 1)
        end = datetime(year + month // 12, month % 12 + 1, 1)
    else:
        start = datetime.fromisoformat(at)
        end = start + timedelta(days=1)
    return start.replace(tzinfo=zone), end.replace(tzinfo=zone)


async def _spans(case: dict[str, Any], owner: m.Associate) -> list[Span]:
    """The diary of the owner in the case's window (per series zone when no tz given)."""
    found: list[Span] = []
    for tzid in sorted({r.tzid for r in await m.FollowUp.filter(owner_id=owner.id)}):
        start, end = _window(case, ZoneInfo(case.get("tz") or tzid))
        found += [
            s
            for s in await diary([owner.id], start.astimezone(UTC), end.astimezone(UTC), LIMIT)
            if s.row.tzid == tzid
        ]
    return sorted(found, key=lambda s: (s.start, s.row.id))


def _title(span: Span) -> str:
    if span.override is not None and span.override.title is not None:
        return span.override.title
    return span.row.title


async def _sequence(span: Span) -> int:
    """The revision of the calendar object: the highest of the series and its overrides."""
    overrides = await m.Occurrence.filter(series_id=span.row.id).values_list("sequence", flat=True)
    return max([span.row.sequence, *overrides])


async def _status_at(owner: m.Associate, case: dict[str, Any]) -> str | None:
    """STATUS of the first occurrence in the window, cancelled overrides included."""
    for tzid in sorted({r.tzid for r in await m.FollowUp.filter(owner_id=owner.id)}):
        start, end = _window(case, ZoneInfo(case.get("tz") or tzid))
        cancelled = await m.Occurrence.filter(
            series__owner_id=owner.id,
            series__tzid=tzid,
            cancelled=True,
            start_at__lt=end,
            end_at__gt=start,
        ).exists()
        if cancelled:
            return "CANCELLED"
    return None


@pytest.mark.parametrize("name", FILES)
async def test_every_file_imports(db: str, name: str) -> None:
    owner = await associate()
    if name == "ical_rfc_6868.ics":  # a VEVENT without DTSTART: refused, nothing stored
        with pytest.raises(ValidationFailed, match="has no DTSTART"):
            await import_series(owner, (DATA / name).read_bytes())
        assert await m.FollowUp.all().count() == 0
        return
    rows = await import_series(owner, (DATA / name).read_bytes())
    assert rows or name == "ical_bom_calendar.ics"  # that one is an empty VCALENDAR
    assert await m.FollowUp.filter(owner_id=owner.id).count() == len(rows)
    again = await import_series(owner, (DATA / name).read_bytes())  # idempotent
    assert [r.id for r in again] == [r.id for r in rows]


@pytest.mark.parametrize(
    "case", CASES, ids=[f"{c['file']}-{c.get('at') or '_'.join(c['between'])}" for c in CASES]
)
async def test_expectation(db: str, case: dict[str, Any]) -> None:
    owner = await associate()
    await import_series(owner, (DATA / case["file"]).read_bytes())
    found = await _spans(case, owner)
    if "expect_count" in case:
        assert len(found) == case["expect_count"]
    if "expect_summaries" in case:
        assert [_title(s) for s in found] == case["expect_summaries"]
    if "expect_first_dtstart" in case:
        assert found[0].start == datetime.fromisoformat(case["expect_first_dtstart"])
    if "expect_first_prop" in case:
        ((name, value),) = case["expect_first_prop"].items()
        if name == "STATUS":
            # A cancelled occurrence is stored (Occurrence.cancelled) and left out of
            # the diary; the calcore test lists it only with include_cancelled.
            assert await _status_at(owner, case) == value
            if value == "CANCELLED":
                assert found == []
            else:
                assert found
        else:
            assert name == "SEQUENCE"
            assert await _sequence(found[0]) == value


async def test_range_override_splits_the_series(db: str) -> None:
    owner = await associate()
    rows = await import_series(owner, (DATA / "rie_issue_75_range_parameter.ics").read_bytes())
    assert [r.uid for r in rows] == ["210", "210/20240913T120000Z", "210/20240921T120000Z"]
    first, middle, last = rows
    assert first.rrule is not None and "UNTIL=20240913T115959Z" in first.rrule
    assert middle.title == "MODIFIED EVENT" and middle.rdates == ["2024-09-14T06:00:00+00:00"]
    assert last.title == "EDITED EVENT"
    moved = await m.Occurrence.get(series_id=middle.id)
    assert moved.recurrence_id == datetime(2024, 9, 15, 9, tzinfo=UTC)
    assert moved.start_at == datetime(2024, 9, 15, 17, tzinfo=UTC)
