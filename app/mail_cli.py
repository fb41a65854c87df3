"""Command-line entry points of mail: ``followups mail-worker``, ``mail-in`` and ``imap-intake``."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
import sys
from typing import BinaryIO, TextIO

from tortoise.transactions import in_transaction

from app.mail_routes import outcome_json
from config.settings import Settings
from mail import outbox
from mail.worker import MailWorker
from resolvers import inbound_mail


async def run_worker(settings: Settings, *, once: bool = False) -> None:
    """Send queued mails until SIGINT/SIGTERM (or one batch with ``once``)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    if not settings.mail_configured:
        sys.exit("SMTP_HOST is not set: nothing to send with")
    worker = MailWorker(settings)
    if once:
        result = await worker.run_once()
        print(json.dumps(result.__dict__))
        return
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    await worker.run(stop)


async def run_intake(settings: Settings) -> None:
    """Read the configured IMAP mailboxes until SIGINT/SIGTERM."""
    from app.workers import intake_hooks
    from mail.imap_intake import ImapIntake

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    outbox.install(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    await ImapIntake(settings, intake_hooks()).run(stop)


async def receive_stdin(
    settings: Settings, stdin: BinaryIO | None = None, stdout: TextIO | None = None
) -> int:
    """Process the message on stdin; print the outcomes as JSON; 0 unless all refused."""
    raw = (stdin or sys.stdin.buffer).read(settings.max_inbound_mail_bytes + 1)
    outbox.install(settings)
    async with in_transaction():
        outcomes = await inbound_mail.receive(raw, max_bytes=settings.max_inbound_mail_bytes)
    out = stdout or sys.stdout
    out.write(json.dumps({"outcomes": [outcome_json(o) for o in outcomes]}, indent=2) + "\n")
    return 1 if all(o.kind == inbound_mail.REJECTED for o in outcomes) else 0
