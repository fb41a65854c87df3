"""The IMAP intake: reads configured mailboxes and applies the calendar mails found there.

Owns the third intake route (beside ``POST /mail/inbound`` and ``followups mail-in``):
for every ``orm.intake_models.Mailbox`` (an associate's own mailbox, or the shared one of
the IMAP_* settings) a reader logs in with ``aioimaplib``, selects the folder and waits
with IDLE (RFC 2177; polling every IMAP_POLL_SECONDS when the server lacks it).  New
messages are looked at by BODYSTRUCTURE only; those carrying ``text/calendar`` (REPLY,
COUNTER ...) or a delivery report are applied by ``IntakeHooks.receive`` (given by ``app``:
``resolvers.inbound_mail``, the same rules as the other routes; an associate's mailbox
applies answers to that associate's meetings only).  Which address a host may be reached
at (the outbound address policy) and the mailbox password come through the hooks too.
The outcome is recorded (``MailboxMessage``) together with the mailbox's last UID in the
transaction of the status change, so a message is applied once even when the intake is
killed; afterwards the message gets the IMAP_PROCESSED_FLAG keyword (or is moved to
IMAP_PROCESSED_FOLDER).  Bodies are fetched with ``BODY.PEEK`` (no ``\\Seen``); nothing else
in the mailbox is touched, nothing is deleted.  UIDVALIDITY and the last UID live in the
database; when UIDVALIDITY changes, unflagged messages are looked at again and the
recorded Message-IDs keep them from applying twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aioimaplib
from tortoise.transactions import in_transaction

from config.settings import Settings
from mail.inbound import _msgid
from mail.outcomes import APPLIED, BOUNCE, PROPOSAL, REJECTED, Outcome
from orm import models as m
from orm.intake_models import Mailbox, MailboxMessage, MailboxState, MessageOutcome
from orm.outbox import utcnow

log = logging.getLogger("followups.imap")

#: BODYSTRUCTURE parts that make a message worth fetching (the parser decides the rest).
CANDIDATE = re.compile(
    rb'"text" "calendar"|"application" "ics"|"report"|"message" "delivery-status"', re.I
)
_FETCH = re.compile(rb"^\d+ FETCH \(")
_UID = re.compile(rb"UID (\d+)")
_FLAGS = re.compile(rb"FLAGS \(([^)]*)\)")
_UIDVALIDITY = re.compile(rb"\[UIDVALIDITY (\d+)\]")


class ImapError(Exception):
    """The server refused or broke off; ``login`` says the credentials were refused."""

    def __init__(self, message: str, *, login: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.login = login


class HostRefused(Exception):
    """The outbound address policy refuses the mailbox's host (raised by ``IntakeHooks``)."""


class PasswordUnavailable(Exception):
    """The mailbox password cannot be read (raised by ``IntakeHooks.password``)."""


@dataclass(frozen=True)
class IntakeHooks:
    """What the intake is given from above at start-up (``app.workers``)."""

    #: apply one raw message as the mailbox's associate (None: the shared mailbox) within
    #: ``max_bytes``; a refusal is a REJECTED outcome, never an exception
    receive: Callable[[bytes, int, m.Associate | None], Awaitable[list[Outcome]]]
    #: the address to connect to for host and port; ``HostRefused`` when there is none
    address: Callable[[str, int, Settings], Awaitable[str]]
    #: the mailbox's password; ``PasswordUnavailable`` when it cannot be read
    password: Callable[[Mailbox, Settings], str]
    #: what a refused or failed connection reads (the same for every cause)
    unreachable: str


@dataclass
class Pass:
    """What one look at a mailbox did."""

    seen: int = 0
    handled: int = 0
    applied: int = 0


def shared_mailbox_settings(settings: Settings) -> bool:
    """Tell whether the settings configure a shared mailbox."""
    return bool(settings.imap_host and settings.imap_user)


async def ensure_shared(settings: Settings) -> Mailbox | None:
    """Create or refresh the row of the shared mailbox (its state lives in the DB)."""
    if not shared_mailbox_settings(settings):
        return None
    row = await Mailbox.filter(shared=True).first()
    fields: dict[str, Any] = dict(
        host=settings.imap_host,
        port=settings.imap_port,
        tls=settings.imap_tls,
        username=settings.imap_user,
        folder=settings.imap_folder,
    )
    if row is None:
        return await Mailbox.create(shared=True, **fields)
    if any(getattr(row, k) != v for k, v in fields.items()):
        await Mailbox.filter(id=row.id).update(**fields)
        row = await Mailbox.get(id=row.id)
    return row


def summarize(outcomes: list[Outcome]) -> tuple[MessageOutcome, str, int | None]:
    """One outcome per message: APPLIED when anything took effect, REJECTED when all were."""
    kinds = {o.kind for o in outcomes}
    if kinds & {APPLIED, PROPOSAL, BOUNCE}:
        kind = MessageOutcome.APPLIED
    elif kinds == {REJECTED}:
        kind = MessageOutcome.REJECTED
    else:
        kind = MessageOutcome.IGNORED
    reason = "; ".join(o.reason for o in outcomes)[:4000] or "nothing to do"
    fid = next((o.followup_id for o in outcomes if o.followup_id is not None), None)
    return kind, reason, fid


class MailboxReader:
    """One connection to one mailbox: ``check`` handles what is new, ``run`` waits in IDLE."""

    def __init__(self, settings: Settings, hooks: IntakeHooks, mailbox_id: int) -> None:
        self.settings = settings
        self.hooks = hooks
        self.mailbox_id = mailbox_id
        self.client: aioimaplib.IMAP4 | None = None
        self.uidvalidity: int | None = None

    async def _ok(self, response: Any, what: str) -> Any:
        if response.result != "OK":
            text = b" ".join(x for x in response.lines if isinstance(x, bytes)).decode(
                errors="replace"
            )
            raise ImapError(f"{what}: {response.result} {text}"[:500])
        return response

    async def connect(self) -> Mailbox:
        """Log in and select the folder; return the mailbox row."""
        row = await Mailbox.get(id=self.mailbox_id)
        s = self.settings
        try:
            # the address the policy checked, connected to at once (TLS needs the name for
            # its certificate check: there the name is resolved again by the connect)
            address = await self.hooks.address(row.host, row.port, s)
            if row.tls:
                client = aioimaplib.IMAP4_SSL(host=row.host, port=row.port, timeout=s.imap_timeout)
            else:
                client = aioimaplib.IMAP4(host=address, port=row.port, timeout=s.imap_timeout)
            await client.wait_hello_from_server()
        except (OSError, TimeoutError, HostRefused) as exc:
            log.warning("mailbox %s: %s:%s unreachable: %r", row.id, row.host, row.port, exc)
            raise ImapError(self.hooks.unreachable) from exc
        self.client = client
        try:
            password = self.hooks.password(row, s)
        except PasswordUnavailable as exc:
            raise ImapError(str(exc), login=True) from exc
        response = await client.login(row.username, password)
        if response.result != "OK":
            raise ImapError(f"the server refused the login of {row.username!r}", login=True)
        selected = await self._ok(await client.select(row.folder), f"SELECT {row.folder}")
        found = next(
            (int(g.group(1)) for x in selected.lines if isinstance(x, bytes)
             if (g := _UIDVALIDITY.search(x))),
            None,
        )  # fmt: skip
        self.uidvalidity = found
        if found is not None and row.uidvalidity != found:
            # First look, or the server renumbered the folder: look at everything unflagged.
            await Mailbox.filter(id=row.id).update(uidvalidity=found, last_uid=0)
            row.uidvalidity, row.last_uid = found, 0
        await Mailbox.filter(id=row.id).update(
            state=MailboxState.OK, last_error=None, checked_at=utcnow()
        )
        return row

    async def _new(self, row: Mailbox) -> list[tuple[int, bool]]:
        """Return (UID, is a candidate) of each new message, oldest first."""
        assert self.client is not None
        response = await self._ok(
            await self.client.uid("fetch", f"{row.last_uid + 1}:*", "(UID FLAGS BODYSTRUCTURE)"),
            "FETCH",
        )
        flag = self.settings.imap_processed_flag.encode().lower()
        found: dict[int, bool] = {}
        current: list[bytes] = []

        def close() -> None:
            if not current:
                return
            text = b" ".join(current)
            uid = _UID.search(text)
            if uid is not None and int(uid.group(1)) > row.last_uid:
                flags = _FLAGS.search(text)
                done = flags is not None and flag in flags.group(1).lower().split()
                found[int(uid.group(1))] = not done and bool(CANDIDATE.search(text))

        for line in response.lines:
            chunk = bytes(line)
            if _FETCH.match(chunk):
                close()
                current = [chunk]
            elif current:
                current.append(chunk)
        close()
        return sorted(found.items())

    async def check(self) -> Pass:
        """Handle every message that arrived since the last look."""
        assert self.client is not None
        row = await Mailbox.get(id=self.mailbox_id)
        result = Pass()
        owner = await m.Associate.get_or_none(id=row.associate_id) if row.associate_id else None
        for uid, candidate in await self._new(row):
            result.seen += 1
            if not candidate:
                await Mailbox.filter(id=row.id, last_uid__lt=uid).update(last_uid=uid)
                continue
            response = await self._ok(
                await self.client.uid("fetch", str(uid), "(BODY.PEEK[])"), "FETCH"
            )
            raw = next((bytes(x) for x in response.lines if isinstance(x, bytearray)), b"")
            kind = await self._apply(row, owner, uid, raw)
            if kind is not None:
                result.handled += 1
                result.applied += kind is MessageOutcome.APPLIED
            await self._mark(uid)
        return result

    async def _apply(
        self, row: Mailbox, owner: m.Associate | None, uid: int, raw: bytes
    ) -> MessageOutcome | None:
        """Apply one message and record it with the last UID, all in one transaction."""
        message_id = _message_id(raw)
        async with in_transaction():
            seen = MailboxMessage.filter(mailbox_id=row.id)
            if await seen.filter(uidvalidity=self.uidvalidity or 0, uid=uid).exists() or (
                message_id and await seen.filter(message_id=message_id).exists()
            ):
                await Mailbox.filter(id=row.id, last_uid__lt=uid).update(last_uid=uid)
                return None
            outcomes = await self.hooks.receive(raw, self.settings.max_inbound_mail_bytes, owner)
            kind, reason, fid = summarize(outcomes)
            await MailboxMessage.create(
                mailbox_id=row.id,
                uidvalidity=self.uidvalidity or 0,
                uid=uid,
                message_id=message_id,
                outcome=kind.value,
                reason=reason,
                followup_id=fid,
            )
            await Mailbox.filter(id=row.id, last_uid__lt=uid).update(last_uid=uid)
        log.info("mailbox %s message %s: %s (%s)", row.id, uid, kind.value, reason)
        return kind

    async def _mark(self, uid: int) -> None:
        """Flag (or move) a handled message; a failure here loses nothing."""
        assert self.client is not None
        s = self.settings
        try:
            if s.imap_processed_folder:
                await self.client.uid("move", str(uid), s.imap_processed_folder)
            else:
                await self.client.uid(
                    "store", str(uid), "+FLAGS.SILENT", f"({s.imap_processed_flag})"
                )
        except (OSError, TimeoutError, aioimaplib.Abort) as exc:
            log.warning("cannot mark message %s as handled: %r", uid, exc)

    async def wait(self, stop: asyncio.Event) -> None:
        """Wait for news: IDLE until the server reports a change, else sleep one poll."""
        assert self.client is not None
        s = self.settings
        if not self.client.has_capability("IDLE"):
            with contextlib.suppress(TimeoutError, asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), s.imap_poll_seconds)
            return
        idle = await self.client.idle_start(timeout=s.imap_idle_seconds)
        try:
            while not stop.is_set():
                try:
                    push = await self.client.wait_server_push(timeout=1.0)
                except TimeoutError:
                    continue
                if push == aioimaplib.STOP_WAIT_SERVER_PUSH:
                    break
                lines = push if isinstance(push, list) else [push]
                if any(b"EXISTS" in bytes(x) for x in lines if isinstance(x, bytes | bytearray)):
                    break
        finally:
            self.client.idle_done()
            with contextlib.suppress(TimeoutError, asyncio.TimeoutError):
                await asyncio.wait_for(idle, s.imap_timeout)

    async def close(self) -> None:
        if self.client is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.client.logout(), 5)
            self.client = None

    async def run(self, stop: asyncio.Event) -> None:
        """Check, wait, check again until ``stop``; reconnect with backoff on errors."""
        delay = 1.0
        while not stop.is_set():
            try:
                row = await self.connect()
                if row.state is MailboxState.FAILED:
                    return
                delay = 1.0
                while not stop.is_set():
                    await self.check()
                    await self.wait(stop)
            except asyncio.CancelledError:
                raise
            except ImapError as exc:
                await self._failed(exc)
                if exc.login:
                    return  # refused credentials: wait for the mailbox to be updated
            except Exception as exc:  # keep the intake alive; log and reconnect
                log.exception("mailbox %s: intake error", self.mailbox_id)
                await self._failed(ImapError(f"{type(exc).__name__}: {exc}"[:500]))
            finally:
                await self.close()
            with contextlib.suppress(TimeoutError, asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), delay)
            delay = min(delay * 2, 300.0)

    async def _failed(self, exc: ImapError) -> None:
        fields: dict[str, Any] = {"last_error": exc.message, "checked_at": utcnow()}
        if exc.login:
            fields["state"] = MailboxState.FAILED
        await Mailbox.filter(id=self.mailbox_id).update(**fields)
        log.warning("mailbox %s: %s", self.mailbox_id, exc.message)


def _message_id(raw: bytes) -> str | None:
    import email

    head = raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    return _msgid(email.message_from_bytes(head + b"\r\n\r\n").get("Message-ID"))


class ImapIntake:
    """Runs one ``MailboxReader`` per configured mailbox, picking up added or changed ones."""

    def __init__(
        self, settings: Settings, hooks: IntakeHooks, *, rescan_seconds: float = 10.0
    ) -> None:
        self.settings = settings
        self.hooks = hooks
        self.rescan_seconds = rescan_seconds
        self.tasks: dict[int, tuple[asyncio.Task[None], asyncio.Event, tuple[Any, ...]]] = {}

    async def run(self, stop: asyncio.Event) -> None:
        log.info("IMAP intake started")
        try:
            while not stop.is_set():
                await ensure_shared(self.settings)
                wanted = {
                    r.id: (r.host, r.port, r.tls, r.username, r.secret_enc, r.folder, r.state)
                    for r in await Mailbox.all()
                }
                for key in list(self.tasks):
                    task, event, version = self.tasks[key]
                    if wanted.get(key) != version or task.done():
                        event.set()
                        with contextlib.suppress(Exception):
                            await asyncio.wait_for(task, 10)
                        del self.tasks[key]
                for key, version in wanted.items():
                    if key not in self.tasks and version[-1] is MailboxState.OK:
                        event = asyncio.Event()
                        reader = MailboxReader(self.settings, self.hooks, key)
                        self.tasks[key] = (asyncio.create_task(reader.run(event)), event, version)
                with contextlib.suppress(TimeoutError, asyncio.TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.rescan_seconds)
        finally:
            for _task, event, _ in self.tasks.values():
                event.set()
            for task, _, _ in self.tasks.values():
                with contextlib.suppress(Exception, asyncio.CancelledError):
                    await asyncio.wait_for(task, 10)
            self.tasks.clear()
            log.info("IMAP intake stopped")
