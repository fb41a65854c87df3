"""Apply migrations safely: one at a time, each atomic, one migrator per database at once.

Tortoise's own ``migrate`` records a migration as applied after its transaction has
committed (a crash in between leaves it applied but unrecorded), and on SQLite a
``RunPython`` step's ``execute_script`` goes through ``sqlite3.executescript``, which
COMMITs the open transaction first: a migration that fails half-way leaves its first
statements behind, and every retry then fails on them (``duplicate column``).  Here each
forward migration runs with its record in one transaction, scripts run statement by
statement inside it, and concurrent migrators (two replicas starting on an empty
PostgreSQL database) take turns: an advisory lock on PostgreSQL, a lock file beside the
SQLite file.  A migrator that cannot get the lock in time, or a migration that fails,
ends in ``MigrationFailed`` with one line saying what happened, never a hang.
"""

from __future__ import annotations

import asyncio
import fcntl
import sqlite3
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any, cast

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.connection import get_connection
from tortoise.migrations.executor import MigrationExecutor
from tortoise.migrations.graph import MigrationKey
from tortoise.migrations.recorder import MigrationRecorder
from tortoise.transactions import in_transaction

#: pg_advisory_lock key of the migrator ("followups" in ASCII, folded into 63 bits).
ADVISORY_KEY = 0x666F6C6C6F777570
LOCK_TIMEOUT_SECONDS = 300.0


class MigrationFailed(Exception):
    """A migration could not be applied; the database holds every migration before it."""


def split_statements(script: str) -> Iterator[str]:
    """The complete SQL statements of ``script`` (triggers' ``BEGIN ... END;`` kept whole)."""
    pending = ""
    for part in script.split(";"):
        pending += part + ";"
        if sqlite3.complete_statement(pending):
            if pending.strip(" \t\r\n;"):
                yield pending.strip()
            pending = ""
    if pending.strip(" \t\r\n;"):
        yield pending.strip().rstrip(";")


class StatementWise:
    """A transaction client whose ``execute_script`` stays inside the transaction."""

    def __init__(self, client: BaseDBAsyncClient) -> None:
        self._client = client

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    async def execute_script(self, query: str) -> None:
        for statement in split_statements(query):
            await self._client.execute_query(statement)


@asynccontextmanager
async def exclusive(
    database_url: str, timeout: float = LOCK_TIMEOUT_SECONDS
) -> AsyncIterator[None]:
    """Hold the database's migration lock for the block (waits at most ``timeout``)."""
    deadline = time.monotonic() + timeout
    if database_url.startswith("sqlite://"):
        path = database_url.removeprefix("sqlite://")
        try:
            handle = open(f"{path}.migrate-lock", "w")  # noqa: SIM115 (closed below)
        except OSError as exc:
            raise MigrationFailed(
                f"cannot open the SQLite database {path}: {exc.strerror}"
            ) from exc
        with handle:
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise MigrationFailed(
                            f"another migration of {path} holds its lock for over {timeout:.0f} s"
                        ) from None
                    await asyncio.sleep(0.1)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
        return
    import asyncpg

    conn = await asyncpg.connect(database_url.replace("postgres://", "postgresql://", 1))
    try:
        while not await conn.fetchval("SELECT pg_try_advisory_lock($1)", ADVISORY_KEY):
            if time.monotonic() > deadline:
                raise MigrationFailed(
                    f"another migration of this database holds its lock for over {timeout:.0f} s"
                )
            await asyncio.sleep(0.1)
        yield
    finally:
        await conn.close()  # ends the session, which releases the lock


async def apply_all(database_url: str, apps_config: dict[str, dict[str, Any]]) -> list[str]:
    """Apply every pending forward migration of the (connected) default connection."""
    applied_now: list[str] = []
    async with exclusive(database_url):
        executor = MigrationExecutor(get_connection("default"), apps_config)
        await executor.recorder.ensure_schema(executor._schema_editor(atomic=False))
        plan = await executor.plan()
        applied = set(await executor.recorder.applied_migrations())
        for step in plan:
            migration = step.migration
            name = f"{migration.app_label}.{migration.name}"
            if step.backward:
                raise MigrationFailed(f"{name} would be rolled back: migrate only goes forward")
            state = await executor._project_state(applied)
            try:
                async with in_transaction("default") as txn:
                    editor = executor._schema_editor(atomic=True)
                    editor.client = cast(Any, StatementWise(txn)) if _is_sqlite(txn) else txn
                    await migration.apply(state, schema_editor=editor)
                    await MigrationRecorder(txn).record_applied(migration.app_label, migration.name)
            except MigrationFailed:
                raise
            except Exception as exc:
                raise MigrationFailed(
                    f"migration {name} failed and was rolled back: {exc}".replace("\n", " ")
                ) from exc
            applied.add(MigrationKey(app_label=migration.app_label, name=migration.name))
            applied_now.append(name)
    return applied_now


async def pending(apps_config: dict[str, dict[str, Any]]) -> list[str]:
    """The forward migrations not yet applied on the default connection (reads only)."""
    executor = MigrationExecutor(get_connection("default"), apps_config)
    plan = await executor.plan()
    return [f"{s.migration.app_label}.{s.migration.name}" for s in plan if not s.backward]


def _is_sqlite(client: BaseDBAsyncClient) -> bool:
    return client.capabilities.dialect == "sqlite"
