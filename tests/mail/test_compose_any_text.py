"""Composing a mail or a calendar object never raises, whatever text is stored.

Rows written before the control-character rule (or by other programs, inbound COUNTER
mails, imports) can hold CR, LF, NUL, escape sequences, bidi marks, very long text: every
text of a follow-up, its people and their addresses go through ``calcore.builder`` and
``mail.compose``, and the result must parse back (``icalendar``, ``email``).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from icalendar import Calendar

from calcore import itip
from calcore.builder import build_calendar
from calcore.model import Attendee, EventSnapshot, Kind, Person
from calcore.text import address
from mail.compose import compose_invitation

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
NASTY = [
    "", " ", "\r\n", "a\r\nBcc: x@evil.example", "\x00", "\x1b[31mred", "\u202eevil",
    "\ufeff", "\x85\u2028\u2029", "=?utf-8?q?x?=", "\\;,:\"<>", "a" * 5000,
    "æøå" * 700, "\t\v\f", "BEGIN:VEVENT\r\nEND:VEVENT", "mailto:x", "x@", "@",
    "<x@y>", "a b@c.d", "ann@example.com\r\nTo: all@example.com",
]  # fmt: skip
TEXT = st.one_of(
    st.sampled_from(NASTY),
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=300),
    st.text(st.characters(codec="ascii"), max_size=80),
)


@st.composite
def snapshots(draw: st.DrawFn) -> tuple[EventSnapshot, Attendee]:
    recipient = Attendee(draw(TEXT) or "r@example.com", draw(st.none() | TEXT))
    organizer = Person(draw(TEXT) or "o@example.com", draw(st.none() | TEXT))
    if itip.same_address(
        address(organizer.email), address(recipient.email)
    ):  # not for the organiser
        organizer = Person("o@example.com", organizer.name)
    others = tuple(
        Attendee(draw(TEXT), draw(st.none() | TEXT)) for _ in range(draw(st.integers(0, 2)))
    )
    kind = draw(st.sampled_from([Kind.MEETING, Kind.TASK, Kind.CALL]))
    timed = kind is Kind.MEETING or draw(st.booleans())
    snap = EventSnapshot(
        uid=draw(TEXT) or "uid@example.com", kind=kind, title=draw(TEXT),
        start=T0 if timed else None, end=T0 + timedelta(hours=1) if timed else None,
        due=None if timed else T0, tzid=draw(st.sampled_from(["UTC", "Europe/Oslo"])),
        description=draw(TEXT), location=draw(st.none() | TEXT), organizer=organizer,
        attendees=(recipient, *others), categories=tuple(draw(st.lists(TEXT, max_size=2))),
        url=draw(st.none() | TEXT), alarm_minutes=draw(st.none() | st.integers(0, 100)),
        rrule=draw(st.none() | st.just("FREQ=WEEKLY;COUNT=3")),
    )  # fmt: skip
    return snap, recipient


def _parses(ics: bytes) -> Calendar:
    cal = Calendar.from_ical(ics)
    assert cal.walk("VEVENT") or cal.walk("VTODO")
    return cal


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(snapshots())
def test_calendar_objects_always_build_and_parse(case: tuple[EventSnapshot, Attendee]) -> None:
    snap, _ = case
    _parses(build_calendar(snap).to_ical())


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    snapshots(), st.sampled_from([itip.REQUEST, itip.CANCEL]), st.sampled_from(["en", "da", "no"])
)
def test_invitations_always_compose_and_parse(
    case: tuple[EventSnapshot, Attendee], method: str, language: str
) -> None:
    snap, recipient = case
    msg = compose_invitation(
        snap, method, recipient, organizer_language=language, message_id_domain="t.example",
        reply_links=None, recipient_tz="Europe/Oslo",
    )  # fmt: skip
    raw = msg.as_bytes()
    parsed = message_from_bytes(raw, policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    # no header was split or injected: exactly one of each, nothing extra
    for name in ("Subject", "From", "To", "Reply-To", "Message-ID"):
        assert len(parsed.get_all(name) or []) == 1, name
    assert parsed.get_all("Bcc") is None and parsed.get_all("Cc") is None
    calendars = [p for p in parsed.walk() if p.get_content_type() == "text/calendar"]
    assert len(calendars) == 1
    payload = calendars[0].get_payload(decode=True)
    assert isinstance(payload, bytes)
    _parses(payload)
    assert parsed.get_body(("plain",)) is not None
