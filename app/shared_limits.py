"""Admission's counters: rate buckets and in-flight caps, per process or shared in Redis.

Without REDIS_URL every process keeps its own (``LocalBuckets``, ``LocalSlots``): with
N API processes an associate gets N times the rate and N times the concurrency cap.
With REDIS_URL all processes of the service count in one Redis:

- a token bucket per key is a hash updated by one Lua script on Redis's clock (atomic,
  no clock skew between processes), expiring once it would be full again;
- an in-flight cap per key is a sorted set of request ids scored by a lease deadline
  (``SLOT_LEASE_SECONDS``): a request adds itself only while fewer than the limit are
  there and removes itself when it ends, so a crashed process's slots lapse by
  themselves.

When Redis does not answer, the call falls back to this process's counters (logged at
most once a minute): the service stays up, limited per process as without Redis.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections import Counter
from typing import Any, Protocol

from app.guards import RateLimiter

log = logging.getLogger(__name__)

PREFIX = "followups:"
#: How long an in-flight slot lives in Redis unless its request ends first.
SLOT_LEASE_SECONDS = 60.0
REDIS_TIMEOUT_SECONDS = 0.5

BUCKET = """
local rate, burst, take = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local b = redis.call('HMGET', KEYS[1], 't', 's')
local tokens, stamp = tonumber(b[1]), tonumber(b[2])
if tokens == nil or stamp == nil then tokens, stamp = burst, now end
tokens = math.min(burst, tokens + math.max(now - stamp, 0) * rate)
local wait = 0
if tokens >= 1 then
  if take == 1 then tokens = tokens - 1 end
elseif rate > 0 then wait = (1 - tokens) / rate
else wait = 60 end
redis.call('HSET', KEYS[1], 't', tostring(tokens), 's', tostring(now))
local ttl = 60
if rate > 0 then ttl = math.ceil(burst / rate) + 60 end
redis.call('EXPIRE', KEYS[1], ttl)
return tostring(wait)
"""

ENTER = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[3])
redis.call('EXPIRE', KEYS[1], math.ceil(tonumber(ARGV[2])) + 1)
return 1
"""


class Buckets(Protocol):
    async def allow(self, key: str) -> float: ...
    async def peek(self, key: str) -> float: ...


class Slots(Protocol):
    async def enter(self, key: str, limit: int) -> str | None: ...
    async def leave(self, key: str, slot: str) -> None: ...


class LocalBuckets:
    """This process's token buckets (``app.guards.RateLimiter``)."""

    def __init__(self, per_minute: int, burst: int) -> None:
        self.limiter = RateLimiter(per_minute, burst)

    async def allow(self, key: str) -> float:
        return self.limiter.allow(key)

    async def peek(self, key: str) -> float:
        return self.limiter.peek(key)


class LocalSlots:
    """This process's requests in flight per key."""

    def __init__(self) -> None:
        self.in_flight: Counter[str] = Counter()

    async def enter(self, key: str, limit: int) -> str | None:
        if self.in_flight[key] >= limit:
            return None
        self.in_flight[key] += 1
        return ""

    async def leave(self, key: str, slot: str) -> None:
        self.in_flight[key] -= 1
        if self.in_flight[key] <= 0:
            del self.in_flight[key]


class _Fallback:
    """Log a Redis failure at most once a minute."""

    last = 0.0

    @classmethod
    def note(cls, exc: BaseException) -> None:
        now = time.monotonic()
        if now - cls.last > 60:
            cls.last = now
            log.warning("Redis unavailable, limits are per process for now: %s", exc)


def _errors() -> tuple[type[BaseException], ...]:
    from redis.exceptions import RedisError

    return (RedisError, OSError, TimeoutError)


class RedisBuckets:
    def __init__(self, client: Any, name: str, per_minute: int, burst: int) -> None:
        self.script = client.register_script(BUCKET)
        self.name = f"{PREFIX}{name}:"
        self.rate, self.burst = per_minute / 60.0, max(burst, 1)
        self.local = LocalBuckets(per_minute, burst)

    async def _call(self, key: str, take: int) -> float | None:
        try:
            answer = await self.script(keys=[self.name + key], args=[self.rate, self.burst, take])
        except _errors() as exc:
            _Fallback.note(exc)
            return None
        return float(answer)

    async def allow(self, key: str) -> float:
        wait = await self._call(key, 1)
        return await self.local.allow(key) if wait is None else wait

    async def peek(self, key: str) -> float:
        wait = await self._call(key, 0)
        return await self.local.peek(key) if wait is None else wait


class RedisSlots:
    def __init__(self, client: Any) -> None:
        self.client = client
        self.script = client.register_script(ENTER)
        self.local = LocalSlots()

    async def enter(self, key: str, limit: int) -> str | None:
        slot = uuid.uuid4().hex
        try:
            taken = await self.script(
                keys=[f"{PREFIX}slots:{key}"], args=[limit, SLOT_LEASE_SECONDS, slot]
            )
        except _errors() as exc:
            _Fallback.note(exc)
            return await self.local.enter(key, limit)
        return slot if int(taken) else None

    async def leave(self, key: str, slot: str) -> None:
        if not slot:  # taken from the local counters while Redis was away
            await self.local.leave(key, slot)
            return
        try:
            await self.client.zrem(f"{PREFIX}slots:{key}", slot)
        except _errors() as exc:
            _Fallback.note(exc)  # the lease ends it


def redis_client(url: str) -> Any:
    """A client for REDIS_URL (connections open lazily, on the running loop)."""
    from redis.asyncio import Redis

    return Redis.from_url(
        url,
        socket_timeout=REDIS_TIMEOUT_SECONDS,
        socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
        decode_responses=True,
    )
