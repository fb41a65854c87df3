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


@dataclass(frozen=True)
class _Shared:
    """What the mails of one kind for one change have in common, whoever gets them."""

    snapshot: EventSnapshot  # made safe
    words: Texts
    subject: str  # the header values
    sender: str
    reply_to: str
    from_address: str
    plain_head: str  # quoted-printable with CRLF: the bodies up to the reply links
    html_head: str


class CalendarCache:
    """What the mails of one change share (one ``queue`` call): the calendar parts and the
    texts that do not depend on the recipient, built once for all recipients.

    Entries keep the caller's snapshot object alive, so its id is not reused."""

    def __init__(self) -> None:
        #: (snapshot, base64 lines) of each calendar part.
        self.calendars: dict[tuple[object, ...], tuple[EventSnapshot, str]] = {}
        #: (snapshot, shared texts) of each kind of mail.
        self.texts: dict[tuple[object, ...], tuple[EventSnapshot, _Shared]] = {}


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
    bytes); ``calendars`` shares what does not depend on the recipient between the
    recipients of a change: the calendar of a REQUEST (give one ``dtstamp`` to all), the
    headers and the bodies up to the reply links (quoted-printable encodes each line on
    its own, so the encoded head and the encoded links join to the encoded whole).
    """
    given = snapshot
    method = method.upper()
    if method not in (itip.REQUEST, itip.CANCEL):
        raise ValueError(f"cannot compose an invitation with METHOD {method}")
    changes = frozenset(changes)
    text_key = (id(given), method, organizer_language, recipient_tz, changes, recurrence_id,
                reply_to)  # fmt: skip
    found = calendars.texts.get(text_key) if calendars is not None else None
    if found is not None and found[0] is given:
        shared = found[1]
    else:
        shared = _shared(given, method, organizer_language, recipient_tz, changes,
                         recurrence_id, reply_to)  # fmt: skip
        if calendars is not None:
            calendars.texts[text_key] = (given, shared)
    snapshot, recipient = shared.snapshot, safe_attendee(recipient)
    organizer = snapshot.organizer
    assert organizer is not None
    if itip.same_address(recipient.email, organizer.email):
        raise ValueError("the organiser does not get an invitation")
    key: tuple[object, ...] = (id(given), method, recurrence_id, dtstamp)
    if method == itip.CANCEL:
        key += (recipient,)
    cache = calendars.calendars if calendars is not None and dtstamp is not None else None
    hit = cache.get(key) if cache is not None else None
    encoded = hit[1] if hit is not None and hit[0] is given else None
    if encoded is None:
        if method == itip.REQUEST:
            message = itip.request(snapshot, [recipient], dtstamp=dtstamp)
        else:
            message = itip.cancel(snapshot, [recipient], recurrence_id, dtstamp=dtstamp)
        encoded = _lines(base64.encodebytes(message.to_ical()).decode("ascii"))
        if cache is not None:
            cache[key] = (given, encoded)
    links = reply_links if method == itip.REQUEST else None
    plain = shared.plain_head + _qp(_plain_links(shared.words, links))
    markup = shared.html_head + _qp(_html_links(shared.words, links))
    message_id = make_msgid(domain=message_id_domain)
    inner, outer = _boundary(), _boundary()
    text = "".join(
        (
            f'Content-Type: multipart/mixed; boundary="{outer}"{CRLF}',
            f"MIME-Version: 1.0{CRLF}",
            shared.subject,
            shared.sender,
            _header("To", _mailbox(recipient.name, recipient.email)),
            shared.reply_to,
            _header("Date", format_datetime((now or datetime.now(UTC)).astimezone(UTC))),
            _header("Message-ID", message_id),
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
    return Rendered(text, message_id, shared.from_address)


def _shared(
    given: EventSnapshot,
    method: str,
    language: str | None,
    recipient_tz: str | None,
    changes: frozenset[str],
    rid: datetime | None,
    reply_to: str | None,
) -> _Shared:
    """The headers and body heads of one kind of mail for one change."""
    snapshot = safe_snapshot(given)
    organizer = snapshot.organizer
    if organizer is None:
        raise ValueError("an invitation needs an organiser")
    words = texts(language)
    subject, intro = _headline(words, method, bool(changes), rid is not None)
    lines = _facts(snapshot, words, recipient_tz, rid)
    changed = _changed(words, changes) if method == itip.REQUEST else ""
    lead = intro.format(organizer=organizer.name or organizer.email)
    sender = _mailbox(organizer.name, organizer.email)
    return _Shared(
        snapshot=snapshot,
        words=words,
        subject=_header("Subject", _encoded(one_line(subject.format(title=snapshot.title)))),
        sender=_header("From", sender),
        reply_to=_header("Reply-To", _mailbox(None, reply_to or organizer.email)),
        from_address=parseaddr(sender)[1],
        plain_head=_qp(_plain_head(lead, lines, changed, words)),
        html_head=_qp(_html_head(lead, lines, changed, words)),
    )


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
    if not body:
        return ""
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
    return _plain_head(intro, lines, changed, words) + _plain_links(words, links)


def _plain_head(intro: str, lines: list[tuple[str, str]], changed: str, words: Texts) -> str:
    """The text/plain body up to the reply links (ends with a newline)."""
    out = [intro, ""]
    if changed:
        out += [f"{words.changed}: {changed}", ""]
    out += [f"{label}: {value}" for label, value in lines]
    return "\n".join(out) + "\n"


def _plain_links(words: Texts, links: Mapping[PartStat, str] | None) -> str:
    """The end of the text/plain body: the reply links (empty without)."""
    if not links:
        return ""
    out = ["", f"{words.answer}:"]
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
    return _html_head(intro, lines, changed, words) + _html_links(words, links)


def _html_head(intro: str, lines: list[tuple[str, str]], changed: str, words: Texts) -> str:
    """The text/html body up to the reply links (ends with a newline)."""
    esc = html.escape
    rows = "".join(
        f'<tr><th align="left">{esc(label)}</th><td>{esc(value)}</td></tr>'
        for label, value in lines
    )
    parts = [f"<p>{esc(intro)}</p>"]
    if changed:
        parts.append(f"<p><strong>{esc(words.changed)}:</strong> {esc(changed)}</p>")
    parts.append(f"<table>{rows}</table>")
    body = "\n".join(parts)
    return f'<!DOCTYPE html>\n<html lang="{words.code}"><body>\n{body}\n'


def _html_links(words: Texts, links: Mapping[PartStat, str] | None) -> str:
    """The end of the text/html body: the reply links (if any) and the closing tags."""
    if not links:
        return "</body></html>\n"
    esc = html.escape
    anchors = " | ".join(
        f'<a href="{esc(url, quote=True)}">{esc(words.answers[p.value])}</a>'
        for p, url in links.items()
    )
    return f"<p>{esc(words.answer)}: {anchors}</p>\n</body></html>\n"
