"""Reads do not queue behind a write transaction; the pool sizes are settings.

On SQLite a read outside a transaction runs on a read connection of its own
(``orm.sqlite_engine``) and sees the last committed state while another task holds a
write transaction open; before, it waited on the one connection's lock until the
transaction ended.  PostgreSQL's pool bounds come from DATABASE_POOL_MIN/MAX.
"""

from __future__ import annotations

import asyncio
import time

import pytest
from tortoise.connection import get_connection
from tortoise.transactions import in_transaction

from config.settings import load_settings
from orm import db as orm_db
from orm import models as m

HOLD_SECONDS = 1.5


async def test_a_long_write_transaction_does_not_block_reads(db: str) -> None:
    await m.Company.create(name="committed")
    inside, release = asyncio.Event(), asyncio.Event()
    own_view: list[int] = []

    async def long_write() -> None:
        async with in_transaction():
            await m.Company.create(name="pending")
            own_view.append(await m.Company.all().count())  # its own write, on its connection
            inside.set()
            await asyncio.wait_for(release.wait(), HOLD_SECONDS * 4)

    writer = asyncio.create_task(long_write())
    await inside.wait()
    started = time.monotonic()
    try:
        names = await asyncio.wait_for(
            asyncio.gather(*(m.Company.all().values_list("name", flat=True) for _ in range(8))),
            HOLD_SECONDS,
        )
        count = await asyncio.wait_for(m.Company.all().count(), HOLD_SECONDS)
        elapsed = time.monotonic() - started
    finally:
        release.set()
        await writer
    assert names == [["committed"]] * 8  # the last committed state, not the open transaction
    assert count == 1
    assert elapsed < HOLD_SECONDS
    assert own_view == [2]
    assert sorted(await m.Company.all().values_list("name", flat=True)) == ["committed", "pending"]


async def test_reads_see_writes_committed_just_before(db: str) -> None:
    for i in range(20):
        await m.Company.create(name=f"c{i}")
        assert await m.Company.all().count() == i + 1
        async with in_transaction():
            await m.Company.filter(name=f"c{i}").update(country="NO")
        assert await m.Company.filter(country="NO").count() == i + 1


async def test_sqlite_reads_use_separate_connections(db: str) -> None:
    if not db.startswith("sqlite://"):
        pytest.skip("SQLite's read connections")
    client = get_connection("default")
    assert client.read_connections == 4
    await asyncio.gather(*(m.Company.all().count() for _ in range(12)))
    readers = client._idle_readers
    assert 1 <= len(readers) <= 4
    assert all(reader is not client._connection for reader in readers)


def test_pool_sizes_are_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_POOL_MIN", "3")
    monkeypatch.setenv("DATABASE_POOL_MAX", "17")
    monkeypatch.setenv("SQLITE_READ_CONNECTIONS", "2")
    pool = orm_db.Pool(*load_settings().database_pool)
    pg = orm_db.tortoise_config("postgres://u@127.0.0.1:5432/x", pool=pool)
    assert pg["connections"]["default"]["credentials"]["minsize"] == 3
    assert pg["connections"]["default"]["credentials"]["maxsize"] == 17
    lite = orm_db.tortoise_config("sqlite:///tmp/x.sqlite3", pool=pool)
    assert lite["connections"]["default"]["credentials"]["read_connections"] == 2


async def test_postgres_pool_opens_with_the_configured_bounds(db: str) -> None:
    if not db.startswith("postgres"):
        pytest.skip("PostgreSQL's pool")
    await orm_db.close()
    await orm_db.connect(db, pool=orm_db.Pool(min_size=2, max_size=3))
    try:
        client = get_connection("default")
        await asyncio.gather(*(m.Company.all().count() for _ in range(6)))
        assert client._pool.get_min_size() == 2
        assert client._pool.get_max_size() == 3
    finally:
        await orm_db.close()
        await orm_db.connect(db)
