"""The per-process feed: changes reach the subscribers whose diaries they concern."""

from __future__ import annotations

import asyncio
import time

import pytest

from config.settings import Settings
from orm import live
from orm.live_models import LiveKind
from orm.outbox import utcnow
from resolvers.live import LiveEvent
from resolvers.live_feed import Feed, Resync, TooManySubscriptions
from tests.helpers import associate


async def _next(sub: object, timeout: float = 5.0) -> LiveEvent | Resync:
    return await asyncio.wait_for(sub.next(), timeout)  # type: ignore[attr-defined]


async def test_changes_reach_the_matching_subscribers_and_a_slow_one_resyncs(db: str) -> None:
    ann, bob = await associate("Ann"), await associate("Bob")
    feed = Feed(Settings(database_url=db, live_queue_size=5, live_poll_seconds=0.05))
    await feed.start()
    try:
        fast = feed.subscribe(ann, "t1", [ann.id], [])
        slow = feed.subscribe(ann, "t2", [ann.id], [])
        other = feed.subscribe(bob, "t3", [bob.id], [])
        got: list[LiveEvent | Resync] = []
        for i in range(20):
            await live.record(LiveKind.UPDATED, followup_id=i + 1, associates=[ann.id])
            got.append(await _next(fast))  # the fast one reads as it comes
        assert [e.followup_id for e in got if isinstance(e, LiveEvent)] == list(range(1, 21))
        resync = await _next(slow)
        assert isinstance(resync, Resync) and resync.cursor.change_id < got[-1].change_id  # type: ignore[union-attr]
        assert slow.queue.empty() and slow.dropped
        assert other.queue.empty()
        await live.record(LiveKind.DELETED, followup_id=99, associates=[bob.id])
        assert (await _next(other)).followup_id == 99  # type: ignore[union-attr]
    finally:
        await feed.stop()


async def test_subscription_limits(db: str) -> None:
    ann = await associate("Ann")
    feed = Feed(
        Settings(database_url=db, live_max_subscriptions=3, live_max_subscriptions_per_token=2)
    )
    feed.subscribe(ann, "a", [ann.id], [])
    feed.subscribe(ann, "a", [ann.id], [])
    with pytest.raises(TooManySubscriptions, match="PER_TOKEN"):
        feed.subscribe(ann, "a", [ann.id], [])
    feed.subscribe(ann, "b", [ann.id], [])
    with pytest.raises(TooManySubscriptions, match="LIVE_MAX_SUBSCRIPTIONS"):
        feed.subscribe(ann, "c", [ann.id], [])


async def test_the_feed_delivers_while_the_shared_pool_is_exhausted(db: str) -> None:
    """PostgreSQL: every pooled connection is held by a transaction (as by mutations waiting
    on the log's write lock); a change committed on another connection still reaches the
    subscriber at once, since the feed reads over connections of its own."""
    if db.startswith("sqlite://"):
        pytest.skip("the shared pool and the feed's own connections are PostgreSQL's")
    import asyncpg
    from tortoise.connection import get_connection
    from tortoise.transactions import in_transaction

    from orm.live_models import LiveChange
    from orm.models import FollowUp, Kind, Participant
    from resolvers.visibility import Sight

    ann, pat, una = await associate("Ann"), await associate("Pat"), await associate("Una")
    meeting = await FollowUp.create(
        owner=ann,
        title="Board",
        kind=Kind.TASK,
        deadline=utcnow(),
        sort_at=utcnow(),
        uid="b1",
        private=True,
    )
    await Participant.create(followup=meeting, associate=pat)
    feed = Feed(Settings(database_url=db))
    await feed.start()
    release = asyncio.Event()
    held = 0

    async def hold() -> None:
        nonlocal held
        async with in_transaction() as tx:
            await tx.execute_query("SELECT 1")
            held += 1
            await release.wait()

    size = get_connection("default").pool_maxsize  # type: ignore[attr-defined]
    holders = [asyncio.create_task(hold()) for _ in range(size)]
    writer = await asyncpg.connect(db.replace("postgres://", "postgresql://", 1))
    try:
        sub = feed.subscribe(ann, "t", [ann.id], [])
        while held < size:
            await asyncio.sleep(0.01)
        with pytest.raises(TimeoutError):  # the premise: the pool has no connection left
            await asyncio.wait_for(LiveChange.all().count(), 0.5)
        async with writer.transaction():  # what orm.live.record writes, on its own connection
            change = await writer.fetchval(
                "INSERT INTO live_change (at, kind, followup_id) VALUES (now(), 'UPDATED', $1)"
                " RETURNING id",
                meeting.id,
            )
            await writer.execute(
                "INSERT INTO live_change_party (change_id, party, party_id) VALUES ($1, 'A', $2)",
                change,
                ann.id,
            )
            await writer.execute(f"SELECT pg_notify('{live.CHANNEL}', '')")
        began = time.monotonic()
        got = await _next(sub, timeout=2.0)
        assert isinstance(got, LiveEvent) and got.change_id == change
        assert got.row is not None and got.row.title == "Board"  # its follow-up read too
        # and what the subscribers' sights read (a private one's participants)
        assert await asyncio.wait_for(got.sight(pat), 0.5) is Sight.READER
        assert await asyncio.wait_for(got.sight(una), 0.5) is Sight.REDACTED
        assert time.monotonic() - began < 1.0
        assert held == size and not any(h.done() for h in holders)  # still all held
    finally:
        release.set()
        await asyncio.gather(*holders)
        await writer.close()
        await feed.stop()
