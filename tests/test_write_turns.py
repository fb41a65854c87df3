"""Processes that share one SQLite file take turns to write (``orm.write_turns``).

A second process writes back to back, each transaction holding the write lock for a few
milliseconds; SQLite's busy handler alone let a waiting writer sleep through most gaps
between two of those transactions (35-76 of them in a row, waits up to 1 s).  With write
turns the waiting writer gets in at the next gap or the one after.  A turn held past the busy timeout makes the waiter fail with
SQLite's ``database is locked`` (a CONFLICT to clients) instead of hanging, and the turn
it gave up on is not leaked.
"""

from __future__ import annotations

import asyncio
import itertools
import subprocess
import sys
import textwrap
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from orm.sqlite_engine import ImmediateSqliteClient, _ImmediateTransaction
from orm.write_turns import WriteTurns

#: The other process: ``ROUNDS`` write transactions back to back, each holding the lock
#: for ``HOLD`` seconds, through the service's own SQLite client; prints the time it ended.
BURST = textwrap.dedent(
    """
    import asyncio, sys, time
    from orm.sqlite_engine import ImmediateSqliteClient
    from tests.test_write_turns import transaction

    async def main(path, rounds, hold):
        client = ImmediateSqliteClient(path, connection_name="burst")
        await client.create_connection(with_db=True)
        print("ready", flush=True)
        for i in range(rounds):
            async with transaction(client) as tx:
                await tx.execute_query("INSERT INTO log (who, at) VALUES ('burst', ?)",
                                       [time.time()])
                time.sleep(hold)  # CPU-bound work inside the transaction, as a compose is
        print("end", time.time(), flush=True)
        await client.close()

    asyncio.run(main(sys.argv[1], int(sys.argv[2]), float(sys.argv[3])))
    """
)


@asynccontextmanager
async def transaction(client: ImmediateSqliteClient) -> AsyncIterator[Any]:
    """What ``in_transaction`` does on this client, without Tortoise's connection registry."""
    tx = _ImmediateTransaction(client)
    async with client._lock:
        await tx.begin()
        try:
            yield tx
        except BaseException:
            await tx.rollback()
            raise
        await tx.commit()


async def _client(path: Path, name: str, busy_ms: int = 5000) -> ImmediateSqliteClient:
    client = ImmediateSqliteClient(str(path), connection_name=name, busy_timeout=busy_ms)
    await client.create_connection(with_db=True)
    return client


@pytest.fixture
async def database(tmp_path: Path) -> Path:
    path = tmp_path / "turns.sqlite3"
    client = await _client(path, "setup")
    await client.execute_script("CREATE TABLE log (id INTEGER PRIMARY KEY, who TEXT, at REAL)")
    await client.close()
    return path


async def test_a_waiting_writer_is_not_starved_by_a_burst(database: Path) -> None:
    rounds, hold = 300, 0.004  # a burst of about 1.2 s
    burst = subprocess.Popen(
        [sys.executable, "-c", BURST, str(database), str(rounds), str(hold)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    assert burst.stdout is not None
    assert burst.stdout.readline().strip() == "ready"
    client = await _client(database, "waiter")
    try:
        await asyncio.sleep(0.1)  # the burst is under way
        for _ in range(20):
            async with transaction(client) as tx:
                await tx.execute_query(
                    "INSERT INTO log (who, at) VALUES ('waiter', ?)", [time.time()]
                )
        ours_done = time.time()
        out, _ = await asyncio.to_thread(burst.communicate, timeout=60)
        burst_end = float(out.split()[-1])
        _, rows = await client.execute_query("SELECT who FROM log ORDER BY id")
    finally:
        await client.close()
    assert burst.returncode == 0
    assert ours_done < burst_end, "the waiting writer only got in after the burst"
    whos = [row["who"] for row in rows]
    assert whos.count("waiter") == 20 and whos.count("burst") == rounds
    ours = [i for i, who in enumerate(whos) if who == "waiter"]
    # turns: 0-3 burst transactions between two of ours; SQLite's busy handler alone let
    # 35-76 through (sleeping up to 100 ms between tries)
    assert max(b - a - 1 for a, b in itertools.pairwise(ours)) <= 10


async def test_a_turn_held_too_long_fails_the_waiter_and_is_not_leaked(database: Path) -> None:
    turns = WriteTurns(f"{database}-writelock", timeout_s=0.2)
    held = await turns.take()
    waiter = await _client(database, "impatient", busy_ms=200)
    try:
        started = time.monotonic()
        with pytest.raises(Exception, match="database is locked"):
            async with transaction(waiter) as tx:
                await tx.execute_query("INSERT INTO log (who) VALUES ('never')")
        assert time.monotonic() - started < 2
        WriteTurns.give_back(held)
        await asyncio.sleep(0.05)  # the abandoned wait gets the lock and hands it on
        again = await asyncio.wait_for(turns.take(), 1)
        WriteTurns.give_back(again)
        async with transaction(waiter) as tx:
            await tx.execute_query("INSERT INTO log (who) VALUES ('later')")
        _, rows = await waiter.execute_query("SELECT who FROM log")
    finally:
        await waiter.close()
    assert [row["who"] for row in rows] == ["later"]


async def test_a_statement_outside_a_transaction_takes_a_turn_too(database: Path) -> None:
    turns = WriteTurns(f"{database}-writelock", timeout_s=1)
    held = await turns.take()
    client = await _client(database, "autocommit", busy_ms=5000)
    try:
        insert = asyncio.create_task(
            client.execute_insert("INSERT INTO log (who) VALUES ('a')", [])
        )
        await asyncio.sleep(0.2)
        assert not insert.done(), "an autocommit write went past a held turn"
        WriteTurns.give_back(held)
        await asyncio.wait_for(insert, 2)
        _, rows = await client.execute_query("SELECT who FROM log")
    finally:
        await client.close()
    assert [row["who"] for row in rows] == ["a"]


async def test_a_cancelled_wait_does_not_keep_the_turn(database: Path) -> None:
    turns = WriteTurns(f"{database}-writelock", timeout_s=5)
    held = await turns.take()
    waiting = asyncio.create_task(turns.take())
    await asyncio.sleep(0.05)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    WriteTurns.give_back(held)
    await asyncio.sleep(0.05)
    fd = await asyncio.wait_for(turns.take(), 1)
    WriteTurns.give_back(fd)


def test_in_memory_databases_take_no_turns() -> None:
    assert ImmediateSqliteClient(":memory:", connection_name="m").write_turns is None
