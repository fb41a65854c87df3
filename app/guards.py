"""HTTP guards: security headers, body size and time limits, load shedding, rate buckets.

All are plain ASGI middlewares (or helpers) configured from settings:
- every response gets conservative security headers (a closed Content-Security-Policy
  unless the route set its own, see ``app.csp``);
- a body larger than MAX_BODY_BYTES is refused with 413 before it is read in full;
- a body that has not arrived within REQUEST_BODY_TIMEOUT_SECONDS (plus one second per
  REQUEST_BODY_MIN_BYTES_PER_SECOND bytes received) is answered 408;
- more than MAX_CONCURRENT_REQUESTS requests in flight are shed with 503 + Retry-After;
- ``RateLimiter`` is the token bucket behind the per-associate request rate and the
  per-address wrong-token throttle (``app.admission``).  The buckets live in the process
  (documented: with several API processes each enforces its own share).
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app import csp

SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
    (b"cache-control", b"no-store"),
    (b"content-security-policy", csp.API.encode()),
]


def error_body(message: str, code: str) -> bytes:
    return json.dumps({"errors": [{"message": message, "extensions": {"code": code}}]}).encode()


async def send_error(
    send: Send,
    status: int,
    message: str,
    code: str,
    retry: int = 0,
    extra: list[tuple[bytes, bytes]] | None = None,
) -> None:
    headers = [(b"content-type", b"application/json"), *(extra or [])]
    if retry:
        headers.append((b"retry-after", str(retry).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": error_body(message, code)})


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in SECURITY_HEADERS if k not in present]
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, with_headers)


class BodyTooLarge(Exception):
    pass


class BodyLimit:
    """Refuse bodies over ``max_bytes`` (``per_path`` gives other limits to some paths)."""

    def __init__(
        self, app: ASGIApp, max_bytes: int, per_path: dict[str, int] | None = None
    ) -> None:
        self.app, self.default, self.per_path = app, max_bytes, per_path or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.per_path.get(scope.get("path", ""), self.default)
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await send_error(send, 413, f"the body may be at most {limit} bytes", "TOO_LARGE")
            return
        seen = 0
        started = False

        async def counting() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge
            return message

        async def tracking(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting, tracking)
        except BodyTooLarge:
            if not started:
                await send_error(send, 413, f"the body may be at most {limit} bytes", "TOO_LARGE")


class BodyTimeout(Exception):
    pass


class BodyDeadline:
    """Answer 408 when a request body does not arrive in time (slow-body attacks).

    The body must be complete ``seconds`` after the request reached the app, plus one
    second for every ``min_rate`` bytes received, so slow but honest uploads pass while a
    trickle of a few bytes cannot hold a request slot for longer than ``seconds``.
    """

    def __init__(self, app: ASGIApp, seconds: float, min_rate: int) -> None:
        self.app, self.seconds, self.min_rate = app, seconds, max(min_rate, 1)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        loop = asyncio.get_running_loop()
        start = loop.time()
        seen, complete, started = 0, False, False

        async def timed() -> Message:
            nonlocal seen, complete
            if complete:  # afterwards the app may wait for the disconnect: no deadline
                return await receive()
            left = start + self.seconds + seen / self.min_rate - loop.time()
            try:
                async with asyncio.timeout(max(left, 0.0)):
                    message = await receive()
            except TimeoutError:
                raise BodyTimeout from None
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                complete = not message.get("more_body", False)
            else:
                complete = True
            return message

        async def tracking(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, timed, tracking)
        except BodyTimeout:
            if not started:
                await send_error(
                    send,
                    408,
                    "the request body did not arrive in time",
                    "REQUEST_TIMEOUT",
                    extra=[(b"connection", b"close")],
                )


class LoadShedding:
    """Refuse work beyond a fixed number of requests in flight instead of queueing it."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit, self.in_flight = app, limit, 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") == "/health":
            await self.app(scope, receive, send)
            return
        if self.in_flight >= self.limit:
            await send_error(send, 503, "the service is busy; retry shortly", "OVERLOADED", retry=1)
            return
        self.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1


@dataclass
class Bucket:
    tokens: float
    stamp: float


class RateLimiter:
    """A token bucket per API token."""

    def __init__(self, per_minute: int, burst: int) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(max(burst, 1))
        self.buckets: dict[str, Bucket] = {}

    def allow(self, key: str, now: float | None = None) -> float:
        """0 if the request may go ahead (and take a token), else the seconds to wait."""
        bucket = self._refill(key, now)
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return 0.0
        return self._wait(bucket)

    def peek(self, key: str, now: float | None = None) -> float:
        """Like ``allow`` without taking a token: 0 while ``key`` has one left."""
        bucket = self._refill(key, now)
        return 0.0 if bucket.tokens >= 1 else self._wait(bucket)

    def _wait(self, bucket: Bucket) -> float:
        return (1 - bucket.tokens) / self.rate if self.rate else 60.0

    def _refill(self, key: str, now: float | None) -> Bucket:
        now = time.monotonic() if now is None else now
        bucket = self.buckets.get(key)
        if bucket is None:
            if len(self.buckets) > 100_000:
                self.buckets.clear()
            bucket = self.buckets[key] = Bucket(self.burst, now)
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.stamp) * self.rate)
        bucket.stamp = now
        return bucket
