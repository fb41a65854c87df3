"""Leases: of several processes on one database only one runs a leased job (IMAP intake).

Two ``Lease`` objects on one database behave as two processes do: on PostgreSQL each has a
session (connection) of its own, on SQLite a file description of its own.
"""

from __future__ import annotations

import asyncio

import asyncpg

from app.background import LeaseHolder
from orm.leases import Lease, lock_key


async def test_one_holder_at_a_time_and_the_next_takes_over(engine: str) -> None:
    stop = asyncio.Event()
    first, second = Lease(engine, "job"), Lease(engine, "job")
    assert await first.hold(stop) is not None and first.held
    waiting = asyncio.create_task(second.hold(stop, retry_seconds=0.05))
    await asyncio.sleep(0.3)
    assert not waiting.done()  # held by the first
    await first.release()
    assert await asyncio.wait_for(waiting, 5) is not None
    other = Lease(engine, "other-job")  # another name is another lock
    assert await other.hold(stop) is not None
    await second.release()
    await other.release()


async def test_a_waiting_holder_gives_up_when_stopped(engine: str) -> None:
    stop = asyncio.Event()
    first, second = Lease(engine, "job"), Lease(engine, "job")
    await first.hold(stop)
    waiting = asyncio.create_task(second.hold(stop, retry_seconds=0.05))
    await asyncio.sleep(0.1)
    stop.set()
    assert await asyncio.wait_for(waiting, 5) is None
    await first.release()


async def test_postgres_lease_is_lost_with_its_session(engine: str) -> None:
    if not engine.startswith("postgres"):
        return
    stop = asyncio.Event()
    first = Lease(engine, "job", probe_seconds=0.1)
    lost = await first.hold(stop)
    assert lost is not None and not lost.is_set()
    admin = await asyncpg.connect(engine.replace("postgres://", "postgresql://", 1))
    try:
        await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_locks"
            " WHERE locktype = 'advisory' AND ((classid::bigint << 32) | objid::bigint) = $1",
            lock_key("job"),
        )
    finally:
        await admin.close()
    await asyncio.wait_for(lost.wait(), 5)
    second = Lease(engine, "job")
    assert await asyncio.wait_for(second.hold(stop, retry_seconds=0.05), 5) is not None
    await first.release()
    await second.release()


class Counting:
    """A worker that records how many copies of it run at once."""

    running = 0
    most = 0
    runs = 0

    async def run(self, stop: asyncio.Event) -> None:
        Counting.running += 1
        Counting.runs += 1
        Counting.most = max(Counting.most, Counting.running)
        try:
            await stop.wait()
        finally:
            Counting.running -= 1


async def test_of_two_processes_one_runs_the_job_and_the_other_takes_over(engine: str) -> None:
    Counting.running = Counting.most = Counting.runs = 0
    stops = [asyncio.Event(), asyncio.Event()]
    holders = [LeaseHolder(Counting(), Lease(engine, "intake")) for _ in stops]
    for holder in holders:  # short retries so the test does not wait 5 s
        holder.lease_retry_seconds = 0.05
    tasks = [asyncio.create_task(h.run(s)) for h, s in zip(holders, stops, strict=True)]
    await asyncio.sleep(0.5)
    assert (Counting.running, Counting.runs) == (1, 1)
    first = 0 if holders[0].lease.held else 1
    assert holders[1 - first].lease.held is False
    stops[first].set()  # that process stops: the other takes the job over
    await asyncio.wait_for(tasks[first], 5)
    for _ in range(100):
        if Counting.runs == 2:
            break
        await asyncio.sleep(0.05)
    assert (Counting.running, Counting.runs, Counting.most) == (1, 2, 1)
    stops[1 - first].set()
    await asyncio.wait_for(tasks[1 - first], 5)
    assert Counting.running == 0
