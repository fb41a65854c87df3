"""Migrations cannot hurt: never edited once committed, atomic, serialised, never a hang.

The database-level tests run ``followups migrate`` as a real process on a database of
their own (a temporary SQLite file, or a new PostgreSQL database), as an operator or two
replicas starting at once would.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from orm.migrator import split_statements
from tests.conftest import POSTGRES_URL, _postgres_admin
from tests.templates import migrated_postgres, migrated_sqlite

MIGRATIONS = Path(__file__).resolve().parents[1] / "orm" / "migrations"
FOLLOWUPS = str(Path(sys.executable).parent / "followups")


def test_committed_migrations_never_change() -> None:
    """A released database has applied these files: change one and its upgrade breaks."""
    listed = {}
    for line in (MIGRATIONS / "MANIFEST.sha256").read_text().splitlines():
        digest, name = line.split()
        listed[name] = digest
    files = sorted(p.name for p in MIGRATIONS.glob("0*.py"))
    assert sorted(listed) == files, (
        "every migration is listed in orm/migrations/MANIFEST.sha256 "
        "(add a new one with `sha256sum NNNN_name.py >> MANIFEST.sha256`)"
    )
    for name in files:
        digest = hashlib.sha256((MIGRATIONS / name).read_bytes()).hexdigest()
        assert digest == listed[name], f"{name} was edited: write a new migration instead"


def test_split_statements_keeps_triggers_whole() -> None:
    script = """CREATE TABLE a (x INT);
    CREATE TRIGGER t AFTER INSERT ON a BEGIN UPDATE a SET x = 1; DELETE FROM a; END;
    DROP INDEX IF EXISTS i"""
    assert [s.split()[1] for s in split_statements(script)] == ["TABLE", "TRIGGER", "INDEX"]


@pytest.fixture(params=["sqlite", "postgres"])
async def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """The URL of a new, empty database that no connection of this process holds."""
    if request.param == "sqlite":
        yield f"sqlite://{tmp_path / 'fresh.sqlite3'}"
        return
    admin = await _postgres_admin()
    name = f"followups_mig_{uuid.uuid4().hex[:10]}"
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@pytest.fixture(params=["sqlite", "postgres"])
async def migrated_url(
    request: pytest.FixtureRequest, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[str]:
    """The URL of a new database at the latest migration (a copy of the run's template,
    ``tests/templates.py``) that no connection of this process holds."""
    if request.param == "sqlite":
        yield migrated_sqlite(tmp_path_factory, tmp_path / "migrated.sqlite3")
        return
    admin = await _postgres_admin()
    name = f"followups_mig_{uuid.uuid4().hex[:10]}"
    server = POSTGRES_URL.rsplit("/", 1)[0]
    await migrated_postgres(tmp_path_factory, admin, server, name)
    try:
        yield f"{server}/{name}"
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def _migrate(url: str, migrations: Path | None = None) -> subprocess.CompletedProcess[str]:
    """``followups migrate`` on ``url`` (with ``migrations``: that package instead of ours)."""
    argv = [FOLLOWUPS, "migrate"]
    if migrations is not None:
        script = (
            "import sys; sys.path.insert(0, sys.argv[1]); import orm.db; "
            "orm.db.MIGRATIONS_MODULE = 'scratch_migrations'; "
            "from app.cli import main; main(['migrate'])"
        )
        argv = [sys.executable, "-c", script, str(migrations)]
    proc = await asyncio.create_subprocess_exec(
        *argv,
        env={**os.environ, "DATABASE_URL": url},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), timeout=120)
    assert proc.returncode is not None
    return subprocess.CompletedProcess([], proc.returncode, out.decode(), err.decode())


async def _sql(url: str, query: str) -> list[tuple[object, ...]]:
    if url.startswith("sqlite://"):
        with sqlite3.connect(url.removeprefix("sqlite://")) as conn:
            return list(conn.execute(query).fetchall())
    import asyncpg

    conn = await asyncpg.connect(url.replace("postgres://", "postgresql://"))
    try:
        return [tuple(r) for r in await conn.fetch(query)]
    finally:
        await conn.close()


async def _index_exists(url: str, name: str) -> bool:
    if url.startswith("sqlite://"):
        rows = await _sql(url, f"SELECT 1 FROM sqlite_master WHERE name = '{name}'")
    else:
        rows = await _sql(url, f"SELECT 1 FROM pg_indexes WHERE indexname = '{name}'")
    return bool(rows)


async def test_two_migrators_at_once_on_an_empty_database(empty_url: str) -> None:
    first, second = await asyncio.gather(_migrate(empty_url), _migrate(empty_url))
    assert (first.returncode, second.returncode) == (0, 0), (first.stderr, second.stderr)
    names = [r[0] for r in await _sql(empty_url, "SELECT name FROM tortoise_migrations")]
    assert sorted(names) == sorted(p.stem for p in MIGRATIONS.glob("0*.py"))


FAILING = """
from typing import Any
from tortoise import migrations
from tortoise.migrations import operations as ops

async def forward(apps: Any, schema_editor: Any) -> None:
    await schema_editor.client.execute_script(
        "CREATE INDEX scratch_title ON followup (title);"
        "CREATE INDEX followup_person_sort ON followup (person_id)"
    )

class Migration(migrations.Migration):
    dependencies = [("models", "{latest}")]
    operations = [ops.RunPython(forward)]
"""


async def test_a_failed_migration_changes_nothing_and_says_why(
    migrated_url: str, tmp_path: Path
) -> None:
    """A new migration whose second statement fails: its first is rolled back too."""
    assert (await _migrate(migrated_url)).returncode == 0  # up to date
    scratch = tmp_path / "pkg" / "scratch_migrations"
    shutil.copytree(MIGRATIONS, scratch, ignore=shutil.ignore_patterns("__pycache__"))
    latest = max(p.stem for p in MIGRATIONS.glob("0*.py"))
    (scratch / "9999_failing.py").write_text(FAILING.replace("{latest}", latest))
    for _ in range(2):  # a retry meets the same clean state, not "already exists" of its own
        failed = await _migrate(migrated_url, tmp_path / "pkg")
        assert failed.returncode != 0
        message = failed.stderr.strip()
        assert "\n" not in message and "Traceback" not in message, message
        assert message.startswith("followups migrate: migration models.9999_failing failed")
        assert "followup_person_sort" in message
        assert not await _index_exists(migrated_url, "scratch_title")  # rolled back
        rows = await _sql(
            migrated_url, "SELECT 1 FROM tortoise_migrations WHERE name = '9999_failing'"
        )
        assert rows == []
    await _sql(migrated_url, "DROP INDEX followup_person_sort")
    assert (await _migrate(migrated_url, tmp_path / "pkg")).returncode == 0
    assert await _index_exists(migrated_url, "scratch_title")
    assert await _index_exists(migrated_url, "followup_person_sort")
