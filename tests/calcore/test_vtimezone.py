"""calcore.vtimezone: definitions from tzdata that agree with it for ever, and the
CalDAV-only SCHEDULE-AGENT of the builder."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, available_timezones

import pytest
from icalendar import Calendar

from calcore.builder import build_calendar
from calcore.model import Attendee, EventSnapshot, Kind, Person
from calcore.vtimezone import parse_posix, vtimezone
from tests.calcore.vtz_eval import EmbeddedZone, rdate_lines_with_lists

ZONES = sorted(
    z for z in available_timezones() if "/" in z and not z.startswith(("posix/", "right/"))
)


def _instants(first: datetime) -> list[datetime]:
    out, moment = [], first
    while moment.year < 2045:
        out.append(moment)
        moment += timedelta(days=11, hours=7)
    return out


@pytest.mark.parametrize(
    "first", [datetime(2026, 3, 16, 8, tzinfo=UTC), datetime(2004, 6, 1, tzinfo=UTC)]
)
def test_every_zone_agrees_with_tzdata_until_2045(first: datetime) -> None:
    wrong = []
    for name in ZONES:
        zone = ZoneInfo(name)
        embedded = EmbeddedZone(vtimezone(name, first), horizon=2046)
        for moment in _instants(first):
            expected = moment.astimezone(zone).utcoffset()
            if embedded.offset_at_utc(moment.replace(tzinfo=None)) != expected:
                wrong.append((name, moment))
                break
    assert wrong == []


def test_rules_not_windows() -> None:
    oslo = vtimezone("Europe/Oslo", datetime(2026, 3, 16, 8, tzinfo=UTC))
    assert [c.name for c in oslo.subcomponents] == ["STANDARD", "DAYLIGHT"]
    assert all("RRULE" in c and "UNTIL" not in c["RRULE"] for c in oslo.subcomponents)
    assert rdate_lines_with_lists(oslo.to_ical()) == []
    kolkata = vtimezone("Asia/Kolkata", datetime(2026, 3, 16, 8, tzinfo=UTC))
    assert [c.name for c in kolkata.subcomponents] == ["STANDARD"]


def test_posix_strings() -> None:
    p = parse_posix("AEST-10AEDT,M10.1.0,M4.1.0/3")
    assert (p.std, p.dst) == (36000, 39600) and p.end is not None and p.end.seconds == 10800
    assert parse_posix("<+0330>-3:30").std == 12600
    assert parse_posix("IST-2IDT,M3.4.4/26,M10.5.0").start.seconds == 26 * 3600  # type: ignore[union-attr]


SNAP = EventSnapshot(
    uid="sa-1@followups", kind=Kind.MEETING, title="Plan", tzid="Europe/Oslo",
    start=datetime(2026, 3, 16, 8, tzinfo=UTC), end=datetime(2026, 3, 16, 9, tzinfo=UTC),
    organizer=Person("ann@example.com", "Ann"),
    attendees=(Attendee("ann@example.com"), Attendee("bob@example.com")),
)  # fmt: skip


def test_schedule_agent_client_only_for_caldav() -> None:
    ev = next(iter(build_calendar(SNAP, client_scheduling=True).walk("VEVENT")))
    assert ev["ORGANIZER"].params["SCHEDULE-AGENT"] == "CLIENT"
    assert [a.params["SCHEDULE-AGENT"] for a in ev["ATTENDEE"]] == ["CLIENT", "CLIENT"]
    assert b"SCHEDULE-AGENT" not in build_calendar(SNAP, "REQUEST").to_ical()
    with pytest.raises(ValueError, match="iTIP"):
        build_calendar(SNAP, "REQUEST", client_scheduling=True)
    assert isinstance(Calendar.from_ical(build_calendar(SNAP).to_ical()), Calendar)
