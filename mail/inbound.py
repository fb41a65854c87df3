"""Parse an inbound e-mail into the iTIP calendars it carries, or a bounce (RFC 6047).

Owns reading raw message bytes: the sender, Message-ID, every iCalendar part
(``text/calendar``, ``application/ics``, or an ``.ics`` attachment; RFC 6047 section 2.4)
decoded from quoted-printable or base64 in any case, in any charset, with or without a
UTF-8 BOM, bare LF or folded lines (RFC 5545 section 3.1), and the METHOD taken from the
iCalendar object rather than the MIME ``method=`` parameter (RFC 6047 section 2.4 says
they agree; we trust the object).  A delivery status notification (RFC 3464, inside
``multipart/report``, RFC 6522) is reported as a bounce of the original message, whose
calendar is *not* offered as a new iTIP message.

``parse_message`` never raises anything but ``MailParseError``, whose ``reason`` says why.
"""

from __future__ import annotations

import codecs
import email
import email.header
import email.utils
from dataclasses import dataclass
from email.message import Message

from icalendar import Calendar

#: Methods that make a calendar an iTIP message (RFC 5546 section 1.4); PUBLISH is not
#: scheduling and is not offered for processing.
ITIP_METHODS = frozenset(
    {"REQUEST", "REPLY", "ADD", "CANCEL", "REFRESH", "COUNTER", "DECLINECOUNTER"}
)
CALENDAR_TYPES = frozenset(
    {"text/calendar", "application/ics", "text/x-vcalendar", "application/x-ics"}
)
MAX_MESSAGE_BYTES = 10 * 1024 * 1024
MAX_PARTS = 200
_BOM = "\ufeff"


class MailParseError(Exception):
    """The message cannot be read; ``reason`` says why in plain words."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class FoundCalendar:
    """One iCalendar object found in a message, with where it came from."""

    method: str | None
    calendar: Calendar
    content_type: str
    mime_method: str | None

    @property
    def is_itip(self) -> bool:
        """Tell whether this is a scheduling message (not PUBLISH, not METHOD-less)."""
        return self.method in ITIP_METHODS

    @property
    def uid(self) -> str | None:
        """Return the UID of the first VEVENT/VTODO/VJOURNAL/VFREEBUSY, if any."""
        for comp in self.calendar.walk():
            if comp.name in ("VEVENT", "VTODO", "VJOURNAL", "VFREEBUSY") and "UID" in comp:
                return str(comp["UID"])
        return None


@dataclass(frozen=True)
class Bounce:
    """A delivery status report (RFC 3464) of a message we sent.

    ``failed_recipients`` had ``Action: failed`` (or no Action); ``delayed`` maps each
    recipient with ``Action: delayed`` (a 4.x.x status: the MTA is still trying) to its
    status; recipients reported delivered, relayed or expanded are in neither.
    """

    failed_recipients: tuple[str, ...]
    status: str | None
    original_message_id: str | None
    original_uid: str | None
    original_method: str | None
    delayed: tuple[tuple[str, str | None], ...] = ()
    informational: bool = False


@dataclass(frozen=True)
class InboundMessage:
    """What an inbound e-mail says, as far as scheduling cares."""

    sender: str | None
    sender_name: str | None
    message_id: str | None
    in_reply_to: str | None
    subject: str
    calendars: tuple[FoundCalendar, ...]
    bounce: Bounce | None
    problems: tuple[str, ...] = ()

    @property
    def itip(self) -> tuple[FoundCalendar, ...]:
        """Return the calendars that are iTIP messages to process."""
        if self.bounce is not None:
            return ()
        return tuple(c for c in self.calendars if c.is_itip)


def parse_message(raw: bytes, *, max_bytes: int = MAX_MESSAGE_BYTES) -> InboundMessage:
    """Parse raw RFC 5322 bytes; raise ``MailParseError`` with a reason when unusable."""
    if not isinstance(raw, bytes | bytearray):
        raise MailParseError("the message is not bytes")
    if not raw.strip():
        raise MailParseError("the message is empty")
    if len(raw) > max_bytes:
        raise MailParseError(f"the message is larger than {max_bytes} bytes")
    try:
        return _parse(bytes(raw))
    except MailParseError:
        raise
    except RecursionError as exc:
        raise MailParseError("the MIME structure is nested too deeply") from exc
    except Exception as exc:  # the guarantee: nothing but MailParseError escapes
        raise MailParseError(f"the message cannot be parsed ({type(exc).__name__})") from exc


def _parse(raw: bytes) -> InboundMessage:
    """Do the parsing; exceptions are mapped by ``parse_message``."""
    msg = email.message_from_bytes(raw)
    if not msg.keys():
        raise MailParseError("the message has no header fields")
    if msg.defects and not msg.get("From") and not msg.get("Content-Type"):
        raise MailParseError("the message has no usable header fields")
    sender_name, sender = _address(msg.get("From"))
    if sender is None:
        raise MailParseError("the message has no valid From address")
    problems: list[str] = []
    bounce = _bounce(msg, problems)
    calendars = () if bounce is not None else tuple(_calendars(msg, problems))
    return InboundMessage(
        sender=sender,
        sender_name=sender_name,
        message_id=_msgid(msg.get("Message-ID")),
        in_reply_to=_msgid(msg.get("In-Reply-To")),
        subject=_text_header(msg.get("Subject")),
        calendars=calendars,
        bounce=bounce,
        problems=tuple(problems),
    )


def _calendars(msg: Message, problems: list[str]) -> list[FoundCalendar]:
    """Return every distinct calendar in the message, skipping attached messages.

    Google sends the same object twice (text/calendar and an application/ics
    attachment); an identical copy is kept once.
    """
    found: list[FoundCalendar] = []
    seen: set[bytes] = set()
    for part in _leaves(msg, into_messages=False):
        if not _is_calendar_part(part):
            continue
        try:
            for cal in _read_calendar_part(part):
                key = bytes(cal.calendar.to_ical())
                if key not in seen:
                    seen.add(key)
                    found.append(cal)
        except MailParseError as exc:
            problems.append(exc.reason)
    if not found and problems:
        raise MailParseError("; ".join(problems))
    return found


def _leaves(msg: Message, *, into_messages: bool) -> list[Message]:
    """Return the non-multipart parts, depth first, bounded in number."""
    out: list[Message] = []
    stack: list[tuple[Message, int]] = [(msg, 0)]
    while stack:
        part, depth = stack.pop()
        if depth > 20:
            raise MailParseError("the MIME structure is nested too deeply")
        ctype = part.get_content_type()
        if part.is_multipart():
            payload = part.get_payload()
            if not isinstance(payload, list):
                continue
            if ctype == "message/rfc822" and not into_messages:
                continue
            stack.extend((p, depth + 1) for p in reversed(payload) if isinstance(p, Message))
        else:
            out.append(part)
        if len(out) > MAX_PARTS:
            raise MailParseError(f"the message has more than {MAX_PARTS} parts")
    return out


def _is_calendar_part(part: Message) -> bool:
    """Tell whether a leaf part holds iCalendar data (RFC 6047 section 2.4)."""
    ctype = part.get_content_type()
    if ctype in CALENDAR_TYPES:
        return True
    filename = part.get_filename() or part.get_param("name") or ""
    name = str(filename).lower() if not isinstance(filename, tuple) else ""
    return ctype == "application/octet-stream" and name.endswith((".ics", ".ical"))


def _read_calendar_part(part: Message) -> list[FoundCalendar]:
    """Decode one calendar part into calendars; raise ``MailParseError`` when broken."""
    data = part.get_payload(decode=True)
    if not isinstance(data, bytes) or not data.strip():
        raise MailParseError(f"the {part.get_content_type()} part is empty")
    text = decode_text(data, _param(part, "charset"))
    mime_method = _param(part, "method")
    calendars = parse_calendars(text)
    out: list[FoundCalendar] = []
    for cal in calendars:
        method = str(cal.get("METHOD", "")).strip().upper() or None
        if method is None and mime_method:
            method = mime_method.upper()
        out.append(FoundCalendar(method, cal, part.get_content_type(), mime_method))
    return out


def decode_text(data: bytes, charset: str | None) -> str:
    """Decode calendar bytes: declared charset, else UTF-8, else ISO-8859-1; drop a BOM."""
    if data.startswith(codecs.BOM_UTF8):
        data, charset = data[len(codecs.BOM_UTF8) :], "utf-8"
    candidates = [c for c in (charset, "utf-8") if c]
    for name in candidates:
        try:
            codecs.lookup(name)
            text = data.decode(name)
        except (LookupError, UnicodeDecodeError):
            continue
        return text.lstrip(_BOM)
    return data.decode("iso-8859-1").lstrip(_BOM)


def parse_calendars(text: str) -> list[Calendar]:
    """Parse one or more VCALENDAR objects; raise ``MailParseError`` with the cause."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip("\x00 \t\n")
    if "BEGIN:VCALENDAR" not in text.upper():
        raise MailParseError("the calendar part holds no BEGIN:VCALENDAR")
    text = text.replace("\n", "\r\n") + "\r\n"
    try:
        result = Calendar.from_ical(text, multiple=True)
    except Exception as exc:
        raise MailParseError(f"the calendar part is not valid iCalendar: {exc}") from exc
    calendars = [c for c in result if isinstance(c, Calendar) and c.name == "VCALENDAR"]
    if not calendars:
        raise MailParseError("the calendar part holds no VCALENDAR")
    for cal in calendars:
        for comp in cal.walk():
            if comp.errors:
                raise MailParseError(
                    f"the calendar part has invalid {comp.name} data: {comp.errors[0][1]}"
                )
    return calendars


def _bounce(msg: Message, problems: list[str]) -> Bounce | None:
    """Return the bounce report when the message is a DSN (RFC 3464, RFC 6522)."""
    report = msg.get_content_type() == "multipart/report"
    status_parts = [p for p in _walk(msg) if p.get_content_type() == "message/delivery-status"]
    if not report and not status_parts:
        return None
    recipients: list[str] = []
    delayed: dict[str, str | None] = {}
    status: str | None = None
    reported = False
    for part in status_parts:
        for block in _status_blocks(part):
            rcpt = block.get("Final-Recipient") or block.get("Original-Recipient")
            if not rcpt:
                continue
            reported = True
            action = (block.get("Action") or "").strip().lower()
            addr = str(rcpt).split(";", 1)[-1].strip().strip("<>").lower()
            code = str(block.get("Status")).strip() if block.get("Status") else None
            if action == "delayed":
                if addr:
                    delayed.setdefault(addr, code)
                continue
            if action and action != "failed":
                continue
            if addr and addr not in recipients:
                recipients.append(addr)
            if code and status is None:
                status = code
    if not status_parts and not recipients:
        return None
    informational = reported and not recipients and not delayed
    original = _original(msg)
    uid = method = original_id = None
    if original is not None:
        original_id = _msgid(original.get("Message-ID"))
        for found in _safe_calendars(original, problems):
            uid, method = found.uid, found.method
            break
    return Bounce(
        tuple(recipients), status, original_id, uid, method, tuple(delayed.items()), informational
    )


def _walk(msg: Message) -> list[Message]:
    """Return all parts of the top-level MIME tree, not inside attached messages."""
    out: list[Message] = []
    stack = [msg]
    while stack and len(out) <= MAX_PARTS:
        part = stack.pop()
        out.append(part)
        if part.is_multipart() and part.get_content_type() != "message/rfc822":
            payload = part.get_payload()
            if isinstance(payload, list):
                stack.extend(p for p in payload if isinstance(p, Message))
    return out


def _status_blocks(part: Message) -> list[Message]:
    """Return the per-message and per-recipient field blocks of a delivery-status part."""
    payload = part.get_payload()
    if isinstance(payload, list):
        return [p for p in payload if isinstance(p, Message)]
    text = payload if isinstance(payload, str) else ""
    blocks = text.replace("\r\n", "\n").split("\n\n")
    return [email.message_from_string(b.strip() + "\n") for b in blocks if b.strip()]


def _original(msg: Message) -> Message | None:
    """Return the returned original message of a DSN (message/rfc822 part)."""
    for part in _walk(msg):
        if part.get_content_type() in ("message/rfc822", "text/rfc822-headers"):
            payload = part.get_payload()
            if isinstance(payload, list) and payload and isinstance(payload[0], Message):
                return payload[0]
            if isinstance(payload, str):
                return email.message_from_string(payload)
    return None


def _safe_calendars(msg: Message, problems: list[str]) -> list[FoundCalendar]:
    """Return the calendars of the returned original, recording problems only."""
    try:
        return _calendars(msg, problems)
    except MailParseError as exc:
        problems.append(f"returned message: {exc.reason}")
        return []


def _param(part: Message, name: str) -> str | None:
    """Return a Content-Type parameter as plain text."""
    value = part.get_param(name)
    if value is None:
        return None
    if isinstance(value, tuple):
        value = email.utils.collapse_rfc2231_value(value)
    return str(value).strip().strip('"') or None


def _text_header(value: object) -> str:
    """Decode an RFC 2047 header to text, never raising."""
    if value is None:
        return ""
    try:
        return str(email.header.make_header(email.header.decode_header(str(value))))
    except (UnicodeError, LookupError, ValueError, email.errors.HeaderParseError):
        return str(value)


def _address(value: object) -> tuple[str | None, str | None]:
    """Return (display name, lower-case address) of a From header, or Nones."""
    if value is None:
        return None, None
    pairs = email.utils.getaddresses([str(value)])
    for name, addr in pairs:
        addr = "".join(addr.split())
        if "@" in addr and not addr.startswith("@") and not addr.endswith("@"):
            return (_text_header(name) or None), addr.lower()
    return None, None


def _msgid(value: object) -> str | None:
    """Return a Message-ID without spaces, or None."""
    if value is None:
        return None
    text = "".join(str(value).split())
    return text or None
