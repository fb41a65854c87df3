"""Command-line entry points of CalDAV sync: ``followups sync-worker`` and ``followups sync``."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
import sys
from typing import TextIO

from config.settings import Settings
from orm.sync_models import AccountState, CalendarAccount
from sync.errors import CalDAVError
from sync.reconcile import reconcile_account
from sync.secrets import SecretUnavailable
from sync.worker import SyncWorker


async def run_worker(settings: Settings, *, once: bool = False) -> None:
    """Deliver queued CalDAV writes until SIGINT/SIGTERM (or one batch with ``once``)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    from app.workers import pull_hooks

    worker = SyncWorker(settings, pull=pull_hooks(settings))
    if once:
        try:
            result = await worker.run_once()
        finally:
            await worker.aclose()
        print(json.dumps(result.__dict__))
        return
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    await worker.run(stop)


async def run_pull(settings: Settings, *, stdout: TextIO | None = None) -> int:
    """One pull pass over every account that pulls, then deliver what it queued."""
    from app.workers import pull_hooks

    out = stdout or sys.stdout
    worker = SyncWorker(settings, pull=pull_hooks(settings))
    try:
        reports = await worker.pull_once()
        delivered = await worker.run_until_idle()
    finally:
        await worker.aclose()
    for r in reports:
        line = {"account": r.account_id, "mode": r.mode, "requests": r.requests}
        line |= {"changed": r.changed, **r.applied} if not r.error else {"error": r.error}
        out.write(json.dumps(line) + "\n")
    summary = {
        "accounts": len(reports),
        "failedAccounts": sum(1 for r in reports if r.error),
        "requests": sum(r.requests for r in reports),
        "changed": sum(r.changed for r in reports),
        "delivered": delivered.synced,
    }
    out.write(json.dumps(summary) + "\n")
    return 1 if summary["failedAccounts"] else 0


def _bar(done: int, total: int, label: str, out: TextIO) -> None:
    width = 30
    filled = width * done // max(total, 1)
    out.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} {label[:40]:<40}")
    out.flush()


async def run_full(
    settings: Settings, *, stdout: TextIO | None = None, stderr: TextIO | None = None
) -> int:
    """Reconcile every working account, then deliver the repairs; 1 if an account failed."""
    out, err = stdout or sys.stdout, stderr or sys.stderr
    accounts = await CalendarAccount.filter(state=AccountState.OK).order_by("id")
    reports = []
    problems = 0
    for i, account in enumerate(accounts):
        _bar(i, len(accounts), f"account {account.id}", err)
        try:
            report = await reconcile_account(account, settings)
        except (CalDAVError, SecretUnavailable) as exc:
            problems += 1
            out.write(json.dumps({"account": account.id, "error": str(exc)[:500]}) + "\n")
            continue
        reports.append(report)
        for kind in ("restored", "reverted", "removed"):
            for name in getattr(report, kind):
                out.write(f"account {account.id}: {kind} {name}\n")
    _bar(len(accounts), len(accounts), "delivering repairs", err)
    worker = SyncWorker(settings)
    try:
        delivered = await worker.run_until_idle()
    finally:
        await worker.aclose()
    err.write("\n")
    summary = {
        "accounts": len(accounts),
        "failedAccounts": problems,
        "queuedNew": sum(r.queued_new for r in reports),
        "restored": sum(len(r.restored) for r in reports),
        "reverted": sum(len(r.reverted) for r in reports),
        "removed": sum(len(r.removed) for r in reports),
        "requests": sum(r.requests for r in reports),
        "delivered": delivered.synced,
        "retrying": delivered.retrying,
    }
    out.write(json.dumps(summary) + "\n")
    return 1 if problems else 0
