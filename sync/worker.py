"""The CalDAV worker: claims head jobs, writes them safely, records the outcome.

Runs in-process (started by the Starlette lifespan) or as ``followups sync-worker``; any
number of workers may share one PostgreSQL (``sync.jobs.claim``).  Writes are never
blind: a create is ``If-None-Match: *``, an update ``If-Match`` on the stored ETag; a 412
merges our object into the server copy (``sync.merge``) and retries on the new ETag.  A
down or slow server (``TransientError``) retries with exponential backoff and never gives
up; refused credentials (``AuthError``) mark the account FAILED with the server's answer
and its jobs wait, untried, until the account is updated; other refusals count towards
SYNC_MAX_ATTEMPTS.  Outcomes of a batch are written in one transaction.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from tortoise.transactions import in_transaction

from app.background import Background
from app.settings import Settings
from orm import outbox
from orm.outbox_models import OutboxStatus
from orm.sync_models import (
    AccountState,
    CalendarAccount,
    CalendarObject,
    JobOp,
    ObjectState,
    SyncJob,
)
from sync import jobs
from sync.accounts import client_for
from sync.client import CalendarClient
from sync.errors import (
    AuthError,
    CalDAVError,
    PreconditionFailed,
    PreconditionRefused,
    TransientError,
)
from sync.merge import merge
from sync.secrets import SecretUnavailable

log = logging.getLogger("followups.sync")
MAX_MERGES = 5
NEVER = 1 << 30


class Unsupported(CalDAVError):
    """Raise when the calendar cannot hold this kind of object (VTODO refused)."""


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


@dataclass
class _Batch:
    done: list[_Done] = field(default_factory=list)
    errors: list[tuple[SyncJob, CalDAVError, bool]] = field(default_factory=list)
    down: dict[int, CalDAVError] = field(default_factory=dict)
    refused: dict[int, str] = field(default_factory=dict)


def worker_name() -> str:
    """Return a name unique to this process: host and pid."""
    return f"{socket.gethostname()}:{os.getpid()}"


class SyncWorker:
    """Delivers queued CalDAV writes; ``run_once`` is one batch, ``run`` loops until stopped."""

    def __init__(self, settings: Settings, name: str | None = None) -> None:
        self.settings = settings
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
        """Claim one batch and try every job of it."""
        s = self.settings
        token, rows = await jobs.claim(
            self.name, limit=s.sync_batch_size, lease=timedelta(seconds=s.sync_lease_seconds)
        )
        result = BatchResult(claimed=len(rows))
        if not rows:
            return result
        try:
            batch = await self._work(rows)
            await self._record(batch, token, result)
        finally:
            await outbox.release(SyncJob, token)
        return result

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

    async def _work(self, rows: list[SyncJob]) -> _Batch:
        account_ids = {r.account_id for r in rows}
        accounts = {a.id: a for a in await CalendarAccount.filter(id__in=account_ids)}
        objects = {
            (o.account_id, o.name): o
            for o in await CalendarObject.filter(
                account_id__in=account_ids, name__in=list({r.name for r in rows})
            )
        }
        batch = _Batch()
        for job in rows:
            account = accounts.get(job.account_id)
            if account is None or job.account_id in batch.refused:
                continue
            if job.account_id in batch.down:
                batch.errors.append((job, batch.down[job.account_id], False))
                continue
            obj = objects.get((job.account_id, job.name))
            try:
                client = await self._client(account)
                if job.op is JobOp.PUT:
                    etag, ics = await self._put(client, account, job, obj)
                else:
                    await self._delete(client, job, obj)
                    etag, ics = None, None
                batch.done.append(_Done(job, etag, ics))
            except (AuthError, SecretUnavailable) as exc:
                batch.refused[job.account_id] = str(exc)[:2000]
            except TransientError as exc:
                batch.down[job.account_id] = exc
                batch.errors.append((job, exc, False))
            except (Unsupported, PreconditionRefused) as exc:
                batch.errors.append((job, exc, True))
            except CalDAVError as exc:
                batch.errors.append((job, exc, False))
        return batch

    async def _put(
        self,
        client: CalendarClient,
        account: CalendarAccount,
        job: SyncJob,
        obj: CalendarObject | None,
    ) -> tuple[str, str]:
        data = (job.ics or "").encode("utf-8")
        if b"BEGIN:VTODO" in data:
            if account.supports_vtodo is None:
                account.supports_vtodo = await client.supports_vtodo()
                await CalendarAccount.filter(id=account.id).update(
                    supports_vtodo=account.supports_vtodo
                )
            if not account.supports_vtodo:
                raise Unsupported("the calendar does not accept tasks (VTODO)", url=client.url)
        etag = obj.etag if obj is not None else None
        base = obj.pushed_ics if obj is not None else None
        body = data
        for _ in range(MAX_MERGES):
            try:
                if etag is None:
                    new = await client.put(job.name, body, create=True)
                else:
                    new = await client.put(job.name, body, etag=etag)
                return new, body.decode("utf-8")
            except PreconditionFailed as exc:
                if exc.server_ics is None or exc.server_etag is None:
                    etag, body = None, data  # gone on the server: create it again
                else:
                    log.info("412 on %s: merging into the server copy", job.name)
                    body, etag = merge(data, exc.server_ics, base), exc.server_etag
        raise TransientError("the object kept changing on the server", url=client.url)

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
                status = await outbox.mark_failed(
                    SyncJob,
                    job.id,
                    token,
                    str(exc),
                    attempts=job.attempts,
                    max_attempts=NEVER
                    if isinstance(exc, TransientError)
                    else self.settings.sync_max_attempts,
                    permanent=permanent,
                    now=now,
                )
                final = status == outbox.FAILED
                result.failed += final
                result.retrying += not final
                await CalendarObject.filter(account_id=job.account_id, name=job.name).update(
                    state=ObjectState.FAILED if final else ObjectState.PENDING,
                    error=str(exc)[:2000],
                )
            for account_id, reason in batch.refused.items():
                log.warning("calendar account %s refused: %s", account_id, reason)
                await CalendarAccount.filter(id=account_id).update(
                    state=AccountState.FAILED, last_error=reason, failed_at=now
                )
                result.accounts_failed += 1
            await self._objects(batch.done, now)

    async def _objects(self, done: list[_Done], now: datetime) -> None:
        if not done:
            return
        later = {
            (a, n)
            for a, n in await SyncJob.filter(
                status=OutboxStatus.QUEUED,
                account_id__in={d.job.account_id for d in done},
                name__in=list({d.job.name for d in done}),
            ).values_list("account_id", "name")
        }
        for d in done:
            key = (d.job.account_id, d.job.name)
            await CalendarObject.filter(account_id=key[0], name=key[1]).update(
                etag=d.etag,
                pushed_ics=d.ics,
                synced_at=now,
                error=None,
                state=ObjectState.PENDING if key in later else ObjectState.SYNCED,
            )

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver batches until ``stop`` is set; sleep between empty polls."""
        log.info("sync worker %s started", self.name)
        try:
            while not stop.is_set():
                try:
                    result = await self.run_once()
                except asyncio.CancelledError:
                    raise
                except Exception:  # keep the worker alive; the jobs come back after the lease
                    log.exception("sync worker batch failed")
                    result = BatchResult()
                if result.claimed < self.settings.sync_batch_size:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), self.settings.sync_poll_seconds)
        finally:
            await self.aclose()
        log.info("sync worker %s stopped", self.name)


def start_background(settings: Settings) -> Background | None:
    """Start the in-process sync worker unless SYNC_WORKER is off."""
    return Background(SyncWorker(settings), "sync-worker") if settings.sync_worker else None
