"""iTIP messages (RFC 5546) built from an ``EventSnapshot``, and the SEQUENCE rules.

Owns REQUEST (section 3.2.2), CANCEL (section 3.2.5), REPLY (section 3.2.3, for tests
and round trips), COUNTER (section 3.2.7, likewise) and DECLINECOUNTER (section 3.2.8),
plus which changes are significant enough to bump SEQUENCE (section 2.1.4) and ask the
attendees again.  Every message comes from ``calcore.builder.build_calendar`` so that
mail and CalDAV never disagree on what a meeting is.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from icalendar import Calendar, Event, Todo, vCalAddress

from calcore.builder import (
    add_timezones,
    attendee_address,
    build_calendar,
    is_event,
    mailto,
    new_calendar,
    zone,
)
from calcore.model import Attendee, EventSnapshot, PartStat, Person
from calcore.text import safe_attendee, safe_snapshot

REQUEST = "REQUEST"
CANCEL = "CANCEL"
REPLY = "REPLY"
COUNTER = "COUNTER"
DECLINECOUNTER = "DECLINECOUNTER"

#: What ``significant_changes`` can report; all of them bump SEQUENCE.
SIGNIFICANT = frozenset({"time", "recurrence", "location", "status", "occurrences"})
#: What ``changes`` can report beyond the significant ones.
MINOR = frozenset({"title", "description", "attendees", "alarm", "privacy", "availability"})


@dataclass(frozen=True)
class ItipMessage:
    """One iTIP message: its METHOD, the calendar and who it goes to."""

    method: str
    uid: str
    sequence: int
    calendar: Calendar
    recipients: tuple[Attendee, ...]
    recurrence_id: datetime | None = None

    def to_ical(self) -> bytes:
        """Return the calendar as bytes (CRLF lines, folded, RFC 5545 section 3.1)."""
        return bytes(self.calendar.to_ical())


def same_address(a: str, b: str) -> bool:
    """Compare two calendar addresses, ignoring ``mailto:`` and case (RFC 5546 3.2)."""
    return normalize_address(a) == normalize_address(b)


def normalize_address(value: str) -> str:
    """Return the bare lower-case e-mail of a ``mailto:`` URI or an address."""
    text = "".join(str(value).split())
    if text[:7].lower() == "mailto:":
        text = text[7:]
    return text.lower()


def invitees(snapshot: EventSnapshot, recipients: Iterable[Attendee]) -> tuple[Attendee, ...]:
    """Return the recipients minus the organiser and duplicates (RFC 5546 section 2.1)."""
    seen: set[str] = set()
    if snapshot.organizer is not None:
        seen.add(normalize_address(snapshot.organizer.email))
    out: list[Attendee] = []
    for attendee in recipients:
        key = normalize_address(attendee.email)
        if key and key not in seen:
            seen.add(key)
            out.append(attendee)
    return tuple(out)


def request(
    snapshot: EventSnapshot,
    recipients: Iterable[Attendee],
    *,
    dtstamp: datetime | None = None,
) -> ItipMessage:
    """Build a REQUEST: the whole object with all attendees (RFC 5546 section 3.2.2)."""
    snapshot, recipients = safe_snapshot(snapshot), [safe_attendee(r) for r in recipients]
    _need_organizer(snapshot, REQUEST)
    if snapshot.cancelled:
        raise ValueError("a cancelled follow-up is sent with cancel(), not request()")
    cal = build_calendar(snapshot, REQUEST, dtstamp=dtstamp)
    return ItipMessage(
        REQUEST, snapshot.uid, snapshot.sequence, cal, invitees(snapshot, recipients)
    )


def cancel(
    snapshot: EventSnapshot,
    recipients: Iterable[Attendee],
    recurrence_id: datetime | None = None,
    *,
    dtstamp: datetime | None = None,
) -> ItipMessage:
    """Build a CANCEL for the whole meeting or one occurrence (RFC 5546 section 3.2.5).

    The ATTENDEE lines are the recipients only: those being removed, or everybody when
    the meeting is deleted.  Pass the snapshot with its SEQUENCE already bumped (see
    ``cancelled``); for one occurrence give its original start as ``recurrence_id``.
    """
    snapshot, recipients = safe_snapshot(snapshot), [safe_attendee(r) for r in recipients]
    _need_organizer(snapshot, CANCEL)
    to = invitees(snapshot, recipients)
    if recurrence_id is not None:
        occurrence = _occurrence(snapshot, recurrence_id)
        target = replace(
            occurrence,
            attendees=to,
            cancelled=True,
            overrides=(),
            rrule=None,
            rdates=(),
            exdates=(),
            alarm_minutes=None,
            sequence=max(occurrence.sequence, snapshot.sequence),
        )
    else:
        target = replace(snapshot, attendees=to, cancelled=True, overrides=(), alarm_minutes=None)
    cal = build_calendar(target, CANCEL, dtstamp=dtstamp)
    return ItipMessage(CANCEL, snapshot.uid, target.sequence, cal, to, target.recurrence_id)


def cancelled(snapshot: EventSnapshot) -> EventSnapshot:
    """Return the snapshot as deleted: STATUS:CANCELLED and SEQUENCE bumped."""
    return replace(snapshot, cancelled=True, sequence=snapshot.sequence + 1)


def reply(
    snapshot: EventSnapshot,
    attendee_email: str,
    partstat: PartStat,
    *,
    recurrence_id: datetime | None = None,
    comment: str | None = None,
    sent_by: str | None = None,
    dtstamp: datetime | None = None,
) -> ItipMessage:
    """Build an attendee's REPLY with only that ATTENDEE (RFC 5546 section 3.2.3)."""
    snapshot = safe_snapshot(snapshot)
    return _attendee_message(
        REPLY,
        snapshot,
        attendee_email,
        partstat,
        recurrence_id=recurrence_id,
        comment=comment,
        sent_by=sent_by,
        dtstamp=dtstamp,
    )


def counter(
    snapshot: EventSnapshot,
    attendee_email: str,
    start: datetime,
    end: datetime,
    *,
    recurrence_id: datetime | None = None,
    comment: str | None = None,
    dtstamp: datetime | None = None,
) -> ItipMessage:
    """Build an attendee's COUNTER proposing a new time (RFC 5546 section 3.2.7)."""
    snapshot = safe_snapshot(snapshot)
    base = _occurrence(snapshot, recurrence_id) if recurrence_id else snapshot
    proposed = replace(base, start=start, end=end)
    return _attendee_message(
        COUNTER,
        proposed,
        attendee_email,
        None,
        recurrence_id=recurrence_id,
        comment=comment,
        sent_by=None,
        dtstamp=dtstamp,
    )


def declinecounter(
    snapshot: EventSnapshot,
    attendee: Attendee,
    *,
    recurrence_id: datetime | None = None,
    comment: str | None = None,
    dtstamp: datetime | None = None,
) -> ItipMessage:
    """Build the organiser's DECLINECOUNTER to one attendee (RFC 5546 section 3.2.8)."""
    snapshot = safe_snapshot(snapshot)
    organizer = _need_organizer(snapshot, DECLINECOUNTER)
    cal = new_calendar(DECLINECOUNTER)
    comp = _skeleton(snapshot, recurrence_id, dtstamp)
    org = vCalAddress(mailto(organizer.email))
    if organizer.name:
        org.params["CN"] = organizer.name
    comp.add("organizer", org)
    comp.add("attendee", attendee_address(attendee))
    if comment:
        comp.add("comment", comment)
    cal.add_component(comp)
    add_timezones(cal, [m for m in (recurrence_id,) if m])
    return ItipMessage(
        DECLINECOUNTER, snapshot.uid, snapshot.sequence, cal, (attendee,), recurrence_id
    )


def changes(old: EventSnapshot, new: EventSnapshot) -> set[str]:
    """Return every kind of change between two versions, significant or not."""
    found = significant_changes(old, new)
    if old.title != new.title:
        found.add("title")
    if old.description != new.description:
        found.add("description")
    if _people(old.attendees) != _people(new.attendees):
        found.add("attendees")
    if old.alarm_minutes != new.alarm_minutes:
        found.add("alarm")
    if old.private != new.private:
        found.add("privacy")
    if old.transparent != new.transparent:
        found.add("availability")
    return found


def significant_changes(old: EventSnapshot, new: EventSnapshot) -> set[str]:
    """Return the changes that reschedule the meeting (RFC 5546 section 2.1.4).

    ``time`` (start, end, due), ``recurrence`` (rule, dates, exceptions, or the zone a
    rule is evaluated in), ``location``, ``status`` (cancelled or restored) and
    ``occurrences`` (an override added, removed or rescheduled).  Title, agenda, alarm
    and attendee changes are not significant.
    """
    found: set[str] = set()
    if (old.start, old.end, old.due) != (new.start, new.end, new.due):
        found.add("time")
    rule_old = (_norm_rule(old.rrule), set(old.rdates), set(old.exdates))
    rule_new = (_norm_rule(new.rrule), set(new.rdates), set(new.exdates))
    if rule_old != rule_new or (new.rrule and old.tzid != new.tzid):
        found.add("recurrence")
    if (old.location or "").strip() != (new.location or "").strip():
        found.add("location")
    if old.cancelled != new.cancelled:
        found.add("status")
    if _override_keys(old) != _override_keys(new):
        found.add("occurrences")
    return found


def bump_sequence(old: EventSnapshot, new: EventSnapshot) -> int:
    """Return the SEQUENCE for ``new``: one more than ``old`` on a significant change.

    RFC 5546 section 2.1.4: the organiser increments SEQUENCE when it changes the
    component in a way that needs the attendees to respond again; never goes down.
    """
    base = max(old.sequence, new.sequence)
    return base + 1 if significant_changes(old, new) else base


def _attendee_message(
    method: str,
    snapshot: EventSnapshot,
    attendee_email: str,
    partstat: PartStat | None,
    *,
    recurrence_id: datetime | None,
    comment: str | None,
    sent_by: str | None,
    dtstamp: datetime | None,
) -> ItipMessage:
    """Build a REPLY or COUNTER from the attendee's side."""
    organizer = _need_organizer(snapshot, method)
    match = [a for a in snapshot.attendees if same_address(a.email, attendee_email)]
    attendee = match[0] if match else Attendee(email=attendee_email)
    if partstat is not None:
        attendee = replace(attendee, partstat=partstat)
    if method == COUNTER:
        base = replace(snapshot, attendees=(attendee,), overrides=(), recurrence_id=None)
        cal = build_calendar(base, COUNTER, dtstamp=dtstamp)
        comp = next(c for c in cal.walk() if c.name in ("VEVENT", "VTODO"))
        if recurrence_id is not None:
            comp.add("recurrence-id", recurrence_id.astimezone(zone(snapshot.tzid)))
    else:
        cal = new_calendar(method)
        comp = _skeleton(snapshot, recurrence_id, dtstamp)
        comp.add("organizer", vCalAddress(mailto(organizer.email)))
        address = attendee_address(attendee)
        address.params.pop("RSVP", None)
        comp.add("attendee", address)
        cal.add_component(comp)
    if sent_by:
        addr = comp["ATTENDEE"]
        addr.params["SENT-BY"] = mailto(sent_by)
    if comment:
        comp.add("comment", comment)
    add_timezones(cal, [m for m in (recurrence_id, snapshot.start) if m])
    return ItipMessage(method, snapshot.uid, snapshot.sequence, cal, (), recurrence_id)


def _skeleton(
    snapshot: EventSnapshot, recurrence_id: datetime | None, dtstamp: datetime | None
) -> Event | Todo:
    """Return a component with UID, SEQUENCE, DTSTAMP and RECURRENCE-ID only."""
    comp: Event | Todo = Event() if is_event(snapshot) else Todo()
    comp.add("uid", snapshot.uid)
    comp.add("sequence", snapshot.sequence)
    stamp = dtstamp if dtstamp is not None else datetime.now(UTC)
    comp.add("dtstamp", stamp.astimezone(UTC).replace(microsecond=0))
    if recurrence_id is not None:
        comp.add("recurrence-id", recurrence_id.astimezone(zone(snapshot.tzid)))
    return comp


def _occurrence(snapshot: EventSnapshot, recurrence_id: datetime) -> EventSnapshot:
    """Return the override for ``recurrence_id``, or the master moved to that start."""
    rid = recurrence_id.astimezone(UTC)
    for override in snapshot.overrides:
        if override.recurrence_id is not None and override.recurrence_id == rid:
            return replace(override, organizer=override.organizer or snapshot.organizer)
    if snapshot.start is None:
        raise ValueError("an occurrence needs a series with a start")
    length = (snapshot.end - snapshot.start) if snapshot.end is not None else None
    return replace(
        snapshot,
        start=rid,
        end=(rid + length) if length is not None else None,
        recurrence_id=rid,
        overrides=(),
        rrule=None,
        rdates=(),
        exdates=(),
    )


def _need_organizer(snapshot: EventSnapshot, method: str) -> Person:
    """Return the organiser; iTIP needs one (RFC 5546 section 3.2)."""
    if snapshot.organizer is None:
        raise ValueError(f"{method} needs an ORGANIZER and the follow-up has none")
    return snapshot.organizer


def _people(attendees: Iterable[Attendee]) -> set[str]:
    """Return the normalised addresses of attendees."""
    return {normalize_address(a.email) for a in attendees}


def _norm_rule(rule: str | None) -> frozenset[str]:
    """Return an RRULE's parts as a set, so part order does not count as a change."""
    if not rule:
        return frozenset()
    text = rule.strip().upper()
    if text.startswith("RRULE:"):
        text = text[6:]
    return frozenset(p for p in text.split(";") if p)


def _override_keys(snapshot: EventSnapshot) -> set[tuple[object, ...]]:
    """Return what of each override counts for significance."""
    return {
        (o.recurrence_id, o.start, o.end, o.due, (o.location or "").strip(), o.cancelled)
        for o in snapshot.overrides
    }
