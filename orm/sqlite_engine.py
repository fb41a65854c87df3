"""The SQLite engine: WAL, a busy timeout and write transactions that lock up front.

Several processes may share one SQLite file (``followups serve`` beside a
``followups mail-worker`` or ``sync-worker``).  Tortoise's own client opens transactions
with a deferred ``BEGIN``: a transaction that reads and then writes must upgrade its
lock, and SQLite refuses that upgrade at once with ``database is locked`` when another
process wrote meanwhile (no busy wait can help a stale read snapshot).  Here every
transaction starts with ``BEGIN IMMEDIATE``, which takes the write lock first and so
waits (``PRAGMA busy_timeout``) instead of failing half-way; every connection gets
``journal_mode=WAL`` (readers never block the writer) and the busy timeout.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from tortoise.backends.sqlite.client import (
    SqliteClient,
    SqliteTransactionContext,
    SqliteTransactionWrapper,
)
from tortoise.exceptions import TransactionManagementError

#: How long a statement waits for another process's lock (``SQLITE_BUSY_TIMEOUT_MS``).
DEFAULT_BUSY_TIMEOUT_MS = 5000


class _ImmediateTransaction(SqliteTransactionWrapper):
    async def begin(self) -> None:
        try:
            await self._connection.commit()
            await self._connection.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise TransactionManagementError(exc) from exc


class ImmediateSqliteClient(SqliteClient):
    """Tortoise's SQLite client with ``BEGIN IMMEDIATE`` transactions and the pragmas."""

    def __init__(self, file_path: str, **kwargs: Any) -> None:
        kwargs.setdefault("journal_mode", "WAL")
        kwargs.setdefault("busy_timeout", DEFAULT_BUSY_TIMEOUT_MS)
        super().__init__(file_path, **kwargs)

    def _in_transaction(self) -> SqliteTransactionContext:
        return SqliteTransactionContext(_ImmediateTransaction(self), self._lock)


client_class = ImmediateSqliteClient
