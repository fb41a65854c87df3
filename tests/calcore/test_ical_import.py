"""Robustness and field mapping of calcore.ical_import."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from calcore.ical_import import CalendarImportError, import_calendar, occurrences
from calcore.model import CuType, Kind, PartStat

DATA = Path(__file__).resolve().parent.parent / "data" / "recurrence-tz"


def _cal(*lines: str) -> str:
    return (
        "\r\n".join(
            ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//t//t//EN", *lines, "END:VCALENDAR"]
        )
        + "\r\n"
    )


def _by_uid(snaps):  # type: ignore[no-untyped-def]
    return {s.uid: s for s in snaps}


def test_globally_unique_tzids_without_vtimezone() -> None:
    data = (DATA / "ical_issue_313_globally_unique_tzid.ics").read_bytes()
    snaps = _by_uid(import_calendar(data))
    assert snaps["libical-evolution@issue-313"].tzid == "Europe/Berlin"
    assert snaps["libical-evolution@issue-313"].start == datetime(2020, 4, 26, 12, tzinfo=UTC)
    assert snaps["mozilla-lightning@issue-313"].tzid == "America/New_York"
    assert snaps["mozilla-lightning@issue-313"].start == datetime(2020, 4, 26, 18, tzinfo=UTC)
    multi = snaps["multipart-olson@issue-313"]
    assert multi.tzid == "America/Argentina/Buenos_Aires"
    assert multi.end == datetime(2020, 4, 26, 18, tzinfo=UTC)


def test_non_ascii_tzid_with_custom_vtimezone() -> None:
    (snap,) = import_calendar(
        (DATA / "ical_issue_237_fail_to_parse_timezone_with_non_ascii_tzid.ics").read_bytes()
    )
    assert snap.start == datetime(2017, 5, 11, 16, 30, tzinfo=UTC)
    assert snap.tzid == "Etc/GMT+3"


def test_custom_vtimezone_ambiguous_and_gap_times() -> None:
    snaps = _by_uid(
        import_calendar((DATA / "ical_issue_722_timezone_transition_ambiguity.ics").read_bytes())
    )
    # Winter is +12:00, summer +10:00; the clock goes back from 08:00 to 06:00.
    assert snaps["0"].start == datetime(2024, 3, 2, 20, tzinfo=UTC)
    assert snaps["1"].start == datetime(2024, 8, 2, 22, tzinfo=UTC)
    assert snaps["2"].start == datetime(2024, 5, 4, 22, 0, 1, tzinfo=UTC)
    # 07:00:01 happens twice; RFC 5545 section 3.3.5 takes the first (+12:00).
    assert snaps["3"].start == datetime(2024, 5, 4, 19, 0, 1, tzinfo=UTC)


def test_windows_tzid_and_all_day_series_with_utc_until() -> None:
    snaps = import_calendar((DATA / "rie_issue_28_rrule_with_UTC_endinginZ.ics").read_bytes())
    refuse = snaps[0]
    assert refuse.all_day
    assert refuse.rrule == "FREQ=WEEKLY;INTERVAL=2;UNTIL=20200916T230000Z;BYDAY=TH"
    # The overrides' RECURRENCE-ID is 00:00 "GMT Standard Time", matched to the DATE slot.
    assert [o.recurrence_id for o in refuse.overrides][:1] == [datetime(2020, 4, 16, tzinfo=UTC)]


def test_windows_tzid_on_dtstart() -> None:
    data = _cal(
        "BEGIN:VEVENT",
        "UID:w",
        "DTSTAMP:20240101T000000Z",
        "DTSTART;TZID=FLE Standard Time:20240610T090000",
        "DTEND;TZID=FLE Standard Time:20240610T100000",
        "SUMMARY:x",
        "END:VEVENT",
    )
    (snap,) = import_calendar(data)
    assert snap.tzid in ("Europe/Kiev", "Europe/Kyiv", "Europe/Helsinki")
    assert snap.start == datetime(2024, 6, 10, 6, tzinfo=UTC)


def test_utf8_bom_bare_lf_and_latin1() -> None:
    assert import_calendar((DATA / "ical_bom_calendar.ics").read_bytes()) == []
    text = _cal(
        "BEGIN:VEVENT",
        "UID:l1",
        "DTSTART:20240101T100000Z",
        "SUMMARY:Møde på kontoret",
        "END:VEVENT",
    ).replace("\r\n", "\n")
    (a,) = import_calendar(b"\xef\xbb\xbf" + text.encode("utf-8"))
    (b,) = import_calendar(text.encode("latin-1"))
    assert a.title == b.title == "Møde på kontoret"


def test_floating_and_date_values_use_the_default_zone() -> None:
    data = _cal(
        "BEGIN:VEVENT",
        "UID:f",
        "DTSTART:20260105T090000",
        "DTEND:20260105T100000",
        "RRULE:FREQ=DAILY;COUNT=2",
        "END:VEVENT",
        "BEGIN:VEVENT",
        "UID:d",
        "DTSTART;VALUE=DATE:20260105",
        "SUMMARY:all day",
        "END:VEVENT",
    )
    snaps = _by_uid(import_calendar(data, default_tzid="Europe/Oslo"))
    assert snaps["f"].start == datetime(2026, 1, 5, 8, tzinfo=UTC)
    assert snaps["f"].tzid == "Europe/Oslo"
    assert snaps["d"].all_day and snaps["d"].end == snaps["d"].start + timedelta(days=1)


def test_field_mapping() -> None:
    data = _cal(
        "BEGIN:VEVENT",
        "UID:m",
        "SEQUENCE:4",
        "SUMMARY:Review",
        "DESCRIPTION:Agenda",
        "LOCATION:Room 1",
        "URL:https://example.com/m",
        "CLASS:PRIVATE",
        "TRANSP:TRANSPARENT",
        "CATEGORIES:Work,Sales",
        "CATEGORIES:Q3",
        "DTSTART;TZID=Europe/Copenhagen:20260302T140000",
        "DURATION:PT90M",
        "ORGANIZER;CN=Ann:mailto:ann@example.com",
        "ATTENDEE;CN=Bob;PARTSTAT=ACCEPTED;RSVP=TRUE:mailto:bob@example.com",
        "ATTENDEE;CUTYPE=ROOM;PARTSTAT=TENTATIVE;EMAIL=room@example.com:urn:uuid:1",
        "EXDATE:20260309T130000Z",
        "RRULE:FREQ=WEEKLY;COUNT=4;",
        "BEGIN:VALARM",
        "ACTION:DISPLAY",
        "TRIGGER:-PT15M",
        "END:VALARM",
        "END:VEVENT",
        "BEGIN:VTODO",
        "UID:t",
        "DUE;TZID=Europe/Oslo:20260310T170000",
        "STATUS:COMPLETED",
        "COMPLETED:20260309T120000Z",
        "SUMMARY:Call back",
        "END:VTODO",
    )
    snaps = _by_uid(import_calendar(data))
    m = snaps["m"]
    assert (m.kind, m.sequence, m.title, m.description) == (Kind.MEETING, 4, "Review", "Agenda")
    assert (m.location, m.url, m.private, m.transparent) == (
        "Room 1",
        "https://example.com/m",
        True,
        True,
    )
    assert m.categories == ("Work", "Sales", "Q3")
    assert m.tzid == "Europe/Copenhagen"
    assert m.start == datetime(2026, 3, 2, 13, tzinfo=UTC)
    assert m.end == m.start + timedelta(minutes=90)
    assert m.rrule == "FREQ=WEEKLY;COUNT=4"
    assert m.exdates == (datetime(2026, 3, 9, 13, tzinfo=UTC),)
    assert m.alarm_minutes == 15
    assert m.organizer is not None and m.organizer.email == "ann@example.com"
    bob, room = m.attendees
    assert (bob.email, bob.name, bob.partstat, bob.rsvp) == (
        "bob@example.com",
        "Bob",
        PartStat.ACCEPTED,
        True,
    )
    assert (room.email, room.cutype, room.partstat) == (
        "room@example.com",
        CuType.ROOM,
        PartStat.TENTATIVE,
    )
    t = snaps["t"]
    assert t.kind is Kind.TASK and t.done
    assert t.due == datetime(2026, 3, 10, 16, tzinfo=UTC)
    assert t.completed_at == datetime(2026, 3, 9, 12, tzinfo=UTC)


def test_date_recurrence_id_against_datetime_master() -> None:
    data = _cal(
        "BEGIN:VEVENT",
        "UID:s",
        "DTSTART;TZID=Europe/Oslo:20260105T090000",
        "DTEND;TZID=Europe/Oslo:20260105T100000",
        "RRULE:FREQ=DAILY;COUNT=5",
        "SUMMARY:base",
        "END:VEVENT",
        "BEGIN:VEVENT",
        "UID:s",
        "RECURRENCE-ID;VALUE=DATE:20260107",
        "DTSTART;TZID=Europe/Oslo:20260107T120000",
        "DTEND;TZID=Europe/Oslo:20260107T130000",
        "SUMMARY:moved",
        "END:VEVENT",
    )
    (snap,) = import_calendar(data)
    (override,) = snap.overrides
    assert override.recurrence_id == datetime(2026, 1, 7, 8, tzinfo=UTC)
    found = occurrences(snap, datetime(2026, 1, 7, tzinfo=UTC), datetime(2026, 1, 8, tzinfo=UTC))
    assert [(o.start, o.snapshot.title) for o in found] == [
        (datetime(2026, 1, 7, 11, tzinfo=UTC), "moved")
    ]


def test_override_without_master_is_its_own_snapshot() -> None:
    data = _cal(
        "BEGIN:VEVENT",
        "UID:lonely",
        "RECURRENCE-ID:20260110T090000Z",
        "DTSTART:20260110T100000Z",
        "DTEND:20260110T110000Z",
        "END:VEVENT",
    )
    (snap,) = import_calendar(data)
    assert snap.recurrence_id == datetime(2026, 1, 10, 9, tzinfo=UTC)
    found = occurrences(snap, datetime(2026, 1, 10, tzinfo=UTC), datetime(2026, 1, 11, tzinfo=UTC))
    assert [o.start for o in found] == [datetime(2026, 1, 10, 10, tzinfo=UTC)]


def test_rfc6868_parameters_are_read() -> None:
    # The corpus file's VEVENT has no DTSTART, which RFC 5545 requires without a METHOD.
    with pytest.raises(CalendarImportError, match="no DTSTART"):
        import_calendar((DATA / "ical_rfc_6868.ics").read_bytes())
    data = _cal(
        "BEGIN:VEVENT",
        "UID:q",
        "DTSTART:20260101T100000Z",
        "ATTENDEE;CN=George Herman ^'Babe^' Ruth:mailto:babe@example.com",
        "END:VEVENT",
    )
    (snap,) = import_calendar(data)
    assert snap.attendees[0].name == 'George Herman "Babe" Ruth'


@pytest.mark.parametrize(
    "data, reason",
    [
        (b"hello", "not iCalendar"),
        (_cal("BEGIN:VEVENT", "UID:x", "SUMMARY:no start", "END:VEVENT"), "no DTSTART"),
        (
            _cal(
                "BEGIN:VEVENT",
                "UID:x",
                "DTSTART:20260101T000000Z",
                "RRULE:FREQ=FORTNIGHTLY",
                "END:VEVENT",
            ),
            "FORTNIGHTLY",
        ),
        (
            _cal(
                "BEGIN:VEVENT",
                "UID:x",
                "DTSTART:20260101T100000Z",
                "DTEND:20260101T090000Z",
                "END:VEVENT",
            ),
            "ends before",
        ),
        ("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART:2026XX01\r\n", "VCALENDAR"),
        (_cal("BEGIN:VEVENT", "UID:x", "DTSTART:2026XX01T000000Z", "END:VEVENT"), "malformed"),
    ],
)
def test_malformed_input_raises_import_error(data: bytes | str, reason: str) -> None:
    with pytest.raises(CalendarImportError) as info:
        import_calendar(data)
    assert reason in info.value.reason


def test_thisandfuture_shifts_later_instances() -> None:
    data = _cal(
        "BEGIN:VEVENT",
        "UID:r",
        "DTSTART;TZID=Europe/Oslo:20260105T090000",
        "DTEND;TZID=Europe/Oslo:20260105T100000",
        "RRULE:FREQ=DAILY;COUNT=6",
        "SUMMARY:old",
        "END:VEVENT",
        "BEGIN:VEVENT",
        "UID:r",
        "RECURRENCE-ID;RANGE=THISANDFUTURE;TZID=Europe/Oslo:20260107T090000",
        "DTSTART;TZID=Europe/Oslo:20260107T110000",
        "DTEND;TZID=Europe/Oslo:20260107T113000",
        "SUMMARY:new",
        "END:VEVENT",
    )
    (snap,) = import_calendar(data)
    oslo = ZoneInfo("Europe/Oslo")
    found = occurrences(snap, datetime(2026, 1, 5, tzinfo=oslo), datetime(2026, 1, 11, tzinfo=oslo))
    assert [(o.start.astimezone(oslo).strftime("%d %H:%M"), o.snapshot.title) for o in found] == [
        ("05 09:00", "old"),
        ("06 09:00", "old"),
        ("07 11:00", "new"),
        ("08 11:00", "new"),
        ("09 11:00", "new"),
        ("10 11:00", "new"),
    ]
    assert found[3].end - found[3].start == timedelta(minutes=30)
    assert found[3].recurrence_id == datetime(2026, 1, 8, 8, tzinfo=UTC)
