"""Which CalDAV writes a change needs, queued as ``SyncJob`` rows inside the change's transaction.

Owns the push rules of issue 7: a follow-up with a start (a meeting, a made call, a task
with a time; an all-day task with its due date, as ``DUE;VALUE=DATE``) belongs in the
calendar of its owner and of every associate participant and booked resource that has a
calendar account; when it loses its start, is deleted, or a participant or resource is
removed, a DELETE is queued for the calendars it left.  The object is built by
``calcore.builder.build_calendar`` from the ``orm.snapshots`` snapshot, here, in the
transaction, so the job holds exactly what the change produced.  A queued job for the same
object that no worker has claimed yet is replaced in place (its content is obsolete),
which keeps per-object order and the queue short.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from tortoise.expressions import Q

from calcore.builder import build_calendar, busy_block
from calcore.model import EventSnapshot
from orm import changes
from orm import models as m
from orm.changes import Change
from orm.outbox import utcnow
from orm.outbox_models import OutboxStatus
from orm.snapshots import snapshots
from orm.sync_models import CalendarAccount, CalendarObject, JobOp, ObjectState, SyncJob
from sync.names import object_name

CHUNK = 500
LIGHT = (
    "id",
    "account_id",
    "followup_id",
    "uid",
    "name",
    "wanted",
    "state",
    "content_hash",
    "etag",
)
_VOLATILE = (b"DTSTAMP", b"LAST-MODIFIED")
#: ``content_hash`` of an object its calendar's owner deleted and we only unlinked: the
#: follow-up stays in the CRM and is not put into that calendar again
UNLINKED = "unlinked"


async def _flat(query: Any) -> list[int]:
    """Return a ``values_list(..., flat=True)`` query as ints."""
    return [int(v) for v in await query if v is not None]


def syncable(snapshot: EventSnapshot | None) -> bool:
    """Tell whether a follow-up goes to calendars (it has a start, or is an all-day task)."""
    if snapshot is None:
        return False
    return snapshot.start is not None or (snapshot.all_day and snapshot.due is not None)


#: the rows ``syncable`` accepts, as a query condition
PUSHED = Q(start_at__isnull=False) | Q(all_day=True, deadline__isnull=False)


def render(snapshot: EventSnapshot) -> tuple[str, str]:
    """Return the calendar object text and a digest of it that ignores the timestamps."""
    stamp = snapshot.last_modified or datetime.now(UTC)
    data = build_calendar(snapshot, dtstamp=stamp, client_scheduling=True).to_ical()
    digest = hashlib.sha256()
    for line in data.split(b"\r\n"):
        if not line.startswith(_VOLATILE):
            digest.update(line + b"\n")
    return data.decode("utf-8"), digest.hexdigest()


def render_for(
    account: CalendarAccount, snapshot: EventSnapshot, cache: dict[bool, tuple[str, str]]
) -> tuple[str, str]:
    """``render`` for one account's calendar, each form rendered once per ``cache``.

    A resource's calendar is read by everyone who books the resource, so a private
    follow-up goes there as a busy block (``calcore.builder.busy_block``: no title,
    location, description, people, links or alarm); the calendars of the owner and the
    associate participants get the full object.
    """
    busy = account.resource_id is not None and snapshot.private
    if busy not in cache:
        cache[busy] = render(busy_block(snapshot) if busy else snapshot)
    return cache[busy]


async def enqueue(
    account_id: int, followup_id: int, name: str, op: JobOp, ics: str | None
) -> SyncJob | None:
    """Queue one write; an unclaimed queued job for the same object is replaced instead."""
    last = (
        await SyncJob.filter(account_id=account_id, name=name, status=OutboxStatus.QUEUED)
        .order_by("-id")
        .first()
    )
    if last is not None and last.claimed_by is None:
        done = await SyncJob.filter(
            id=last.id, status=OutboxStatus.QUEUED, claimed_by__isnull=True
        ).update(op=op, ics=ics, followup_id=followup_id)
        if done:
            return None
    return await SyncJob.create(
        next_attempt_at=utcnow(),
        account_id=account_id,
        followup_id=followup_id,
        name=name,
        op=op,
        ics=ics,
    )


async def _want(
    account_id: int,
    followup_id: int,
    uid: str,
    found: CalendarObject | None,
    ics: str,
    digest: str,
) -> None:
    if found is None:
        await CalendarObject.create(
            account_id=account_id,
            followup_id=followup_id,
            uid=uid,
            name=object_name(uid),
            content_hash=digest,
        )
        name = object_name(uid)
    else:
        if found.wanted and found.content_hash == digest and found.state != ObjectState.FAILED:
            return
        if not found.wanted and found.content_hash == UNLINKED:
            return
        name = found.name
        await CalendarObject.filter(id=found.id).update(
            wanted=True, state=ObjectState.PENDING, error=None, content_hash=digest
        )
    await enqueue(account_id, followup_id, name, JobOp.PUT, ics)


async def _unwant(found: CalendarObject) -> None:
    await CalendarObject.filter(id=found.id).update(
        wanted=False, state=ObjectState.PENDING, error=None, content_hash=None
    )
    await enqueue(found.account_id, found.followup_id, found.name, JobOp.DELETE, None)


async def accounts_for(followup_id: int) -> list[CalendarAccount]:
    """Return the accounts whose calendars the follow-up belongs in."""
    owner = await _flat(m.FollowUp.filter(id=followup_id).values_list("owner_id", flat=True))
    people = await _flat(
        m.Participant.filter(followup_id=followup_id, associate_id__isnull=False).values_list(
            "associate_id", flat=True
        )
    )
    rooms = await _flat(
        m.ResourceBooking.filter(followup_id=followup_id).values_list("resource_id", flat=True)
    )
    return await _accounts(sorted({*owner, *people}), rooms)


async def _accounts(people: Sequence[int], rooms: Sequence[int]) -> list[CalendarAccount]:
    """The calendar accounts of these associates and resources."""
    cond = Q(associate_id__in=list(people))
    if rooms:
        cond |= Q(resource_id__in=list(rooms))
    return list(await CalendarAccount.filter(cond).order_by("id"))


async def handle(change: Change) -> None:
    """The ``orm.changes`` handler: queue the CalDAV writes of one change."""
    if not await CalendarAccount.exists():
        return
    fid = change.followup_id
    found = {o.account_id: o for o in await CalendarObject.filter(followup_id=fid)}
    after = change.after if syncable(change.after) else None
    if after is None:
        targets = []
    elif change.after_rows is not None:  # the parties the snapshot was loaded with
        targets = await _accounts(*change.after_rows.parties)
    else:
        targets = await accounts_for(fid)
    if after is not None and targets:
        cache: dict[bool, tuple[str, str]] = {}
        for account in targets:
            ics, digest = render_for(account, after, cache)
            await _want(account.id, fid, after.uid, found.get(account.id), ics, digest)
    keep = {a.id for a in targets}
    for account_id, obj in found.items():
        if account_id not in keep and obj.wanted:
            await _unwant(obj)


def install() -> None:
    """Register the CalDAV handler (idempotent)."""
    changes.register(handle)


def uninstall() -> None:
    """Remove the CalDAV handler."""
    changes.HANDLERS[:] = [h for h in changes.HANDLERS if h is not handle]


def window_start(account: CalendarAccount, days: int) -> datetime | None:
    """Return where the account's first push starts: ``days`` before it was connected.

    ``days <= 0`` means no window (everything).  The window decides what a new account
    (or a full sync) adds; follow-ups changed later go to the calendar whatever their date,
    and nothing already in the calendar is removed for being older.
    """
    if days <= 0:
        return None
    return (account.created_at or utcnow()) - timedelta(days=days)


def _in_window(since: datetime) -> Q:
    """Follow-ups that end after ``since``, or series with occurrences after it."""
    return (
        Q(start_at__gte=since)
        | Q(end_at__gte=since)
        | Q(deadline__gte=since)
        | Q(series_end__gte=since)
        | Q(rrule__isnull=False, series_end__isnull=True)
    )


async def desired_ids(account: CalendarAccount, since: datetime | None = None) -> set[int]:
    """Return the follow-ups (with a start) that belong in the account's calendar.

    With ``since``, only those with an occurrence after it (``window_start``).
    """
    timed = m.FollowUp.filter(PUSHED)
    if since is not None:
        timed = timed.filter(_in_window(since))
    if account.resource_id is not None:
        booked = await _flat(
            m.ResourceBooking.filter(resource_id=account.resource_id).values_list(
                "followup_id", flat=True
            )
        )
        return set(await _flat(timed.filter(id__in=booked).values_list("id", flat=True)))
    who = account.associate_id
    own = await _flat(timed.filter(owner_id=who).values_list("id", flat=True))
    joined = await _flat(
        m.Participant.filter(associate_id=who).values_list("followup_id", flat=True)
    )
    theirs = await _flat(timed.filter(id__in=joined).values_list("id", flat=True)) if joined else []
    return {*own, *theirs}


async def queue_missing(
    account: CalendarAccount, since: datetime | None = None
) -> tuple[list[int], list[int]]:
    """Queue PUTs for follow-ups missing from the account and DELETEs for ones that left.

    ``since`` (``window_start``) limits what is added; removal looks at every follow-up.
    Returns the follow-up ids queued for (re)creation and for removal.
    """
    desired = await desired_ids(account)
    wanted = await desired_ids(account, since) if since is not None else desired
    rows = {
        o.followup_id: o for o in await CalendarObject.filter(account_id=account.id).only(*LIGHT)
    }
    have = {fid for fid, o in rows.items() if o.wanted}
    missing = sorted(wanted - have)
    for part in _chunks(missing, CHUNK):
        followups = await m.FollowUp.filter(id__in=part)
        snaps = await snapshots(followups)
        for fid, snap in snaps.items():
            ics, digest = render_for(account, snap, {})
            await _want(account.id, fid, snap.uid, rows.get(fid), ics, digest)
    extra = sorted(have - desired)
    for fid in extra:
        await _unwant(rows[fid])
    return missing, extra


async def requeue(account: CalendarAccount, followup_ids: Iterable[int]) -> int:
    """Queue a fresh PUT of each follow-up (reconcile repairs); return how many."""
    ids = sorted(set(followup_ids))
    rows = {
        o.followup_id: o
        for o in await CalendarObject.filter(account_id=account.id, followup_id__in=ids).only(
            *LIGHT
        )
    }
    count = 0
    for part in _chunks(ids, CHUNK):
        followups = await m.FollowUp.filter(id__in=part)
        for fid, snap in (await snapshots(followups)).items():
            ics, digest = render_for(account, snap, {})
            found = rows.get(fid)
            if found is not None:
                await CalendarObject.filter(id=found.id).update(content_hash=None)
                found.content_hash = None
            await _want(account.id, fid, snap.uid, found, ics, digest)
            count += 1
    return count


def _chunks(items: list[int], size: int) -> Iterable[list[int]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
