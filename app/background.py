"""In-process background workers (mail, CalDAV, IMAP) with a clean stop; leased ones."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Protocol

from orm.leases import Lease


class Worker(Protocol):
    async def run(self, stop: asyncio.Event) -> None: ...


class Background:
    """Run ``worker.run(stop)`` as a task; ``stop()`` lets the current batch finish."""

    def __init__(self, worker: Worker, name: str) -> None:
        self.stop_event = asyncio.Event()
        self.task = asyncio.create_task(worker.run(self.stop_event), name=name)

    async def stop(self, timeout: float = 30.0) -> None:
        """Let the current batch finish, then end the task."""
        self.stop_event.set()
        try:
            await asyncio.wait_for(self.task, timeout)
        except TimeoutError:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task


class LeaseHolder:
    """Runs ``worker`` only while this process holds ``lease``; another takes over on loss."""

    def __init__(self, worker: Worker, lease: Lease, lease_retry_seconds: float = 5.0) -> None:
        self.worker = worker
        self.lease = lease
        self.lease_retry_seconds = lease_retry_seconds

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            lost = await self.lease.hold(stop, self.lease_retry_seconds)
            if lost is None:
                return
            inner = asyncio.Event()
            task = asyncio.create_task(self.worker.run(inner))
            watchers = [asyncio.create_task(stop.wait()), asyncio.create_task(lost.wait())]
            try:
                await asyncio.wait([task, *watchers], return_when=asyncio.FIRST_COMPLETED)
            finally:
                inner.set()
                for watcher in watchers:
                    watcher.cancel()
                with contextlib.suppress(Exception):
                    await task
                await self.lease.release()
            if not lost.is_set() and not stop.is_set():
                await asyncio.sleep(1)  # the worker ended by itself: do not spin
