"""In-process background workers (mail, CalDAV) with a clean stop."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Protocol


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
