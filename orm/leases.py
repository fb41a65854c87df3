"""Leases: one process of many holds a named job (the IMAP intake) at a time.

With ``followups serve --workers N`` (or several replicas) every process starts the same
background workers.  Those that claim rows (mail, CalDAV) are safe to run N times; a job
that keeps connections to outside servers open (IMAP IDLE per mailbox) should run once.
``Lease.hold`` waits until this process holds the job's lock and returns an event set when
it is lost.  On PostgreSQL the lock is a session advisory lock on a connection of its own,
probed every ``probe_seconds`` (a dead connection releases the lock server-side, so the
holder stops, and another process takes over); on SQLite an ``flock`` on a file beside
the database (released by the kernel when the process dies).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import logging
from typing import IO, Any

log = logging.getLogger("followups.leases")


def lock_key(name: str) -> int:
    """A stable 63-bit advisory-lock key for ``name``."""
    return int.from_bytes(hashlib.sha256(f"followups:{name}".encode()).digest()[:8]) >> 1


class Lease:
    """The lease of job ``name`` in the database at ``database_url``."""

    def __init__(self, database_url: str, name: str, *, probe_seconds: float = 5.0) -> None:
        self.database_url = database_url
        self.name = name
        self.probe_seconds = probe_seconds
        self._conn: Any = None
        self._file: IO[str] | None = None
        self._probe: asyncio.Task[None] | None = None
        self.lost = asyncio.Event()

    @property
    def held(self) -> bool:
        """Whether this process holds the lease now."""
        return (self._conn is not None or self._file is not None) and not self.lost.is_set()

    async def _try(self) -> bool:
        if self.database_url.startswith("sqlite://"):
            path = self.database_url.removeprefix("sqlite://")
            handle = open(f"{path}.{self.name}-lease", "w")  # noqa: SIM115 (kept while held)
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.close()
                return False
            self._file = handle
            return True
        import asyncpg

        url = self.database_url.replace("postgres://", "postgresql://", 1)
        conn = await asyncpg.connect(url, timeout=10)
        if await conn.fetchval("SELECT pg_try_advisory_lock($1)", lock_key(self.name)):
            self._conn = conn
            return True
        await conn.close()
        return False

    async def hold(self, stop: asyncio.Event, retry_seconds: float = 5.0) -> asyncio.Event | None:
        """Wait until held (or ``stop``: None); the event returned is set if it is lost."""
        while not stop.is_set():
            try:
                if await self._try():
                    log.info("holding the %s lease", self.name)
                    self.lost = asyncio.Event()
                    if self._conn is not None:
                        self._probe = asyncio.create_task(self._watch())
                    return self.lost
            except Exception as exc:  # OSError, timeouts, asyncpg's: refused or broke off
                log.warning("cannot take the %s lease: %s", self.name, exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), retry_seconds)
        return None

    async def _watch(self) -> None:
        try:
            while True:
                await asyncio.sleep(self.probe_seconds)
                await asyncio.wait_for(self._conn.fetchval("SELECT 1"), self.probe_seconds)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("lost the %s lease: %s", self.name, exc)
            self.lost.set()

    async def release(self) -> None:
        """Give the lease up (closing its connection or file releases the lock)."""
        if self._probe is not None:
            self._probe.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._probe
            self._probe = None
        if self._conn is not None:
            with contextlib.suppress(Exception):
                await self._conn.close()
            self._conn = None
        if self._file is not None:
            self._file.close()
            self._file = None
