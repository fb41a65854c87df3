"""iCalendar text -> ``EventSnapshot`` series (RFC 5545 sections 3.6.1, 3.6.2, 3.8).

Owns reading calendar data from the outside world into snapshots: one snapshot per UID,
the master carrying its RECURRENCE-ID overrides (section 3.8.4.4), an override without a
master as a snapshot of its own.  Tolerant of what producers really send: a UTF-8 BOM,
bare LF line ends, ISO-8859-1 bytes, Windows and vendor-prefixed TZIDs, custom VTIMEZONEs
(``ical_tz``), floating times, DATE values, a DATE RECURRENCE-ID against a DATE-TIME
DTSTART and the reverse, ``RANGE=THISANDFUTURE``.  Anything it cannot make sense of
raises ``CalendarImportError`` with the reason.  Expansion is in ``occurrences``.
"""

from __future__ import annotations

import hashlib
import warnings
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

import icalendar
from icalendar.cal.component import Component

from calcore.ical_tz import iana_zone, zone_name_for, zone_name_from_tzid
from calcore.model import Attendee, CuType, EventSnapshot, Kind, PartStat, Person
from calcore.occurrences import Occurrence, occurrences
from calcore.rrule_model import RecurrenceError
from calcore.rrule_parse import check_density, format_rrule, parse_rrule

__all__ = ["CalendarImportError", "Occurrence", "import_calendar", "occurrences"]


class CalendarImportError(ValueError):
    """Calendar data could not be imported; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class _Moment:
    """A DTSTART-like value: its UTC instant, wall time, zone and DATE flag."""

    utc: datetime
    wall: datetime
    zone: str
    all_day: bool


def _decode(data: bytes | str) -> str:
    """Decode bytes (UTF-8, else Windows-1252/ISO-8859-1), drop a BOM, use CRLF."""
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            try:
                text = data.decode("cp1252")
            except UnicodeDecodeError:
                text = data.decode("latin-1")
    elif isinstance(data, str):
        text = data
    else:
        raise CalendarImportError(f"calendar data must be bytes or text, not {type(data).__name__}")
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    return "\r\n".join(line for line in text.split("\n")) + ("" if text.endswith("\n") else "\r\n")


def _tzid(prop: Any) -> str | None:
    """Return the TZID parameter of a property, if any."""
    params = getattr(prop, "params", None)
    return params.get("TZID") if params is not None else None


def _zone(name: str) -> tzinfo:
    """Return the tzinfo of an IANA name (UTC when unknown)."""
    return iana_zone(name) or UTC


def _moment(value: date | datetime, tzid: str | None, default_zone: str) -> _Moment:
    """Resolve one DATE or DATE-TIME value (floating values use ``default_zone``)."""
    if not isinstance(value, datetime):
        zone = default_zone
        wall = datetime.combine(value, time())
        return _Moment(wall.replace(tzinfo=_zone(zone)).astimezone(UTC), wall, zone, True)
    if value.tzinfo is None:
        zone = (zone_name_from_tzid(tzid) if tzid else None) or default_zone
        return _Moment(value.replace(tzinfo=_zone(zone)).astimezone(UTC), value, zone, False)
    zone = zone_name_for(tzid, value.tzinfo)
    utc = value.astimezone(UTC)
    return _Moment(utc, utc.astimezone(_zone(zone)).replace(tzinfo=None), zone, False)


def _property_values(comp: Component, name: str) -> list[Any]:
    """Return every occurrence of a property as a list."""
    raw = comp.get(name)
    if raw is None:
        return []
    return raw if isinstance(raw, list) else [raw]


def _date_list(comp: Component, name: str) -> list[tuple[date | datetime, str | None]]:
    """Return (value, TZID) of every RDATE/EXDATE entry (PERIODs give their start)."""
    out: list[tuple[date | datetime, str | None]] = []
    for prop in _property_values(comp, name):
        for item in getattr(prop, "dts", []):
            value = item.dt
            if isinstance(value, tuple):
                value = value[0]
            out.append((value, _tzid(item) or _tzid(prop)))
    return out


def _align(value: date | datetime, tzid: str | None, master: EventSnapshot) -> datetime:
    """Map a RECURRENCE-ID/EXDATE/RDATE value onto the master's kind of value, as UTC."""
    zone = _zone(master.tzid)
    if master.all_day:
        if isinstance(value, datetime):
            value = _moment(value, tzid, master.tzid).wall.date()
        return datetime.combine(value, time()).replace(tzinfo=zone).astimezone(UTC)
    if not isinstance(value, datetime):
        assert master.start is not None
        clock = master.start.astimezone(zone).time()
        return datetime.combine(value, clock).replace(tzinfo=zone).astimezone(UTC)
    return _moment(value, tzid, master.tzid).utc


def _text(comp: Component, name: str) -> str | None:
    """Return a text property, or None."""
    value = comp.get(name)
    if value is None:
        return None
    return str(value[0] if isinstance(value, list) else value)


def _email(address: str, params: Any) -> str:
    """Return the e-mail address of a CAL-ADDRESS (EMAIL parameter wins)."""
    email = params.get("EMAIL") if params is not None else None
    text = str(email or address).strip()
    return text[7:] if text.lower().startswith("mailto:") else text


def _attendees(comp: Component) -> tuple[Attendee, ...]:
    """Map ATTENDEE lines (RFC 5545 section 3.8.4.1)."""
    out: list[Attendee] = []
    for prop in _property_values(comp, "ATTENDEE"):
        params = getattr(prop, "params", {})
        partstat = str(params.get("PARTSTAT", "NEEDS-ACTION")).upper()
        cutype = str(params.get("CUTYPE", "INDIVIDUAL")).upper()
        out.append(
            Attendee(
                email=_email(str(prop), params),
                name=params.get("CN") or None,
                partstat=PartStat(partstat) if partstat in PartStat._value2member_map_
                else PartStat.NEEDS_ACTION,
                role=str(params.get("ROLE", "REQ-PARTICIPANT")).upper(),
                rsvp=str(params.get("RSVP", "FALSE")).upper() == "TRUE",
                cutype=CuType(cutype) if cutype in CuType._value2member_map_
                else CuType.INDIVIDUAL,
            )
        )
    return tuple(out)


def _organizer(comp: Component) -> Person | None:
    """Map ORGANIZER (RFC 5545 section 3.8.4.3)."""
    prop = comp.get("ORGANIZER")
    if prop is None:
        return None
    params = getattr(prop, "params", {})
    return Person(email=_email(str(prop), params), name=params.get("CN") or None)


def _categories(comp: Component) -> tuple[str, ...]:
    """Flatten every CATEGORIES line."""
    out: list[str] = []
    for prop in _property_values(comp, "CATEGORIES"):
        cats = getattr(prop, "cats", None)
        out.extend(str(c) for c in (cats if cats is not None else [prop]))
    return tuple(c for c in out if c)


def _alarm_minutes(comp: Component, start: datetime | None, end: datetime | None) -> int | None:
    """Return minutes before the start of the first VALARM (RFC 5545 section 3.8.6.3)."""
    for alarm in comp.walk("VALARM"):
        trigger = alarm.get("TRIGGER")
        if trigger is None:
            continue
        value = trigger.dt
        if isinstance(value, timedelta):
            related_end = str(trigger.params.get("RELATED", "START")).upper() == "END"
            anchor = end if related_end else start
            if anchor is None or start is None:
                return int(-value.total_seconds() // 60)
            return int((start - (anchor + value)).total_seconds() // 60)
        if isinstance(value, datetime) and start is not None:
            when = value if value.tzinfo else value.replace(tzinfo=UTC)
            return int((start - when).total_seconds() // 60)
    return None


def _int(comp: Component, name: str) -> int:
    """Return an integer property (0 when missing or garbled)."""
    try:
        return int(str(comp.get(name, 0)))
    except ValueError:
        return 0


def _snapshot(comp: Component, default_zone: str) -> tuple[EventSnapshot, Any]:
    """Map one VEVENT/VTODO; return it with its raw RECURRENCE-ID property."""
    uid = _text(comp, "UID") or "generated-" + hashlib.sha1(comp.to_ical()).hexdigest()
    kind = Kind.MEETING if comp.name == "VEVENT" else Kind.TASK
    start_prop = comp.get("DTSTART")
    start = _moment(start_prop.dt, _tzid(start_prop), default_zone) if start_prop else None
    zone = start.zone if start else default_zone
    end_prop = comp.get("DTEND")
    end: datetime | None = None
    if end_prop is not None:
        end = _moment(end_prop.dt, _tzid(end_prop), zone).utc
    elif comp.get("DURATION") is not None and start is not None:
        end = start.utc + comp.decoded("DURATION")
    elif start is not None and kind is Kind.MEETING:
        end = start.utc + (timedelta(days=1) if start.all_day else timedelta(0))
    due_prop = comp.get("DUE")
    due_moment = _moment(due_prop.dt, _tzid(due_prop), zone) if due_prop is not None else None
    due = due_moment.utc if due_moment is not None else None
    if start is None and kind is Kind.MEETING:
        raise CalendarImportError(f"VEVENT {uid!r} has no DTSTART")
    if start is not None and end is not None and end < start.utc:
        raise CalendarImportError(f"{comp.name} {uid!r} ends before it starts")
    rules = _property_values(comp, "RRULE")
    rrule = None
    if rules:
        if start is None:
            raise CalendarImportError(f"{comp.name} {uid!r} has an RRULE but no DTSTART")
        try:
            parsed = parse_rrule(rules[0].to_ical().decode())
            check_density(parsed)
            rrule = format_rrule(parsed)
        except RecurrenceError as exc:
            raise CalendarImportError(f"{comp.name} {uid!r}: bad RRULE: {exc.message}") from None
    status = (_text(comp, "STATUS") or "").upper()
    cls = (_text(comp, "CLASS") or "").upper()
    completed = comp.get("COMPLETED")
    stamp = {
        name: _moment(comp.get(name).dt, None, "UTC").utc
        for name in ("CREATED", "LAST-MODIFIED")
        if comp.get(name) is not None and isinstance(comp.get(name).dt, date)
    }
    snap = EventSnapshot(
        uid=uid,
        kind=kind,
        title=_text(comp, "SUMMARY") or "",
        start=start.utc if start else None,
        end=end,
        due=due,
        tzid=zone,
        sequence=_int(comp, "SEQUENCE"),
        description=_text(comp, "DESCRIPTION") or "",
        location=_text(comp, "LOCATION") or None,
        organizer=_organizer(comp),
        attendees=_attendees(comp),
        transparent=(_text(comp, "TRANSP") or "").upper() == "TRANSPARENT",
        private=cls in ("PRIVATE", "CONFIDENTIAL"),
        alarm_minutes=_alarm_minutes(comp, start.utc if start else due, end or due),
        categories=_categories(comp),
        url=_text(comp, "URL") or None,
        done=status == "COMPLETED" or completed is not None,
        completed_at=_moment(completed.dt, None, "UTC").utc if completed is not None else None,
        cancelled=status == "CANCELLED",
        rrule=rrule,
        created=stamp.get("CREATED"),
        last_modified=stamp.get("LAST-MODIFIED"),
        all_day=start.all_day if start else bool(due_moment and due_moment.all_day),
    )
    return snap, comp.get("RECURRENCE-ID")


def _with_dates(snap: EventSnapshot, comp: Component) -> EventSnapshot:
    """Attach RDATE/EXDATE of a master, aligned to its DTSTART."""
    rdates = sorted({_align(v, z, snap) for v, z in _date_list(comp, "RDATE")})
    exdates = sorted({_align(v, z, snap) for v, z in _date_list(comp, "EXDATE")})
    return replace(snap, rdates=tuple(rdates), exdates=tuple(exdates))


def _newer(a: EventSnapshot, b: EventSnapshot) -> bool:
    """Whether ``a`` supersedes ``b`` (higher SEQUENCE; later in the file on a tie)."""
    return a.sequence >= b.sequence


def _parse(text: str) -> list[Component]:
    """Parse one or more VCALENDAR objects."""
    if "BEGIN:VCALENDAR" not in text.upper():
        raise CalendarImportError("no BEGIN:VCALENDAR found; this is not iCalendar data")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cals = icalendar.Calendar.from_ical(text, multiple=True)
    except Exception as exc:
        raise CalendarImportError(f"not valid iCalendar data: {exc}") from None
    if not cals:
        raise CalendarImportError("the data holds no VCALENDAR")
    return list(cals)


def import_calendar(data: bytes | str, *, default_tzid: str = "UTC") -> list[EventSnapshot]:
    """Read calendar data into one snapshot per UID (overrides attached to masters).

    Floating times and dates are taken to be in ``default_tzid`` (an IANA name).
    """
    if iana_zone(default_tzid) is None:
        raise CalendarImportError(f"unknown default time zone {default_tzid!r}")
    masters: dict[str, tuple[EventSnapshot, Component]] = {}
    loose: dict[str, list[tuple[EventSnapshot, Any]]] = {}
    order: list[str] = []
    for cal in _parse(_decode(data)):
        for comp in cal.walk():
            if comp.name not in ("VEVENT", "VTODO"):
                continue
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    snap, rid = _snapshot(comp, default_tzid)
            except CalendarImportError:
                raise
            except Exception as exc:
                uid = _text(comp, "UID") or "?"
                raise CalendarImportError(f"{comp.name} {uid!r} is malformed: {exc}") from None
            if snap.uid not in order:
                order.append(snap.uid)
            if rid is None:
                old = masters.get(snap.uid)
                if old is None or _newer(snap, old[0]):
                    masters[snap.uid] = (snap, comp)
            else:
                loose.setdefault(snap.uid, []).append((snap, rid))
    out: list[EventSnapshot] = []
    for uid in order:
        master = None
        if uid in masters:
            snap, comp = masters[uid]
            try:
                master = _with_dates(snap, comp)
            except Exception as exc:
                raise CalendarImportError(f"{uid!r}: bad RDATE/EXDATE: {exc}") from None
        chosen: dict[datetime, EventSnapshot] = {}
        for snap, rid in loose.get(uid, []):
            base = master or snap
            try:
                rid_utc = _align(rid.dt, _tzid(rid), base)
            except Exception as exc:
                raise CalendarImportError(f"{uid!r}: bad RECURRENCE-ID: {exc}") from None
            future = str(rid.params.get("RANGE", "")).upper() == "THISANDFUTURE"
            override = replace(snap, recurrence_id=rid_utc, this_and_future=future)
            if rid_utc not in chosen or _newer(override, chosen[rid_utc]):
                chosen[rid_utc] = override
        overrides = tuple(chosen[k] for k in sorted(chosen))
        if master is not None:
            out.append(replace(master, overrides=overrides))
        else:
            out.extend(overrides)
    return out
