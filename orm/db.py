"""Database set-up: the Tortoise config, connecting, migrating and closing."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import asyncpg
from tortoise import Tortoise
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.backends.base.executor import EXECUTOR_CACHE

from orm import migrator
from orm.sqlite_engine import DEFAULT_BUSY_TIMEOUT_MS, DEFAULT_READ_CONNECTIONS

MODELS_MODULE = "orm.models"
MODELS_MODULES = [
    MODELS_MODULE,
    "orm.outbox_models",
    "orm.sync_models",
    "orm.intake_models",
    "orm.live_models",
]
MIGRATIONS_MODULE = "orm.migrations"


class PooledConnection(asyncpg.Connection):  # type: ignore[misc]
    """A pooled PostgreSQL connection that is not reset when it goes back to the pool.

    Tortoise takes a connection from the pool for every statement outside a transaction,
    and asyncpg's default reset (unlock advisory locks, close cursors, UNLISTEN, RESET ALL)
    costs one more round trip each time. Nothing here leaves session state on a pooled
    connection: session advisory locks, LISTEN and the migration lock use connections of
    their own (``orm.leases``, ``resolvers.live_feed``, ``orm.migrator``), transaction
    advisory locks end with their transaction, and asyncpg still rolls back a transaction
    left open (``tests/test_pg_pool.py``)."""

    def get_reset_query(self) -> str:
        return ""


@dataclass(frozen=True)
class Pool:
    """How many connections a process opens: PostgreSQL's pool bounds, SQLite's readers."""

    min_size: int = 1
    max_size: int = 10
    sqlite_readers: int = DEFAULT_READ_CONNECTIONS


def _connection(database_url: str, busy_timeout_ms: int, pool: Pool) -> str | dict[str, Any]:
    """PostgreSQL with the pool bounds (parameters in the URL win); SQLite through
    ``orm.sqlite_engine`` (WAL, busy timeout, BEGIN IMMEDIATE, read connections), so every
    process sharing the file waits for the lock and reads do not queue behind writes."""
    info = expand_db_url(database_url)
    credentials = info["credentials"]
    if not database_url.startswith("sqlite://"):
        credentials.setdefault("minsize", pool.min_size)
        credentials.setdefault("maxsize", max(pool.max_size, pool.min_size))
        credentials["connection_class"] = PooledConnection
        return info
    info["engine"] = "orm.sqlite_engine"
    credentials.setdefault("busy_timeout", busy_timeout_ms)
    credentials.setdefault("read_connections", pool.sqlite_readers)
    return info


def apps_config() -> dict[str, dict[str, Any]]:
    """The Tortoise apps (models and migrations), whatever the database."""
    return {
        "models": {
            "models": MODELS_MODULES,
            "migrations": MIGRATIONS_MODULE,
            "default_connection": "default",
        }
    }


def tortoise_config(
    database_url: str, busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS, pool: Pool | None = None
) -> dict[str, Any]:
    """The Tortoise config for one database URL (sqlite://path or postgres://...)."""
    return {
        "connections": {"default": _connection(database_url, busy_timeout_ms, pool or Pool())},
        "apps": apps_config(),
        "use_tz": True,
        "timezone": "UTC",
    }


async def connect(
    database_url: str, busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS, pool: Pool | None = None
) -> None:
    """Open the ORM on ``database_url`` for every task of this process."""
    await Tortoise.init(
        config=tortoise_config(database_url, busy_timeout_ms, pool), _enable_global_fallback=True
    )


async def migrate(database_url: str, busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS) -> None:
    """Bring the database schema up to the latest migration (keeps the data).

    Each migration is atomic and concurrent callers take turns (``orm.migrator``); a
    failure raises ``migrator.MigrationFailed`` with one line to show.

    Connecting first binds the models to this engine's SQL dialect; the migration API
    alone would reuse whatever dialect an earlier connection in this process used.
    """
    await connect(database_url, busy_timeout_ms)
    try:
        await migrator.apply_all(database_url, apps_config())
    except BaseException:
        await close()  # an open SQLite connection's thread would keep the process alive
        raise


async def close() -> None:
    """Close the connections and forget the models' binding to this database's dialect.

    Tortoise keeps each model's base query and its executor's cached INSERT/UPDATE SQL
    (keyed by connection name, not dialect) after closing; clearing both lets the next
    ``connect`` in this process use another engine (the test suite runs on two).
    """
    await Tortoise.close_connections()
    await Tortoise._reset_apps()
    EXECUTOR_CACHE.clear()


async def dedicated_client(database_url: str, name: str) -> BaseDBAsyncClient | None:
    """On PostgreSQL, a client of its own with one connection, outside the pool the
    requests and workers share (None on SQLite, whose readers do not queue behind the
    writers' transactions).  Queries use it with ``using_db``; the caller closes it."""
    if database_url.startswith("sqlite://"):
        return None
    from tortoise.backends.asyncpg import AsyncpgDBClient

    credentials = dict(expand_db_url(database_url)["credentials"])
    credentials.update(minsize=1, maxsize=1, connection_class=PooledConnection)
    client = AsyncpgDBClient(connection_name=name, **credentials)
    await client.create_connection(with_db=True)
    return client


TORTOISE_ORM = tortoise_config(os.environ.get("DATABASE_URL", "sqlite://followups.sqlite3"))
"""For Tortoise's own CLI: ``tortoise -c orm.db.TORTOISE_ORM makemigrations``."""
