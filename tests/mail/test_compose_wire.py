"""mail.compose writes exactly what the classic MIME classes would generate.

``render_invitation`` writes the mail's text directly (the email package's generator
took most of the time of queuing a mail).  The reference here builds the same mail the
way ``mail.compose`` did before, with ``MIMEMultipart``/``MIMEBase`` and compat32
``as_string``; for any stored text, with the same boundaries, Message-ID, Date and
DTSTAMP, both are the same characters.  A shared calendar cache gives the same text.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from email import encoders
from email.message import Message
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.nonmultipart import MIMENonMultipart
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from calcore import itip
from calcore.model import Attendee, EventSnapshot, PartStat
from calcore.text import one_line, safe_attendee, safe_snapshot
from mail import compose
from mail.i18n import texts
from tests.mail.test_compose import SNAP
from tests.mail.test_compose_any_text import snapshots

NOW = datetime(2026, 2, 1, 9, 0, tzinfo=UTC)
STAMP = datetime(2026, 2, 1, 8, 0, tzinfo=UTC)
LINKS = {
    PartStat.ACCEPTED: "https://x.example/reply/a?t=1",
    PartStat.DECLINED: "https://x.example/reply/d?t=2",
}


def reference(snapshot: EventSnapshot, method: str, recipient: Attendee, **kw: Any) -> str:
    """The mail as the MIME classes build it (the former ``build_invitation``)."""
    snapshot, recipient = safe_snapshot(snapshot), safe_attendee(recipient)
    organizer = snapshot.organizer
    assert organizer is not None
    rid = kw.get("recurrence_id")
    if method == itip.REQUEST:
        message = itip.request(snapshot, [recipient], dtstamp=kw["dtstamp"])
    else:
        message = itip.cancel(snapshot, [recipient], rid, dtstamp=kw["dtstamp"])
    words = texts(kw.get("organizer_language"))
    ics = message.to_ical()
    changes = kw.get("changes", ())
    subject, intro = compose._headline(words, method, bool(changes), rid is not None)
    lines = compose._facts(snapshot, words, kw.get("recipient_tz"), rid)
    changed = compose._changed(words, changes) if method == itip.REQUEST else ""
    links = kw.get("reply_links") if method == itip.REQUEST else None
    lead = intro.format(organizer=organizer.name or organizer.email)

    def text(body: str, subtype: str) -> Message:
        part = MIMENonMultipart("text", subtype)
        part.set_payload(body, compose._QP)
        return part

    alternative = MIMEMultipart("alternative", boundary=compose._boundary(), policy=compose.WIRE)
    alternative.attach(text(compose._plain(lead, lines, changed, words, links), "plain"))
    alternative.attach(text(compose._html(lead, lines, changed, words, links), "html"))
    calendar = MIMEBase("text", "calendar", method=method, charset="UTF-8")
    calendar.set_payload(ics)
    encoders.encode_base64(calendar)
    alternative.attach(calendar)
    attachment = MIMEBase("application", "ics", name="invite.ics")
    attachment.set_payload(ics)
    encoders.encode_base64(attachment)
    attachment.add_header("Content-Disposition", "attachment", filename="invite.ics")
    msg = MIMEMultipart("mixed", boundary=compose._boundary(), policy=compose.WIRE)
    msg["Subject"] = compose._encoded(one_line(subject.format(title=snapshot.title)))
    msg["From"] = compose._mailbox(organizer.name, organizer.email)
    msg["To"] = compose._mailbox(recipient.name, recipient.email)
    msg["Reply-To"] = compose._mailbox(None, kw.get("reply_to") or organizer.email)
    msg["Date"] = compose.format_datetime(NOW)
    msg["Message-ID"] = compose.make_msgid(domain="t.example")
    msg.attach(alternative)
    msg.attach(attachment)
    for part in msg.walk():
        if part is not msg:
            del part["MIME-Version"]
            part.policy = compose.WIRE
    return msg.as_string()


def both(
    monkeypatch: pytest.MonkeyPatch, snap: EventSnapshot, method: str, to: Attendee, **kw: Any
) -> tuple[str, str]:
    """(reference, rendered) with the same random parts."""
    monkeypatch.setattr(compose, "make_msgid", lambda domain: f"<m@{domain}>")
    args = dict(kw, dtstamp=STAMP)
    counter = itertools.count()
    monkeypatch.setattr(compose, "_boundary", lambda: f"=_b{next(counter)}")
    ref = reference(snap, method, to, **args)
    counter = itertools.count()  # both make the inner boundary first
    mail = compose.render_invitation(
        snap, method, to, message_id_domain="t.example", now=NOW, **args
    )
    return ref, mail.text


@pytest.mark.parametrize("method", [itip.REQUEST, itip.CANCEL])
@pytest.mark.parametrize("language", ["en", "da", "no"])
def test_known_meeting_is_the_same_text(
    monkeypatch: pytest.MonkeyPatch, method: str, language: str
) -> None:
    kw = dict(organizer_language=language, recipient_tz="America/New_York",
              changes={"time", "title"}, reply_links=LINKS, reply_to="svar@firma.dk")  # fmt: skip
    ref, text = both(monkeypatch, SNAP, method, SNAP.attendees[0], **kw)
    assert text == ref
    assert "\r\n" in text and "\n" not in text.replace("\r\n", "")


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow,
          HealthCheck.function_scoped_fixture])  # fmt: skip
@given(snapshots(), st.sampled_from([itip.REQUEST, itip.CANCEL]), st.sampled_from(["en", "no"]))
def test_any_text_is_the_same_text(
    monkeypatch: pytest.MonkeyPatch, case: tuple[EventSnapshot, Attendee], method: str, lang: str
) -> None:
    snap, recipient = case
    ref, text = both(monkeypatch, snap, method, recipient, organizer_language=lang,
                     reply_links=LINKS)  # fmt: skip
    assert text == ref


def test_shared_calendar_is_the_same_text(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(compose, "make_msgid", lambda domain: f"<m@{domain}>")
    cache = compose.CalendarCache()
    a, b = SNAP.attendees
    args = dict(message_id_domain="t.example", now=NOW, dtstamp=STAMP)
    for to in (a, b):
        counter = itertools.count()
        monkeypatch.setattr(compose, "_boundary", lambda c=counter: f"=_b{next(c)}")
        alone = compose.render_invitation(SNAP, itip.REQUEST, to, **args).text
        counter = itertools.count()
        monkeypatch.setattr(compose, "_boundary", lambda c=counter: f"=_b{next(c)}")
        shared = compose.render_invitation(SNAP, itip.REQUEST, to, calendars=cache, **args)
        assert shared.text == alone
    assert len(cache.calendars) == 1 and len(cache.texts) == 1


ZONES = st.sampled_from([None, "Europe/Oslo", "America/New_York", "Nowhere/Else"])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
          HealthCheck.function_scoped_fixture])  # fmt: skip
@given(
    snapshots(),
    st.sampled_from([itip.REQUEST, itip.CANCEL]),
    st.sampled_from(["en", "no", "da"]),
    st.lists(ZONES, min_size=2, max_size=4),
    st.sampled_from([frozenset(), frozenset({"title"}), frozenset({"time", "attendees"})]),
)
def test_shared_texts_are_the_same_text_for_every_recipient(
    monkeypatch: pytest.MonkeyPatch,
    case: tuple[EventSnapshot, Attendee],
    method: str,
    lang: str,
    zones: list[str | None],
    changes: frozenset[str],
) -> None:
    """One cache for all recipients of a change (zones, links, recipients differ) gives
    each the text it gets alone; a reference text with other links is not reused."""
    snap, recipient = case
    monkeypatch.setattr(compose, "make_msgid", lambda domain: f"<m@{domain}>")
    cache = compose.CalendarCache()
    people = [recipient, Attendee(email="zoe@elsewhere.example", name="Zoë Ærø")]
    for i, zone in enumerate(zones):
        to = people[i % 2]
        links = {PartStat.ACCEPTED: f"https://x.example/reply/a?t={i}"} if i % 3 else None
        kw = dict(organizer_language=lang, recipient_tz=zone, changes=changes,
                  reply_links=links, message_id_domain="t.example", now=NOW,
                  dtstamp=STAMP)  # fmt: skip
        counter = itertools.count()
        monkeypatch.setattr(compose, "_boundary", lambda c=counter: f"=_b{next(c)}")
        alone = compose.render_invitation(snap, method, to, **kw)
        counter = itertools.count()
        monkeypatch.setattr(compose, "_boundary", lambda c=counter: f"=_b{next(c)}")
        shared = compose.render_invitation(snap, method, to, calendars=cache, **kw)
        assert shared == alone
        ref, _ = both(monkeypatch, snap, method, to, organizer_language=lang,
                      recipient_tz=zone, changes=changes, reply_links=links)  # fmt: skip
        counter = itertools.count()
        monkeypatch.setattr(compose, "_boundary", lambda c=counter: f"=_b{next(c)}")
        again = compose.render_invitation(snap, method, to, calendars=cache, **kw)
        assert again.text == ref
