"""Write turns between the processes that share one SQLite file, handed over at once.

SQLite lets one connection write at a time, and a connection that finds the write lock
taken polls for it: its busy handler sleeps 1, 2, 5, 10, 15, 20, 25 ... ms between tries.
A process that writes back to back (a burst of mutations) releases the lock for a few
microseconds between two transactions, so a waiting process, asleep for milliseconds,
almost never gets in: the mail worker's claims and ``mark sent`` queued behind whole
bursts of changes, and the two sides ran one after the other instead of side by side.

Here a writer first takes an exclusive ``flock`` on a file beside the database
(``<database>-writelock``), then opens its transaction.  The kernel wakes a waiting
process the moment the lock is released, so writers take turns instead of one starving
the others; SQLite's own lock and busy timeout stay underneath for any writer that does
not take a turn (the ``sqlite3`` shell, an older release).  A wait longer than the busy
timeout gives up with SQLite's own ``database is locked`` error, so a stuck process makes
the others fail (``CONFLICT``) rather than hang.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import sqlite3
import threading


class WriteTurns:
    """Exclusive write turns on ``path`` for the processes that share a database file."""

    def __init__(self, path: str, timeout_s: float) -> None:
        self.path = path
        self.timeout_s = timeout_s

    async def take(self) -> int:
        """Wait for this process's turn; return the descriptor that holds it."""
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd
        except BlockingIOError:
            pass
        except BaseException:
            os.close(fd)
            raise
        granted = await self._wait(fd)
        try:
            await asyncio.wait_for(asyncio.shield(granted), self.timeout_s)
        except TimeoutError as exc:
            _give_up(granted, fd)
            raise sqlite3.OperationalError("database is locked") from exc
        except BaseException:
            _give_up(granted, fd)
            raise
        return fd

    @staticmethod
    async def _wait(fd: int) -> asyncio.Future[None]:
        """A future resolved when a daemon thread's blocking ``flock`` on ``fd`` returns.

        Only the loop's thread decides who owns ``fd`` (``_settle``), so a waiter that
        gave up meanwhile never leaks the lock.
        """
        loop = asyncio.get_running_loop()
        granted: asyncio.Future[None] = loop.create_future()

        def wait() -> None:  # daemon: a stuck holder never blocks this process's exit
            error: OSError | None = None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
            except OSError as exc:
                error = exc
            try:
                loop.call_soon_threadsafe(_settle, granted, error, fd)
            except RuntimeError:  # the loop is gone
                os.close(fd)

        threading.Thread(target=wait, name="sqlite-write-turn", daemon=True).start()
        return granted

    @staticmethod
    def give_back(fd: int) -> None:
        """End the turn held by ``fd`` (closing the descriptor releases the lock)."""
        os.close(fd)


def _settle(granted: asyncio.Future[None], error: OSError | None, fd: int) -> None:
    """On the loop: hand the turn to its waiter, or end it when nobody waits any more."""
    if granted.done() or error is not None:
        os.close(fd)
    if not granted.done():
        if error is not None:
            granted.set_exception(error)
        else:
            granted.set_result(None)


def _give_up(granted: asyncio.Future[None], fd: int) -> None:
    """The waiter stops waiting: end a turn granted meanwhile, else let ``_settle`` end it."""
    if granted.done():
        if not granted.cancelled() and granted.exception() is None:
            os.close(fd)
    else:
        granted.cancel()
