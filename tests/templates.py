"""Migrated template databases: the real migrations run once per test run, then copies.

Migrating an empty database costs 15-20 s of CPU (the migrator renders the model state
for every migration), and each pytest-xdist worker needs a database of its own per
engine, as do the tests that start ``followups`` processes on a SQLite file of their own.
So the first process of the run that needs an engine's template runs a real
``followups migrate`` on it, in a subprocess (the ORM of the calling process stays as it
is), under a file lock in the directory the run's workers share; every database after
that is a copy (SQLite's backup API, PostgreSQL's ``CREATE DATABASE ... TEMPLATE``).
Migrating from an empty database is tested on its own in tests/test_migrations.py.
The PostgreSQL template is dropped at the end of the run (``drop_templates``, called by
the controlling process).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

FOLLOWUPS = str(Path(sys.executable).parent / "followups")
SQLITE_TEMPLATE = "template.sqlite3"
PG_MADE = "postgres-templates"  # every template name created (for the clean-up)
PG_READY = "postgres-template"  # the one that migrated


def shared_dir(factory: pytest.TempPathFactory) -> Path:
    """The temporary directory of this run, the same for all of its xdist workers."""
    base = factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    with path.open("a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _migrate(url: str) -> None:
    done = subprocess.run(
        [FOLLOWUPS, "migrate"],
        env={**os.environ, "DATABASE_URL": url},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, f"followups migrate on the template failed: {done.stderr}"


def _sqlite_template(factory: pytest.TempPathFactory) -> Path:
    shared = shared_dir(factory)
    path = shared / SQLITE_TEMPLATE
    ready = shared / f"{SQLITE_TEMPLATE}.ready"
    with _locked(shared / "sqlite-template.lock"):
        if not ready.exists():
            path.unlink(missing_ok=True)  # a half-migrated file of a failed attempt
            _migrate(f"sqlite://{path}")
            ready.touch()
    return path


def migrated_sqlite(factory: pytest.TempPathFactory, dest: Path) -> str:
    """Write a migrated, empty SQLite database to ``dest``; return its URL."""
    template = _sqlite_template(factory)
    with (
        contextlib.closing(sqlite3.connect(template)) as src,
        contextlib.closing(sqlite3.connect(dest)) as dst,
    ):
        src.backup(dst)
    return f"sqlite://{dest}"


async def migrated_postgres(
    factory: pytest.TempPathFactory, admin: Any, base_url: str, name: str
) -> None:
    """Create the migrated, empty PostgreSQL database ``name`` (``admin``: an asyncpg
    connection to the server at ``base_url``, a URL without its database name)."""
    shared = shared_dir(factory)
    with _locked(shared / "postgres-template.lock"):
        ready = shared / PG_READY
        if not ready.exists():
            template = f"followups_template_{uuid.uuid4().hex[:10]}"
            with (shared / PG_MADE).open("a") as made:
                made.write(template + "\n")
            await admin.execute(f'CREATE DATABASE "{template}"')
            _migrate(f"{base_url}/{template}")
            ready.write_text(template)
        template = ready.read_text()
        await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')


def drop_templates(shared: Path, admin_url: str) -> None:
    """Drop the PostgreSQL templates this run created (in the controlling process)."""
    made = shared / PG_MADE
    if not made.exists():
        return
    names = made.read_text().split()

    async def drop() -> None:
        import asyncpg

        admin = await asyncpg.connect(admin_url.replace("postgres://", "postgresql://"), timeout=5)
        try:
            for name in names:
                await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()

    import asyncio

    asyncio.run(drop())
    made.unlink()
