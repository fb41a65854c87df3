"""iCalendar data -> stored follow-ups: the import the corpus tests, mail and sync share.

``import_series`` reads calendar data with ``calcore.ical_import.import_calendar`` (one
``EventSnapshot`` per UID, overrides attached) and stores each as ``FollowUp`` rows plus
``Occurrence`` overrides, in one transaction.  How the calendar model maps onto the
stored one (RFC 5545 sections 3.8.4.4, 3.8.5, 3.2.13):

* Master: kind (VEVENT -> MEETING, VTODO -> TASK), SUMMARY, DESCRIPTION (agenda),
  LOCATION, DTSTART/DTEND (a VTODO's DUE is the deadline), the IANA zone (``tzid``), the
  RRULE, RDATE and EXDATE as UTC instants, UID, SEQUENCE, TRANSP:TRANSPARENT -> not busy,
  CLASS:PRIVATE/CONFIDENTIAL -> private, the first VALARM (minutes before, clamped to
  0..40320; an alarm after the start becomes 0), STATUS:COMPLETED/COMPLETED -> done.
* An override (RECURRENCE-ID) becomes an ``Occurrence`` row: its times, title, agenda,
  location, STATUS:CANCELLED -> cancelled, done and SEQUENCE.  An override whose
  RECURRENCE-ID is an EXDATE is dropped (the EXDATE wins).
* ``RANGE=THISANDFUTURE`` splits the series the way ``series_edits.split`` does: the
  master ends one second before the RECURRENCE-ID (or its COUNT is cut) and a new series
  with the override's properties starts at the override's start and repeats the rest;
  the override's time shift moves the later RDATEs, EXDATEs and overrides with it.  A
  cancelled range ends the series there.  Series made by a split get the UID
  ``<uid>/<RECURRENCE-ID as YYYYMMDDTHHMMSSZ>`` (unique, and the same on re-import).

What the stored model cannot say, and what is done instead:

* An override without its master (another organiser's single instance): a single
  follow-up of its own, UID ``<uid>/<RECURRENCE-ID>``.
* All-day (DATE) events and tasks (``DTSTART;VALUE=DATE``, or a VTODO's ``DUE;VALUE=DATE``):
  all-day follow-ups (``all_day``), stored as midnights of the owner's zone (DATE values
  are floating, read in the owner's zone); a DATE UNTIL becomes the end of that day
  (23:59:59) in the zone, in UTC.
* A recurrence made only of RDATEs (no RRULE): the rule ``FREQ=DAILY;COUNT=1`` (DTSTART
  alone) with the RDATEs beside it, since a series row needs a rule.
* A cancelled event or series (STATUS:CANCELLED on the master): nothing is stored.
* Attendees, organizer, categories and URL are not stored here (participants need
  matching to associates and persons; that belongs to the mail and sync importers).

Re-importing a UID updates its row in place (participants stay) and replaces its
overrides; the owner must be the same associate, else ``ValidationFailed``.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from tortoise.transactions import in_transaction

from calcore.ical_import import CalendarImportError, import_calendar
from calcore.ical_tz import iana_zone
from calcore.model import EventSnapshot
from calcore.model import Kind as SnapKind
from calcore.recurrence import (
    RecurrenceError,
    RecurrenceRule,
    format_rrule,
    parse_rrule,
    split_rule,
)
from orm import models as m
from orm.occurrences import STAMP
from resolvers import series
from resolvers.errors import ValidationFailed
from resolvers.followups import DEFAULT_LIMIT, MAX_ALARM_MINUTES, MAX_LOCATION, MAX_TITLE
from resolvers.preference_keys import PreferenceKey
from resolvers.preferences import effective_for

__all__ = ["import_series"]

#: The rule of a series made only of RDATEs: DTSTART itself, once.
RDATE_ONLY_RULE = "FREQ=DAILY;COUNT=1"
_MAX_UID = 255


def _uid(base: str, recurrence_id: datetime | None = None) -> str:
    """The stored UID: the calendar UID, suffixed for split halves and orphan overrides."""
    uid = base if recurrence_id is None else f"{base}/{recurrence_id.astimezone(UTC):{STAMP}}"
    if len(uid) <= _MAX_UID:
        return uid
    return uid[: _MAX_UID - 41] + "#" + hashlib.sha1(uid.encode()).hexdigest()


def _alarm(minutes: int | None) -> int | None:
    return None if minutes is None else min(max(minutes, 0), MAX_ALARM_MINUTES)


def _times(snap: EventSnapshot) -> dict[str, Any]:
    """start_at/end_at/deadline columns of a snapshot (a task's DUE is its deadline)."""
    start, end, due = snap.start, snap.end, snap.due
    if snap.kind is SnapKind.MEETING:
        assert start is not None
        return {"start_at": start, "end_at": max(end or start, start), "deadline": None}
    if start is not None and end is None and due is not None:
        end = max(due, start)
    return {"start_at": start, "end_at": end if start is not None else None, "deadline": due}


def _common(snap: EventSnapshot) -> dict[str, Any]:
    """The columns a master and an override-made series share."""
    times = _times(snap)
    return {
        "title": snap.title[:MAX_TITLE],
        "agenda": snap.description,
        "location": (snap.location or "")[:MAX_LOCATION],
        **times,
        "sort_at": times["start_at"] or times["deadline"],
        "busy": not snap.transparent,
        "all_day": snap.all_day,
        "private": snap.private,
        "alarm_minutes": _alarm(snap.alarm_minutes),
        "done": snap.done,
        "done_at": snap.completed_at if snap.done else None,
        "sequence": snap.sequence,
    }


def _stored_rule(rule: RecurrenceRule, tzid: str) -> RecurrenceRule:
    """Turn a DATE UNTIL into the UTC end of that day in the zone (rows are timed)."""
    until = rule.until
    if isinstance(until, date) and not isinstance(until, datetime):
        zone = iana_zone(tzid) or UTC
        end = datetime.combine(until, time(23, 59, 59)).replace(tzinfo=zone).astimezone(UTC)
        return replace(rule, until=end)
    return rule


def _iso(values: list[datetime]) -> list[str]:
    return sorted({v.astimezone(UTC).isoformat() for v in values})


class _Series:
    """One series being assembled in memory before it is written."""

    def __init__(
        self,
        uid: str,
        snap: EventSnapshot,
        rule: RecurrenceRule | None,
        rdates: list[datetime],
        exdates: list[datetime],
    ) -> None:
        self.uid = uid
        self.snap = snap
        self.fields = _common(snap)
        self.rule = rule
        self.rdates = rdates
        self.exdates = exdates
        self.overrides: list[tuple[datetime, EventSnapshot]] = []

    @property
    def anchor(self) -> datetime:
        value = self.fields["start_at"] or self.fields["deadline"]
        assert value is not None
        return value  # type: ignore[no-any-return]

    def columns(self, limit: int) -> dict[str, Any]:
        """The FollowUp columns, series ones included (series_end computed)."""
        out = dict(self.fields, kind=m.Kind(self.snap.kind.value), tzid=self.snap.tzid)
        if self.rule is None:
            return {**out, "rrule": None, "rdates": [], "exdates": [], "series_end": None}
        zone = iana_zone(self.snap.tzid) or UTC
        start, end = self.fields["start_at"], self.fields["end_at"]
        duration = end - start if start is not None and end is not None else timedelta(0)
        spec = series.RecurrenceSpec(self.rule, self.rdates, self.exdates)
        try:
            series_end = series.series_end(spec, self.anchor.astimezone(zone), duration, limit)
        except ValidationFailed:
            # No occurrence left (every one excluded): keep the row, it shows nothing.
            series_end = self.anchor + duration
        return {
            **out,
            "rrule": format_rrule(self.rule),
            "rdates": _iso(self.rdates),
            "exdates": _iso(self.exdates),
            "series_end": series_end,
        }


def _split(current: _Series, at: datetime, override: EventSnapshot) -> _Series | None:
    """End ``current`` before ``at`` (its own time); return the series from ``at`` on."""
    assert current.rule is not None
    zone = iana_zone(current.snap.tzid) or UTC
    try:
        before, after = split_rule(current.anchor.astimezone(zone), current.rule, at)
    except RecurrenceError:
        return None  # nothing of the rule is left at ``at``; later dates stay where they are
    later_r = [d for d in current.rdates if d >= at]
    later_x = [d for d in current.exdates if d >= at]
    later_o = [(rid, o) for rid, o in current.overrides if rid >= at]
    new_times = _times(override)
    new_anchor = new_times["start_at"] or new_times["deadline"]
    if override.cancelled or new_anchor is None:
        current.rule = before or parse_rrule(RDATE_ONLY_RULE)
        current.rdates = [d for d in current.rdates if d < at]
        current.overrides = [(r, o) for r, o in current.overrides if r < at]
        if before is None:
            current.exdates = [*current.exdates, current.anchor]
        return None
    shift = new_anchor - at
    snap = replace(override, tzid=current.snap.tzid, rrule=None, overrides=())
    tail = _Series(
        current.uid if before is None else _uid(current.snap.uid, override.recurrence_id),
        snap,
        after,
        [d + shift for d in later_r],
        [d + shift for d in later_x],
    )
    tail.overrides = [(rid + shift, o) for rid, o in later_o]
    if before is None:  # the range starts at the first occurrence: it is the whole series
        return tail
    current.rule = before
    current.rdates = [d for d in current.rdates if d < at]
    current.exdates = [d for d in current.exdates if d < at]
    current.overrides = [(r, o) for r, o in current.overrides if r < at]
    return tail


def _assemble(master: EventSnapshot) -> list[_Series]:
    """Turn one master snapshot into its series (more than one after range splits)."""
    rule = parse_rrule(master.rrule) if master.rrule else None
    rdates, exdates = list(master.rdates), list(master.exdates)
    if rule is None:
        rule = parse_rrule(RDATE_ONLY_RULE) if rdates else None
    if rule is not None:
        rule = _stored_rule(rule, master.tzid)
    first = _Series(master.uid, master, rule, rdates, exdates)
    excluded = set(exdates)
    ranges: list[EventSnapshot] = []
    for o in master.overrides:
        assert o.recurrence_id is not None
        if o.recurrence_id in excluded:
            continue
        if o.this_and_future and rule is not None:
            ranges.append(o)
        else:
            first.overrides.append((o.recurrence_id, o))
    out = [first]
    shift = timedelta(0)
    for o in sorted(ranges, key=lambda r: r.recurrence_id):  # type: ignore[arg-type,return-value]
        assert o.recurrence_id is not None
        current = out[-1]
        at = o.recurrence_id + shift
        tail = _split(current, at, o)
        if tail is None:
            continue
        new_anchor = tail.anchor
        shift = new_anchor - o.recurrence_id
        if tail.uid == current.uid:
            out[-1] = tail
        else:
            out.append(tail)
    return out


async def _default_zone(owner: m.Associate) -> str:
    return (await effective_for([owner]))[owner.id][PreferenceKey.TIME_ZONE].value


async def _write(owner: m.Associate, part: _Series, limit: int) -> m.FollowUp:
    """Insert or update the row of one series and replace its overrides."""
    columns = part.columns(limit)
    row = await m.FollowUp.get_or_none(uid=part.uid)
    if row is None:
        row = await m.FollowUp.create(owner_id=owner.id, uid=part.uid, **columns)
    else:
        if row.owner_id != owner.id:
            raise ValidationFailed("data", f"UID {part.uid!r} belongs to another associate")
        await m.FollowUp.filter(id=row.id).update(**columns, version=row.version + 1)
        await m.Occurrence.filter(series_id=row.id).delete()
        row = await m.FollowUp.get(id=row.id)
    for rid, o in part.overrides:
        times = _times(o)
        await m.Occurrence.create(
            series_id=row.id,
            recurrence_id=rid,
            start_at=times["start_at"],
            end_at=times["end_at"],
            deadline=times["deadline"],
            title=o.title[:MAX_TITLE],
            agenda=o.description,
            location=(o.location or "")[:MAX_LOCATION] or None,
            cancelled=o.cancelled,
            done=o.done,
            done_at=o.completed_at if o.done else None,
            sequence=o.sequence,
        )
    return row


async def import_series(
    owner: m.Associate, data: bytes, *, limit: int = DEFAULT_LIMIT
) -> list[m.FollowUp]:
    """Store every event and task of ``data`` as ``owner``'s follow-ups (one transaction).

    Floating times are read in the owner's time zone.  Returns the rows written, in
    calendar order (a split series gives more than one).  Bad data raises
    ``ValidationFailed`` on ``data`` with the importer's reason.
    """
    try:
        snapshots = import_calendar(data, default_tzid=await _default_zone(owner))
    except CalendarImportError as exc:
        raise ValidationFailed("data", exc.reason) from exc
    parts: list[_Series] = []
    for snap in snapshots:
        if snap.cancelled and snap.recurrence_id is None:
            continue
        if snap.start is None and snap.due is None:
            continue  # an undated task is not a follow-up
        if snap.recurrence_id is not None:  # an override without its master
            lone = replace(snap, rrule=None, rdates=(), exdates=())
            if not snap.cancelled:
                parts.append(_Series(_uid(snap.uid, snap.recurrence_id), lone, None, [], []))
            continue
        try:
            parts.extend(_assemble(snap))
        except RecurrenceError as exc:
            raise ValidationFailed("data", f"{snap.uid!r}: {exc.message}") from exc
    async with in_transaction():
        return [await _write(owner, part, limit) for part in parts]
