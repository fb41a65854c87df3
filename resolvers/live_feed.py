"""The per-process feed of the live change log, fanned out to this process's subscribers.

One task per process reads ``live_change WHERE id > last`` when woken: on PostgreSQL by
a dedicated asyncpg connection LISTENing on ``followups_live`` (the writers notify in the
transaction of the change, delivered at commit; also every few seconds in case a
notification was lost while reconnecting), on SQLite every LIVE_POLL_SECONDS (which also
sees the rows other processes sharing the file wrote).  Each row goes to the subscribers
whose diaries it concerns (``LiveEvent.heard_by``), each through its own bounded queue
(LIVE_QUEUE_SIZE): a subscriber whose queue is full loses it and gets one RESYNC marker
instead, so a slow consumer never holds up the feed or the others.  The feed also prunes
the log (LIVE_RETENTION_HOURS) every ``PRUNE_SECONDS``.

On PostgreSQL the feed's reads (the new rows, their parties and follow-ups, the pruning)
go through a connection of its own (``orm.db.dedicated_client``), beside the LISTEN one:
never through the pool the requests share, whose connections may all be held by
mutations waiting on the log's write lock, so the feed never falls behind them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from config.settings import Settings
from orm import db as orm_db
from orm import live
from orm.models import Associate
from orm.outbox import utcnow
from resolvers.live import Cursor, LiveEvent, current_cursor, events_after, with_rows

log = logging.getLogger("followups.live")

#: How often PostgreSQL's feed reads even without a notification.
PG_FALLBACK_SECONDS = 5.0
PRUNE_SECONDS = 600.0
READ_BATCH = 500


@dataclass(frozen=True)
class Resync:
    """The marker a subscriber whose queue overflowed gets: its last delivered cursor."""

    cursor: Cursor


class TooManySubscriptions(Exception):
    """LIVE_MAX_SUBSCRIPTIONS_PER_TOKEN or LIVE_MAX_SUBSCRIPTIONS would be exceeded."""


@dataclass(eq=False)
class Subscriber:
    """One subscription: whose diaries, and the queue of what it has yet to send."""

    viewer: Associate
    token: str
    associate_ids: frozenset[int]
    resource_ids: frozenset[int]
    queue: asyncio.Queue[LiveEvent | Resync]
    cursor: Cursor
    dropped: bool = False
    delivered: int = field(default=0)

    def offer(self, event: LiveEvent) -> None:
        """Queue the event if this subscriber hears of it; on overflow, RESYNC instead."""
        if self.dropped or not event.heard_by(self.viewer, self.associate_ids, self.resource_ids):
            return
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            self.dropped = True
            while not self.queue.empty():  # the queue is dropped: one RESYNC takes its place
                self.queue.get_nowait()
            self.queue.put_nowait(Resync(self.cursor))

    async def next(self) -> LiveEvent | Resync:
        item = await self.queue.get()
        if isinstance(item, LiveEvent):
            self.cursor = item.cursor
            self.delivered += 1
        return item


class Feed:
    """This process's reader of the log and its subscribers."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.subscribers: set[Subscriber] = set()
        self.last = 0
        self.wake = asyncio.Event()
        self.task: asyncio.Task[None] | None = None
        self.listener: Any = None
        self.reader: Any = None  # PostgreSQL: the feed's own client (one connection)
        self.read_count = 0

    @property
    def postgres(self) -> bool:
        return not self.settings.database_url.startswith("sqlite://")

    async def start(self) -> None:
        self.reader = await orm_db.dedicated_client(self.settings.database_url, "live_feed")
        self.last = (await current_cursor(self.reader)).change_id
        self.task = asyncio.create_task(self.run(), name="live-feed")

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.task
        await self._unlisten()
        reader, self.reader = self.reader, None
        if reader is not None:
            with contextlib.suppress(Exception):
                await reader.close()

    def subscribe(
        self, viewer: Associate, token: str, associate_ids: list[int], resource_ids: list[int]
    ) -> Subscriber:
        """A new subscriber (within the limits); it hears of changes from now on."""
        if len(self.subscribers) >= self.settings.live_max_subscriptions:
            raise TooManySubscriptions(
                f"this process serves at most {self.settings.live_max_subscriptions} "
                "subscriptions (LIVE_MAX_SUBSCRIPTIONS)"
            )
        mine = sum(1 for s in self.subscribers if s.token == token)
        if mine >= self.settings.live_max_subscriptions_per_token:
            raise TooManySubscriptions(
                f"a token may hold at most {self.settings.live_max_subscriptions_per_token} "
                "subscriptions (LIVE_MAX_SUBSCRIPTIONS_PER_TOKEN)"
            )
        subscriber = Subscriber(
            viewer,
            token,
            frozenset(associate_ids),
            frozenset(resource_ids),
            asyncio.Queue(self.settings.live_queue_size),
            Cursor(self.last, utcnow()),
        )
        self.subscribers.add(subscriber)
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        self.subscribers.discard(subscriber)

    def dispatch(self, found: list[LiveEvent]) -> None:
        for event in found:
            for subscriber in list(self.subscribers):
                subscriber.offer(event)

    async def read(self) -> int:
        """Read and hand out what is new; return how many changes."""
        total = 0
        while True:
            found = await events_after(self.last, READ_BATCH, self.reader)
            if not found:
                return total
            self.last = found[-1].change_id
            self.read_count += 1
            total += len(found)
            if self.subscribers:
                self.dispatch(await with_rows(found, self.reader))
            if len(found) < READ_BATCH:
                return total

    async def run(self) -> None:
        pruned = 0.0
        period = self.settings.live_poll_seconds
        while True:
            try:
                if self.postgres and self.listener is None:
                    await self._listen()
                if time.monotonic() - pruned > PRUNE_SECONDS:
                    pruned = time.monotonic()
                    await live.prune(self.settings.live_retention_hours, db=self.reader)
                await self.read()
            except asyncio.CancelledError:
                raise
            except Exception:  # keep the feed alive: the next wake reads again
                log.exception("live feed read failed")
                await self._unlisten()
            wait = PG_FALLBACK_SECONDS if self.listener is not None else period
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), wait)
            self.wake.clear()

    async def _listen(self) -> None:
        import asyncpg

        dsn = self.settings.database_url.split("?", 1)[0]
        dsn = dsn.replace("postgres://", "postgresql://", 1)
        conn = await asyncpg.connect(dsn, timeout=10)

        def notified(*_: object) -> None:
            self.wake.set()

        def lost(*_: object) -> None:
            self.listener = None
            self.wake.set()

        await conn.add_listener(live.CHANNEL, notified)
        conn.add_termination_listener(lost)
        self.listener = conn

    async def _unlisten(self) -> None:
        conn, self.listener = self.listener, None
        if conn is not None:
            with contextlib.suppress(Exception):
                await conn.close(timeout=2)


_FEED: Feed | None = None


def feed() -> Feed | None:
    """This process's feed (None until the app started it)."""
    return _FEED


async def start(settings: Settings) -> Feed:
    global _FEED
    if _FEED is None:
        _FEED = Feed(settings)
        await _FEED.start()
    return _FEED


async def stop() -> None:
    global _FEED
    current, _FEED = _FEED, None
    if current is not None:
        await current.stop()
