"""calcore.builder: every calendar built parses back with the same facts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from icalendar import Calendar

from calcore.builder import build_calendar
from calcore.model import Attendee, CuType, EventSnapshot, Kind, PartStat, Person

T0 = datetime(2025, 3, 28, 8, 0, tzinfo=UTC)  # the Friday before the DST change
STAMP = datetime(2025, 3, 1, 0, 0, tzinfo=UTC)
OSLO = ZoneInfo("Europe/Oslo")
MEETING = EventSnapshot(
    uid="f-1@crm", kind=Kind.MEETING, title="Weekly sync", start=T0,
    end=T0 + timedelta(minutes=30), tzid="Europe/Oslo", sequence=4,
    description="Agenda:\n1. numbers; 2. plans, \\ more", location="Room 2",
    organizer=Person("ole@firma.no", "Ole"),
    attendees=(
        Attendee("anne@kunde.no", "Anne", PartStat.ACCEPTED),
        Attendee("room2@firma.no", "Room 2", cutype=CuType.ROOM, role="NON-PARTICIPANT",
                 rsvp=False),
    ),
    alarm_minutes=15, categories=("Meeting (external)",), url="https://crm/f/1",
    created=STAMP, last_modified=STAMP + timedelta(days=1),
)  # fmt: skip


def roundtrip(snapshot: EventSnapshot, method: str | None = None) -> Calendar:
    cal = build_calendar(snapshot, method, dtstamp=STAMP)
    parsed = Calendar.from_ical(cal.to_ical())
    assert isinstance(parsed, Calendar)
    assert parsed.get_missing_tzids() == set()
    return parsed


def test_single_meeting() -> None:
    cal = roundtrip(MEETING)
    assert "METHOD" not in cal
    (event,) = cal.walk("VEVENT")
    assert event["DTSTART"].params["TZID"] == "Europe/Oslo"
    assert event["DTSTART"].dt == T0.astimezone(OSLO)
    assert event["DTSTART"].dt.astimezone(UTC) == T0
    assert event["DTEND"].dt.astimezone(UTC) == MEETING.end
    assert event["DTSTAMP"].dt == STAMP
    assert event["CREATED"].dt == STAMP
    assert int(event["SEQUENCE"]) == 4
    assert str(event["UID"]) == "f-1@crm"
    assert str(event["DESCRIPTION"]) == MEETING.description
    assert str(event["LOCATION"]) == "Room 2"
    assert event["CLASS"] == "PUBLIC" and event["TRANSP"] == "OPAQUE"
    assert event["STATUS"] == "CONFIRMED"
    assert str(event["URL"]) == "https://crm/f/1"
    assert event["CATEGORIES"].cats == ["Meeting (external)"]
    assert str(event["ORGANIZER"]) == "mailto:ole@firma.no"
    assert event["ORGANIZER"].params["CN"] == "Ole"
    anne, room = event["ATTENDEE"]
    assert dict(anne.params) == {"CN": "Anne", "CUTYPE": "INDIVIDUAL",
                                 "ROLE": "REQ-PARTICIPANT", "PARTSTAT": "ACCEPTED",
                                 "RSVP": "TRUE"}  # fmt: skip
    assert (room.params["CUTYPE"], room.params["RSVP"]) == ("ROOM", "FALSE")
    (alarm,) = event.walk("VALARM")
    assert alarm["ACTION"] == "DISPLAY"
    assert alarm["TRIGGER"].dt == timedelta(minutes=-15)
    assert [tz.tz_name for tz in cal.timezones] == ["Europe/Oslo"]


def test_private_free_cancelled() -> None:
    snap = EventSnapshot(**{**MEETING.__dict__, "private": True, "transparent": True,
                            "cancelled": True})  # fmt: skip
    (event,) = roundtrip(snap).walk("VEVENT")
    assert (event["CLASS"], event["TRANSP"], event["STATUS"]) == (
        "PRIVATE", "TRANSPARENT", "CANCELLED",
    )  # fmt: skip


def test_series_with_overrides_keeps_wall_clock_across_dst() -> None:
    moved = EventSnapshot(
        uid="f-1@crm", kind=Kind.MEETING, title="Weekly sync (moved)",
        start=T0 + timedelta(weeks=2, hours=-1), end=T0 + timedelta(weeks=2, hours=-0.5),
        tzid="Europe/Oslo", sequence=4, recurrence_id=T0 + timedelta(weeks=2, hours=-1),
        organizer=MEETING.organizer,
    )  # fmt: skip
    snap = EventSnapshot(**{
        **MEETING.__dict__, "rrule": "FREQ=WEEKLY;UNTIL=20250501T000000Z",
        "exdates": (T0 + timedelta(weeks=1, hours=-1),),
        "rdates": (datetime(2025, 5, 2, 7, 0, tzinfo=UTC),), "overrides": (moved,),
    })  # fmt: skip
    cal = roundtrip(snap, "REQUEST")
    assert cal["METHOD"] == "REQUEST"
    master, override = cal.walk("VEVENT")
    assert master["RRULE"]["FREQ"] == ["WEEKLY"]
    exdate = master["EXDATE"].dts[0].dt
    assert exdate.tzinfo is not None and exdate.hour == 9  # 09:00 in Oslo after DST
    assert master["RDATE"].dts[0].dt.astimezone(UTC) == datetime(2025, 5, 2, 7, tzinfo=UTC)
    assert override["RECURRENCE-ID"].params["TZID"] == "Europe/Oslo"
    assert override["RECURRENCE-ID"].dt.astimezone(UTC) == moved.recurrence_id
    assert "RRULE" not in override
    assert str(override["SUMMARY"]) == "Weekly sync (moved)"


def test_tasks_and_calls() -> None:
    due = datetime(2025, 4, 1, 15, 0, tzinfo=UTC)
    task = EventSnapshot(uid="t-1", kind=Kind.TASK, title="Send offer", due=due,
                         tzid="Europe/Copenhagen", alarm_minutes=60)  # fmt: skip
    (todo,) = roundtrip(task).walk("VTODO")
    assert todo["DUE"].dt.astimezone(UTC) == due
    assert todo["STATUS"] == "NEEDS-ACTION" and "DTSTART" not in todo
    assert todo.walk("VALARM")[0]["TRIGGER"].params["RELATED"] == "END"
    done = EventSnapshot(**{**task.__dict__, "done": True, "completed_at": due})
    (todo,) = roundtrip(done).walk("VTODO")
    assert todo["STATUS"] == "COMPLETED" and todo["COMPLETED"].dt == due
    timed = EventSnapshot(**{**task.__dict__, "start": due - timedelta(hours=2)})
    (todo,) = roundtrip(timed).walk("VTODO")
    assert todo["DTSTART"].dt.astimezone(UTC) == due - timedelta(hours=2)
    planned = EventSnapshot(uid="c-1", kind=Kind.CALL, title="Call", due=due)
    assert len(roundtrip(planned).walk("VTODO")) == 1
    made = EventSnapshot(uid="c-2", kind=Kind.CALL, title="Call", start=due,
                         end=due + timedelta(minutes=15))  # fmt: skip
    (event,) = roundtrip(made).walk("VEVENT")
    assert event["DTEND"].dt - event["DTSTART"].dt == timedelta(minutes=15)


def test_utc_needs_no_vtimezone() -> None:
    snap = EventSnapshot(**{**MEETING.__dict__, "tzid": "UTC"})
    cal = roundtrip(snap)
    assert cal.timezones == []
    assert "TZID" not in cal.walk("VEVENT")[0]["DTSTART"].params


def test_invalid_snapshots() -> None:
    with pytest.raises(ValueError, match="time zone"):
        build_calendar(EventSnapshot(**{**MEETING.__dict__, "tzid": "Mars/Olympus"}))
    with pytest.raises(ValueError, match="ends before"):
        build_calendar(EventSnapshot(**{**MEETING.__dict__, "end": T0 - timedelta(1)}))
    with pytest.raises(ValueError, match="no start"):
        build_calendar(EventSnapshot(uid="x", kind=Kind.MEETING, title="x"))


ZONES = ["UTC", "Europe/Oslo", "Europe/Copenhagen", "America/New_York", "Asia/Kolkata",
         "Australia/Lord_Howe", "Pacific/Chatham"]  # fmt: skip


@settings(max_examples=60, deadline=None)
@given(
    title=st.text(st.characters(exclude_categories=("Cs", "Cc")) | st.just("\n"),
                  max_size=80),
    start=st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2045, 1, 1),
                       timezones=st.just(UTC)),
    minutes=st.integers(0, 60 * 24 * 3),
    tzid=st.sampled_from(ZONES),
)  # fmt: skip
def test_any_meeting_round_trips(title: str, start: datetime, minutes: int, tzid: str) -> None:
    start = start.replace(microsecond=0)
    snap = EventSnapshot(uid="u", kind=Kind.MEETING, title=title, start=start,
                         end=start + timedelta(minutes=minutes), tzid=tzid,
                         location=title or None)  # fmt: skip
    (event,) = roundtrip(snap).walk("VEVENT")
    assert event["DTSTART"].dt.astimezone(UTC) == start
    assert event["DTEND"].dt.astimezone(UTC) == start + timedelta(minutes=minutes)
    assert str(event["SUMMARY"]) == title
    assert str(event.get("LOCATION", "")) == title


def test_all_day_uses_dates_and_this_and_future_range() -> None:
    midnight = datetime(2025, 6, 1, 22, 0, tzinfo=UTC)  # 2 June 00:00 in Oslo (CEST)
    override = EventSnapshot(
        uid="d", kind=Kind.MEETING, title="moved", start=midnight + timedelta(days=8),
        end=midnight + timedelta(days=9), tzid="Europe/Oslo",
        recurrence_id=midnight + timedelta(days=7), this_and_future=True,
    )  # fmt: skip
    snap = EventSnapshot(uid="d", kind=Kind.MEETING, title="Holiday", start=midnight,
                         end=midnight + timedelta(days=1), tzid="Europe/Oslo", all_day=True,
                         rrule="FREQ=WEEKLY;COUNT=3", overrides=(override,))  # fmt: skip
    master, moved = roundtrip(snap).walk("VEVENT")
    assert master["DTSTART"].dt == datetime(2025, 6, 2).date()
    assert master["DTEND"].dt == datetime(2025, 6, 3).date()
    assert moved["RECURRENCE-ID"].dt == datetime(2025, 6, 9).date()
    assert moved["RECURRENCE-ID"].params["RANGE"] == "THISANDFUTURE"
    assert moved["DTSTART"].dt == datetime(2025, 6, 10).date()
