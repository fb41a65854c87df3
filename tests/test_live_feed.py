"""The per-process feed: changes reach the subscribers whose diaries they concern."""

from __future__ import annotations

import asyncio

import pytest

from config.settings import Settings
from orm import live
from orm.live_models import LiveKind
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
