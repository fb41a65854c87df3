"""A loopback TCP server that records what reaches it: connections and raw request bytes.

It stands in for "the server an account points at" when a test must prove that nothing
(or no secret) was sent there: ``connections`` counts accepted connections, ``received``
holds every byte read.  ``mode`` picks the answer: ``answer`` (a canned HTTP response),
``close`` (accept, read, close without a word), ``silent`` (accept and never answer).
"""

from __future__ import annotations

import asyncio
import contextlib
from types import TracebackType


def http_response(status: str, body: bytes = b"", headers: dict[str, str] | None = None) -> bytes:
    """Return a complete HTTP/1.1 response that closes the connection."""
    extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
    head = f"HTTP/1.1 {status}\r\nConnection: close\r\nContent-Length: {len(body)}\r\n{extra}\r\n"
    return head.encode() + body


class RecordingServer:
    """Accept connections on 127.0.0.1, record them, answer according to ``mode``."""

    def __init__(self, mode: str = "answer", answer: bytes | None = None) -> None:
        self.mode = mode
        self.answer = answer or http_response("404 Not Found")
        self.connections = 0
        self.received = b""
        self.port = 0
        self._server: asyncio.Server | None = None
        self._stop = asyncio.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
                head = await reader.readuntil(b"\r\n\r\n")
                self.received += head
                if self.mode == "silent":
                    await self._stop.wait()
                if self.mode == "answer":
                    writer.write(self.answer)
                    await writer.drain()
        finally:
            writer.close()

    async def __aenter__(self) -> RecordingServer:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._server is not None
        self._stop.set()
        self._server.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._server.wait_closed(), 2)
