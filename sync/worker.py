"""The CalDAV worker: claims head jobs, writes them safely, records the outcome.

Runs in-process (started by the Starlette lifespan) or as ``followups sync-worker``; any
number of workers may share one PostgreSQL (``sync.jobs.claim``).  Writes are never
blind: a create is ``If-None-Match: *``, an update ``If-Match`` on the stored ETag; a 412
merges our object into the server copy (``sync.merge``) and retries on the new ETag.  A
server that does not answer at all (``ServerUnreachable``: refused, reset, timed out)
retries for ever with a short capped backoff (SYNC_UNREACHABLE_RETRY_SECONDS), so its
return is noticed quickly, and the account's other jobs of the batch wait untried;
refused credentials (``AuthError``), an unreadable secret, and a server address the
outbound address policy refuses (``AddressRefused``, e.g. a name rebound to a private
address) mark the account FAILED with the reason and its jobs wait, untried, until the
account is updated; a precondition refusal
(``PreconditionRefused``) or an unsupported component is FAILED at once - except a
create refused for its UID where the calendar's object with that UID is the server's
own scheduling copy of our meeting (same UID and ORGANIZER, ``sync.adopt``): ours is
written over it (``If-Match`` on its ETag), after the same batch's write of the
organiser's object, and the object keeps that name; in the owner's calendar on a server
that schedules itself, attendees the calendar's copy leaves to the server keep no
SCHEDULE-AGENT (``sync.scheduling``); every other
failure (a 5xx on one object, ...) concerns that object only and ends FAILED after
SYNC_MAX_ATTEMPTS.  The accounts of a batch are worked in parallel (one stuck server
delays no other account) and each account's outcomes are written in one transaction as
soon as that account is done.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from config.settings import Settings
from orm import live, outbox
from orm import models as m
from orm.outbox_models import OutboxStatus
from orm.sync_models import (
    AccountState,
    CalendarAccount,
    CalendarObject,
    ForeignObject,
    JobOp,
    ObjectState,
    SyncJob,
)
from sync import address_policy, jobs, scheduling
from sync.account_client import client_for
from sync.adopt import adoptable
from sync.client import CalendarClient
from sync.errors import (
    AddressRefused,
    AuthError,
    CalDAVError,
    PreconditionFailed,
    PreconditionRefused,
    ServerUnreachable,
    TransientError,
)
from sync.merge import merge
from sync.pull import PullHooks, PullReport, pull_all
from sync.secrets import SecretUnavailable

log = logging.getLogger("followups.sync")
MAX_MERGES = 5
MAX_BATCHES = 4
NEVER = 1 << 30
#: the batch's organiser writes (``_organisers``), for the account task working its jobs
_ORGANISERS: ContextVar[dict[int, tuple[int, asyncio.Event]] | None] = ContextVar(
    "organisers", default=None
)


class Unsupported(CalDAVError):
    """Raise when the calendar cannot hold this kind of object (VTODO refused)."""


class PullFirst(TransientError):
    """Raise when a pulling calendar changed the object: the pull merges it, then we write."""


@dataclass
class BatchResult:
    """What one ``run_once`` did."""

    claimed: int = 0
    synced: int = 0
    retrying: int = 0
    failed: int = 0
    accounts_failed: int = 0


@dataclass
class _Done:
    job: SyncJob
    etag: str | None
    ics: str | None
    #: the object's name in the calendar (another than the job's once adopted)
    name: str


@dataclass
class _Batch:
    done: list[_Done] = field(default_factory=list)
    errors: list[tuple[SyncJob, CalDAVError, bool]] = field(default_factory=list)
    down: dict[int, CalDAVError] = field(default_factory=dict)
    refused: dict[int, str] = field(default_factory=dict)


async def _organisers(
    rows: list[SyncJob], accounts: dict[int, CalendarAccount]
) -> dict[int, tuple[int, asyncio.Event]]:
    """Follow-up id -> (its owner's account, set once that account's jobs are done) for
    the follow-ups of the batch whose organiser's calendar is written in it."""
    fids = sorted({r.followup_id for r in rows})
    owners = dict(await m.FollowUp.filter(id__in=fids or [0]).values_list("id", "owner_id"))
    out: dict[int, tuple[int, asyncio.Event]] = {}
    for r in rows:
        account = accounts.get(r.account_id)
        who = account.associate_id if account is not None else None
        if account is not None and who is not None and owners.get(r.followup_id) == who:
            out.setdefault(r.followup_id, (account.id, asyncio.Event()))
    return out


def _organiser_done(
    organisers: dict[int, tuple[int, asyncio.Event]], account: CalendarAccount, job: SyncJob
) -> None:
    waiting = organisers.get(job.followup_id)
    if waiting is not None and waiting[0] == account.id:
        waiting[1].set()


async def _delivered(followup_id: int) -> set[str]:
    """Addresses (lower case) of the follow-up's participants and rooms whose copy we write."""
    people = await m.Participant.filter(
        followup_id=followup_id, associate_id__isnull=False, organiser=False
    ).values_list("associate_id", "email")
    booking = m.ResourceBooking.filter(followup_id=followup_id)
    rooms: list[Any] = await booking.values_list("resource_id", flat=True)
    cond = Q(associate_id__in=[a for a, _ in people] or [0]) | Q(resource_id__in=rooms or [0])
    with_calendar = await CalendarAccount.filter(cond).values_list("associate_id", "resource_id")
    who = {a for a, _ in with_calendar if a is not None}
    booked = {r for _, r in with_calendar if r is not None}
    emails = [e for a, e in people if a in who]
    emails += await m.Associate.filter(id__in=sorted(who) or [0]).values_list("email", flat=True)
    emails += await m.Resource.filter(id__in=sorted(booked) or [0]).values_list("email", flat=True)
    return {str(e).lower() for e in emails if e}


def worker_name() -> str:
    """Return a name unique to this process: host and pid."""
    return f"{socket.gethostname()}:{os.getpid()}"


class SyncWorker:
    """Delivers queued CalDAV writes; ``run_once`` is one batch, ``run`` loops until stopped."""

    def __init__(
        self, settings: Settings, name: str | None = None, pull: PullHooks | None = None
    ) -> None:
        self.settings = settings
        self.pull = pull
        address_policy.from_settings(settings)  # a malformed CALDAV_ALLOWED_HOSTS fails here
        self.name = name or worker_name()
        self._clients: dict[int, tuple[datetime, CalendarClient]] = {}

    async def aclose(self) -> None:
        """Close the cached HTTP sessions."""
        for _, client in self._clients.values():
            await client.aclose()
        self._clients.clear()

    async def _client(self, account: CalendarAccount) -> CalendarClient:
        cached = self._clients.get(account.id)
        if cached is not None and cached[0] == account.updated_at:
            return cached[1]
        if cached is not None:
            await cached[1].aclose()
        client = client_for(account, self.settings)
        self._clients[account.id] = (account.updated_at, client)
        return client

    async def run_once(self) -> BatchResult:
        """Claim one batch and try its jobs: accounts in parallel, each recorded when done."""
        s = self.settings
        token, rows = await jobs.claim(
            self.name, limit=s.sync_batch_size, lease=timedelta(seconds=s.sync_lease_seconds)
        )
        result = BatchResult(claimed=len(rows))
        if not rows:
            return result
        try:
            groups: dict[int, list[SyncJob]] = {}
            for row in rows:
                groups.setdefault(row.account_id, []).append(row)
            accounts = {a.id: a for a in await CalendarAccount.filter(id__in=list(groups))}
            organisers = await _organisers(rows, accounts)
            await asyncio.gather(
                *(
                    self._account(accounts[aid], group, token, result, organisers)
                    for aid, group in groups.items()
                    if aid in accounts
                )
            )
        finally:
            await outbox.release(SyncJob, token)
        return result

    async def _safe_batch(self) -> BatchResult:
        try:
            return await self.run_once()
        except asyncio.CancelledError:
            raise
        except Exception:  # keep the worker alive; the jobs come back after the lease
            log.exception("sync worker batch failed")
            return BatchResult()

    async def run_until_idle(self, max_batches: int = 1_000_000) -> BatchResult:
        """Run batches until nothing is claimable; return the totals."""
        total = BatchResult()
        for _ in range(max_batches):
            r = await self.run_once()
            for name in ("claimed", "synced", "retrying", "failed", "accounts_failed"):
                setattr(total, name, getattr(total, name) + getattr(r, name))
            if r.claimed == 0:
                break
        return total

    async def _account(
        self,
        account: CalendarAccount,
        rows: list[SyncJob],
        token: str,
        result: BatchResult,
        organisers: dict[int, tuple[int, asyncio.Event]] | None = None,
    ) -> None:
        """Deliver one account's jobs in order and record them (no other account waits)."""
        organisers = organisers if organisers is not None else {}
        _ORGANISERS.set(organisers)  # this account's task only (``_put`` reads it)
        batch = await self._work(account, rows, organisers)
        await self._record(batch, token, result)

    async def _work(
        self,
        account: CalendarAccount,
        rows: list[SyncJob],
        organisers: dict[int, tuple[int, asyncio.Event]],
    ) -> _Batch:
        objects = {
            o.name: o
            for o in await CalendarObject.filter(
                account_id=account.id, name__in=list({r.name for r in rows})
            )
        }
        batch = _Batch()
        for job in rows:
            if account.id in batch.refused:
                continue
            if account.id in batch.down:  # unreachable: the rest waits, untried
                batch.errors.append((job, batch.down[account.id], False))
                continue
            obj = objects.get(job.name)
            try:
                client = await self._client(account)
                name = job.name
                if job.op is JobOp.PUT:
                    etag, ics, name = await self._put(client, account, job, obj)
                else:
                    await self._delete(client, job, obj)
                    etag, ics = None, None
                batch.done.append(_Done(job, etag, ics, name))
                _organiser_done(organisers, account, job)
            except (AuthError, AddressRefused, SecretUnavailable) as exc:
                batch.refused[account.id] = str(exc)[:2000]
            except ServerUnreachable as exc:
                batch.down[account.id] = exc
                batch.errors.append((job, exc, False))
            except (Unsupported, PreconditionRefused) as exc:
                batch.errors.append((job, exc, True))
            except CalDAVError as exc:  # this object only (a 5xx, a 400...): bounded tries
                batch.errors.append((job, exc, False))
            _organiser_done(organisers, account, job)
        for account_id, done in organisers.values():
            if account_id == account.id:
                done.set()
        return batch

    async def _put(
        self,
        client: CalendarClient,
        account: CalendarAccount,
        job: SyncJob,
        obj: CalendarObject | None,
    ) -> tuple[str, str, str]:
        """Write the job's object; return its new ETag, the content and its name there.

        The name is the job's unless the create was refused for the UID and the
        calendar's object with it is the server's copy of our meeting (``sync.adopt``):
        then ours is written over that one, whose name the object takes from then on.
        """
        data = (job.ics or "").encode("utf-8")
        if b"BEGIN:VTODO" in data:
            if account.supports_vtodo is None:
                account.supports_vtodo = await client.supports_vtodo()
                await CalendarAccount.filter(id=account.id).update(
                    supports_vtodo=account.supports_vtodo
                )
            if not account.supports_vtodo:
                raise Unsupported("the calendar does not accept tasks (VTODO)", url=client.url)
        data = await self._server_scheduling(client, account, job, obj, data)
        etag = obj.etag if obj is not None else None
        base = obj.pushed_ics if obj is not None else None
        body, name, adopted = data, job.name, False
        for _ in range(MAX_MERGES):
            try:
                if etag is None:
                    new = await client.put(name, body, create=True)
                else:
                    new = await client.put(name, body, etag=etag)
                return new, body.decode("utf-8"), name
            except PreconditionRefused as exc:
                if etag is not None or adopted or not exc.uid_conflict:
                    raise
                found = await self._adoptable(client, account, job.followup_id, data, name)
                if found is None:
                    raise
                await self._after_organiser(account, job, _ORGANISERS.get() or {})
                log.info("%s: adopting the server's copy %s of the meeting", job.name, found[0])
                (name, etag), adopted = found, True
            except PreconditionFailed as exc:
                if exc.server_ics is None or exc.server_etag is None:
                    # gone on the server: create it again (under our own name)
                    etag, body, name = None, data, job.name
                elif account.pull and self.pull is not None:
                    raise PullFirst(
                        "changed in the calendar: pulled first", url=client.url
                    ) from exc
                else:
                    log.info("412 on %s: merging into the server copy", name)
                    body, etag = merge(data, exc.server_ics, base), exc.server_etag
        raise TransientError("the object kept changing on the server", url=client.url)

    async def _after_organiser(
        self,
        account: CalendarAccount,
        job: SyncJob,
        organisers: dict[int, tuple[int, asyncio.Event]],
    ) -> None:
        """Wait until this batch's write of the organiser's object is done (bounded).

        The server's copy we adopt is the server's doing: the organiser's write (ours)
        can make the server change it again (a CANCEL when an attendee leaves its
        scheduling, ``sync.scheduling``), so ours is written over it after that write.
        """
        waiting = organisers.get(job.followup_id)
        if waiting is None or waiting[0] == account.id:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(waiting[1].wait(), timeout=self.settings.caldav_timeout)

    async def _server_scheduling(
        self,
        client: CalendarClient,
        account: CalendarAccount,
        job: SyncJob,
        obj: CalendarObject | None,
        data: bytes,
    ) -> bytes:
        """Our object for the owner's calendar, the attendees the server schedules kept its.

        ``sync.scheduling``: in the owner's calendar on a server that schedules itself, an
        attendee the calendar's copy (the last synced state) leaves to the server and to
        whom we write no copy ourselves keeps no SCHEDULE-AGENT, so the server does not
        take our write for a cancellation and keeps delivering the changes to them.
        """
        if obj is None or not obj.pushed_ics or b"SCHEDULE-AGENT=CLIENT" not in data:
            return data
        left = scheduling.left_to_server(obj.pushed_ics)
        if not left or account.associate_id is None:
            return data
        owner = await m.FollowUp.filter(id=job.followup_id).values_list("owner_id", flat=True)
        if account.associate_id not in owner:
            return data
        left -= await _delivered(job.followup_id)
        if not left or not await client.auto_schedules():
            return data
        return scheduling.keep_server_agent(data, left)

    async def _adoptable(
        self,
        client: CalendarClient,
        account: CalendarAccount,
        followup_id: int,
        data: bytes,
        name: str,
    ) -> tuple[str, str] | None:
        """The server's copy of our meeting to write over (``sync.adopt``), if any.

        Not one whose name the account already gives another object.
        """
        found = await adoptable(client, data, name)
        if found is None:
            return None
        taken = CalendarObject.filter(account_id=account.id, name=found[0])
        if await taken.exclude(followup_id=followup_id).exists():
            return None
        return found

    async def _delete(
        self, client: CalendarClient, job: SyncJob, obj: CalendarObject | None
    ) -> None:
        etag = obj.etag if obj is not None else None
        for _ in range(MAX_MERGES):
            try:
                await client.delete(job.name, etag)
                return None
            except PreconditionFailed as exc:
                if exc.server_etag is None:
                    return None
                etag = exc.server_etag  # edited there, deleted here: the deletion wins
        raise TransientError("the object kept changing on the server", url=client.url)

    async def _record(self, batch: _Batch, token: str, result: BatchResult) -> None:
        now = outbox.utcnow()
        async with in_transaction():
            for done in batch.done:
                if await outbox.mark_sent(SyncJob, done.job.id, token, now):
                    result.synced += 1
            for job, exc, permanent in batch.errors:
                unreachable = isinstance(exc, ServerUnreachable | PullFirst)
                cap = self.settings.sync_unreachable_retry_seconds
                if isinstance(exc, PullFirst):
                    cap = self.settings.caldav_poll_seconds
                status = await outbox.mark_failed(
                    SyncJob,
                    job.id,
                    token,
                    str(exc),
                    attempts=job.attempts,
                    max_attempts=NEVER if unreachable else self.settings.sync_max_attempts,
                    permanent=permanent,
                    now=now,
                    **({"base": min(5.0, cap), "cap": cap} if unreachable else {}),
                )
                final = status == outbox.FAILED
                result.failed += final
                result.retrying += not final
                await CalendarObject.filter(account_id=job.account_id, name=job.name).update(
                    state=ObjectState.FAILED if final else ObjectState.PENDING,
                    error=str(exc)[:2000],
                )
                if final:
                    await self._live_failure(job.account_id, job.followup_id)
            for account_id, reason in batch.refused.items():
                log.warning("calendar account %s refused: %s", account_id, reason)
                await CalendarAccount.filter(id=account_id).update(
                    state=AccountState.FAILED, last_error=reason, failed_at=now
                )
                await self._live_failure(account_id, None)
                result.accounts_failed += 1
            await self._objects(batch.done, now)

    async def _live_failure(self, account_id: int, followup_id: int | None) -> None:
        """Tell the account's associate (or resource diary) that its calendar failed."""
        account = await CalendarAccount.get_or_none(id=account_id)
        if account is not None:
            await live.sync_failed(
                account_id, account.associate_id, account.resource_id, followup_id
            )

    async def _objects(self, done: list[_Done], now: datetime) -> None:
        if not done:
            return
        for d in done:
            if d.name != d.job.name:
                await self._rename(d)
        later = {
            (a, n)
            for a, n in await SyncJob.filter(
                status=OutboxStatus.QUEUED,
                account_id__in={d.job.account_id for d in done},
                name__in=list({d.name for d in done}),
            ).values_list("account_id", "name")
        }
        for d in done:
            key = (d.job.account_id, d.name)
            await CalendarObject.filter(account_id=key[0], name=key[1]).update(
                etag=d.etag,
                pushed_ics=d.ics,
                synced_at=now,
                error=None,
                state=ObjectState.PENDING if key in later else ObjectState.SYNCED,
            )

    async def _rename(self, d: _Done) -> None:
        """The object now lives under the adopted name: its row and queued jobs follow."""
        account_id, old = d.job.account_id, d.job.name
        there = CalendarObject.filter(account_id=account_id, name=d.name)
        if await there.exclude(followup_id=d.job.followup_id).exists():
            log.warning("calendar account %s: %s is taken, not adopted", account_id, d.name)
            d.name = old
            return
        if not await there.exists():
            await CalendarObject.filter(account_id=account_id, name=old).update(name=d.name)
        await SyncJob.filter(account_id=account_id, name=old, status=OutboxStatus.QUEUED).update(
            name=d.name
        )
        await ForeignObject.filter(account_id=account_id, name=d.name).delete()

    async def pull_once(self) -> list[PullReport]:
        """One pull pass over every account that pulls (nothing without pull hooks)."""
        if self.pull is None:
            return []
        return await pull_all(self.settings, self.pull)

    async def _pull_loop(self, stop: asyncio.Event) -> None:
        """Pull every CALDAV_POLL_SECONDS until stopped."""
        while not stop.is_set():
            try:
                await self.pull_once()
            except asyncio.CancelledError:
                raise
            except Exception:  # keep pulling; the next pass tries again
                log.exception("calendar pull pass failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.settings.caldav_poll_seconds)

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver batches until ``stop`` is set; sleep between empty polls.

        Up to ``MAX_BATCHES`` batches are in flight: a batch held up by a server that
        does not answer (until CALDAV_TIMEOUT) does not keep the next poll from claiming
        the jobs queued meanwhile for other accounts.
        """
        log.info("sync worker %s started", self.name)
        loop = asyncio.get_running_loop()
        inflight: set[asyncio.Task[BatchResult]] = set()
        wake = 0.0
        stopper = asyncio.create_task(stop.wait())
        puller = asyncio.create_task(self._pull_loop(stop)) if self.pull is not None else None
        try:
            while not stop.is_set():
                now = loop.time()
                if len(inflight) < MAX_BATCHES and now >= wake:
                    inflight.add(asyncio.create_task(self._safe_batch()))
                    wake = now + self.settings.sync_poll_seconds
                timeout = max(0.0, wake - loop.time())
                done, _ = await asyncio.wait(
                    {*inflight, stopper}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
                )
                for task in inflight & done:
                    inflight.discard(task)
                    if task.result().claimed >= self.settings.sync_batch_size:
                        wake = loop.time()  # more work waiting: claim again at once
            if inflight:
                await asyncio.wait(inflight)
        finally:
            stopper.cancel()
            if puller is not None:
                puller.cancel()
            for task in inflight:
                task.cancel()
            await self.aclose()
        log.info("sync worker %s stopped", self.name)
