"""Running the app under uvicorn with bounded request reading (``followups serve``).

uvicorn bounds the header size (h11's incomplete-event limit) and idle keep-alive time,
but not the time a client may take to send its headers: a connection that trickles a
header byte now and then stays open for ever.  ``BoundedH11Protocol`` closes a
connection whose request line and headers are not complete REQUEST_HEADER_TIMEOUT_SECONDS
after it opened or after its previous response.  The body's time is bounded in the app
(``app.guards.BodyDeadline``), which can still answer 408.

With ``workers`` > 1 uvicorn starts that many processes on one listening socket; each
builds its own app through ``worker_app`` (an import string, as uvicorn needs) and reads
the settings from the environment it inherited.
"""

from __future__ import annotations

import asyncio
import gc
from typing import Any

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from config.settings import Settings, get_settings

#: Largest request line plus headers (uvicorn's default, stated here on purpose).
MAX_HEADER_BYTES = 16 * 1024
KEEP_ALIVE_SECONDS = 5
LATE = b"HTTP/1.1 408 Request Timeout\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"


class BoundedH11Protocol(H11Protocol):
    header_timeout: float | None = None  # None: REQUEST_HEADER_TIMEOUT_SECONDS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.header_timeout is None:
            self.header_timeout = get_settings().request_header_timeout
        self._header_timer: asyncio.TimerHandle | None = None
        self._waiting_since: object = None

    def _arm(self) -> None:
        """Start waiting for the next request's headers."""
        self._disarm()
        self._waiting_since = self.cycle
        timeout = self.header_timeout or get_settings().request_header_timeout
        self._header_timer = self.loop.call_later(timeout, self._headers_late)

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_late(self) -> None:
        self._header_timer = None
        if self.cycle is self._waiting_since and not self.transport.is_closing():
            if self.conn.their_state is not h11.IDLE or self.conn.trailing_data[0]:
                self.transport.write(LATE)  # a request had begun: say why it ends
            self.transport.close()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.cycle is not self._waiting_since:  # a new request's headers were complete
            self._disarm()

    def on_response_complete(self) -> None:
        before = self.cycle
        super().on_response_complete()
        if not self.transport.is_closing() and self.cycle is before:
            self._arm()

    def handle_websocket_upgrade(self, event: h11.Request) -> None:
        """A websocket (subscriptions) takes the connection over: its headers are complete,
        and the header timer must not close it later."""
        self._disarm()
        self._waiting_since = None
        super().handle_websocket_upgrade(event)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)


def worker_app() -> Any:
    """The app of one worker process (``uvicorn app.server:worker_app --factory``)."""
    from app import tracing
    from app.observability import configure_logging
    from app.web import create_app

    settings = get_settings()
    configure_logging(settings)  # again in a worker process of its own (idempotent)
    tracing.configure()
    app = create_app(settings)
    # What start-up built (modules, the GraphQL schema, ORM metadata: ~100k objects) lives
    # as long as the process: keep it out of the collector's full passes, which otherwise
    # took ~7 % of the time in 50-80 ms pauses under load (bench/bench_load.py).
    gc.collect()
    gc.freeze()
    return app


def uvicorn_options(settings: Settings, host: str, port: int) -> dict[str, Any]:
    """uvicorn's settings for every process: address, logging, header bounds, proxies."""
    return {
        "host": host,
        "port": port,
        "log_level": settings.log_level.lower(),
        "access_log": False,  # app.observability logs each request, with its request ID
        "log_config": None,  # uvicorn's records go to the root handler (app.observability)
        "h11_max_incomplete_event_size": MAX_HEADER_BYTES,
        "timeout_keep_alive": KEEP_ALIVE_SECONDS,
        # Forwarded headers only from the proxies named in TRUSTED_PROXIES (uvicorn's default
        # believes any local process, which lets it pose as any client address).
        "proxy_headers": bool(settings.trusted_proxies),
        "forwarded_allow_ips": list(settings.trusted_proxies),
    }


def serve(settings: Settings, host: str, port: int, workers: int = 1) -> None:
    """Serve the app until stopped, with every request-reading bound from ``settings``."""
    common = uvicorn_options(settings, host, port)
    if workers > 1:
        http = f"{__name__}:BoundedH11Protocol"
        uvicorn.run(f"{__name__}:worker_app", factory=True, workers=workers, http=http, **common)
        return
    protocol = type(
        "Protocol", (BoundedH11Protocol,), {"header_timeout": settings.request_header_timeout}
    )
    uvicorn.run(worker_app(), http=protocol, **common)
