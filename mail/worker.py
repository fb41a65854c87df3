"""The mail worker: claims due outbox rows in batches, sends them over one SMTP connection.

Runs in-process (started by the Starlette lifespan when SMTP is configured) or as its own
process (``followups mail-worker``); any number of workers may share one PostgreSQL, the
claims in ``orm.outbox`` keep them on disjoint rows.  Consecutive batches share one SMTP
connection (``Connection``), closed when the queue stays empty or after an error.  A batch's
accepted rows are marked sent in one statement at its end, so a worker killed mid-batch
repeats at most that batch (after the lease ends), and a restart sends nothing that was
already recorded as sent.

Order: one meeting's mails to one recipient are claimed per ``(followup_id, recipient)``
in queue order (``orm.outbox.claim(ordered_by=...)``, the mechanism the CalDAV jobs use),
so a retried older mail never arrives after a newer one; a claimed mail that a newer
queued one supersedes (``mail.outbox.supersedes``) is marked SUPERSEDED, not sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from dataclasses import dataclass
from datetime import timedelta

import aiosmtplib

from config.settings import Settings
from mail.outbox import SUPERSEDABLE, supersedes
from mail.smtp import SendError, SmtpSession, SmtpTransport
from orm import live, outbox
from orm.outbox_models import MailOutbox, MailStatus

log = logging.getLogger("followups.mail")


@dataclass
class BatchResult:
    """What one ``run_once`` did."""

    claimed: int = 0
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    superseded: int = 0
    config_errors: int = 0


ORDERED_BY = ("followup_id", "recipient")


def worker_name() -> str:
    """Return a name unique to this process: host and pid."""
    return f"{socket.gethostname()}:{os.getpid()}"


class MailWorker:
    """Sends queued mails; ``run_once`` is one batch, ``run`` loops until stopped."""

    def __init__(
        self,
        settings: Settings,
        transport: SmtpTransport | None = None,
        name: str | None = None,
    ) -> None:
        self.settings = settings
        self.transport = transport or SmtpTransport(settings)
        self.name = name or worker_name()
        self._resumed = False
        self._busy = False

    async def run_once(self, connection: Connection | None = None) -> BatchResult:
        """Claim one batch and try to send every row of it.

        ``connection`` (from ``run``) keeps one SMTP connection open across batches;
        without it the batch opens its own and closes it at the end.
        """
        if connection is None:
            connection = Connection(self.transport)
            try:
                return await self.run_once(connection)
            finally:
                await connection.close()
        s = self.settings
        if not self._resumed:
            await self.resume_config_errors()
        token, rows = await outbox.claim(
            MailOutbox,
            self.name,
            limit=s.mail_batch_size,
            lease=timedelta(seconds=s.mail_lease_seconds),
            ordered_by=ORDERED_BY,
            probe=not self._busy,  # after a batch, more is likely due: no read first
        )
        self._busy = bool(rows)
        result = BatchResult(claimed=len(rows))
        if not rows:
            return result
        rows = await self._drop_superseded(rows, token, result)
        done: set[int] = set()
        sent: list[int] = []
        try:
            if rows:
                session = await connection.get()
                for row in rows:
                    try:
                        await session.send(row.sender, row.recipient, row.message.encode())
                    except SendError as exc:
                        if exc.config:
                            raise
                        await self._failed(row, token, exc, result)
                        done.add(row.id)
                        if exc.broken:
                            break
                        continue
                    sent.append(row.id)
                    done.add(row.id)
                    result.sent += 1
                    log.debug("sent %s mail %s to %s", row.method, row.id, row.recipient)
                rest = [r for r in rows if r.id not in done]
                if rest:
                    raise SendError("the SMTP connection broke during the batch", broken=True)
        except SendError as exc:
            await connection.close()  # a refused or broken connection is not reused
            if exc.config:
                await self._config_error(rows, done, token, exc, result)
            else:
                for row in rows:
                    if row.id not in done:
                        await self._failed(row, token, exc, result)
        finally:
            marked = await outbox.mark_sent_many(MailOutbox, sent, token)
            if len(done) + result.superseded < result.claimed or marked < len(sent):
                await outbox.release(MailOutbox, token)  # rows still held: give them back
        if sent:
            log.info("sent %d mails", len(sent))
        return result

    async def resume_config_errors(self) -> int:
        """Queue CONFIG_ERROR mails again: a worker starting may run with fixed settings."""
        self._resumed = True
        return await MailOutbox.filter(status=MailStatus.CONFIG_ERROR).update(
            status=MailStatus.QUEUED, next_attempt_at=outbox.utcnow()
        )

    async def _config_error(
        self,
        rows: list[MailOutbox],
        done: set[int],
        token: str,
        exc: SendError,
        result: BatchResult,
    ) -> None:
        """Park the batch as CONFIG_ERROR with the reason (no retries until a restart)."""
        ids = [r.id for r in rows if r.id not in done]
        await MailOutbox.filter(id__in=ids, claimed_by=token).update(
            status=MailStatus.CONFIG_ERROR,
            last_error=exc.message[:2000],
            claimed_by=None,
            claimed_until=None,
        )
        result.config_errors += len(ids)
        log.error("mail is not sent, fix the SMTP settings and restart: %s", exc.message)

    async def _drop_superseded(
        self, rows: list[MailOutbox], token: str, result: BatchResult
    ) -> list[MailOutbox]:
        """Mark claimed rows that a newer queued row supersedes; return the rest."""
        heads = [r for r in rows if r.method in SUPERSEDABLE]
        if not heads:
            return rows
        newer = await MailOutbox.filter(
            status=MailStatus.QUEUED,
            followup_id__in={r.followup_id for r in heads},
            method__in=SUPERSEDABLE,
            id__gt=min(r.id for r in heads),
        ).values_list("id", "followup_id", "recipient", "recurrence_id")
        stale = [
            r.id
            for r in heads
            if any(
                (i > r.id and f == r.followup_id and to == r.recipient)
                and supersedes(rid, r.recurrence_id)
                for i, f, to, rid in newer
            )
        ]
        if not stale:
            return rows
        await MailOutbox.filter(id__in=stale, claimed_by=token).update(
            status=MailStatus.SUPERSEDED,
            last_error="superseded by a newer mail",
            claimed_by=None,
            claimed_until=None,
        )
        result.superseded += len(stale)
        return [r for r in rows if r.id not in stale]

    async def _failed(
        self, row: MailOutbox, token: str, exc: SendError, result: BatchResult
    ) -> None:
        status = await outbox.mark_failed(
            MailOutbox,
            row.id,
            token,
            exc.message,
            attempts=row.attempts,
            max_attempts=self.settings.mail_max_attempts,
            permanent=exc.permanent,
        )
        if status == outbox.FAILED:
            result.failed += 1
            await live.delivery_failed(row.followup_id)
            log.warning("mail %s to %s failed for good: %s", row.id, row.recipient, exc.message)
        else:
            result.retrying += 1
            log.info("mail %s to %s will be retried: %s", row.id, row.recipient, exc.message)

    async def run(self, stop: asyncio.Event) -> None:
        """Send batches until ``stop`` is set; sleep between empty polls.

        While batches keep coming they share one SMTP connection (closed when the queue
        has been empty for ``Connection.KEEP_IDLE`` seconds, after an error, or after
        ``Connection.MAX_AGE`` seconds)."""
        log.info("mail worker %s started", self.name)
        connection = Connection(self.transport)
        try:
            while not stop.is_set():
                try:
                    result = await self.run_once(connection)
                except asyncio.CancelledError:
                    raise
                except Exception:  # keep the worker alive; the rows come back after the lease
                    log.exception("mail worker batch failed")
                    await connection.close()
                    result = BatchResult()
                if result.claimed == 0:
                    if connection.idle() > Connection.KEEP_IDLE:
                        await connection.close()  # the queue stays empty: let the server go
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), self.settings.mail_poll_seconds)
        finally:
            await connection.close()
        log.info("mail worker %s stopped", self.name)


class Connection:
    """One SMTP session opened on first use and kept for the following batches."""

    #: Seconds a connection is reused before the next batch opens a fresh one.
    MAX_AGE = 60.0
    #: Seconds after its last batch within which a connection that has not seen the server
    #: hang up is used without a NOOP first (back-to-back batches; idle ones are asked).
    FRESH = 1.0
    #: Seconds an unused connection is kept while the queue is empty (a change being
    #: written); then ``run`` closes it.
    KEEP_IDLE = 2.0

    def __init__(self, transport: SmtpTransport) -> None:
        self.transport = transport
        self._stack: contextlib.AsyncExitStack | None = None
        self._session: SmtpSession | None = None
        self._opened = 0.0
        self._used = 0.0

    async def get(self) -> SmtpSession:
        """Return the open session, connecting first when there is none (or it is old)."""
        loop = asyncio.get_running_loop()
        now = loop.time()
        if self._session is not None and (
            now - self._opened > self.MAX_AGE
            or not self._session.connected()
            or (now - self._used > self.FRESH and not await self._session.alive())
        ):
            await self.close()  # old, or the server hung up while the queue was busy elsewhere
        if self._session is None:
            stack = contextlib.AsyncExitStack()
            self._session = await stack.enter_async_context(self.transport.session())
            self._stack, self._opened = stack, now
        self._used = now
        return self._session

    def idle(self) -> float:
        """Seconds since the last batch took the connection (0: none is open)."""
        if self._session is None:
            return 0.0
        return asyncio.get_running_loop().time() - self._used

    async def close(self) -> None:
        """QUIT the session if one is open (a connection already gone closes quietly)."""
        stack, self._stack, self._session = self._stack, None, None
        if stack is not None:
            with contextlib.suppress(aiosmtplib.SMTPException, OSError, TimeoutError):
                await stack.aclose()
