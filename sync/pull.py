"""Pull: what people change in their calendar apps, found and handed up to be applied.

Owns detecting changes (issue 14).  Per account one pass is a sync-collection REPORT since
the stored token (RFC 6578 section 3; a quiet pass is this one request) or, where the
server has none, a PROPFIND ETag listing (RFC 4918 section 9.1).  An object whose ETag is
the one our last write returned is our own write coming back and is skipped (no echo);
the others are fetched in one calendar-multiget (RFC 4791 section 7.9) and compared,
field by field, with the copy we last wrote (``pushed_ics``, the last synced state) and
with what the service has now (rendered from the current follow-up), so that:

- a field changed in the calendar only is a change to apply;
- a field changed on both sides keeps the service's value: a conflict, recorded;
- occurrences: a new or changed RECURRENCE-ID override is an edit of that occurrence
  (``RANGE=THISANDFUTURE``: of it and the following ones), an added EXDATE deletes that
  occurrence, an RRULE cut short by UNTIL deletes the following ones, the master is the
  whole series;
- a participant's ATTENDEE PARTSTAT in their own calendar is their answer.

What is found is handed to ``PullHooks.apply`` (given by ``app``: ``resolvers.calendar_pull``
applies it through the mutations, as the owner or participant would through GraphQL, and
puts the object back when it is refused); this module never writes follow-ups.  Deleted
objects are handed to ``PullHooks.apply`` too (``deleted``), with the account's deletion
policy (``CalendarAccount.pull_delete``, else CALDAV_PULL_DELETE).

New events: in an associate's own account with ``import_new_events`` on, an object whose
name we do not know is fetched (in the same multiget) and handed to ``PullHooks.create``
(``resolvers.calendar_pull.create``), which makes it a meeting or refuses it.  What is
not imported (someone else's invitation, a task, invalid data, an event that is over...)
is remembered with its ETag (``ForeignObject``) and not fetched again until it changes.
A room's account never imports.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from icalendar import Calendar
from icalendar.cal.component import Component
from tortoise.exceptions import IntegrityError

from config.settings import Settings
from orm import live
from orm import models as m
from orm.outbox import utcnow
from orm.outbox_models import OutboxStatus
from orm.snapshots import snapshots
from orm.sync_models import (
    AccountState,
    CalendarAccount,
    CalendarObject,
    ForeignObject,
    ObjectState,
    SyncJob,
)
from sync import outbox
from sync.account_client import client_for
from sync.client import CalendarClient
from sync.errors import AddressRefused, AuthError, CalDAVError, TransientError

log = logging.getLogger("followups.sync.pull")

#: the follow-up columns a calendar app may change, and the iCalendar property of each
FIELDS = ("start_at", "end_at", "title", "location", "agenda", "alarm_minutes")
HEARTBEAT = timedelta(minutes=10)


@dataclass
class Found:
    """One change of one component (master: ``rid`` None) found in a calendar object."""

    kind: str  # "edit", "delete" (one occurrence), "delete-following", "partstat"
    rid: datetime | None = None
    fields: dict[str, Any] = field(default_factory=dict)
    conflicts: dict[str, Any] = field(default_factory=dict)
    following: bool = False
    partstat: str | None = None


@dataclass
class ObjectChange:
    """What changed in one object of one calendar since we last wrote it."""

    account: CalendarAccount
    obj: CalendarObject
    etag: str
    found: list[Found]
    #: the calendar's copy (the new last synced state once its changes are taken)
    data: bytes | None
    #: the account is its owner's calendar (else a participant's or a room's copy)
    owner: bool
    #: the object is gone from the calendar; ``policy``: the account's, else CALDAV_PULL_DELETE
    deleted: bool = False
    policy: str = "safe"


@dataclass
class NewObject:
    """An object in an associate's own calendar that is not one of ours."""

    account: CalendarAccount
    name: str
    etag: str
    data: bytes
    settings: Settings


@dataclass
class PullHooks:
    """What a pull applies changes with (``app.workers`` fills it from ``resolvers``)."""

    apply: Callable[[ObjectChange], Awaitable[str | None]]
    #: makes a new event a meeting; returns the outcome (IMPORTED, REFUSED, "": ignored)
    create: Callable[[NewObject], Awaitable[str]] | None = None


def delete_policy(account: CalendarAccount, settings: Settings) -> str:
    """The account's deletion policy: its own, else CALDAV_PULL_DELETE."""
    return account.pull_delete or settings.caldav_pull_delete


def imports(account: CalendarAccount, hooks: PullHooks) -> bool:
    """Tell whether a pull of the account looks for new events."""
    return bool(
        account.import_new_events
        and account.associate_id is not None
        and account.resource_id is None
        and hooks.create is not None
    )


@dataclass
class PullReport:
    """What one pass over one account did."""

    account_id: int
    mode: str = ""
    requests: int = 0
    changed: int = 0
    echoes: int = 0
    applied: dict[str, int] = field(default_factory=dict)
    error: str | None = None


# -- reading components -----------------------------------------------------------------


def _moment(value: Any, tzid: str) -> datetime | None:
    """Return a DTSTART/DTEND value as an aware UTC datetime (a date: local midnight)."""
    if value is None:
        return None
    dt = value.dt if hasattr(value, "dt") else value
    if isinstance(dt, datetime):
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=ZoneInfo(tzid))
        return dt.astimezone(UTC)
    if isinstance(dt, date):
        return datetime.combine(dt, time(0), ZoneInfo(tzid)).astimezone(UTC)
    return None


def _alarm(comp: Component) -> int | None:
    for alarm in comp.subcomponents:
        if alarm.name != "VALARM" or "TRIGGER" not in alarm:
            continue
        trigger = alarm.decoded("TRIGGER")
        if isinstance(trigger, timedelta):
            return max(0, int(-trigger.total_seconds() // 60))
    return None


def _text(comp: Component, name: str) -> str | None:
    value = comp.get(name)
    return None if value is None or str(value) == "" else str(value)


def fields_of(comp: Component, tzid: str) -> dict[str, Any]:
    """Return the follow-up fields a component shows."""
    start = _moment(comp.get("DTSTART"), tzid)
    end = _moment(comp.get("DTEND"), tzid)
    if end is None and start is not None and "DURATION" in comp:
        end = start + comp.decoded("DURATION")
    return {
        "start_at": start,
        "end_at": end,
        "title": _text(comp, "SUMMARY"),
        "location": _text(comp, "LOCATION"),
        "agenda": _text(comp, "DESCRIPTION"),
        "alarm_minutes": _alarm(comp),
    }


def _exdates(comp: Component, tzid: str) -> set[datetime]:
    raw = comp.get("EXDATE")
    if raw is None:
        return set()
    out: set[datetime] = set()
    for item in raw if isinstance(raw, list) else [raw]:
        for d in item.dts:
            moment = _moment(d, tzid)
            if moment is not None:
                out.add(moment)
    return out


def _until(comp: Component, tzid: str) -> datetime | None:
    rule = comp.get("RRULE")
    if rule is None or not rule.get("UNTIL"):
        return None
    return _moment(rule["UNTIL"][0], tzid)


def _partstat(comp: Component, email: str | None) -> str | None:
    if not email:
        return None
    attendees = comp.get("ATTENDEE", [])
    for a in attendees if isinstance(attendees, list) else [attendees]:
        if str(a).lower().removeprefix("mailto:") == email.lower():
            return str(a.params.get("PARTSTAT", "NEEDS-ACTION")).upper()
    return None


def _answers(comp: Component) -> dict[str, str]:
    """Every ATTENDEE's PARTSTAT, by address in lower case."""
    attendees = comp.get("ATTENDEE", [])
    out: dict[str, str] = {}
    for a in attendees if isinstance(attendees, list) else [attendees]:
        answer = str(a.params.get("PARTSTAT", "NEEDS-ACTION")).upper()
        out[str(a).lower().removeprefix("mailto:")] = answer
    return out


def _components(data: bytes | str | None, tzid: str) -> dict[datetime | None, Component]:
    if not data:
        return {}
    try:
        cal = Calendar.from_ical(data)
    except ValueError:
        return {}
    out: dict[datetime | None, Component] = {}
    for comp in cal.walk():
        if comp.name not in ("VEVENT", "VTODO"):
            continue
        rid = comp.get("RECURRENCE-ID")
        out[_moment(rid, tzid) if rid is not None else None] = comp
    return out


def diff(
    base: bytes | str | None,
    theirs: bytes | str,
    ours: bytes | str | None,
    tzid: str,
    email: str | None = None,
    answers: bool = False,
) -> list[Found]:
    """Compare the calendar's copy with the last synced one and with the service's now.

    ``email``: the participant whose PARTSTAT is their answer; ``answers`` (the owner's
    calendar): every attendee's changed PARTSTAT (``fields``: ``{"attendee": address}``),
    the replies the calendar server took in for the organiser."""
    b, t, o = (_components(x, tzid) for x in (base, theirs, ours))
    out: list[Found] = []
    for rid, comp in t.items():
        was = b.get(rid) if rid in b else b.get(None) if rid is not None else None
        now = o.get(rid) if rid in o else o.get(None) if rid is not None else None
        if was is None:
            continue
        old, new = fields_of(was, tzid), fields_of(comp, tzid)
        mine = fields_of(now, tzid) if now is not None else old
        if rid is not None and rid not in b:  # a new override: its times are relative
            old = {**old, "start_at": rid, "end_at": rid + _length(b.get(None), tzid)}
            if rid not in o:  # the service's series now, at this occurrence's base times
                mine = {**mine, "start_at": old["start_at"], "end_at": old["end_at"]}
        taken: dict[str, Any] = {}
        conflicts: dict[str, Any] = {}
        for name in FIELDS:
            if new[name] == old[name] or new[name] == mine[name]:
                continue
            if mine[name] != old[name]:
                conflicts[name] = new[name]
            else:
                taken[name] = new[name]
        if taken or conflicts:
            rng = comp.get("RECURRENCE-ID")
            following = rng is not None and rng.params.get("RANGE") == "THISANDFUTURE"
            out.append(Found("edit", rid, taken, conflicts, following))
        if rid is None:
            for gone in sorted(_exdates(comp, tzid) - _exdates(was, tzid)):
                out.append(Found("delete", gone))
            until, old_until = _until(comp, tzid), _until(was, tzid)
            if until is not None and (old_until is None or until < old_until):
                out.append(Found("delete-following", until))
        answer, before = _partstat(comp, email), _partstat(was, email)
        if answer is not None and answer != before and rid is None:
            out.append(Found("partstat", None, partstat=answer))
        if answers and rid is None:
            old_answers = _answers(was)
            for address, value in sorted(_answers(comp).items()):
                if old_answers.get(address, value) != value:
                    out.append(Found("partstat", None, {"attendee": address}, partstat=value))
    return out


def _length(comp: Component | None, tzid: str) -> timedelta:
    if comp is None:
        return timedelta(0)
    f = fields_of(comp, tzid)
    if f["start_at"] is None or f["end_at"] is None:
        return timedelta(0)
    return f["end_at"] - f["start_at"]  # type: ignore[no-any-return]


# -- one pass ---------------------------------------------------------------------------


async def _listing(
    client: CalendarClient, account: CalendarAccount, report: PullReport
) -> tuple[dict[str, str], set[str], bool]:
    """Return (name -> ETag, deleted names, full) since the stored token."""
    if account.supports_sync is not False:
        try:
            result = await client.sync_collection(account.sync_token)
        except (AuthError, AddressRefused, TransientError):
            raise
        except CalDAVError:
            account.supports_sync = False
        else:
            account.supports_sync, account.sync_token = True, result.token
            report.mode = "sync-collection"
            return result.changed, set(result.deleted), result.full
    report.mode = "etag-listing"
    return await client.list_etags(), set(), True


async def _email_of(account: CalendarAccount) -> str | None:
    if account.associate_id is None:
        return None
    row = await m.Associate.get_or_none(id=account.associate_id)
    return row.email if row is not None else None


async def pull_account(
    account: CalendarAccount,
    settings: Settings,
    hooks: PullHooks,
    client: CalendarClient | None = None,
) -> PullReport:
    """Pull one calendar: find what changed there since we last wrote, hand it up."""
    report = PullReport(account.id)
    own = client is None
    client = client or client_for(account, settings)
    start = client.request_count
    token = account.sync_token
    try:
        listing, deleted, full = await _listing(client, account, report)
        names = list(listing)
        rows = (
            {
                o.name: o
                for o in await CalendarObject.filter(
                    account_id=account.id, name__in=names, wanted=True
                )
            }
            if names
            else {}
        )
        stale = [n for n, etag in listing.items() if n in rows and rows[n].etag != etag]
        report.echoes = sum(1 for n in listing if n in rows and rows[n].etag == listing[n])
        new = await _new_names(account, listing, deleted, full) if imports(account, hooks) else []
        fetched = await client.multiget(stale + new) if stale or new else {}
        gone = await _gone(account, listing, deleted, full)
    finally:
        report.requests = client.request_count - start
        if own:
            await client.aclose()
    if fetched:
        await _compare(account, rows, {n: fetched[n] for n in stale if n in fetched}, hooks, report)
    for name in new:
        if name in fetched:
            await _create(account, name, fetched[name], settings, hooks, report)
    for obj in gone:
        report.changed += 1
        row = await m.FollowUp.get_or_none(id=obj.followup_id)
        owner = row is not None and account.associate_id == row.owner_id
        policy = delete_policy(account, settings)
        change = ObjectChange(account, obj, "", [], None, owner, True, policy)
        outcome = await hooks.apply(change)
        if outcome:
            report.applied[outcome] = report.applied.get(outcome, 0) + 1
    now = utcnow()
    if account.sync_token != token or fetched or gone or _stale_heartbeat(account, now):
        await CalendarAccount.filter(id=account.id).update(
            sync_token=account.sync_token,
            supports_sync=account.supports_sync,
            pulled_at=now,
            pull_error=None,
        )
    return report


async def _gone(
    account: CalendarAccount, listing: dict[str, str], deleted: set[str], full: bool
) -> list[CalendarObject]:
    """Our synced objects deleted in the calendar (by the report, or absent from a full one)."""
    if not deleted and not full:
        return []
    query = CalendarObject.filter(account_id=account.id, wanted=True, state=ObjectState.SYNCED)
    if not full:
        query = query.filter(name__in=list(deleted))
    rows = [o for o in await query if o.name not in listing and o.etag is not None]
    if not rows:
        return []
    busy = set(
        await SyncJob.filter(
            account_id=account.id, status=OutboxStatus.QUEUED, name__in=[o.name for o in rows]
        ).values_list("name", flat=True)
    )
    return [o for o in rows if o.name not in busy]


async def _new_names(
    account: CalendarAccount, listing: dict[str, str], deleted: set[str], full: bool
) -> list[str]:
    """Names in the listing that are none of ours and changed since they were looked at."""
    memory = ForeignObject.filter(account_id=account.id)
    if full and listing:
        await memory.filter(name__not_in=list(listing)).delete()
    elif full:
        await memory.delete()
    elif deleted:
        await memory.filter(name__in=list(deleted)).delete()
    names = list(listing)
    if not names:
        return []
    known = set(
        await CalendarObject.filter(account_id=account.id, name__in=names).values_list(
            "name", flat=True
        )
    )
    queued = set(
        await SyncJob.filter(
            account_id=account.id, status=OutboxStatus.QUEUED, name__in=names
        ).values_list("name", flat=True)
    )
    seen = {
        n: e
        for n, e in await ForeignObject.filter(account_id=account.id, name__in=names).values_list(
            "name", "etag"
        )
    }
    return [
        n
        for n, etag in listing.items()
        if n not in known and n not in queued and seen.get(n) != etag
    ]


async def _create(
    account: CalendarAccount,
    name: str,
    got: tuple[bytes, str],
    settings: Settings,
    hooks: PullHooks,
    report: PullReport,
) -> None:
    """Hand a new object up; remember it (by ETag) unless it became a meeting."""
    assert hooks.create is not None
    data, etag = got
    report.changed += 1
    try:
        outcome = await hooks.create(NewObject(account, name, etag, data, settings))
    except Exception:  # one object never stops the pass; it is tried again when it changes
        log.exception("new object %s of calendar account %s failed", name, account.id)
        outcome = "FAILED"
    if outcome:
        report.applied[outcome] = report.applied.get(outcome, 0) + 1
    if outcome == "IMPORTED":
        return
    updated = await ForeignObject.filter(account_id=account.id, name=name).update(etag=etag)
    if not updated:
        with contextlib.suppress(IntegrityError):  # another puller remembered it first
            await ForeignObject.create(account_id=account.id, name=name, etag=etag)


def _stale_heartbeat(account: CalendarAccount, now: datetime) -> bool:
    return account.pulled_at is None or now - account.pulled_at > HEARTBEAT


async def _compare(
    account: CalendarAccount,
    rows: dict[str, CalendarObject],
    fetched: dict[str, tuple[bytes, str]],
    hooks: PullHooks,
    report: PullReport,
) -> None:
    objs = [rows[n] for n in fetched]
    followups = {f.id: f for f in await m.FollowUp.filter(id__in=[o.followup_id for o in objs])}
    snaps = await snapshots(list(followups.values()))
    email = await _email_of(account)
    for obj in objs:
        data, etag = fetched[obj.name]
        row = followups.get(obj.followup_id)
        snap = snaps.get(obj.followup_id)
        if row is None or snap is None:
            continue
        ours, _ = outbox.render_for(account, snap, {})
        owner = account.associate_id == row.owner_id
        found = diff(obj.pushed_ics, data, ours, row.tzid, None if owner else email, owner)
        report.changed += 1
        change = ObjectChange(account, obj, etag, found, data, owner)
        outcome = await hooks.apply(change)
        if outcome:
            report.applied[outcome] = report.applied.get(outcome, 0) + 1


async def pull_all(settings: Settings, hooks: PullHooks) -> list[PullReport]:
    """One pass over every working account that pulls."""
    out: list[PullReport] = []
    for account in await CalendarAccount.filter(state=AccountState.OK, pull=True).order_by("id"):
        try:
            out.append(await pull_account(account, settings, hooks))
        except CalDAVError as exc:
            log.warning("pull of calendar account %s failed: %s", account.id, exc)
            await CalendarAccount.filter(id=account.id).update(pull_error=str(exc)[:2000])
            await live.sync_failed(account.id, account.associate_id, account.resource_id)
            out.append(PullReport(account.id, error=str(exc)[:500]))
        except Exception as exc:  # one account never stops the pass
            log.exception("pull of calendar account %s failed", account.id)
            out.append(PullReport(account.id, error=str(exc)[:500]))
    return out


__all__ = [
    "FIELDS",
    "Found",
    "NewObject",
    "ObjectChange",
    "ObjectState",
    "PullHooks",
    "PullReport",
    "delete_policy",
    "diff",
    "pull_account",
    "pull_all",
]
