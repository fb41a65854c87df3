"""mail.inbound: the corpus mails and hand-made variants of every encoding quirk."""

from __future__ import annotations

import base64
import quopri
from datetime import UTC, datetime
from pathlib import Path

import pytest

from mail.inbound import MailParseError, parse_calendars, parse_message
from mail.replies import ApplyPartstat, StoredAttendee, StoredMeeting, decide

DATA = Path(__file__).parents[1] / "data"
EML = DATA / "imip-eml"
APPLE_UID = "1E71F9C8-AEDA-48EB-98D0-76E898F6BB5C"
APPLE_ORGANIZER = "ical-living-on+d7cdf68d-8b73-4df1-ad3b-f08002fb285f@example.com"


def _eml(name: str) -> bytes:
    return (EML / name).read_bytes()


# file, sender, methods of the calendars found, how many are iTIP, UID of the first
CORPUS = [
    ("ccs_good_reply.eml", "xyzzy@example.com", ["REPLY"], 1, APPLE_UID),
    ("ccs_reply_missing_attendee.eml", "xyzzy@example.com", ["REPLY"], 1, APPLE_UID),
    ("ccs_reply_missing_organizer.eml", "xyzzy@example.com", ["REPLY"], 1, APPLE_UID),
    ("ccs_dsn_failure_with_ics.eml", "mailer-daemon@relay11.example.com", [], 0, None),
    ("tb_cancel-repeat-event.eml", "sender@example.com", ["CANCEL"], 1, "02e79b96"),
    ("tb_exception-major.eml", "sender@example.com", ["REQUEST"], 1, "02e79b96"),
    ("tb_repeat-update-major.eml", "sender@example.com", ["REQUEST"], 1, "02e79b96"),
    ("tb_message-non-invite.eml", "noreply@example.com", ["PUBLISH"], 0,
     "1e5fd4e6-bc52-439c-ac76-40da54f57c77@secure.example.com"),
    ("tb_outlook-test-invite.eml", "marge@example.org", ["REQUEST"], 1, None),
    ("tb_teams-meeting-invite.eml", "marge@example.com", ["REQUEST"], 1, None),
    ("tb_meet-meeting-invite.eml", "example@gmail.com", ["REQUEST"], 1,
     "65m17hsdolmotv3kvmrtg40ont@google.com"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "sender", "methods", "n_itip", "uid"), CORPUS)
def test_corpus_mail_parses(
    name: str, sender: str, methods: list[str], n_itip: int, uid: str | None
) -> None:
    msg = parse_message(_eml(name))
    assert msg.sender == sender
    assert msg.message_id is None or msg.message_id.startswith("<")
    assert [c.method for c in msg.calendars] == methods
    assert len(msg.itip) == n_itip
    assert msg.problems == ()
    if uid is not None:
        assert msg.calendars[0].uid == uid


def test_apple_reply_qp_with_folded_organizer_applies() -> None:
    msg = parse_message(_eml("ccs_good_reply.eml"))
    assert msg.message_id == "<1983F777-BE86-4B98-881E-06D938E60920@example.com>"
    (found,) = msg.itip
    assert found.mime_method is None  # no method= on the MIME part: trust METHOD
    event = found.calendar.subcomponents[-1]
    assert str(event["ORGANIZER"]) == f"mailto:{APPLE_ORGANIZER}"
    assert event["ATTENDEE"].params["ROLE"] == "REQ-PARTICIPANT"
    meeting = StoredMeeting(
        uid=APPLE_UID,
        sequence=7,
        organizer_email=APPLE_ORGANIZER.upper(),
        attendees=(StoredAttendee("XYZZY@Example.com"),),
    )
    (decision,) = decide(found.calendar, str(msg.sender), meeting)
    assert isinstance(decision, ApplyPartstat)
    assert decision.partstat.value == "ACCEPTED"
    assert decision.attendee_email == "xyzzy@example.com"
    assert decision.stamp.sequence == 7
    assert decision.stamp.dtstamp == datetime(2008, 8, 12, 20, 19, 11, tzinfo=UTC)


def test_dsn_is_a_bounce_of_our_request_not_a_new_request() -> None:
    msg = parse_message(_eml("ccs_dsn_failure_with_ics.eml"))
    assert msg.bounce is not None
    assert msg.bounce.failed_recipients == ("nonexistant@example.com",)
    assert msg.bounce.status == "5.0.0"
    assert msg.bounce.original_uid == APPLE_UID
    assert msg.bounce.original_method == "REQUEST"
    assert msg.bounce.original_message_id == (
        "<20080812191939.51369.1538816694.0@plugh.example.com>"
    )
    assert msg.calendars == ()
    assert msg.itip == ()


def test_publish_is_not_itip() -> None:
    msg = parse_message(_eml("tb_message-non-invite.eml"))
    (found,) = msg.calendars
    assert found.method == "PUBLISH"
    assert not found.is_itip
    assert msg.bounce is None


def test_outlook_base64_and_windows_zone() -> None:
    msg = parse_message(_eml("tb_outlook-test-invite.eml"))
    event = next(iter(msg.itip[0].calendar.walk("VEVENT")))
    start = event["DTSTART"].dt
    assert event["DTSTART"].params["TZID"] == "FLE Standard Time"
    assert start.astimezone(UTC) == datetime(2021, 11, 27, 7, 0, tzinfo=UTC)


def test_google_calendar_sent_twice_is_kept_once() -> None:
    raw = _eml("tb_meet-meeting-invite.eml")
    assert raw.count(b"Content-Type: application/ics") == 1
    assert raw.count(b"Content-Type: text/calendar") == 1
    msg = parse_message(raw)
    (found,) = msg.calendars
    assert found.content_type == "text/calendar"
    assert found.uid == "65m17hsdolmotv3kvmrtg40ont@google.com"


def test_rfc5546_reply_and_latin1_ics_parse() -> None:
    latin1 = (DATA / "itip-ics" / "tb_importLatin1.ics").read_bytes()
    mail = _mail(latin1, ctype="text/calendar", charset="iso-8859-1", cte="base64")
    (found,) = parse_message(mail).calendars
    summaries = [str(e["SUMMARY"]) for e in found.calendar.walk("VEVENT")]
    assert any("\u00e4" in s or "\u00f6" in s or "\u00e5" in s for s in summaries), summaries


# -- hand-made variants --------------------------------------------------------------

REPLY = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\nMETHOD:REPLY\r\n"
    "BEGIN:VEVENT\r\nUID:abc-1\r\nSEQUENCE:1\r\nDTSTAMP:20250101T100000Z\r\n"
    "ORGANIZER;CN=Ole:mailto:ole@example.dk\r\n"
    "ATTENDEE;CN=S\u00f8ren;PARTSTAT=DECLINED:mailto:soren@examp\r\n le.no\r\n"
    "COMMENT:Beklager\\, jeg er p\u00e5 ferie\r\n"
    "END:VEVENT\r\nEND:VCALENDAR\r\n"
)
MEETING = StoredMeeting(
    uid="abc-1", sequence=1, organizer_email="ole@example.dk",
    attendees=(StoredAttendee("soren@example.no"),),
)  # fmt: skip


def _mail(
    body: bytes,
    *,
    ctype: str = "text/calendar",
    charset: str | None = "utf-8",
    cte: str = "7bit",
    method: str | None = None,
    sender: str = "S\u00f8ren <SOREN@example.no>",
) -> bytes:
    params = ""
    if method:
        params += f"; method={method}"
    if charset:
        params += f"; charset={charset}"
    if cte.lower() == "base64":
        payload = base64.encodebytes(body)
    elif cte.lower() == "quoted-printable":
        payload = quopri.encodestring(body)
    else:
        payload = body
    head = (
        f"From: {sender}\r\nTo: ole@example.dk\r\nSubject: Svar\r\n"
        "Message-ID: <r1@example.no>\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/mixed; boundary="b1"\r\n\r\n--b1\r\n'
        "Content-Type: text/plain; charset=utf-8\r\n\r\nsee attached\r\n--b1\r\n"
        f"Content-Type: {ctype}{params}\r\nContent-Transfer-Encoding: {cte}\r\n\r\n"
    )
    return head.encode("utf-8") + payload + b"\r\n--b1--\r\n"


def _decided(raw: bytes) -> ApplyPartstat:
    msg = parse_message(raw)
    (found,) = msg.itip
    (decision,) = decide(found.calendar, str(msg.sender), MEETING)
    assert isinstance(decision, ApplyPartstat), decision
    assert decision.partstat.value == "DECLINED"
    assert decision.comment == "Beklager, jeg er p\u00e5 ferie"
    return decision


@pytest.mark.parametrize(
    "cte",
    [
        "base64",
        "BASE64",
        "Base64",
        "quoted-printable",
        "Quoted-Printable",
        "QUOTED-PRINTABLE",
        "8bit",
    ],
)
def test_transfer_encodings_in_any_case(cte: str) -> None:
    _decided(_mail(REPLY.encode("utf-8"), cte=cte))


@pytest.mark.parametrize("ctype", ["text/calendar", "application/ics", "TEXT/CALENDAR"])
@pytest.mark.parametrize("method", [None, "REPLY", "request"])
def test_calendar_types_and_method_param(ctype: str, method: str | None) -> None:
    msg = parse_message(_mail(REPLY.encode("utf-8"), ctype=ctype, method=method))
    (found,) = msg.itip
    assert found.method == "REPLY"  # the iCalendar METHOD wins over the MIME parameter
    _decided(_mail(REPLY.encode("utf-8"), ctype=ctype, method=method))


def test_bare_lf_and_folded_address() -> None:
    body = REPLY.replace("\r\n", "\n").encode("utf-8")
    _decided(_mail(body, cte="base64"))


def test_utf8_bom() -> None:
    _decided(_mail(b"\xef\xbb\xbf" + REPLY.encode("utf-8"), cte="base64"))
    _decided(_mail(b"\xef\xbb\xbf" + REPLY.encode("utf-8"), cte="base64", charset=None))


@pytest.mark.parametrize("charset", ["iso-8859-1", "windows-1252", "ISO-8859-15"])
def test_non_utf8_charset(charset: str) -> None:
    _decided(_mail(REPLY.encode(charset), charset=charset, cte="quoted-printable"))


def test_unknown_or_missing_charset_falls_back() -> None:
    _decided(_mail(REPLY.encode("utf-8"), charset="x-unknown", cte="base64"))
    _decided(_mail(REPLY.encode("latin-1"), charset=None, cte="base64"))


def test_ics_attachment_as_octet_stream() -> None:
    raw = _mail(REPLY.encode("utf-8"), ctype='application/octet-stream; name="reply.ics"',
                charset=None, cte="base64")  # fmt: skip
    _decided(raw)


def test_windows_zone_name_without_vtimezone() -> None:
    text = REPLY.replace(
        "SEQUENCE:1\r\n",
        "SEQUENCE:1\r\nRECURRENCE-ID;TZID=W. Europe Standard Time:20250310T090000\r\n",
    )
    (found,) = parse_message(_mail(text.encode("utf-8"))).itip
    meeting = StoredMeeting(
        uid="abc-1", sequence=1, organizer_email="ole@example.dk",
        attendees=(StoredAttendee("soren@example.no"),), recurring=True,
    )  # fmt: skip
    (decision,) = decide(found.calendar, "soren@example.no", meeting)
    assert isinstance(decision, ApplyPartstat)
    assert decision.recurrence_id == datetime(2025, 3, 10, 8, 0, tzinfo=UTC)


# -- rejected with a reason ----------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        (b"", "empty"),
        (b"   \r\n", "empty"),
        (b"Subject: hi\r\n\r\nno sender", "From"),
        (b"From: nobody\r\n\r\nbody", "From"),
        (b"just some text without headers", "header"),
    ],
)
def test_unusable_messages_are_rejected_with_reason(raw: bytes, words: str) -> None:
    with pytest.raises(MailParseError) as info:
        parse_message(raw)
    assert words in info.value.reason


def test_broken_calendar_part_is_rejected_with_reason() -> None:
    with pytest.raises(MailParseError) as info:
        parse_message(_mail(b"hello, not a calendar"))
    assert "BEGIN:VCALENDAR" in info.value.reason
    with pytest.raises(MailParseError) as info:
        parse_message(_mail(b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART:garbage\r\n"
                            b"END:VEVENT\r\nEND:VCALENDAR\r\n"))  # fmt: skip
    assert "invalid" in info.value.reason or "not valid" in info.value.reason
    with pytest.raises(MailParseError) as info:
        parse_message(_mail(b"", cte="base64"))
    assert "empty" in info.value.reason


def test_oversized_and_deeply_nested_messages() -> None:
    with pytest.raises(MailParseError, match="larger"):
        parse_message(_mail(REPLY.encode()), max_bytes=100)
    nested = b"From: a@b.c\r\nContent-Type: multipart/mixed; boundary=b0\r\n\r\n"
    for i in range(1, 60):
        nested += f"--b{i - 1}\r\nContent-Type: multipart/mixed; boundary=b{i}\r\n\r\n".encode()
    with pytest.raises(MailParseError, match="nested"):
        parse_message(nested)


def test_parse_calendars_splits_several_objects() -> None:
    text = (DATA / "rfc5546-examples" / "libical_rfc2446_all_examples.ics").read_text()
    assert len(parse_calendars(text)) == 53
