"""mail.compose: MIME shape, headers, calendar parts, language texts, round trip."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest

from calcore import itip
from calcore.model import Attendee, EventSnapshot, Kind, PartStat, Person
from mail.compose import compose_invitation
from mail.inbound import parse_calendars, parse_message
from mail.replies import ApplyPartstat, StoredAttendee, StoredMeeting, decide

T0 = datetime(2025, 3, 3, 8, 0, tzinfo=UTC)
ANNE = Attendee("anne@kunde.no", "Anne Ås")
SNAP = EventSnapshot(
    uid="m-1@firma.dk", kind=Kind.MEETING, title="Budget <2025> & plan",
    start=T0, end=T0 + timedelta(hours=1), tzid="Europe/Copenhagen", sequence=2,
    location="Mødelokale 1", organizer=Person("ole@firma.dk", "Ole Ørsted"),
    attendees=(ANNE, Attendee("bo@kunde.no")), private=True, alarm_minutes=10,
)  # fmt: skip


def compose(**kw: object) -> EmailMessage:
    args: dict[str, object] = dict(
        organizer_language="da", message_id_domain="firma.dk", reply_to="svar@firma.dk",
        now=datetime(2025, 2, 1, 9, 0, tzinfo=UTC),
    )  # fmt: skip
    args.update(kw)
    method = str(args.pop("method", "REQUEST"))
    snap = args.pop("snapshot", SNAP)
    return compose_invitation(snap, method, ANNE, **args)  # type: ignore[arg-type]


def reparsed(msg: EmailMessage) -> EmailMessage:
    parsed = message_from_bytes(msg.as_bytes(), policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def test_mime_structure() -> None:
    msg = reparsed(compose())
    assert msg.get_content_type() == "multipart/mixed"
    alternative, attachment = msg.iter_parts()
    assert alternative.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in alternative.iter_parts()] == [
        "text/plain", "text/html", "text/calendar",
    ]  # fmt: skip
    calendar_part = list(alternative.iter_parts())[2]
    assert calendar_part.get_param("method") == "REQUEST"
    assert calendar_part.get_param("charset") == "UTF-8"
    assert attachment.get_content_disposition() == "attachment"
    assert attachment.get_filename() == "invite.ics"
    assert attachment.get_payload(decode=True) == calendar_part.get_payload(decode=True)


def test_headers() -> None:
    msg = reparsed(compose())
    assert msg["From"].addresses[0].addr_spec == "ole@firma.dk"
    assert msg["From"].addresses[0].display_name == "Ole Ørsted"
    assert msg["To"].addresses[0].addr_spec == "anne@kunde.no"
    assert msg["Reply-To"].addresses[0].addr_spec == "svar@firma.dk"
    assert msg["Message-ID"].startswith("<") and msg["Message-ID"].endswith("@firma.dk>")
    assert msg["Date"].datetime == datetime(2025, 2, 1, 9, 0, tzinfo=UTC)
    assert compose()["Message-ID"] != compose()["Message-ID"]


def test_calendar_content() -> None:
    msg = reparsed(compose())
    ics = msg.get_body(("plain",))  # make sure a body exists
    assert ics is not None
    raw = next(iter(msg.iter_attachments())).get_payload(decode=True)
    assert raw.endswith(b"\r\n") and b"\r\n" in raw
    cal = parse_calendars(raw.decode("utf-8"))[0]
    assert cal["METHOD"] == "REQUEST"
    (event,) = cal.walk("VEVENT")
    assert event["CLASS"] == "PRIVATE"
    assert str(event["SUMMARY"]) == SNAP.title
    assert {t.tz_name for t in cal.timezones} == {"Europe/Copenhagen"}
    attendees = [str(a) for a in event["ATTENDEE"]]
    assert attendees == ["mailto:anne@kunde.no", "mailto:bo@kunde.no"]


@pytest.mark.parametrize(
    ("language", "subject", "words"),
    [
        ("da", "Invitation: Budget <2025> & plan", ["Hvornår", "mandag 3. marts 2025"]),
        ("no", "Invitasjon: Budget <2025> & plan", ["Når", "mandag 3. mars 2025"]),
        ("nb-NO", "Invitasjon: Budget <2025> & plan", ["Møteinnkaller"]),
        ("en", "Invitation: Budget <2025> & plan", ["When", "Monday, 3 March 2025"]),
        ("fr", "Invitation: Budget <2025> & plan", ["Organiser"]),
    ],
)
def test_languages(language: str, subject: str, words: list[str]) -> None:
    msg = reparsed(compose(organizer_language=language))
    assert msg["Subject"] == subject
    plain = msg.get_body(("plain",))
    assert plain is not None
    text = plain.get_content()
    for word in words:
        assert word in text
    assert "Mødelokale 1" in text and "Ole Ørsted <ole@firma.dk>" in text


def test_time_in_recipient_zone() -> None:
    text = reparsed(compose(recipient_tz="America/New_York")).get_body(("plain",))
    assert text is not None
    assert "03:00\u201304:00 (America/New_York)" in text.get_content()
    text = reparsed(compose()).get_body(("plain",))
    assert text is not None
    assert "09:00\u201310:00 (Europe/Copenhagen)" in text.get_content()


def test_update_says_what_changed() -> None:
    msg = reparsed(compose(changes={"location", "time"}, organizer_language="no"))
    assert msg["Subject"].startswith("Oppdatert invitasjon:")
    plain = msg.get_body(("plain",))
    assert plain is not None
    assert "Endret: tidspunkt, sted" in plain.get_content()
    msg = reparsed(compose(changes={"recurrence"}, organizer_language="en"))
    html = msg.get_body(("html",))
    assert html is not None
    assert "recurrence" in html.get_content()


def test_html_is_escaped_and_links_present() -> None:
    links = {PartStat.ACCEPTED: "https://x.dk/r?t=a&u=1", PartStat.DECLINED: "https://x.dk/d"}
    msg = reparsed(compose(reply_links=links))
    html = msg.get_body(("html",))
    assert html is not None
    content = html.get_content()
    assert "Budget &lt;2025&gt; &amp; plan" in content
    assert "<2025>" not in content
    assert 'href="https://x.dk/r?t=a&amp;u=1"' in content and "Accepter" in content


def test_cancel_and_cancelled_occurrence() -> None:
    msg = reparsed(compose(method="CANCEL", snapshot=itip.cancelled(SNAP)))
    assert msg["Subject"] == "Aflyst: Budget <2025> & plan"
    cal_part = list(next(iter(msg.iter_parts())).iter_parts())[2]
    assert cal_part.get_param("method") == "CANCEL"
    series = EventSnapshot(**{**SNAP.__dict__, "rrule": "FREQ=WEEKLY"})
    rid = T0 + timedelta(weeks=1)
    msg = reparsed(compose(method="CANCEL", snapshot=series, recurrence_id=rid))
    assert msg["Subject"] == "Aflyst forekomst: Budget <2025> & plan"
    plain = msg.get_body(("plain",))
    assert plain is not None and "mandag 10. marts 2025 09:00" in plain.get_content()
    cal = parse_calendars(next(iter(msg.iter_attachments())).get_content().decode())[0]
    (event,) = cal.walk("VEVENT")
    assert event["RECURRENCE-ID"].dt.astimezone(UTC) == rid
    assert event["STATUS"] == "CANCELLED"


def test_organizer_gets_no_invitation_and_bad_method() -> None:
    with pytest.raises(ValueError):
        compose_invitation(SNAP, "REQUEST", Attendee("OLE@firma.dk"), message_id_domain="x")
    with pytest.raises(ValueError):
        compose(method="PUBLISH")


def test_round_trip_through_inbound_and_reply_rules() -> None:
    parsed = parse_message(compose().as_bytes())
    assert parsed.sender == "ole@firma.dk"
    (found,) = parsed.itip
    assert found.method == "REQUEST" and found.uid == SNAP.uid
    answer = itip.reply(SNAP, "anne@kunde.no", PartStat.TENTATIVE)
    cal = parse_calendars(answer.to_ical().decode())[0]
    stored = StoredMeeting(
        uid=SNAP.uid, sequence=SNAP.sequence, organizer_email="ole@firma.dk",
        attendees=tuple(StoredAttendee(a.email) for a in SNAP.attendees),
    )  # fmt: skip
    (d,) = decide(cal, "anne@kunde.no", stored)
    assert isinstance(d, ApplyPartstat) and d.partstat is PartStat.TENTATIVE
