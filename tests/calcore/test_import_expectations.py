"""The 21 expectations of tests/data/recurrence-tz/expectations.json, through the importer.

'at' is every occurrence overlapping that local day (or month), 'between' those
overlapping [start, end); local means the case's ``tz`` or else each series' own zone.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from calcore.ical_import import Occurrence, import_calendar, occurrences

DATA = Path(__file__).resolve().parent.parent / "data" / "recurrence-tz"
CASES: list[dict[str, Any]] = json.loads((DATA / "expectations.json").read_text())["cases"]


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


def _occurrences(case: dict[str, Any], include_cancelled: bool) -> list[Occurrence]:
    found: list[Occurrence] = []
    for snapshot in import_calendar((DATA / case["file"]).read_bytes()):
        zone = ZoneInfo(case.get("tz") or snapshot.tzid)
        start, end = _window(case, zone)
        found += occurrences(snapshot, start, end, include_cancelled=include_cancelled)
    return sorted(found, key=lambda o: o.start)


def test_there_are_21_expectations() -> None:
    assert len(CASES) == 21


@pytest.mark.parametrize(
    "case", CASES, ids=[f"{c['file']}-{c.get('at') or '_'.join(c['between'])}" for c in CASES]
)
def test_expectation(case: dict[str, Any]) -> None:
    wants_status = "expect_first_prop" in case
    found = _occurrences(case, include_cancelled=wants_status)
    if "expect_count" in case:
        assert len(found) == case["expect_count"]
    if "expect_summaries" in case:
        assert [o.snapshot.title for o in found] == case["expect_summaries"]
    if "expect_first_dtstart" in case:
        assert found[0].start == datetime.fromisoformat(case["expect_first_dtstart"])
        assert found[0].start.utcoffset() is not None
    if wants_status:
        ((name, value),) = case["expect_first_prop"].items()
        first = found[0]
        if name == "STATUS":
            assert ("CANCELLED" if first.snapshot.cancelled else None) == value
        else:
            assert name == "SEQUENCE"
            assert first.sequence == value


def test_cancelled_instance_is_skipped_by_default() -> None:
    case = {"file": "rie_issue_18_cancel_status.ics", "at": "2020-01-29"}
    assert _occurrences(case, include_cancelled=False) == []
    assert len(_occurrences(case, include_cancelled=True)) == 1
