"""Running the app under uvicorn with bounded request reading (``followups serve``).

uvicorn bounds the header size (h11's incomplete-event limit) and idle keep-alive time,
but not the time a client may take to send its headers: a connection that trickles a
header byte now and then stays open for ever.  ``BoundedH11Protocol`` closes a
connection whose request line and headers are not complete REQUEST_HEADER_TIMEOUT_SECONDS
after it opened or after its previous response.  The body's time is bounded in the app
(``app.guards.BodyDeadline``), which can still answer 408.
"""

from __future__ import annotations

import asyncio
from typing import Any

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from config.settings import Settings

#: Largest request line plus headers (uvicorn's default, stated here on purpose).
MAX_HEADER_BYTES = 16 * 1024
KEEP_ALIVE_SECONDS = 5
LATE = b"HTTP/1.1 408 Request Timeout\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"


class BoundedH11Protocol(H11Protocol):
    header_timeout = 10.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_timer: asyncio.TimerHandle | None = None
        self._waiting_since: object = None

    def _arm(self) -> None:
        """Start waiting for the next request's headers."""
        self._disarm()
        self._waiting_since = self.cycle
        self._header_timer = self.loop.call_later(self.header_timeout, self._headers_late)

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

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)


def serve(app: Any, settings: Settings, host: str, port: int) -> None:
    """Serve ``app`` until stopped, with every request-reading bound from ``settings``."""
    protocol = type(
        "Protocol", (BoundedH11Protocol,), {"header_timeout": settings.request_header_timeout}
    )
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level=settings.log_level.lower(),
        access_log=False,  # app.observability logs each request, with its request ID
        log_config=None,  # uvicorn's records go to the root handler (app.observability)
        http=protocol,
        h11_max_incomplete_event_size=MAX_HEADER_BYTES,
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
    )
