"""Decide what an attendee's REPLY or COUNTER does to a stored meeting (RFC 5546).

Owns the pure organiser-side rules, with no database: read the iTIP components
(``parse_responses``), then ``decide`` against a neutral ``StoredMeeting``: apply a
PARTSTAT to the whole meeting or one occurrence (RFC 5546 section 3.2.3), ignore a reply
older than the one already applied (SEQUENCE, then DTSTAMP; section 2.1.5), turn a
COUNTER into a proposal (section 3.2.7), or reject with a reason: no ATTENDEE or
ORGANIZER (section 3.2.3 requires both), unknown UID, an attendee who was not invited,
or a sender who is neither the attendee nor its SENT-BY (RFC 6047 section 3).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import Enum
from zoneinfo import ZoneInfo

from icalendar import Calendar
from icalendar.cal.component import Component

from calcore.itip import normalize_address
from calcore.model import PartStat


class RejectCode(str, Enum):
    """Why a response was rejected."""

    NOT_A_RESPONSE = "not-a-response"
    NO_COMPONENT = "no-component"
    NO_UID = "no-uid"
    SEVERAL_UIDS = "several-uids"
    UNKNOWN_UID = "unknown-uid"
    NO_ORGANIZER = "no-organizer"
    WRONG_ORGANIZER = "wrong-organizer"
    NO_ATTENDEE = "no-attendee"
    SEVERAL_ATTENDEES = "several-attendees"
    NOT_INVITED = "not-invited"
    WRONG_SENDER = "wrong-sender"
    BAD_PARTSTAT = "bad-partstat"
    UNKNOWN_OCCURRENCE = "unknown-occurrence"
    NO_PROPOSED_TIME = "no-proposed-time"


@dataclass(frozen=True)
class ReplyStamp:
    """The SEQUENCE and DTSTAMP of the last reply applied for one attendee/occurrence."""

    sequence: int
    dtstamp: datetime | None


@dataclass(frozen=True)
class StoredAttendee:
    """An invited attendee and the last reply applied per occurrence (None: whole)."""

    email: str
    last_replies: Mapping[datetime | None, ReplyStamp] = field(default_factory=dict)


@dataclass(frozen=True)
class StoredMeeting:
    """The neutral view of a stored meeting that the reply rules need.

    ``override_ids`` are the UTC original starts of stored overrides; ``is_occurrence``
    (given for series) tells whether a UTC start is an occurrence of the rule; ``tzid``
    reads floating and DATE values.
    """

    uid: str
    sequence: int
    organizer_email: str
    attendees: tuple[StoredAttendee, ...]
    recurring: bool = False
    override_ids: frozenset[datetime] = frozenset()
    is_occurrence: Callable[[datetime], bool] | None = None
    tzid: str = "UTC"


@dataclass(frozen=True)
class ResponseAttendee:
    """One ATTENDEE line of a response."""

    email: str
    partstat: str | None
    sent_by: str | None
    name: str | None


@dataclass(frozen=True)
class ParsedResponse:
    """One VEVENT/VTODO of a REPLY or COUNTER, with times in UTC."""

    method: str
    component: str
    uid: str | None
    sequence: int
    dtstamp: datetime | None
    organizer: str | None
    attendees: tuple[ResponseAttendee, ...]
    recurrence_id: datetime | None
    request_status: str | None
    comment: str | None
    start: datetime | None
    end: datetime | None
    location: str | None


@dataclass(frozen=True)
class ApplyPartstat:
    """Set the attendee's PARTSTAT for the whole meeting or one occurrence."""

    attendee_email: str
    partstat: PartStat
    recurrence_id: datetime | None
    stamp: ReplyStamp
    schedule_status: str
    comment: str | None


@dataclass(frozen=True)
class IgnoreStale:
    """The response is not newer than what was applied; nothing changes."""

    attendee_email: str
    recurrence_id: datetime | None
    reason: str


@dataclass(frozen=True)
class Reject:
    """The response is refused; ``reason`` says why in plain words."""

    code: RejectCode
    reason: str


@dataclass(frozen=True)
class CounterProposal:
    """An attendee proposes a new time (and maybe place) for the meeting or occurrence."""

    attendee_email: str
    recurrence_id: datetime | None
    start: datetime
    end: datetime | None
    location: str | None
    comment: str | None
    stamp: ReplyStamp


Decision = ApplyPartstat | IgnoreStale | Reject | CounterProposal

_REPLY_PARTSTATS = {p.value: p for p in PartStat}


def response_uid(calendar: Calendar) -> str | None:
    """Return the UID to look the meeting up by (the first component's)."""
    for comp in _components(calendar):
        uid = _uid(comp)
        if uid:
            return uid
    return None


def parse_responses(calendar: Calendar, tzid: str = "UTC") -> list[ParsedResponse]:
    """Read every VEVENT/VTODO of a calendar into ``ParsedResponse`` values."""
    method = str(calendar.get("METHOD", "")).strip().upper()
    tz = ZoneInfo(tzid)
    out: list[ParsedResponse] = []
    for comp in _components(calendar):
        organizer = comp.get("ORGANIZER")
        out.append(
            ParsedResponse(
                method=method,
                component=str(comp.name),
                uid=_uid(comp),
                sequence=_int(comp.get("SEQUENCE")),
                dtstamp=_utc(comp, "DTSTAMP", tz),
                organizer=normalize_address(str(organizer)) if organizer else None,
                attendees=tuple(_attendees(comp)),
                recurrence_id=_utc(comp, "RECURRENCE-ID", tz),
                request_status=_request_status(comp),
                comment=str(comp["COMMENT"]) if "COMMENT" in comp else None,
                start=_utc(comp, "DTSTART", tz),
                end=_end(comp, tz),
                location=str(comp["LOCATION"]) if "LOCATION" in comp else None,
            )
        )
    return out


def decide(calendar: Calendar, sender: str, meeting: StoredMeeting | None) -> list[Decision]:
    """Return one decision per component of a REPLY or COUNTER from ``sender``."""
    method = str(calendar.get("METHOD", "")).strip().upper()
    if method not in ("REPLY", "COUNTER"):
        return [
            Reject(
                RejectCode.NOT_A_RESPONSE, f"METHOD is {method or 'missing'}, not REPLY or COUNTER"
            )
        ]
    responses = parse_responses(calendar, meeting.tzid if meeting else "UTC")
    if not responses:
        return [Reject(RejectCode.NO_COMPONENT, "the calendar has no VEVENT or VTODO")]
    uids = {r.uid for r in responses}
    if None in uids:
        return [Reject(RejectCode.NO_UID, "a component has no UID")]
    if len(uids) > 1 or "" in uids:
        return [
            Reject(
                RejectCode.SEVERAL_UIDS,
                f"the components have several UIDs: {sorted(u for u in uids if u)}",
            )
        ]
    uid = responses[0].uid
    if meeting is None or meeting.uid != uid:
        return [Reject(RejectCode.UNKNOWN_UID, f"no meeting has UID {uid}")]
    return [decide_one(r, sender, meeting) for r in responses]


def decide_one(response: ParsedResponse, sender: str, meeting: StoredMeeting) -> Decision:
    """Return the decision for one parsed component."""
    if response.organizer is None:
        return Reject(RejectCode.NO_ORGANIZER, f"the {response.method} has no ORGANIZER")
    if response.organizer != normalize_address(meeting.organizer_email):
        return Reject(
            RejectCode.WRONG_ORGANIZER,
            f"ORGANIZER {response.organizer} is not the organiser of {meeting.uid}",
        )
    if not response.attendees:
        return Reject(RejectCode.NO_ATTENDEE, f"the {response.method} has no ATTENDEE")
    who = normalize_address(sender)
    attendee = _responder(response.attendees, who)
    if attendee is None:
        return Reject(
            RejectCode.SEVERAL_ATTENDEES,
            f"the {response.method} has several ATTENDEE lines and none is the sender",
        )
    stored = _stored(meeting, attendee.email)
    if stored is None:
        return Reject(RejectCode.NOT_INVITED, f"{attendee.email} is not invited to {meeting.uid}")
    if who not in (attendee.email, attendee.sent_by):
        return Reject(
            RejectCode.WRONG_SENDER,
            f"the sender {who} is neither the attendee {attendee.email} nor its SENT-BY",
        )
    rid = response.recurrence_id
    if rid is not None and not _known_occurrence(meeting, rid):
        return Reject(
            RejectCode.UNKNOWN_OCCURRENCE, f"{meeting.uid} has no occurrence at {rid.isoformat()}"
        )
    stamp = ReplyStamp(response.sequence, response.dtstamp)
    stale = _stale_reason(stamp, stored.last_replies.get(rid), meeting.sequence)
    if stale is not None:
        return IgnoreStale(attendee.email, rid, stale)
    if response.method == "COUNTER":
        if response.start is None:
            return Reject(RejectCode.NO_PROPOSED_TIME, "the COUNTER has no DTSTART")
        return CounterProposal(
            attendee.email,
            rid,
            response.start,
            response.end,
            response.location,
            response.comment,
            stamp,
        )
    partstat = _REPLY_PARTSTATS.get((attendee.partstat or "NEEDS-ACTION").upper())
    if partstat is None:
        return Reject(
            RejectCode.BAD_PARTSTAT, f"PARTSTAT {attendee.partstat} is not a reply to a meeting"
        )
    status = response.request_status or "2.0"
    return ApplyPartstat(attendee.email, partstat, rid, stamp, status, response.comment)


def _stale_reason(
    stamp: ReplyStamp, applied: ReplyStamp | None, meeting_sequence: int
) -> str | None:
    """Tell why a reply is not newer than what was applied (RFC 5546 section 2.1.5)."""
    if stamp.sequence < meeting_sequence:
        return f"the reply is for SEQUENCE {stamp.sequence}, the meeting is at {meeting_sequence}"
    if applied is None:
        return None
    if stamp.sequence < applied.sequence:
        return f"a reply with SEQUENCE {applied.sequence} was already applied"
    if stamp.sequence > applied.sequence:
        return None
    if stamp.dtstamp is None or applied.dtstamp is None:
        return None
    if stamp.dtstamp <= applied.dtstamp:
        return f"a reply stamped {applied.dtstamp.isoformat()} was already applied"
    return None


def _known_occurrence(meeting: StoredMeeting, rid: datetime) -> bool:
    """Tell whether ``rid`` names an occurrence of the stored meeting."""
    if rid in meeting.override_ids:
        return True
    if not meeting.recurring:
        return False
    return meeting.is_occurrence is None or meeting.is_occurrence(rid)


def _responder(attendees: tuple[ResponseAttendee, ...], sender: str) -> ResponseAttendee | None:
    """Return the replying attendee: the only one, or the one the sender speaks for."""
    if len(attendees) == 1:
        return attendees[0]
    for attendee in attendees:
        if sender in (attendee.email, attendee.sent_by):
            return attendee
    return None


def _stored(meeting: StoredMeeting, email: str) -> StoredAttendee | None:
    """Return the stored attendee with that address (case-insensitive)."""
    for attendee in meeting.attendees:
        if normalize_address(attendee.email) == email:
            return attendee
    return None


def _components(calendar: Calendar) -> list[Component]:
    """Return the VEVENT and VTODO components of a calendar."""
    return [c for c in calendar.subcomponents if c.name in ("VEVENT", "VTODO")]


def _uid(comp: Component) -> str | None:
    """Return the UID; a repeated identical UID counts once, conflicting ones as ''."""
    value = comp.get("UID")
    if value is None:
        return None
    values = {str(v).strip() for v in (value if isinstance(value, list) else [value])}
    if len(values) > 1:
        return ""
    return values.pop() or None


def _attendees(comp: Component) -> list[ResponseAttendee]:
    """Return the ATTENDEE lines with their PARTSTAT, SENT-BY and CN."""
    values = comp.get("ATTENDEE")
    if values is None:
        return []
    if not isinstance(values, list):
        values = [values]
    out: list[ResponseAttendee] = []
    for value in values:
        params = getattr(value, "params", {})
        sent_by = params.get("SENT-BY")
        out.append(
            ResponseAttendee(
                email=normalize_address(str(value)),
                partstat=str(params["PARTSTAT"]).upper() if "PARTSTAT" in params else None,
                sent_by=normalize_address(str(sent_by)) if sent_by else None,
                name=str(params["CN"]) if "CN" in params else None,
            )
        )
    return out


def _request_status(comp: Component) -> str | None:
    """Return the status code of the first REQUEST-STATUS (RFC 5545 section 3.8.8.3)."""
    value = comp.get("REQUEST-STATUS")
    if value is None:
        return None
    if isinstance(value, list):
        value = value[0]
    code = str(value).split(";", 1)[0].strip()
    return code or None


def _utc(comp: Component, name: str, tz: ZoneInfo) -> datetime | None:
    """Return a date-time property in UTC; floating and DATE values are read in ``tz``."""
    prop = comp.get(name)
    if prop is None:
        return None
    if isinstance(prop, list):
        prop = prop[0]
    value = getattr(prop, "dt", None)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=tz)
        return value.astimezone(UTC)
    if isinstance(value, date):
        return datetime.combine(value, time(), tz).astimezone(UTC)
    return None


def _end(comp: Component, tz: ZoneInfo) -> datetime | None:
    """Return DTEND, DUE, or DTSTART plus DURATION, in UTC."""
    for name in ("DTEND", "DUE"):
        value = _utc(comp, name, tz)
        if value is not None:
            return value
    start = _utc(comp, "DTSTART", tz)
    duration = getattr(comp.get("DURATION"), "dt", None)
    if start is not None and isinstance(duration, timedelta):
        return start + duration
    return None


def _int(value: object) -> int:
    """Return an integer property, 0 when absent or invalid (RFC 5545 3.8.7.4)."""
    try:
        return int(str(value)) if value is not None else 0
    except ValueError:
        return 0
