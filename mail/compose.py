"""Compose iMIP invitation mails that every calendar program treats as meeting requests.

Owns the MIME shape (RFC 6047 section 2.4, as Outlook, Gmail, Apple Mail and Thunderbird
expect): ``multipart/mixed`` holding ``multipart/alternative`` (text/plain, text/html,
``text/calendar; method=...; charset=UTF-8``) and the same calendar again as an
``invite.ics`` attachment; the headers Message-ID, Date, From (the organiser, RFC 6047
section 3), To, Reply-To; and a subject and body in the organiser's language saying what,
when (in the recipient's zone when known), where and who, and for an update what changed.
The calendar itself comes from ``calcore.itip``; this module only wraps it.
"""

from __future__ import annotations

import base64
import html
import re
import uuid
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email import message_from_string, policy
from email.charset import QP, Charset
from email.header import Header
from email.headerregistry import Address
from email.message import EmailMessage, Message
from email.utils import format_datetime, formataddr, make_msgid, parseaddr
from typing import Any

from calcore import itip
from calcore.builder import zone
from calcore.model import Attendee, EventSnapshot, PartStat
from calcore.text import one_line, safe_attendee, safe_snapshot
from mail.i18n import Texts, texts

#: Classic (compat32) MIME with CRLF line ends: what SMTP DATA wants, without the header
#: registry of the modern policies.
WIRE = policy.compat32.clone(linesep="\r\n")
_QP = Charset("utf-8")
_QP.body_encoding = QP
_DOMAIN_JUNK = re.compile(r"[^\w.\-\[\]:]")

#: Order in which changes are listed in an update.
CHANGE_ORDER = (
    "time", "recurrence", "occurrences", "location", "status", "title", "description",
    "attendees", "alarm", "privacy", "availability",
)  # fmt: skip


def compose_invitation(
    snapshot: EventSnapshot, method: str, recipient: Attendee, **options: Any
) -> EmailMessage:
    """Return the REQUEST or CANCEL mail for one recipient (never the organiser).

    The message of ``render_invitation`` (same options) parsed as an ``EmailMessage``
    (``get_body`` and friends); the outbox stores the text of ``render_invitation`` directly.
    """
    built = render_invitation(snapshot, method, recipient, **options)
    parsed = message_from_string(built.text, policy=policy.SMTP)
    assert isinstance(parsed, EmailMessage)
    return parsed


def build_invitation(
    snapshot: EventSnapshot,
    method: str,
    recipient: Attendee,
    **options: Any,
) -> Message:
    """Return ``render_invitation``'s mail as a classic ``Message`` (same options)."""
    mail = render_invitation(snapshot, method, recipient, **options)
    return message_from_string(mail.text, policy=WIRE)


@dataclass(frozen=True)
class Rendered:
    """A composed mail: its whole text (CRLF line ends) and what the outbox row needs."""

    text: str
    message_id: str
    sender: str


#: Calendar parts already built in one ``queue`` call: (snapshot, base64 lines) per key.
CalendarCache = dict[tuple[object, ...], tuple[EventSnapshot, str]]


def render_invitation(
    snapshot: EventSnapshot,
    method: str,
    recipient: Attendee,
    *,
    organizer_language: str | None = "en",
    recipient_tz: str | None = None,
    changes: Collection[str] = (),
    reply_links: Mapping[PartStat, str] | None = None,
    reply_to: str | None = None,
    message_id_domain: str,
    recurrence_id: datetime | None = None,
    dtstamp: datetime | None = None,
    now: datetime | None = None,
    calendars: CalendarCache | None = None,
) -> Rendered:
    """Return the whole mail as RFC 5322 text with CRLF line ends, ready for SMTP DATA.

    ``multipart/mixed``: a ``multipart/alternative`` of text (quoted-printable), HTML and
    ``text/calendar; method=...``, then ``invite.ics`` as an attachment.  Every stored
    text is made safe first (``calcore.text``): no value can break a header or a calendar
    line.  The text is what the classic (compat32) MIME classes would generate for this
    shape, written directly (``tests/mail/test_compose_wire.py`` holds both to the same
    bytes); ``calendars`` shares one calendar between the recipients of a change (a
    REQUEST's calendar does not depend on its recipient; give one ``dtstamp`` to all).
    """
    given = snapshot
    snapshot, recipient = safe_snapshot(snapshot), safe_attendee(recipient)
    method = method.upper()
    organizer = snapshot.organizer
    if organizer is None:
        raise ValueError("an invitation needs an organiser")
    if itip.same_address(recipient.email, organizer.email):
        raise ValueError("the organiser does not get an invitation")
    if method not in (itip.REQUEST, itip.CANCEL):
        raise ValueError(f"cannot compose an invitation with METHOD {method}")
    # keyed by the caller's snapshot object (kept alive in the entry, so its id is not reused)
    key: tuple[object, ...] = (id(given), method, recurrence_id, dtstamp)
    if method == itip.CANCEL:
        key += (recipient,)
    shared = calendars is not None and dtstamp is not None
    hit = calendars.get(key) if calendars is not None and shared else None
    encoded = hit[1] if hit is not None and hit[0] is given else None
    if encoded is None:
        if method == itip.REQUEST:
            message = itip.request(snapshot, [recipient], dtstamp=dtstamp)
        else:
            message = itip.cancel(snapshot, [recipient], recurrence_id, dtstamp=dtstamp)
        encoded = _lines(base64.encodebytes(message.to_ical()).decode("ascii"))
        if calendars is not None and shared:
            calendars[key] = (given, encoded)
    words = texts(organizer_language)
    subject, intro = _headline(words, method, bool(changes), recurrence_id is not None)
    lines = _facts(snapshot, words, recipient_tz, recurrence_id)
    changed = _changed(words, changes) if method == itip.REQUEST else ""
    links = reply_links if method == itip.REQUEST else None
    lead = intro.format(organizer=organizer.name or organizer.email)

    inner, outer = _boundary(), _boundary()
    plain = _qp(_plain(lead, lines, changed, words, links))
    markup = _qp(_html(lead, lines, changed, words, links))
    headers = (
        ("Content-Type", f'multipart/mixed; boundary="{outer}"'),
        ("MIME-Version", "1.0"),
        ("Subject", _encoded(one_line(subject.format(title=snapshot.title)))),
        ("From", _mailbox(organizer.name, organizer.email)),
        ("To", _mailbox(recipient.name, recipient.email)),
        ("Reply-To", _mailbox(None, reply_to or organizer.email)),
        ("Date", format_datetime((now or datetime.now(UTC)).astimezone(UTC))),
        ("Message-ID", make_msgid(domain=message_id_domain)),
    )
    text = "".join(
        (
            *(_header(name, value) for name, value in headers),
            f"{CRLF}--{outer}{CRLF}",
            f'Content-Type: multipart/alternative; boundary="{inner}"{CRLF}{CRLF}',
            f"--{inner}{CRLF}",
            f'Content-Type: text/plain; charset="utf-8"{CRLF}',
            f"Content-Transfer-Encoding: quoted-printable{CRLF}{CRLF}{plain}",
            f"{CRLF}--{inner}{CRLF}",
            f'Content-Type: text/html; charset="utf-8"{CRLF}',
            f"Content-Transfer-Encoding: quoted-printable{CRLF}{CRLF}{markup}",
            f"{CRLF}--{inner}{CRLF}",
            f'Content-Type: text/calendar; method="{method}"; charset="UTF-8"{CRLF}',
            f"Content-Transfer-Encoding: base64{CRLF}{CRLF}{encoded}",
            f"{CRLF}--{inner}--{CRLF}",
            f"{CRLF}--{outer}{CRLF}",
            f'Content-Type: application/ics; name="invite.ics"{CRLF}',
            f"Content-Transfer-Encoding: base64{CRLF}",
            f'Content-Disposition: attachment; filename="invite.ics"{CRLF}{CRLF}{encoded}',
            f"{CRLF}--{outer}--{CRLF}",
        )
    )
    return Rendered(text, headers[-1][1], parseaddr(headers[3][1])[1])


CRLF = "\r\n"
_NEWLINES = re.compile(r"\r\n|\r|\n")
#: Header values written as they are: printable ASCII words with single spaces (the
#: classic folding would return them unchanged); anything else goes through it.
_PLAIN_HEADER = re.compile(r"[!-~]+(?: [!-~]+)*")
_UNFOLDED = WIRE.clone(max_line_length=0)


def _lines(text: str) -> str:
    """``text`` with every line end as CRLF (what the generator writes for a payload)."""
    return _NEWLINES.sub(CRLF, text)


def _qp(body: str) -> str:
    """A UTF-8 text body in quoted-printable, CRLF line ends."""
    return _lines(_QP.body_encode(body.encode("utf-8")))


def _header(name: str, value: str) -> str:
    """One header line as ``Message.as_string`` writes it (compat32, no folding)."""
    if _PLAIN_HEADER.fullmatch(value):
        return f"{name}: {value}{CRLF}"
    return str(_UNFOLDED.fold(name, value))


def _boundary() -> str:
    """A random MIME boundary; "=_" cannot occur in base64 or quoted-printable lines."""
    return f"=_{uuid.uuid4().hex}"


def _encoded(value: str) -> str:
    """A header value, RFC 2047-encoded when it is not plain ASCII."""
    return value if value.isascii() else Header(value, "utf-8").encode()


def _mailbox(name: str | None, email: str) -> str:
    """One mailbox for an address header, whatever the stored text: the local part is
    quoted where needed, the domain keeps only domain characters (IDNA for non-ASCII), so
    no value can add a recipient or break the header.  An address that cannot be written
    in ASCII (a non-ASCII local part needs SMTPUTF8) becomes the display name of an empty
    address: the mail reads back and is refused where it is sent, not here.
    """
    local, at, domain = email.rpartition("@")
    if not at:
        local, domain = email, ""
    domain = _DOMAIN_JUNK.sub("", domain)
    try:
        domain = domain.encode("idna").decode("ascii") if not domain.isascii() else domain
    except UnicodeError:
        domain = ""
    if not local.isascii() or (domain == "" and local != ""):
        return _address(name or email, "")
    return _address(name or "", str(Address(username=local, domain=domain)))


def _address(name: str, addr_spec: str) -> str:
    """``name <addr_spec>``, the name RFC 2047-encoded when it is not plain ASCII."""
    return formataddr((one_line(name), addr_spec), charset="utf-8")


def _headline(words: Texts, method: str, update: bool, occurrence: bool) -> tuple[str, str]:
    """Return the subject and intro templates for the kind of mail."""
    if method == itip.CANCEL:
        if occurrence:
            return words.subject_cancel_occurrence, words.intro_cancel_occurrence
        return words.subject_cancel, words.intro_cancel
    if update:
        return words.subject_update, words.intro_update
    return words.subject_request, words.intro_request


def _facts(
    snapshot: EventSnapshot, words: Texts, recipient_tz: str | None, rid: datetime | None
) -> list[tuple[str, str]]:
    """Return the label/value lines: what, when, repeats, where, organiser, participants."""
    tzid = recipient_tz or snapshot.tzid
    try:
        tz = zone(tzid)
    except ValueError:
        tzid, tz = snapshot.tzid, zone(snapshot.tzid)
    start, end = _when(snapshot, rid)
    lines = [(words.what, snapshot.title)]
    if snapshot.all_day and (start or snapshot.due) is not None:
        lines.append(_days(snapshot, words, start, end))
    elif start is not None:
        lines.append(
            (words.when, words.span(start.astimezone(tz), end and end.astimezone(tz), tzid))
        )
    elif snapshot.due is not None:
        lines.append((words.due, words.span(snapshot.due.astimezone(tz), None, tzid)))
    if snapshot.rrule and rid is None:
        lines.append((words.repeats, _frequency(words, snapshot.rrule)))
    if snapshot.location:
        lines.append((words.where, snapshot.location))
    organizer = snapshot.organizer
    if organizer is not None:
        lines.append((words.organizer, _person(organizer.name, organizer.email)))
    people = [_person(a.name, a.email) for a in snapshot.attendees]
    if people:
        lines.append((words.participants, ", ".join(people)))
    return lines


def _days(
    snapshot: EventSnapshot, words: Texts, start: datetime | None, end: datetime | None
) -> tuple[str, str]:
    """The when (or due) line of an all-day item: the owner's dates, the last inclusive."""
    tz = zone(snapshot.tzid)
    if start is None:
        assert snapshot.due is not None
        day = snapshot.due.astimezone(tz).date()
        return words.due, words.days(day, day)
    first = start.astimezone(tz).date()
    after = end.astimezone(tz).date() if end is not None else first
    return words.when, words.days(first, max(first, after - timedelta(days=1)))


def _when(snapshot: EventSnapshot, rid: datetime | None) -> tuple[datetime | None, ...]:
    """Return the start and end shown: the occurrence's when one is cancelled."""
    if rid is None:
        return snapshot.start, snapshot.end
    rid = rid.astimezone(UTC)
    for override in snapshot.overrides:
        if override.recurrence_id == rid:
            return override.start, override.end
    if snapshot.start is not None and snapshot.end is not None:
        return rid, rid + (snapshot.end - snapshot.start)
    return rid, None


def _frequency(words: Texts, rrule: str) -> str:
    """Return the rule's frequency in words, with its interval when not 1."""
    parts = dict(
        p.split("=", 1) for p in rrule.upper().removeprefix("RRULE:").split(";") if "=" in p
    )
    text = words.frequencies.get(parts.get("FREQ", ""), parts.get("FREQ", "").lower())
    interval = parts.get("INTERVAL", "1")
    return f"{text} (\u00d7{interval})" if interval not in ("", "1") else text


def _changed(words: Texts, changes: Collection[str]) -> str:
    """Return the translated list of what changed, in a stable order."""
    known = [c for c in CHANGE_ORDER if c in changes]
    known += sorted(c for c in changes if c not in CHANGE_ORDER)
    return ", ".join(words.change_names.get(c, c) for c in known)


def _person(name: str | None, email: str) -> str:
    """Return 'Name <email>' or the bare address."""
    return f"{name} <{email}>" if name else email


def _plain(
    intro: str,
    lines: list[tuple[str, str]],
    changed: str,
    words: Texts,
    links: Mapping[PartStat, str] | None,
) -> str:
    """Return the text/plain body."""
    out = [intro, ""]
    if changed:
        out += [f"{words.changed}: {changed}", ""]
    out += [f"{label}: {value}" for label, value in lines]
    if links:
        out += ["", f"{words.answer}:"]
        out += [f"  {words.answers[p.value]}: {url}" for p, url in links.items()]
    return "\n".join(out) + "\n"


def _html(
    intro: str,
    lines: list[tuple[str, str]],
    changed: str,
    words: Texts,
    links: Mapping[PartStat, str] | None,
) -> str:
    """Return the text/html body; every value is escaped."""
    esc = html.escape
    rows = "".join(
        f'<tr><th align="left">{esc(label)}</th><td>{esc(value)}</td></tr>'
        for label, value in lines
    )
    parts = [f"<p>{esc(intro)}</p>"]
    if changed:
        parts.append(f"<p><strong>{esc(words.changed)}:</strong> {esc(changed)}</p>")
    parts.append(f"<table>{rows}</table>")
    if links:
        anchors = " | ".join(
            f'<a href="{esc(url, quote=True)}">{esc(words.answers[p.value])}</a>'
            for p, url in links.items()
        )
        parts.append(f"<p>{esc(words.answer)}: {anchors}</p>")
    body = "\n".join(parts)
    return f'<!DOCTYPE html>\n<html lang="{words.code}"><body>\n{body}\n</body></html>\n'
