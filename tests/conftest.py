"""Shared fixtures: every storage test runs on SQLite and on PostgreSQL.

The ``db`` fixture is parametrised over both engines (session-scoped, so pytest groups
the tests by engine).  Each engine gets a fresh database (each pytest-xdist worker its own,
with a random name on PostgreSQL), a copy of a template the real migrations built once for
the run; tables are emptied after every test.  PostgreSQL is 127.0.0.1:5432 database
``test`` (override with ``TEST_POSTGRES_URL``); with ``CI=true`` a missing server fails
the run.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tortoise import Tortoise
from tortoise.connection import get_connection

from app.web import create_app
from config.settings import Settings
from orm import db as orm_db
from tests.helpers import LOOPBACK_HOSTS
from tests.templates import drop_templates, migrated_postgres, migrated_sqlite, shared_dir

POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test")
ENGINES = ["sqlite", "postgres"]


async def _postgres_admin() -> Any:
    import asyncpg

    try:
        return await asyncpg.connect(
            POSTGRES_URL.replace("postgres://", "postgresql://"), timeout=5
        )
    except (OSError, asyncpg.PostgresError) as exc:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"PostgreSQL is required in CI but unreachable: {exc}")
        pytest.skip(f"PostgreSQL not reachable: {exc}")


@pytest.fixture(scope="session", params=ENGINES)
async def engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[str]:
    """A migrated, empty database on one engine (a copy of the run's template built by the
    real migrations, ``tests/templates.py``); yields its URL."""
    if request.param == "sqlite":
        url = migrated_sqlite(tmp_path_factory, tmp_path_factory.mktemp("db") / "test.sqlite3")
        admin = None
    else:
        admin = await _postgres_admin()
        name = f"followups_test_{uuid.uuid4().hex[:10]}"
        server = POSTGRES_URL.rsplit("/", 1)[0]
        await migrated_postgres(tmp_path_factory, admin, server, name)
        url = f"{server}/{name}"
    await orm_db.connect(url)
    try:
        yield url
    finally:
        await orm_db.close()
        if admin is not None:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.close()


def _tables() -> list[str]:
    return [model._meta.db_table for model in Tortoise.apps["models"].values()]


_SEQUENCES: dict[str, list[str]] = {}


async def _emptying_script(conn: Any, url: str, tables: list[str]) -> str:
    """What ``TRUNCATE <every table> RESTART IDENTITY CASCADE`` leaves, for less: only the
    tables holding rows are truncated (each truncated table costs a new file and its
    fsync, ~15 ms idle, far more under load) and every table's sequence starts again at 1
    (``setval``, as RESTART IDENTITY would; an insert that rolled back moved it too)."""
    if url not in _SEQUENCES:
        _, rows = await conn.execute_query(
            "SELECT s.relname FROM pg_class s JOIN pg_depend d ON d.objid = s.oid"
            " JOIN pg_class t ON d.refobjid = t.oid"
            " WHERE s.relkind = 'S' AND t.relname = ANY($1::text[])",
            [tables],
        )
        _SEQUENCES[url] = sorted({r["relname"] for r in rows})
    probe = " UNION ALL ".join(
        f"SELECT '{t}' AS t WHERE EXISTS (SELECT 1 FROM \"{t}\")" for t in tables
    )
    _, rows = await conn.execute_query(probe)
    script = ""
    if rows:
        script = "TRUNCATE " + ", ".join(f'"{r["t"]}"' for r in rows) + " CASCADE;"
    resets = ", ".join(f"setval('\"{s}\"', 1, false)" for s in _SEQUENCES[url])
    return script + (f"SELECT {resets};" if resets else "")


@pytest.fixture
async def db(engine: str) -> AsyncIterator[str]:
    """An empty database for one test (on each engine); yields the engine URL."""
    yield engine
    conn = get_connection("default")
    tables = _tables()
    if engine.startswith("postgres"):
        await conn.execute_script(await _emptying_script(conn, engine, tables))
    else:
        await conn.execute_script(
            "PRAGMA foreign_keys=OFF;"
            + "".join(f'DELETE FROM "{t}";' for t in tables)
            + "DELETE FROM sqlite_sequence;PRAGMA foreign_keys=ON;"
        )


@pytest.fixture
def settings() -> Settings:
    return Settings(database_url="unused", debug=False, caldav_allowed_hosts=LOOPBACK_HOSTS)


@pytest.fixture
async def http(db: str, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client talking to the real ASGI app (no lifespan: the db fixture owns it)."""
    app = create_app(settings, manage_db=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


ROOT = Path(__file__).resolve().parent.parent


def pytest_sessionfinish(session: pytest.Session) -> None:
    """The controlling process (the only one without xdist) drops the run's PostgreSQL
    template once every worker is done with it."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        return
    factory = session.config._tmp_path_factory  # type: ignore[attr-defined]
    drop_templates(shared_dir(factory), POSTGRES_URL)
