"""A hostile server on loopback: bad XML, huge bodies, odd statuses never crash the client.

The server here is a few lines of asyncio that answer every request with a canned
response; it stands in for a broken or malicious CalDAV server, which no real server
can be made to be.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable

import pytest

from sync.client import CalendarClient
from sync.errors import (
    AuthError,
    CalDAVError,
    InvalidXML,
    PreconditionRefused,
    ResponseTooLarge,
    TransientError,
)
from tests.helpers import LOOPBACK
from tests.sync.test_client_xml import BILLION_LAUGHS

Answer = Callable[[], bytes]


def http_response(status: str, body: bytes, *, chunked: bool = False) -> bytes:
    head = f"HTTP/1.1 {status}\r\nContent-Type: application/xml\r\nConnection: close\r\n"
    if not chunked:
        return f"{head}Content-Length: {len(body)}\r\n\r\n".encode() + body
    chunks = b"".join(
        f"{len(body[i : i + 65536]):x}\r\n".encode() + body[i : i + 65536] + b"\r\n"
        for i in range(0, len(body), 65536)
    )
    return f"{head}Transfer-Encoding: chunked\r\n\r\n".encode() + chunks + b"0\r\n\r\n"


class CannedServer:
    """Answer every request with ``self.answer``."""

    def __init__(self) -> None:
        self.answer: bytes = http_response("200 OK", b"")
        self.server: asyncio.Server | None = None

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        length = 0
        for line in head.decode("latin-1").split("\r\n"):
            if line.lower().startswith("content-length:"):
                length = int(line.split(":", 1)[1])
        if length:
            await reader.readexactly(length)
        writer.write(self.answer)
        with contextlib.suppress(ConnectionError):
            await writer.drain()
        writer.close()

    @property
    def url(self) -> str:
        assert self.server is not None
        port = self.server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}/cal/"


@pytest.fixture
async def hostile() -> AsyncIterator[CannedServer]:
    canned = CannedServer()
    canned.server = await asyncio.start_server(canned.handle, "127.0.0.1", 0)
    try:
        yield canned
    finally:
        canned.server.close()
        await canned.server.wait_closed()


async def test_billion_laughs_answer(hostile: CannedServer) -> None:
    hostile.answer = http_response("207 Multi-Status", BILLION_LAUGHS)
    async with CalendarClient(hostile.url, "u", "p", policy=LOOPBACK) as client:
        with pytest.raises(InvalidXML):
            await client.list_etags()
        with pytest.raises(InvalidXML):
            await client.sync_collection(None)
        report = await client.test_connection()
        assert not report.ok and report.status == 207


@pytest.mark.parametrize("chunked", [False, True])
async def test_huge_answer_is_cut_off(hostile: CannedServer, chunked: bool) -> None:
    body = b'<D:multistatus xmlns:D="DAV:">' + b" " * (3 * 1024 * 1024) + b"</D:multistatus>"
    hostile.answer = http_response("207 Multi-Status", body, chunked=chunked)
    async with CalendarClient(
        hostile.url, "u", "p", max_response_bytes=1024 * 1024, policy=LOOPBACK
    ) as client:
        with pytest.raises(ResponseTooLarge):
            await client.list_etags()
        with pytest.raises(ResponseTooLarge):
            await client.get("x.ics")


async def test_html_instead_of_multistatus(hostile: CannedServer) -> None:
    hostile.answer = http_response("207 Multi-Status", b"<html><body>hi</body></html>")
    async with CalendarClient(hostile.url, "u", "p", policy=LOOPBACK) as client:
        with pytest.raises(InvalidXML):
            await client.multiget(["a.ics"])


async def test_status_mapping(hostile: CannedServer) -> None:
    async with CalendarClient(hostile.url, "u", "p", policy=LOOPBACK) as client:
        hostile.answer = http_response("503 Service Unavailable", b"busy")
        with pytest.raises(TransientError) as transient:
            await client.put("a.ics", b"x", create=True)
        assert transient.value.status == 503

        hostile.answer = http_response("401 Unauthorized", b"")
        with pytest.raises(AuthError):
            await client.get("a.ics")

        conflict = (
            b'<D:error xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">'
            b"<C:no-uid-conflict/></D:error>"
        )
        hostile.answer = http_response("403 Forbidden", conflict)
        with pytest.raises(CalDAVError) as refused:
            await client.put("a.ics", b"x", create=True)
        assert not isinstance(refused.value, AuthError)
        assert refused.value.status == 403 and "no-uid-conflict" in refused.value.body_excerpt
        assert isinstance(refused.value, PreconditionRefused)
        assert refused.value.conditions == ["no-uid-conflict"]

        hostile.answer = http_response("400 Bad Request", b"\x00\x01" + b"A" * 5000)
        with pytest.raises(CalDAVError) as bad:
            await client.delete("a.ics", etag='"e"')
        assert bad.value.status == 400 and len(bad.value.body_excerpt) <= 300


async def test_silent_server_times_out() -> None:
    async def never_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(65536)
        await asyncio.sleep(5)
        writer.close()

    server = await asyncio.start_server(never_answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with CalendarClient(
            f"http://127.0.0.1:{port}/cal/", "u", "p", timeout=0.3, policy=LOOPBACK
        ) as cl:
            with pytest.raises(TransientError) as caught:
                await cl.get("a.ics")
            assert "unreachable" in str(caught.value)  # one text for every cause
            report = await cl.test_connection()
            assert not report.ok and report.status is None
    finally:
        server.close()
        await server.wait_closed()
