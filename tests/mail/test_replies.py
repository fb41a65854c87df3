"""mail.replies: the organiser-side REPLY/COUNTER rules on built and parsed replies."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from icalendar import Calendar

from calcore import itip
from calcore.model import Attendee, EventSnapshot, Kind, PartStat, Person
from mail.inbound import parse_calendars, parse_message
from mail.replies import (
    ApplyPartstat,
    CounterProposal,
    IgnoreStale,
    Reject,
    RejectCode,
    ReplyStamp,
    StoredAttendee,
    StoredMeeting,
    decide,
    parse_responses,
    response_uid,
)

DATA = Path(__file__).parents[1] / "data"
T0 = datetime(2025, 3, 3, 8, 0, tzinfo=UTC)
STAMP = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
SNAP = EventSnapshot(
    uid="m-1", kind=Kind.MEETING, title="Review", start=T0, end=T0 + timedelta(hours=1),
    tzid="Europe/Copenhagen", sequence=3, organizer=Person("ole@firma.dk", "Ole"),
    attendees=(Attendee("anne@kunde.no", "Anne"), Attendee("bo@kunde.no", "Bo")),
    rrule="FREQ=WEEKLY;COUNT=10",
)  # fmt: skip


def meeting(**changes: object) -> StoredMeeting:
    base: dict[str, object] = dict(
        uid="m-1", sequence=3, organizer_email="OLE@firma.dk",
        attendees=(StoredAttendee("anne@kunde.no"), StoredAttendee("bo@kunde.no")),
        recurring=True,
        is_occurrence=lambda d: d.weekday() == 0 and d.time() == T0.time(),
    )  # fmt: skip
    base.update(changes)
    return StoredMeeting(**base)  # type: ignore[arg-type]


def reply(partstat: PartStat = PartStat.ACCEPTED, **kw: object) -> Calendar:
    msg = itip.reply(SNAP, str(kw.pop("who", "Anne@Kunde.no")), partstat,
                     dtstamp=STAMP, **kw)  # type: ignore[arg-type]  # fmt: skip
    return parse_calendars(msg.to_ical().decode())[0]


def test_accept_applies() -> None:
    (d,) = decide(reply(), "anne@kunde.no", meeting())
    assert d == ApplyPartstat("anne@kunde.no", PartStat.ACCEPTED, None,
                              ReplyStamp(3, STAMP), "2.0", None)  # fmt: skip


@pytest.mark.parametrize("p", [PartStat.DECLINED, PartStat.TENTATIVE, PartStat.ACCEPTED])
def test_each_answer(p: PartStat) -> None:
    (d,) = decide(reply(p, comment="ok"), "ANNE@KUNDE.NO", meeting())
    assert isinstance(d, ApplyPartstat)
    assert (d.partstat, d.comment) == (p, "ok")


def test_occurrence_reply() -> None:
    rid = T0 + timedelta(weeks=2)
    (d,) = decide(reply(PartStat.DECLINED, recurrence_id=rid), "anne@kunde.no", meeting())
    assert isinstance(d, ApplyPartstat)
    assert d.recurrence_id == rid


def test_unknown_occurrence_rejected() -> None:
    rid = T0 + timedelta(days=1)
    (d,) = decide(reply(recurrence_id=rid), "anne@kunde.no", meeting())
    assert isinstance(d, Reject) and d.code is RejectCode.UNKNOWN_OCCURRENCE
    (d,) = decide(reply(recurrence_id=T0), "anne@kunde.no", meeting(recurring=False))
    assert isinstance(d, Reject) and d.code is RejectCode.UNKNOWN_OCCURRENCE
    (d,) = decide(reply(recurrence_id=T0), "anne@kunde.no",
                  meeting(recurring=False, override_ids=frozenset({T0})))  # fmt: skip
    assert isinstance(d, ApplyPartstat)


def _attendee(stamp: ReplyStamp, rid: datetime | None = None) -> StoredAttendee:
    return StoredAttendee("anne@kunde.no", {rid: stamp})


@pytest.mark.parametrize(
    ("applied", "stale"),
    [
        (ReplyStamp(2, STAMP + timedelta(days=9)), False),  # older sequence applied
        (ReplyStamp(3, STAMP - timedelta(seconds=1)), False),  # same seq, older stamp
        (ReplyStamp(3, STAMP), True),  # the same reply again
        (ReplyStamp(3, STAMP + timedelta(seconds=1)), True),  # a newer one was applied
        (ReplyStamp(4, STAMP - timedelta(days=9)), True),  # a higher sequence applied
        (ReplyStamp(3, None), False),  # order unknown: the latest arrival wins
    ],
)
def test_staleness_by_sequence_then_dtstamp(applied: ReplyStamp, stale: bool) -> None:
    stored = meeting(attendees=(_attendee(applied),))
    (d,) = decide(reply(), "anne@kunde.no", stored)
    assert isinstance(d, IgnoreStale) is stale
    if stale:
        assert isinstance(d, IgnoreStale) and "already applied" in d.reason


def test_staleness_is_per_occurrence() -> None:
    rid = T0 + timedelta(weeks=1)
    stored = meeting(attendees=(_attendee(ReplyStamp(3, STAMP), rid),))
    (d,) = decide(reply(recurrence_id=rid), "anne@kunde.no", stored)
    assert isinstance(d, IgnoreStale)
    (d,) = decide(reply(), "anne@kunde.no", stored)
    assert isinstance(d, ApplyPartstat)


def test_reply_to_an_older_version_is_stale() -> None:
    (d,) = decide(reply(), "anne@kunde.no", meeting(sequence=4))
    assert isinstance(d, IgnoreStale) and "SEQUENCE 3" in d.reason


@pytest.mark.parametrize(
    ("stored", "sender", "code"),
    [
        (None, "anne@kunde.no", RejectCode.UNKNOWN_UID),
        ("other-uid", "anne@kunde.no", RejectCode.UNKNOWN_UID),
        ("m-1", "mallory@evil.example", RejectCode.WRONG_SENDER),
        ("not-invited", "anne@kunde.no", RejectCode.NOT_INVITED),
        ("other-organizer", "anne@kunde.no", RejectCode.WRONG_ORGANIZER),
    ],
)
def test_rejections(stored: str | None, sender: str, code: RejectCode) -> None:
    view = None
    if stored == "other-uid":
        view = meeting(uid="other")
    elif stored == "not-invited":
        view = meeting(attendees=(StoredAttendee("bo@kunde.no"),))
    elif stored == "other-organizer":
        view = meeting(organizer_email="someone@firma.dk")
    elif stored == "m-1":
        view = meeting()
    (d,) = decide(reply(), sender, view)
    assert isinstance(d, Reject)
    assert d.code is code
    assert d.reason


def test_sent_by_may_send() -> None:
    cal = reply(sent_by="assistant@kunde.no")
    (d,) = decide(cal, "Assistant@Kunde.no", meeting())
    assert isinstance(d, ApplyPartstat) and d.attendee_email == "anne@kunde.no"


def _text(cal: Calendar) -> str:
    return cal.to_ical().decode()


def test_missing_attendee_or_organizer_or_uid() -> None:
    base = _text(reply())
    no_attendee = "\r\n".join(
        line for line in base.replace("\r\n ", "").split("\r\n")
        if not line.startswith("ATTENDEE")
    )  # fmt: skip
    (d,) = decide(parse_calendars(no_attendee)[0], "anne@kunde.no", meeting())
    assert isinstance(d, Reject) and d.code is RejectCode.NO_ATTENDEE
    no_org = base.replace("ORGANIZER:mailto:ole@firma.dk\r\n", "")
    (d,) = decide(parse_calendars(no_org)[0], "anne@kunde.no", meeting())
    assert isinstance(d, Reject) and d.code is RejectCode.NO_ORGANIZER
    no_uid = base.replace("UID:m-1\r\n", "")
    (d,) = decide(parse_calendars(no_uid)[0], "anne@kunde.no", meeting())
    assert isinstance(d, Reject) and d.code is RejectCode.NO_UID


def test_bad_partstat_and_wrong_method() -> None:
    bad = _text(reply()).replace("PARTSTAT=ACCEPTED", "PARTSTAT=X-MAYBE")
    (d,) = decide(parse_calendars(bad)[0], "anne@kunde.no", meeting())
    assert isinstance(d, Reject) and d.code is RejectCode.BAD_PARTSTAT
    request = itip.request(SNAP, SNAP.attendees).calendar
    (d,) = decide(request, "ole@firma.dk", meeting())
    assert isinstance(d, Reject) and d.code is RejectCode.NOT_A_RESPONSE


def test_several_attendees_pick_the_sender() -> None:
    text = _text(reply()).replace(
        "ORGANIZER:", "ATTENDEE;PARTSTAT=DECLINED:mailto:bo@kunde.no\r\nORGANIZER:"
    )
    cal = parse_calendars(text)[0]
    (d,) = decide(cal, "bo@kunde.no", meeting())
    assert isinstance(d, ApplyPartstat)
    assert (d.attendee_email, d.partstat) == ("bo@kunde.no", PartStat.DECLINED)
    (d,) = decide(cal, "carl@kunde.no", meeting())
    assert isinstance(d, Reject) and d.code is RejectCode.SEVERAL_ATTENDEES


def test_counter_becomes_a_proposal() -> None:
    new_start = T0 + timedelta(days=1, hours=2)
    msg = itip.counter(SNAP, "anne@kunde.no", new_start, new_start + timedelta(hours=2),
                       comment="Tirsdag passer bedre", dtstamp=STAMP)  # fmt: skip
    cal = parse_calendars(msg.to_ical().decode())[0]
    assert response_uid(cal) == "m-1"
    (d,) = decide(cal, "anne@kunde.no", meeting())
    assert isinstance(d, CounterProposal)
    assert (d.start, d.end) == (new_start, new_start + timedelta(hours=2))
    assert d.comment == "Tirsdag passer bedre"
    assert d.attendee_email == "anne@kunde.no"


def test_rfc5546_counter_example() -> None:
    raw = (DATA / "rfc5546-examples" / "rfc5546_counter.ics").read_text()
    cal = parse_calendars(raw)[0]
    (resp,) = parse_responses(cal)
    stored = StoredMeeting(
        uid=str(resp.uid), sequence=resp.sequence, organizer_email=str(resp.organizer),
        attendees=tuple(StoredAttendee(a.email) for a in resp.attendees), recurring=True,
    )  # fmt: skip
    assert resp.recurrence_id is not None  # the example counters one occurrence
    (d,) = decide(cal, resp.attendees[0].email, stored)
    assert isinstance(d, CounterProposal)
    assert d.recurrence_id == resp.recurrence_id
    assert d.start == resp.start and d.start is not None
    assert d.end is not None and d.end > d.start


def test_counter_without_dtstart_rejected() -> None:
    msg = itip.counter(SNAP, "anne@kunde.no", T0, T0 + timedelta(hours=1), dtstamp=STAMP)
    text = "\r\n".join(
        line for line in msg.to_ical().decode().split("\r\n")
        if not line.startswith("DTSTART;TZID=Europe/Copenhagen:2025")
    )  # fmt: skip
    (d,) = decide(parse_calendars(text)[0], "anne@kunde.no", meeting())
    assert isinstance(d, Reject) and d.code is RejectCode.NO_PROPOSED_TIME


def test_corpus_replies_missing_parts_are_rejected() -> None:
    for name, code in [("ccs_reply_missing_attendee.eml", RejectCode.NO_ATTENDEE),
                       ("ccs_reply_missing_organizer.eml", RejectCode.NO_ORGANIZER)]:  # fmt: skip
        msg = parse_message((DATA / "imip-eml" / name).read_bytes())
        (found,) = msg.itip
        stored = StoredMeeting(
            uid=str(response_uid(found.calendar)), sequence=7,
            organizer_email="ical-living-on+d7cdf68d-8b73-4df1-ad3b-f08002fb285f@example.com",
            attendees=(StoredAttendee("xyzzy@example.com"),),
        )  # fmt: skip
        (d,) = decide(found.calendar, str(msg.sender), stored)
        assert isinstance(d, Reject) and d.code is code
        assert ("ATTENDEE" if code is RejectCode.NO_ATTENDEE else "ORGANIZER") in d.reason
