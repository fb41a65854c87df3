"""calcore.itip: methods, recipients, SEQUENCE and significant-change rules."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from icalendar import Calendar

from calcore import itip
from calcore.model import Attendee, EventSnapshot, Kind, PartStat, Person
from mail.inbound import parse_calendars

DATA = Path(__file__).parents[1] / "data" / "rfc5546-examples"
T0 = datetime(2025, 6, 2, 7, 0, tzinfo=UTC)
ORG = Person("ole@firma.dk", "Ole")
SNAP = EventSnapshot(
    uid="s-1", kind=Kind.MEETING, title="Standup", start=T0, end=T0 + timedelta(minutes=15),
    tzid="Europe/Copenhagen", sequence=1, organizer=ORG, location="Room A",
    attendees=(Attendee("ole@firma.dk", "Ole", PartStat.ACCEPTED), Attendee("anne@k.no"),
               Attendee("bo@k.no")),
    rrule="FREQ=DAILY;COUNT=20",
)  # fmt: skip


def parsed(msg: itip.ItipMessage) -> Calendar:
    cal = parse_calendars(msg.to_ical().decode())[0]
    assert cal.get_missing_tzids() == set()
    return cal


def test_request_goes_to_everyone_but_the_organiser() -> None:
    msg = itip.request(SNAP, (*SNAP.attendees, Attendee("ANNE@k.no")))
    assert [a.email for a in msg.recipients] == ["anne@k.no", "bo@k.no"]
    cal = parsed(msg)
    assert cal["METHOD"] == "REQUEST"
    (event,) = cal.walk("VEVENT")
    assert len(event["ATTENDEE"]) == 3 and int(event["SEQUENCE"]) == 1
    assert all(a.params["RSVP"] == "TRUE" for a in event["ATTENDEE"])
    with pytest.raises(ValueError):
        itip.request(replace(SNAP, organizer=None), SNAP.attendees)
    with pytest.raises(ValueError):
        itip.request(itip.cancelled(SNAP), SNAP.attendees)


def test_cancel_whole_meeting() -> None:
    gone = itip.cancelled(SNAP)
    assert gone.sequence == 2
    msg = itip.cancel(gone, [Attendee("bo@k.no", "Bo")])
    (event,) = parsed(msg).walk("VEVENT")
    assert (event["STATUS"], int(event["SEQUENCE"])) == ("CANCELLED", 2)
    assert str(event["ATTENDEE"]) == "mailto:bo@k.no"
    assert "RRULE" in event and not event.walk("VALARM")


def test_cancel_one_occurrence() -> None:
    rid = T0 + timedelta(days=3)
    msg = itip.cancel(SNAP, SNAP.attendees, recurrence_id=rid)
    assert msg.recurrence_id == rid
    (event,) = parsed(msg).walk("VEVENT")
    assert event["RECURRENCE-ID"].dt.astimezone(UTC) == rid
    assert event["DTSTART"].dt.astimezone(UTC) == rid
    assert "RRULE" not in event and event["STATUS"] == "CANCELLED"
    override = replace(SNAP, start=rid + timedelta(hours=2), end=rid + timedelta(hours=3),
                       recurrence_id=rid, rrule=None, sequence=3)  # fmt: skip
    (event,) = parsed(itip.cancel(replace(SNAP, overrides=(override,)), SNAP.attendees,
                                  rid)).walk("VEVENT")  # fmt: skip
    assert event["DTSTART"].dt.astimezone(UTC) == rid + timedelta(hours=2)
    assert int(event["SEQUENCE"]) == 3


def test_reply_and_declinecounter() -> None:
    cal = parsed(itip.reply(SNAP, "anne@k.no", PartStat.DECLINED, comment="ferie"))
    assert cal["METHOD"] == "REPLY"
    (event,) = cal.walk("VEVENT")
    assert str(event["ATTENDEE"]) == "mailto:anne@k.no"
    assert event["ATTENDEE"].params["PARTSTAT"] == "DECLINED"
    assert str(event["ORGANIZER"]) == "mailto:ole@firma.dk"
    cal = parsed(itip.declinecounter(SNAP, Attendee("anne@k.no"), comment="No"))
    assert cal["METHOD"] == "DECLINECOUNTER"
    (event,) = cal.walk("VEVENT")
    assert (str(event["UID"]), int(event["SEQUENCE"]), str(event["COMMENT"])) == (
        "s-1", 1, "No",
    )  # fmt: skip
    assert "DTSTAMP" in event and str(event["ATTENDEE"]) == "mailto:anne@k.no"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"start": T0 + timedelta(hours=1)}, {"time"}),
        ({"end": T0 + timedelta(hours=1)}, {"time"}),
        ({"location": "Room B"}, {"location"}),
        ({"location": " Room A "}, set()),
        ({"rrule": "FREQ=DAILY;COUNT=10"}, {"recurrence"}),
        ({"rrule": "COUNT=20;FREQ=DAILY"}, set()),
        ({"exdates": (T0 + timedelta(days=1),)}, {"recurrence"}),
        ({"tzid": "Europe/Oslo"}, {"recurrence"}),
        ({"description": "typo fixed"}, set()),
        ({"title": "Daily standup"}, set()),
        ({"attendees": SNAP.attendees[:2]}, set()),
        ({"cancelled": True}, {"status"}),
        ({"overrides": (replace(SNAP, recurrence_id=T0, rrule=None),)}, {"occurrences"}),
    ],
)
def test_significant_changes_and_sequence(change: dict[str, object], expected: set[str]) -> None:
    new = replace(SNAP, **change)  # type: ignore[arg-type]
    assert itip.significant_changes(SNAP, new) == expected
    assert itip.bump_sequence(SNAP, new) == SNAP.sequence + (1 if expected else 0)
    assert expected <= itip.changes(SNAP, new)


def test_minor_changes_are_listed_but_do_not_bump() -> None:
    new = replace(SNAP, description="x", title="y", alarm_minutes=5, private=True)
    assert itip.changes(SNAP, new) == {"description", "title", "alarm", "privacy"}
    assert itip.bump_sequence(SNAP, new) == 1
    assert itip.bump_sequence(SNAP, replace(new, sequence=7)) == 7  # never goes down


@pytest.mark.parametrize("path", sorted(DATA.glob("rfc5546_*.ics")), ids=lambda p: p.name)
def test_rfc5546_examples_parse(path: Path) -> None:
    (cal,) = parse_calendars(path.read_text())
    method = path.stem.removeprefix("rfc5546_").split("-")[0].upper()
    assert cal["METHOD"] == ("REQUEST" if method == "FREEBUSY" and "request" in path.stem
                             else "REPLY" if method == "FREEBUSY" else method)  # fmt: skip


def test_rfc2446_examples_all_parse() -> None:
    calendars = parse_calendars((DATA / "libical_rfc2446_all_examples.ics").read_text())
    methods = Counter(str(c["METHOD"]) for c in calendars)
    assert methods == Counter(
        {
            "REQUEST": 24,
            "REPLY": 10,
            "PUBLISH": 6,
            "CANCEL": 5,
            "ADD": 3,
            "REFRESH": 2,
            "COUNTER": 2,
            "DECLINECOUNTER": 1,
        }
    )
