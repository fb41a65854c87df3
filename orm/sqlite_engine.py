"""The SQLite engine: WAL, a busy timeout and write transactions that lock up front.

Several processes may share one SQLite file (``followups serve`` beside a
``followups mail-worker`` or ``sync-worker``).  Tortoise's own client opens transactions
with a deferred ``BEGIN``: a transaction that reads and then writes must upgrade its
lock, and SQLite refuses that upgrade at once with ``database is locked`` when another
process wrote meanwhile (no busy wait can help a stale read snapshot).  Here every
transaction starts with ``BEGIN IMMEDIATE``, which takes the write lock first and so
waits (``PRAGMA busy_timeout``) instead of failing half-way; every connection gets
``journal_mode=WAL`` (readers never block the writer) and the busy timeout.

Tortoise's client is one connection behind one lock, and a transaction holds that lock
until it commits: every read of every other request queued behind a write transaction.
Here a ``SELECT`` outside a transaction runs on one of ``read_connections`` (setting
``SQLITE_READ_CONNECTIONS``) read-only connections of its own, which in WAL mode read the
last committed state while a transaction is open on the write connection; writes and
everything inside a transaction keep the one write connection (one writer at a time is
what SQLite allows anyway).  ``read_connections=0`` or an in-memory database: one
connection, as Tortoise does it.

Every write (a transaction, or a statement outside one) first takes this process's write
turn (``orm.write_turns``), so processes that share the file write in turns instead of
one starving the others behind SQLite's sleeping busy handler.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import aiosqlite
from tortoise.backends.base.client import ConnectionWrapper
from tortoise.backends.sqlite.client import (
    SqliteClient,
    SqliteTransactionContext,
    SqliteTransactionWrapper,
    translate_exceptions,
)
from tortoise.exceptions import TransactionManagementError

from orm.write_turns import WriteTurns

#: How long a statement waits for another process's lock (``SQLITE_BUSY_TIMEOUT_MS``).
DEFAULT_BUSY_TIMEOUT_MS = 5000
#: Read-only connections beside the write connection (``SQLITE_READ_CONNECTIONS``).
DEFAULT_READ_CONNECTIONS = 4


class _ImmediateTransaction(SqliteTransactionWrapper):
    _turn: int | None = None

    async def begin(self) -> None:
        turns: WriteTurns | None = getattr(self._parent, "write_turns", None)
        try:
            if turns is not None:
                self._turn = await turns.take()
            if self._connection.in_transaction:  # end an implicit one (sqlite3's legacy mode)
                await self._connection.commit()
            await self._connection.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            self._end_turn()
            raise TransactionManagementError(exc) from exc
        except BaseException:
            self._end_turn()
            raise

    async def commit(self) -> None:
        try:
            await super().commit()
        finally:
            self._end_turn()

    async def rollback(self) -> None:
        try:
            await super().rollback()
        finally:
            self._end_turn()

    def _end_turn(self) -> None:
        turn, self._turn = self._turn, None
        if turn is not None:
            WriteTurns.give_back(turn)


class _TurnConnection(ConnectionWrapper):
    """The write connection for one statement outside a transaction, in a write turn."""

    __slots__ = ("_turn", "_turns")

    def __init__(self, lock: asyncio.Lock, client: ImmediateSqliteClient) -> None:
        super().__init__(lock, client)
        self._turns = client.write_turns
        self._turn: int | None = None

    async def __aenter__(self) -> Any:
        connection = await super().__aenter__()
        if self._turns is not None:
            try:
                self._turn = await self._turns.take()
            except BaseException:
                self._lock.release()
                raise
        return connection

    async def __aexit__(self, exc_type: Any, exc_val: Any, exc_tb: Any) -> None:
        turn, self._turn = self._turn, None
        try:
            if turn is not None:
                WriteTurns.give_back(turn)
        finally:
            await super().__aexit__(exc_type, exc_val, exc_tb)


class ImmediateSqliteClient(SqliteClient):
    """Tortoise's SQLite client with ``BEGIN IMMEDIATE`` transactions and the pragmas."""

    def __init__(self, file_path: str, **kwargs: Any) -> None:
        readers = int(kwargs.pop("read_connections", DEFAULT_READ_CONNECTIONS))
        kwargs.setdefault("journal_mode", "WAL")
        kwargs.setdefault("busy_timeout", DEFAULT_BUSY_TIMEOUT_MS)
        super().__init__(file_path, **kwargs)
        in_memory = file_path == ":memory:" or "mode=memory" in file_path
        self.read_connections = 0 if in_memory else max(readers, 0)
        self._readers_free = asyncio.Semaphore(max(self.read_connections, 1))
        self._idle_readers: list[aiosqlite.Connection] = []
        shared_file = not in_memory and not file_path.startswith("file:")
        self.write_turns = (
            WriteTurns(f"{file_path}-writelock", int(self.pragmas["busy_timeout"]) / 1000)
            if shared_file
            else None
        )

    def acquire_connection(self) -> ConnectionWrapper:
        return _TurnConnection(self._lock, self)

    def _in_transaction(self) -> SqliteTransactionContext:
        return SqliteTransactionContext(_ImmediateTransaction(self), self._lock)

    async def close(self) -> None:
        idle, self._idle_readers = self._idle_readers, []
        for reader in idle:
            await reader.close()
        await super().close()

    async def _open_reader(self) -> aiosqlite.Connection:
        if self._connection is None:  # the writer creates the file and switches it to WAL
            await self.create_connection(with_db=True)
        reader = await aiosqlite.connect(self.filename, isolation_level=None)
        reader._conn.row_factory = sqlite3.Row
        for pragma in (f"busy_timeout={self.pragmas['busy_timeout']}", "query_only=ON"):
            await (await reader.execute(f"PRAGMA {pragma}")).close()
        return reader

    @asynccontextmanager
    async def _reader(self) -> AsyncIterator[aiosqlite.Connection]:
        async with self._readers_free:
            reader = self._idle_readers.pop() if self._idle_readers else await self._open_reader()
            try:
                yield reader
            finally:  # even when cancelled: the statement finishes in aiosqlite's thread
                self._idle_readers.append(reader)

    def _reads(self, query: str) -> bool:
        return self.read_connections > 0 and query.lstrip()[:6].upper() == "SELECT"

    async def execute_query(
        self, query: str, values: list | None = None
    ) -> tuple[int, Sequence[dict]]:
        if not self._reads(query):
            return await super().execute_query(query, values)
        rows = await self._read(query, values)
        return len(rows), rows

    async def execute_query_dict(self, query: str, values: list | None = None) -> list[dict]:
        if not self._reads(query):
            return await super().execute_query_dict(query, values)
        return list(map(dict, await self._read(query, values)))

    @translate_exceptions
    async def _read(self, query: str, values: list | None) -> Sequence[Any]:
        query = query.replace("\x00", "'||CHAR(0)||'")
        async with self._reader() as reader:
            self.log.debug("%s: %s", query, values)
            return list(await reader.execute_fetchall(query, values))


client_class = ImmediateSqliteClient
