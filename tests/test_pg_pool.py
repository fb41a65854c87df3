"""The PostgreSQL pool's connections skip asyncpg's reset round trip and stay clean."""

from __future__ import annotations

import pytest
from tortoise.connection import get_connection

from orm import models as m
from orm.db import PooledConnection
from tests.helpers import QueryCounter


@pytest.fixture
async def pool(db: str) -> object:
    if not db.startswith("postgres"):
        pytest.skip("PostgreSQL's pool")
    client = get_connection("default")
    await client.execute_query("SELECT 1")  # the pool is made on first use
    return client._pool  # type: ignore[attr-defined]


async def test_pooled_connections_are_not_reset(pool: object) -> None:
    async with pool.acquire() as conn:  # type: ignore[attr-defined]
        assert isinstance(conn, PooledConnection)
        assert conn.get_reset_query() == ""


async def test_a_transaction_left_open_is_rolled_back_on_release(pool: object) -> None:
    """What the reset guarded against most: asyncpg still ends an open transaction."""
    group = await m.UserGroup.create(name="G")
    for _ in range(3):  # the pool hands the same few connections out again
        async with pool.acquire() as conn:  # type: ignore[attr-defined]
            assert not conn.is_in_transaction()
            await conn.execute("BEGIN")
            await conn.execute("UPDATE user_group SET name = 'changed' WHERE id = $1", group.id)
    assert (await m.UserGroup.get(id=group.id)).name == "G"


async def test_statements_still_work_one_after_another(pool: object) -> None:
    with QueryCounter() as counter:
        for i in range(5):
            await m.UserGroup.create(name=f"G{i}")
        assert await m.UserGroup.all().count() == 5
    assert counter.count == 6
