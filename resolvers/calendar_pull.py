"""Applying what a pull found in a calendar (``sync.pull``), as its owner would through GraphQL.

- The owner's calendar: an edit of start/end, title, location, description or alarm goes
  through ``resolvers.followup_mutations`` as the owner (same validation, version bump,
  SEQUENCE, invitations, the other calendars updated through the change hook); an
  override is a THIS edit (``RANGE=THISANDFUTURE``: FOLLOWING), an added EXDATE a THIS
  delete, the master an ALL edit.  A refused edit (end before start, a room that refuses
  double booking...) changes nothing, the object is put back as the service has it and
  the reason is recorded (``CalendarPull`` REFUSED, shown on the follow-up).
- A field changed on both sides keeps the service's value; the calendar's is recorded
  (``CalendarPull`` CONFLICT with ``calendar_values``).
- The owner's calendar: an attendee's changed PARTSTAT (a reply the calendar server took
  in for the organiser) sets that participant's status (``via`` CALDAV).
- A participant's copy: their PARTSTAT sets their status (history ``via`` CALDAV); any
  other change there, and every change in a room's copy, is put back (REVERTED).

Deleted in the calendar app (the account's ``pull_delete``, else CALDAV_PULL_DELETE):
``safe`` deletes a follow-up of the owner's that has not started and only unlinks one that
has (it stays, and is not put into that calendar again: ``sync.outbox.UNLINKED``);
``unlink`` always unlinks; ``restore`` puts it back; a participant's or room's copy is
always put back.  An RRULE cut short by UNTIL (the apps' own "this and following"
split: the rest goes to a new UID) is a FOLLOWING delete from the first occurrence after
UNTIL.

New events (``create``, the account's ``import_new_events``): an event made in the
associate's own calendar app becomes a meeting of theirs through ``followups.create`` (the
validation of createFollowUp), keeping the event's UID; the object is then ours, under its
own name in that calendar, and our writes go to it (``If-Match`` on its ETag).  Taken:
SUMMARY (none: "(no title)"), DTSTART/DTEND or DURATION (a timed event of no length -
no DTEND nor DURATION, or DTEND = DTSTART - lasts the owner's "duration of new meeting":
a meeting ends after it starts; a DATE without end lasts that day), all-day dates, LOCATION,
DESCRIPTION, the first VALARM, TRANSP, CLASS, RRULE/RDATE/EXDATE and the DTSTART's TZID
(an IANA zone; else, and for floating, UTC and all-day times, the owner's zone), and the
series' changed occurrences (RECURRENCE-ID overrides: a cancelled one a THIS delete,
another a THIS edit of its times, title, location and description - FOLLOWING with
``RANGE=THISANDFUTURE`` - through the same mutations as the owner's own edits).
ATTENDEEs go through ``participants.save`` (saveParticipants' rules) with e-mail
invitations off (the app invited them) and then their PARTSTAT (``set_status``, via
CALDAV): an active associate's or a contact person's address links to that record,
another valid address is a participant by address only, a room's (CUTYPE ROOM/RESOURCE,
or an address only a resource has) is booked unless it refuses double booking and is
taken (left out, named in the IMPORTED record's reason).  Not imported: tasks, cancelled
events, someone else's invitation (ORGANIZER another address, the associate an ATTENDEE),
events over before the account's first-push window (CALDAV_INITIAL_WINDOW_DAYS) - all
ignored; refused, with the reason recorded (``CalendarPull`` REFUSED, no follow-up):
unreadable data, several events in one object, no DTSTART, another ORGANIZER with
attendees, more than 500 attendees, an override with no series (or of no occurrence of
it), a UID longer than 255 characters, and whatever createFollowUp, saveParticipants or
the occurrence edit refuses.

Each object is applied once: its stored ETag is moved to the server's in the same
transaction, compare-and-set, so concurrent pullers never apply one change twice, and our
next write to it is an ``If-Match`` on that ETag.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from calcore.ical_import import CalendarImportError, import_calendar
from calcore.ical_tz import iana_zone
from calcore.model import Attendee, CuType, EventSnapshot
from calcore.model import Kind as SnapKind
from calcore.recurrence import expand_capped, parse_rrule
from orm import changes, occurrences
from orm import models as m
from orm.occurrences import local_date
from orm.outbox import utcnow
from orm.outbox_models import OutboxStatus
from orm.sync_models import CalendarObject, CalendarPull, ObjectState, PullOutcome, SyncJob
from resolvers import bookings, followups, participants, series, series_edits
from resolvers import followup_mutations as mutations
from resolvers.errors import BookingConflict, DomainError, NotFound, ValidationFailed
from resolvers.followups import DEFAULT_LIMIT, MAX_ALARM_MINUTES
from resolvers.ical_series import RDATE_ONLY_RULE
from resolvers.preference_keys import PreferenceKey
from resolvers.preferences import effective_for
from sync import outbox
from sync.pull import Found, NewObject, ObjectChange

log = logging.getLogger("followups.sync.pull")
VIA = m.StatusVia.CALDAV
PARTSTAT = {
    "NEEDS-ACTION": m.ParticipantStatus.INVITED,
    "ACCEPTED": m.ParticipantStatus.ACCEPTED,
    "TENTATIVE": m.ParticipantStatus.TENTATIVE,
    "DECLINED": m.ParticipantStatus.DECLINED,
}
#: the API names of the columns, for reasons and the recorded field lists
API_NAME = {
    "start_at": "start",
    "end_at": "end",
    "title": "title",
    "location": "location",
    "agenda": "agenda",
    "alarm_minutes": "alarmMinutes",
}


def _json(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


async def _record(
    change: ObjectChange,
    outcome: PullOutcome,
    names: list[str],
    reason: str | None = None,
    values: dict[str, Any] | None = None,
    found: Found | None = None,
) -> None:
    await CalendarPull.create(
        recurrence_id=found.rid if found is not None else None,
        following=found.following if found is not None else False,
        account_id=change.account.id,
        followup_id=change.obj.followup_id,
        name=change.obj.name,
        outcome=outcome,
        fields_changed=[API_NAME.get(n, n) for n in names],
        reason=reason,
        calendar_values=(
            {API_NAME.get(k, k): _json(v) for k, v in values.items()} if values else None
        ),
    )


async def _put_back(change: ObjectChange) -> None:
    await outbox.requeue(change.account, [change.obj.followup_id])


async def _edit(viewer: m.Associate, fid: int, found: Found) -> None:
    row = await m.FollowUp.get(id=fid)
    data = dict(found.fields)
    if found.kind == "edit":
        if found.rid is None:
            scope = mutations.EditScope.ALL
        else:
            scope = mutations.EditScope.FOLLOWING if found.following else mutations.EditScope.THIS
        await mutations.update(viewer, (fid, found.rid), row.version, data, scope, DEFAULT_LIMIT)
    elif found.kind == "delete":
        await mutations.delete(viewer, (fid, found.rid), row.version, mutations.EditScope.THIS)


async def _answer(viewer: m.Associate, row: m.FollowUp, found: Found) -> bool:
    """An attendee's answer as the owner's calendar server took it in (their reply)."""
    address = str(found.fields.get("attendee") or "")
    status = PARTSTAT.get(found.partstat or "", m.ParticipantStatus.INVITED)
    p = await m.Participant.filter(
        followup_id=row.id, organiser=False, email__iexact=address
    ).first()
    if p is None or p.status == status:
        return False
    async with changes.track(row.id):
        await participants.set_status(viewer, p.id, status, via=VIA)
    return True


async def _cut(viewer: m.Associate, fid: int, found: Found) -> bool:
    """An RRULE cut short by UNTIL: a FOLLOWING delete from the first occurrence after it.

    This is how calendar apps split a series ("this and following"): the old UID ends at
    UNTIL and a new event (a new UID) holds the rest - a new event of the calendar, not
    part of this follow-up.  False when no occurrence lies after UNTIL (nothing to cut).
    """
    row = await m.FollowUp.get(id=fid)
    if row.rrule is None or found.rid is None:
        return False
    after = found.rid + timedelta(seconds=1)  # UNTIL is inclusive (RFC 5545 3.3.10)
    starts, _ = expand_capped(
        occurrences.anchor(row).astimezone(ZoneInfo(row.tzid)),
        parse_rrule(row.rrule),
        rdates=[datetime.fromisoformat(v) for v in row.rdates or []],
        exdates=[datetime.fromisoformat(v) for v in row.exdates or []],
        window_start=after,
        window_end=after + timedelta(days=366 * 100),
        limit=1,
    )
    if not starts:
        return False
    await mutations.delete(viewer, (fid, starts[0]), row.version, mutations.EditScope.FOLLOWING)
    return True


async def _owner(change: ObjectChange, row: m.FollowUp) -> str:
    viewer = await m.Associate.get(id=row.owner_id)
    names: list[str] = []
    conflicts = [f for f in change.found if f.conflicts]
    try:
        async with in_transaction():  # a savepoint: a refusal undoes every part
            for found in change.found:
                if found.kind == "edit" and not found.fields:
                    continue
                if found.kind == "delete-following":
                    if await _cut(viewer, row.id, found):
                        names.append("following")
                    continue
                if found.kind in ("edit", "delete"):
                    await _edit(viewer, row.id, found)
                    names += list(found.fields) or ["occurrence"]
                if found.kind == "partstat" and await _answer(viewer, row, found):
                    names += [] if "status" in names else ["status"]
    except DomainError as exc:
        await _record(change, PullOutcome.REFUSED, names, exc.message)
        await _put_back(change)
        return PullOutcome.REFUSED.value
    if change.data is not None:  # what both sides now agree on is the last synced state
        await CalendarObject.filter(id=change.obj.id).update(
            pushed_ics=change.data.decode("utf-8", "replace")
        )
    for found in conflicts:  # one per component: resolving it knows which occurrence
        await _record(
            change, PullOutcome.CONFLICT, list(found.conflicts), None, found.conflicts, found
        )
    if conflicts:
        await _put_back(change)
    if names:
        await _record(change, PullOutcome.APPLIED, names)
        return PullOutcome.APPLIED.value
    return PullOutcome.CONFLICT.value if conflicts else ""


async def _participant(change: ObjectChange, row: m.FollowUp) -> str:
    answer = next((f for f in change.found if f.kind == "partstat"), None)
    others = [f for f in change.found if f.kind != "partstat"]
    outcome = ""
    if answer is not None and change.account.associate_id is not None:
        p = await m.Participant.get_or_none(
            followup_id=row.id, associate_id=change.account.associate_id
        )
        status = PARTSTAT.get(answer.partstat or "")
        if p is not None and status is not None and not p.organiser and p.status != status:
            viewer = await m.Associate.get(id=change.account.associate_id)
            async with changes.track(row.id):
                await participants.set_status(viewer, p.id, status, via=VIA)
            await _record(change, PullOutcome.STATUS, ["status"], status.value)
            outcome = PullOutcome.STATUS.value
    if others:
        names = sorted({n for f in others for n in (*f.fields, *f.conflicts)} or {"occurrence"})
        await _record(
            change, PullOutcome.REVERTED, names, "only the owner's calendar changes the follow-up"
        )
        await _put_back(change)
        outcome = outcome or PullOutcome.REVERTED.value
    return outcome


async def _deleted(change: ObjectChange, row: m.FollowUp | None) -> str:
    """The object was deleted in the calendar: the account's policy decides (module doc)."""
    obj = change.obj
    if row is None:
        return ""
    policy = change.policy if change.owner else "restore"
    started = (row.start_at or row.deadline or followups.now()) <= followups.now()
    if policy == "safe" and not started:
        viewer = await m.Associate.get(id=row.owner_id)
        try:
            async with in_transaction():
                await mutations.delete(viewer, (row.id, None), None, mutations.EditScope.ALL)
        except DomainError as exc:
            await _record(change, PullOutcome.REFUSED, ["deleted"], exc.message)
            await _put_back(change)
            return PullOutcome.REFUSED.value
        await _record(change, PullOutcome.APPLIED, ["deleted"])
        return PullOutcome.APPLIED.value
    if policy in ("safe", "unlink"):
        await CalendarObject.filter(id=obj.id).update(
            wanted=False, content_hash=outbox.UNLINKED, etag=None, pushed_ics=None
        )
        reason = "deleted in the calendar: unlinked, the follow-up stays in the CRM"
        await _record(change, PullOutcome.APPLIED, ["unlinked"], reason)
        return PullOutcome.APPLIED.value
    await _record(change, PullOutcome.REVERTED, ["deleted"], "deleted in the calendar: put back")
    await _put_back(change)
    return PullOutcome.REVERTED.value


async def apply(change: ObjectChange) -> str | None:
    """Apply one object's changes (the ``PullHooks.apply`` of the sync worker)."""
    obj = change.obj
    if change.deleted:
        async with in_transaction():
            if not await CalendarObject.filter(id=obj.id, etag=obj.etag).update(etag=None):
                return None
            obj.etag = None  # type: ignore[assignment]
            return await _deleted(change, await m.FollowUp.get_or_none(id=obj.followup_id))
    async with in_transaction():
        if not await CalendarObject.filter(id=obj.id, etag=obj.etag).update(etag=change.etag):
            return None  # another puller, or our own write, came first
        if not change.found:
            return None  # nothing of ours changed (an app's own alarm, X- properties)
        row = await m.FollowUp.get_or_none(id=obj.followup_id)
        if row is None:
            return None
        if change.owner:
            return await _owner(change, row)
        return await _participant(change, row)


# -- new events made in the calendar app --------------------------------------------------

UID_SUFFIX = "@followups"
NO_TITLE = "(no title)"
MAX_ATTENDEES = 500  # as saveParticipants
ROOMS = (CuType.ROOM, CuType.RESOURCE)


class Ignored(Exception):
    """The object is not an event to import (not an error: nothing is recorded)."""


async def _refused(new: NewObject, reason: str) -> str:
    await CalendarPull.create(
        account_id=new.account.id,
        followup_id=None,
        name=new.name,
        outcome=PullOutcome.REFUSED,
        fields_changed=["created"],
        reason=f"not imported: {reason}"[:2000],
    )
    return PullOutcome.REFUSED.value


def _event(new: NewObject, zone: str, owner: m.Associate) -> EventSnapshot:
    """The one event of the object; ``Ignored`` or ``ValidationFailed`` (the reason)."""
    try:
        snaps = import_calendar(new.data, default_tzid=zone)
    except CalendarImportError as exc:
        raise ValidationFailed("data", exc.reason) from exc
    except Exception as exc:  # hostile data: whatever the parser raises is a refusal
        raise ValidationFailed("data", "the calendar data cannot be read") from exc
    if not snaps:
        raise Ignored
    if len(snaps) > 1:
        raise ValidationFailed("data", "more than one event in one calendar object")
    snap = snaps[0]
    if snap.kind is not SnapKind.MEETING or snap.cancelled:
        raise Ignored
    if snap.uid.endswith(UID_SUFFIX):
        raise Ignored  # one of ours (reconcile removes those the service no longer has)
    mine = (owner.email or "").lower()
    others = [a for a in snap.attendees if a.email.lower() != mine]
    theirs = snap.organizer is not None and snap.organizer.email.lower() != mine
    if theirs and len(others) < len(snap.attendees):
        raise Ignored  # someone else's invitation
    if snap.recurrence_id is not None:
        raise ValidationFailed("data", "a single occurrence without its series")
    if snap.start is None:
        raise ValidationFailed("start", "the event has no DTSTART")
    if theirs and others:
        raise ValidationFailed("participants", "the ORGANIZER is someone else's address")
    if len(others) > MAX_ATTENDEES:
        raise ValidationFailed("participants", f"more than {MAX_ATTENDEES} attendees")
    if len(snap.uid) > 255:
        raise ValidationFailed("data", "the UID is longer than 255 characters")
    return snap


def _times(snap: EventSnapshot, length: timedelta) -> dict[str, Any]:
    """The start and end columns of an event (or one occurrence of it).

    RFC 5545 §3.6.1: a DTSTART DATE without DTEND/DURATION lasts that day; a DATE-TIME
    one ends at its start.  A meeting has a start and an end after it (DOMAIN.md), so a
    timed event of no length (none given, or DTEND = DTSTART) lasts ``length``: the
    owner's "duration of new meeting".
    """
    assert snap.start is not None
    if snap.all_day:
        first = local_date(snap.start, snap.tzid)
        end = local_date(snap.end, snap.tzid) if snap.end else first + timedelta(days=1)
        # the API's end date is inclusive
        return {"start_date": first, "end_date": max(first, end - timedelta(days=1))}
    end_at = snap.end if snap.end is not None and snap.end != snap.start else None
    return {"start_at": snap.start, "end_at": end_at or snap.start + length}


def _fields(snap: EventSnapshot, length: timedelta) -> dict[str, Any]:
    """The createFollowUp input of an event (model column names)."""
    assert snap.start is not None
    data: dict[str, Any] = {
        "kind": m.Kind.MEETING,
        "title": snap.title.strip() or NO_TITLE,
        "location": snap.location,
        "agenda": snap.description,
        "busy": not snap.transparent,
        "private": snap.private,
    }
    if snap.alarm_minutes is not None:
        data["alarm_minutes"] = min(max(snap.alarm_minutes, 0), MAX_ALARM_MINUTES)
    if snap.all_day:
        data["all_day"] = True
    data.update(_times(snap, length))
    if snap.rrule or snap.rdates:
        data["recurrence"] = series.parse_spec(
            snap.rrule or RDATE_ONLY_RULE, None, list(snap.rdates), list(snap.exdates)
        )
    return data


def _length(snap: EventSnapshot, length: timedelta) -> timedelta:
    """How long each occurrence of the series lasts (as ``_times`` makes it)."""
    if snap.start is not None and snap.end is not None and snap.end > snap.start:
        return snap.end - snap.start
    return timedelta(days=1) if snap.all_day else length


async def _occurrences(owner: m.Associate, fid: int, snap: EventSnapshot, length: timedelta) -> int:
    """The series' changed occurrences (RECURRENCE-ID overrides), as its owner makes them.

    A cancelled one is a THIS delete; another one is a THIS edit (``RANGE=THISANDFUTURE``:
    FOLLOWING) of what differs from the series at that occurrence: times, title,
    location, description (an occurrence of no length lasts as long as the series'
    occurrences).  An override of no occurrence of the series is refused by the edit.
    Returns how many occurrences were changed.
    """
    every = _length(snap, length)
    title = snap.title.strip() or NO_TITLE
    count = 0
    for o in snap.overrides:
        rid = o.recurrence_id
        if rid is None or o.start is None:
            continue
        if not await _is_occurrence(fid, rid):
            when = rid.isoformat().replace("+00:00", "Z")
            raise ValidationFailed("recurrence", f"RECURRENCE-ID {when} is no occurrence")
        if o.cancelled:
            await _edit(owner, fid, Found("delete", rid))
            count += 1
            continue
        if o.end is None or o.end == o.start:
            o = replace(o, end=o.start + every)
        data: dict[str, Any] = {}
        if (o.start, o.end) != (rid, rid + every):
            data.update(_times(replace(o, tzid=snap.tzid), length))
        if (o.title.strip() or NO_TITLE) != title:
            data["title"] = o.title.strip() or NO_TITLE
        if (o.location or None) != (snap.location or None):
            data["location"] = o.location
        if (o.description or "") != (snap.description or ""):
            data["agenda"] = o.description
        if data:
            await _edit(owner, fid, Found("edit", rid, data, following=o.this_and_future))
            count += 1
    return count


async def _is_occurrence(fid: int, rid: datetime) -> bool:
    try:
        await series_edits.occurrence_of(await m.FollowUp.get(id=fid), rid)
    except NotFound:
        return False
    return True


def _over(snap: EventSnapshot, since: datetime | None) -> bool:
    """An event without recurrence that ended before the account's first-push window."""
    if since is None or snap.rrule or snap.rdates:
        return False
    return (snap.end or snap.start or since) < since


def _zone_of(snap: EventSnapshot, owner_zone: str) -> str:
    """The zone of a timed event: its DTSTART's TZID when that is an IANA zone, else the
    owner's (UTC and floating times too: their rule then follows the owner's clock)."""
    if snap.all_day or snap.tzid == "UTC" or iana_zone(snap.tzid) is None:
        return owner_zone
    return snap.tzid


@dataclass
class People:
    """The attendees of an imported event as saveParticipants takes them."""

    wanted: list[participants.Wanted] = field(default_factory=list)
    status: dict[Any, m.ParticipantStatus] = field(default_factory=dict)
    rooms: list[m.Resource] = field(default_factory=list)
    left_out: list[str] = field(default_factory=list)


async def _people(attendees: list[Attendee]) -> People:
    """Match ATTENDEEs (not the owner) to associates, contact persons, resources, addresses."""
    out = People()
    seen: set[Any] = set()
    for a in attendees:
        address = a.email.strip()
        wanted: participants.Wanted | None = None
        key: Any = None
        resource = await m.Resource.filter(email__iexact=address, active=True).first()
        if resource is None and a.cutype in ROOMS:
            out.left_out.append(f"{address}: no resource has this address")
            continue
        if resource is not None and (a.cutype in ROOMS or not await _known(address)):
            if ("r", resource.id) not in seen:
                seen.add(("r", resource.id))
                out.rooms.append(resource)
            continue
        who = await m.Associate.filter(email__iexact=address, active=True).order_by("id").first()
        if who is not None:
            wanted, key = participants.Wanted(associate_id=who.id), ("a", who.id)
        else:
            mails = m.EmailAddress.filter(address__iexact=address)
            mail = await mails.order_by("person_id").first()
            if mail is not None:
                wanted, key = participants.Wanted(person_id=mail.person_id), ("p", mail.person_id)
            elif participants.valid_email(address):
                wanted, key = participants.Wanted(email=address), ("e", address.lower())
        if wanted is None:
            out.left_out.append(f"{address[:80]}: not an e-mail address")
            continue
        if key in seen:
            continue
        seen.add(key)
        out.wanted.append(wanted)
        out.status[key] = PARTSTAT.get(a.partstat.value, m.ParticipantStatus.INVITED)
    return out


async def _known(address: str) -> bool:
    return (
        await m.Associate.filter(email__iexact=address, active=True).exists()
        or await m.EmailAddress.filter(address__iexact=address).exists()
    )


async def _invite(
    owner: m.Associate, row: m.FollowUp, people: People, settings: Any
) -> tuple[list[str], bool]:
    """Put the attendees on the new meeting through saveParticipants (no invitation mails:
    the calendar app sent its own), with their PARTSTAT; returns what was left out and
    whether a resource was booked."""
    left_out = list(people.left_out)
    rooms: list[int] = []
    for resource in people.rooms:
        if not resource.allow_double_booking:
            try:
                await bookings.check_refusals(row, [resource])
            except BookingConflict as exc:
                left_out.append(f"{resource.name}: {exc.message}")
                continue
        rooms.append(resource.id)
    if not people.wanted and not rooms:
        return left_out, False
    async with changes.track(row.id):
        row = await participants.save(
            owner, row.id, row.version, people.wanted, rooms, False, settings
        )
        for p in await m.Participant.filter(followup_id=row.id, organiser=False):
            key = participants.participant_key(p)
            status = people.status.get(key, m.ParticipantStatus.INVITED)
            if status is not m.ParticipantStatus.INVITED:
                await participants.set_status(owner, p.id, status, via=VIA)
    return left_out, bool(rooms)


async def _link(new: NewObject, row: m.FollowUp) -> None:
    """Make the calendar's object the follow-up's: its name, ETag; the queued PUT goes there."""
    account = new.account
    obj = await CalendarObject.get_or_none(account_id=account.id, followup_id=row.id)
    text = new.data.decode("utf-8", "replace")
    if obj is None:
        await CalendarObject.create(
            account_id=account.id,
            followup_id=row.id,
            uid=row.uid,
            name=new.name,
            state=ObjectState.SYNCED,
            synced_at=utcnow(),
            etag=new.etag,
            pushed_ics=text,
        )
        return
    if obj.name != new.name:
        await SyncJob.filter(
            account_id=account.id, name=obj.name, status=OutboxStatus.QUEUED
        ).update(name=new.name)
    await CalendarObject.filter(id=obj.id).update(name=new.name, etag=new.etag, pushed_ics=text)


async def create(new: NewObject) -> str:
    """Make a new event of the associate's own calendar a meeting (``PullHooks.create``)."""
    account = new.account
    owner = await m.Associate.get_or_none(id=account.associate_id)
    if owner is None or not owner.active:
        return ""
    prefs = (await effective_for([owner]))[owner.id]
    zone = prefs[PreferenceKey.TIME_ZONE].value
    length = timedelta(minutes=int(prefs[PreferenceKey.MEETING_DURATION].value))
    try:
        snap = _event(new, zone, owner)
        if await m.FollowUp.exists(uid=snap.uid):
            return ""  # already in the diary (another calendar, or another puller)
        if _over(snap, outbox.window_start(account, new.settings.caldav_initial_window_days)):
            return ""
        data = _fields(snap, length)
        s = new.settings
        mine = (owner.email or "").lower()
        people = await _people([a for a in snap.attendees if a.email.lower() != mine])
        async with in_transaction():  # a savepoint: a refusal leaves nothing behind
            row = await followups.create(
                owner,
                data,
                s.max_occurrences_per_series,
                all_day_busy=s.all_day_busy_default,
                uid=snap.uid,
                tzid=_zone_of(snap, zone),
                sequence=snap.sequence,
            )
            left_out, booked = await _invite(owner, row, people, s)
            changed = await _occurrences(owner, row.id, snap, length)
            await _link(new, row)
    except Ignored:
        return ""
    except DomainError as exc:
        return await _refused(new, exc.message)
    except IntegrityError:
        return ""  # the UID or the object was taken meanwhile
    await CalendarPull.create(
        account_id=account.id,
        followup_id=row.id,
        name=new.name,
        outcome=PullOutcome.IMPORTED,
        fields_changed=sorted(
            [API_NAME.get(k, k) for k in data if data[k] is not None]
            + (["participants"] if people.wanted else [])
            + (["resources"] if booked else [])
            + (["occurrences"] if changed else [])
        ),
        reason=("left out: " + "; ".join(left_out))[:2000] if left_out else None,
    )
    return PullOutcome.IMPORTED.value
