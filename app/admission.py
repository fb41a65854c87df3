"""Admission: who a request counts against, checked before it may take a global slot.

One ASGI middleware in front of the load shedder:
- a bearer token on ``/graphql`` is authenticated here (the viewer goes to
  ``scope["state"]["viewer"]``); a wrong one answers 401 and costs the client address one
  of its AUTH_FAILURES_PER_MINUTE; an address out of them gets 429 ``AUTH_THROTTLED``
  before any database work (tokens recently seen valid from anywhere still pass);
- an authenticated request takes one of its associate's RATE_LIMIT_PER_MINUTE (429
  ``RATE_LIMITED``) and one of MAX_CONCURRENT_PER_ASSOCIATE slots; every other request one
  of its client address's MAX_CONCURRENT_PER_ADDRESS slots.  Beyond: 429
  ``TOO_MANY_CONCURRENT``, so one associate (whatever the number of its tokens) or one
  address cannot hold the slots everybody shares.

The buckets and slots are this process's, or with REDIS_URL shared by every process of
the service (``app.shared_limits``), so ``followups serve --workers N`` keeps one limit.
"""

from __future__ import annotations

import time

from starlette.types import ASGIApp, Receive, Scope, Send

from app.guards import send_error
from app.shared_limits import (
    Buckets,
    LocalBuckets,
    LocalSlots,
    RedisBuckets,
    RedisSlots,
    Slots,
    redis_client,
)
from config.settings import Settings
from resolvers.auth import authenticate, hash_token

#: A token that authenticated within this many seconds skips the wrong-token throttle.
KNOWN_GOOD_SECONDS = 600.0
KNOWN_GOOD_MAX = 10_000
UNAUTHENTICATED = [(b"www-authenticate", b'Bearer realm="followups"')]


class Admission:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.per_associate = settings.max_concurrent_per_associate
        self.per_address = settings.max_concurrent_per_address
        per_minute, burst = settings.rate_limit_per_minute, settings.rate_limit_burst
        failures = settings.auth_failures_per_minute
        self.rate: Buckets
        self.failures: Buckets
        self.slots: Slots
        if settings.redis_url:
            client = redis_client(settings.redis_url.reveal())
            self.rate = RedisBuckets(client, "rate", per_minute, burst)
            self.failures = RedisBuckets(client, "auth-failures", failures, failures)
            self.slots = RedisSlots(client)
        else:
            self.rate = LocalBuckets(per_minute, burst)
            self.failures = LocalBuckets(failures, failures)
            self.slots = LocalSlots()
        self.known_good: dict[str, float] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") == "/health":
            await self.app(scope, receive, send)
            return
        address = (scope.get("client") or ("unknown", 0))[0]
        header = _header(scope, b"authorization")
        if header and scope.get("path") == "/graphql":
            key = await self._authenticate(scope, send, header, address)
            if key is None:
                return
            limit = self.per_associate
        else:
            key, limit = f"address:{address}", self.per_address
        slot = await self.slots.enter(key, limit)
        if slot is None:
            await send_error(
                send, 429, "too many requests in flight for this client", "TOO_MANY_CONCURRENT", 1
            )
            return
        try:
            await self.app(scope, receive, send)
        finally:
            await self.slots.leave(key, slot)

    async def _authenticate(
        self, scope: Scope, send: Send, header: str, address: str
    ) -> str | None:
        """The slot key of a valid token's associate; else None once the answer is sent."""
        now = time.monotonic()
        digest = hash_token(header.partition(" ")[2].strip())
        if self.known_good.get(digest, 0.0) < now:
            wait = await self.failures.peek(address)
            if wait:
                message = "too many failed authentications from this address"
                await send_error(send, 429, message, "AUTH_THROTTLED", int(wait) + 1)
                return None
        viewer = await authenticate(header)
        if viewer is None:
            await self.failures.allow(address)
            message = "a valid bearer token is required"
            await send_error(send, 401, message, "UNAUTHENTICATED", extra=UNAUTHENTICATED)
            return None
        if len(self.known_good) >= KNOWN_GOOD_MAX:
            self.known_good.clear()
        self.known_good[digest] = now + KNOWN_GOOD_SECONDS
        key = f"associate:{viewer.id}"
        wait = await self.rate.allow(key)
        if wait:
            message = "too many requests for this associate"
            await send_error(send, 429, message, "RATE_LIMITED", int(wait) + 1)
            return None
        scope.setdefault("state", {})["viewer"] = viewer
        return key


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return ""
