"""The one builder from an ``EventSnapshot`` to an ``icalendar.Calendar``.

Owns the mapping of a follow-up to iCalendar (RFC 5545): VEVENT for meetings and made
calls (section 3.6.1), VTODO for tasks and planned calls (section 3.6.2), the VTIMEZONE
for every TZID used (section 3.6.5), recurrence (RRULE/RDATE/EXDATE, sections
3.8.5.1-3.8.5.3) and overridden occurrences as extra components with RECURRENCE-ID
(section 3.8.4.4), attendees (section 3.8.4.1), the alarm (section 3.6.6).

The same function serves CalDAV objects (``method=None``, RFC 4791 section 4.1) and iTIP
messages (a METHOD, RFC 5546 section 1.4); ``calcore.itip`` adds the per-method rules.
For CalDAV (``client_scheduling=True``) ORGANIZER and every ATTENDEE carry
``SCHEDULE-AGENT=CLIENT`` (RFC 6638 section 7.1): we are the scheduling agent, so a server
with implicit scheduling must not deliver copies or mail invitations of its own.  iTIP
messages never carry the parameter (RFC 6638 section 7.1: it must not be sent in iTIP).
Text values are escaped by icalendar (RFC 5545 section 3.3.11).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from icalendar import Alarm, Calendar, Event, Todo, vCalAddress, vRecur
from icalendar.cal.component import Component

from calcore.model import Attendee, EventSnapshot, Kind, Person
from calcore.text import safe_snapshot
from calcore.vtimezone import vtimezone

PRODID = "-//followups//calcore 1.0//EN"


def zone(tzid: str) -> ZoneInfo:
    """Return the IANA zone for ``tzid``; raise ``ValueError`` when it is unknown."""
    try:
        return ZoneInfo(tzid)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {tzid!r}") from exc


def mailto(email: str) -> str:
    """Return the calendar user address (RFC 5545 section 3.3.3) of an e-mail address."""
    return f"mailto:{email}"


def is_event(snapshot: EventSnapshot) -> bool:
    """Tell whether the snapshot becomes a VEVENT (else a VTODO)."""
    if snapshot.kind is Kind.MEETING:
        return True
    if snapshot.kind is Kind.CALL:
        return snapshot.start is not None
    return False


def build_calendar(
    snapshot: EventSnapshot,
    method: str | None = None,
    *,
    dtstamp: datetime | None = None,
    client_scheduling: bool = False,
) -> Calendar:
    """Build the calendar object of a follow-up, with its overrides and time zones.

    ``client_scheduling`` marks ORGANIZER/ATTENDEE ``SCHEDULE-AGENT=CLIENT`` (CalDAV only).
    """
    if client_scheduling and method is not None:
        raise ValueError("SCHEDULE-AGENT must not be sent in iTIP messages (RFC 6638 7.1)")
    snapshot = safe_snapshot(snapshot)
    stamp = _utc(dtstamp) if dtstamp is not None else datetime.now(UTC).replace(microsecond=0)
    cal = new_calendar(method)
    agent = client_scheduling
    cal.add_component(build_component(snapshot, dtstamp=stamp, client_scheduling=agent))
    for override in snapshot.overrides:
        cal.add_component(
            build_component(override, dtstamp=stamp, master=snapshot, client_scheduling=agent)
        )
    add_timezones(cal, _dates_of(snapshot), open_ended=_open_ended(snapshot))
    return cal


#: The SUMMARY of a busy block (``busy_block``).
BUSY_SUMMARY = "Busy"


def busy_block(snapshot: EventSnapshot) -> EventSnapshot:
    """The snapshot as busy time only, for calendars everyone reads (a room's).

    Times, recurrence (with the overridden occurrences' times), UID, SEQUENCE, STATUS,
    TRANSP and CLASS stay; the title becomes a neutral "Busy" and the description,
    location, organiser, attendees, categories, URL and alarm are left out.
    """

    def strip(snap: EventSnapshot) -> EventSnapshot:
        return replace(
            snap,
            title=BUSY_SUMMARY,
            description="",
            location=None,
            organizer=None,
            attendees=(),
            categories=(),
            url=None,
            alarm_minutes=None,
            overrides=tuple(strip(o) for o in snap.overrides),
        )

    return strip(snapshot)


def new_calendar(method: str | None = None) -> Calendar:
    """Return an empty VCALENDAR with PRODID, VERSION and CALSCALE (and METHOD)."""
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    if method is not None:
        cal.add("method", method.upper())
    return cal


def add_timezones(
    cal: Calendar, moments: Iterable[datetime] = (), *, open_ended: bool = True
) -> None:
    """Add a VTIMEZONE for every TZID used (RFC 5545 section 3.6.5).

    Each definition (``calcore.vtimezone``) holds the current rule as yearly RRULEs, right
    for ever, plus the historic transitions from the earliest of ``moments`` on.
    ``open_ended`` is kept for callers; the definitions never end.
    """
    del open_ended
    times = list(moments)
    first = min(times, key=_utc) if times else datetime.now(UTC)
    for tzid in sorted(cal.get_missing_tzids()):
        try:
            cal.add_component(vtimezone(tzid, first))
        except (ValueError, OSError) as exc:
            raise ValueError(f"no VTIMEZONE can be generated for {tzid!r}: {exc}") from exc
    # VTIMEZONEs before the components that use them (RFC 5545 permits any order; readers like it)
    cal.subcomponents.sort(key=lambda c: c.name != "VTIMEZONE")


def build_component(
    snapshot: EventSnapshot,
    *,
    dtstamp: datetime,
    master: EventSnapshot | None = None,
    client_scheduling: bool = False,
) -> Component:
    """Build one VEVENT or VTODO; ``master`` is given for an overridden occurrence."""
    snapshot = safe_snapshot(snapshot)
    tz = zone(snapshot.tzid)
    event = is_event(master if master is not None else snapshot)
    comp: Component = Event() if event else Todo()
    comp.add("uid", snapshot.uid)
    comp.add("dtstamp", dtstamp)
    comp.add("sequence", snapshot.sequence)
    if snapshot.created is not None:
        comp.add("created", _utc(snapshot.created))
    if snapshot.last_modified is not None:
        comp.add("last-modified", _utc(snapshot.last_modified))
    comp.add("summary", snapshot.title)
    if snapshot.description:
        comp.add("description", snapshot.description)
    if snapshot.location:
        comp.add("location", snapshot.location)
    day = (master or snapshot).all_day
    if snapshot.recurrence_id is not None:
        params = {"RANGE": "THISANDFUTURE"} if snapshot.this_and_future else {}
        comp.add("recurrence-id", _value(snapshot.recurrence_id, tz, day), parameters=params)
    if event:
        _add_event_times(comp, snapshot, tz, day)
    else:
        _add_todo_times(comp, snapshot, tz, day)
    if master is None:
        _add_recurrence(comp, snapshot, tz)
    _add_people(comp, snapshot.organizer, snapshot.attendees, client_scheduling)
    comp.add("class", "PRIVATE" if snapshot.private else "PUBLIC")
    if event:
        comp.add("transp", "TRANSPARENT" if snapshot.transparent else "OPAQUE")
    if snapshot.categories:
        comp.add("categories", list(snapshot.categories))
    if snapshot.url:
        comp.add("url", snapshot.url)
    if snapshot.alarm_minutes is not None:
        comp.add_component(_alarm(snapshot, related_end=not event and snapshot.start is None))
    return comp


def _add_event_times(comp: Component, snapshot: EventSnapshot, tz: ZoneInfo, day: bool) -> None:
    """Add DTSTART/DTEND and STATUS of a VEVENT (RFC 5545 section 3.6.1)."""
    if snapshot.start is None:
        raise ValueError(f"follow-up {snapshot.uid} has no start and cannot be a VEVENT")
    comp.add("dtstart", _value(snapshot.start, tz, day))
    end = snapshot.end if snapshot.end is not None else snapshot.start
    if end < snapshot.start:
        raise ValueError(f"follow-up {snapshot.uid} ends before it starts")
    comp.add("dtend", _value(end, tz, day))
    comp.add("status", "CANCELLED" if snapshot.cancelled else "CONFIRMED")


def _add_todo_times(
    comp: Component, snapshot: EventSnapshot, tz: ZoneInfo, day: bool = False
) -> None:
    """Add DTSTART/DUE, STATUS and COMPLETED of a VTODO (RFC 5545 section 3.6.2); an
    all-day task is due on a DATE (``DUE;VALUE=DATE``)."""
    due = snapshot.due if snapshot.due is not None else snapshot.end
    if snapshot.start is not None:
        comp.add("dtstart", _value(snapshot.start, tz, day))
    if due is not None:
        if snapshot.start is not None and due < snapshot.start:
            raise ValueError(f"follow-up {snapshot.uid} is due before it starts")
        comp.add("due", _value(due, tz, day))
    if snapshot.cancelled:
        comp.add("status", "CANCELLED")
    elif snapshot.done:
        comp.add("status", "COMPLETED")
        completed = snapshot.completed_at or snapshot.last_modified
        if completed is not None:
            comp.add("completed", _utc(completed))
        comp.add("percent-complete", 100)
    else:
        comp.add("status", "NEEDS-ACTION")


def _add_recurrence(comp: Component, snapshot: EventSnapshot, tz: ZoneInfo) -> None:
    """Add RRULE, RDATE and EXDATE (RFC 5545 sections 3.8.5.1-3.8.5.3)."""
    if snapshot.rrule:
        text = snapshot.rrule.strip()
        if text.upper().startswith("RRULE:"):
            text = text[len("RRULE:") :]
        rule = vRecur.from_ical(text)
        if snapshot.all_day and "UNTIL" in rule:
            # UNTIL takes DTSTART's value type (RFC 5545 section 3.3.10): a DATE here
            rule["UNTIL"] = [_value(u, tz, True) if isinstance(u, datetime) else u
                             for u in rule["UNTIL"]]
        comp.add("rrule", rule)
    if snapshot.rdates:
        comp.add("rdate", [_value(d, tz, snapshot.all_day) for d in snapshot.rdates])
    if snapshot.exdates:
        comp.add("exdate", [_value(d, tz, snapshot.all_day) for d in snapshot.exdates])


def _add_people(
    comp: Component,
    organizer: Person | None,
    attendees: Iterable[Attendee],
    client_scheduling: bool = False,
) -> None:
    """Add ORGANIZER and ATTENDEE lines (RFC 5545 sections 3.8.4.1 and 3.8.4.3)."""
    if organizer is not None:
        org = vCalAddress(mailto(organizer.email))
        if organizer.name:
            org.params["CN"] = organizer.name
        if client_scheduling:
            org.params["SCHEDULE-AGENT"] = "CLIENT"
        comp.add("organizer", org)
    for attendee in attendees:
        address = attendee_address(attendee)
        if client_scheduling:
            address.params["SCHEDULE-AGENT"] = "CLIENT"
        comp.add("attendee", address)


def attendee_address(attendee: Attendee) -> vCalAddress:
    """Return the ATTENDEE value with CN, CUTYPE, ROLE, PARTSTAT and RSVP parameters."""
    addr = vCalAddress(mailto(attendee.email))
    if attendee.name:
        addr.params["CN"] = attendee.name
    addr.params["CUTYPE"] = attendee.cutype.value
    addr.params["ROLE"] = attendee.role
    addr.params["PARTSTAT"] = attendee.partstat.value
    addr.params["RSVP"] = "TRUE" if attendee.rsvp else "FALSE"
    return addr


def _alarm(snapshot: EventSnapshot, *, related_end: bool) -> Alarm:
    """Return a display VALARM ``alarm_minutes`` before the start (or due)."""
    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    minutes = snapshot.alarm_minutes or 0
    params = {"RELATED": "END"} if related_end else {}
    alarm.add("trigger", timedelta(minutes=-minutes), parameters=params)
    alarm.add("description", snapshot.title or "Reminder")
    return alarm


def _utc(moment: datetime) -> datetime:
    """Return an aware datetime in UTC, without microseconds."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime in a snapshot; all datetimes must be aware")
    return moment.astimezone(UTC).replace(microsecond=0)


def _local(moment: datetime, tz: ZoneInfo) -> datetime:
    """Return the wall-clock time of ``moment`` in ``tz`` (UTC stays UTC).

    A wall time that occurs twice (the second pass of an autumn hour, ``fold=1``) would be
    read back as its first occurrence (RFC 5545 section 3.3.5), so such an instant is
    written in UTC instead, which is exact.
    """
    utc = _utc(moment)
    if tz.key == "UTC":
        return utc
    local = utc.astimezone(tz)
    if local.replace(fold=0).astimezone(UTC) != utc:
        return utc
    return local


def _open_ended(snapshot: EventSnapshot) -> bool:
    """Tell whether the follow-up repeats by a rule (its end is not among its dates)."""
    return bool(snapshot.rrule)


def _value(moment: datetime, tz: ZoneInfo, all_day: bool) -> datetime | date:
    """Return the DATE-TIME in ``tz``, or the DATE there for all-day follow-ups."""
    if all_day:
        return _utc(moment).astimezone(tz).date()
    return _local(moment, tz)


def _dates_of(snapshot: EventSnapshot) -> list[datetime]:
    """Return every moment of the snapshot that the VTIMEZONE must cover."""
    moments: list[datetime] = []
    for snap in (snapshot, *snapshot.overrides):
        moments += [m for m in (snap.start, snap.end, snap.due, snap.recurrence_id) if m]
        moments += list(snap.rdates) + list(snap.exdates)
    return moments
