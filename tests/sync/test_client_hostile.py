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
    PreconditionFailed,
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
    """Answer every request with ``self.answer`` (or ``self.answers[method]``)."""

    def __init__(self) -> None:
        self.answer: bytes = http_response("200 OK", b"")
        self.answers: dict[str, bytes] = {}
        self.methods: list[str] = []
        self.server: asyncio.Server | None = None

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        length = 0
        for line in head.decode("latin-1").split("\r\n"):
            if line.lower().startswith("content-length:"):
                length = int(line.split(":", 1)[1])
        if length:
            await reader.readexactly(length)
        method = head.split(b" ", 1)[0].decode("latin-1")
        self.methods.append(method)
        writer.write(self.answers.get(method, self.answer))
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


# -- the UID query behind adopting a server's scheduling copy (sync.adopt) --------------

UID_CONFLICT = http_response(
    "409 Conflict",
    b'<D:error xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">'
    b"<C:no-uid-conflict/></D:error>",
)


def meeting(uid: str, organizer: str | None = "ann@example.com", *, todo: bool = False) -> bytes:
    kind = "VTODO" if todo else "VEVENT"
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//x//y//EN", f"BEGIN:{kind}"]
    lines += [f"UID:{uid}", "DTSTAMP:20270101T000000Z", "DTSTART:20270102T090000Z"]
    if organizer:
        lines.append(f"ORGANIZER;CN=Ann:mailto:{organizer}")
    lines += ["ATTENDEE:mailto:bob@example.com", f"END:{kind}", "END:VCALENDAR", ""]
    return "\r\n".join(lines).encode()


def found(*items: tuple[str, str | None, bytes | None]) -> bytes:
    """A calendar-query answer: (href, ETag, calendar data) per response."""
    out = []
    for href, etag, data in items:
        props = f"<D:getetag>{etag}</D:getetag>" if etag else ""
        if data is not None:
            text = data.decode().replace("&", "&amp;").replace("<", "&lt;")
            props += f"<C:calendar-data>{text}</C:calendar-data>"
        out.append(
            f"<D:response><D:href>{href}</D:href><D:propstat><D:prop>{props}</D:prop>"
            "<D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>"
        )
    body = (
        '<D:multistatus xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">'
        + "".join(out)
        + "</D:multistatus>"
    )
    return http_response("207 Multi-Status", body.encode())


async def test_uid_query_keeps_only_this_calendars_members(hostile: CannedServer) -> None:
    uid = "m-1@crm"
    hostile.answer = found(
        ("/cal/", '"c"', meeting(uid)),  # the collection itself
        ("/other/x.ics", '"1"', meeting(uid)),  # another calendar
        ("/cal/sub/y.ics", '"2"', meeting(uid)),  # a nested collection
        ("/cal/no-etag.ics", None, meeting(uid)),
        ("/cal/no-data.ics", '"3"', None),
        ("/cal/it%20s.ics", '"4"', meeting(uid)),
    )
    async with CalendarClient(hostile.url, "u", "p", policy=LOOPBACK) as client:
        got = await client.find_uid(uid)
        assert [(name, etag) for name, _, etag in got] == [("it s.ics", '"4"')]
        assert hostile.methods == ["REPORT"]
        assert await client.find_uid("bad\x00uid") == []  # never sent: XML cannot carry it
        assert hostile.methods == ["REPORT"]
        hostile.answer = http_response("207 Multi-Status", BILLION_LAUGHS)
        with pytest.raises(InvalidXML):
            await client.find_uid(uid)


@pytest.mark.parametrize(
    ("theirs", "adopted"),
    [
        ([("/cal/srv.ics", '"s"', meeting("m-1@crm", "ANN@example.com"))], True),
        ([("/cal/srv.ics", '"s"', meeting("m-1@crm", "cem@example.com"))], False),
        ([("/cal/srv.ics", '"s"', meeting("m-1@crm", None))], False),
        # text-match is a substring match: not the same UID
        ([("/cal/srv.ics", '"s"', meeting("xm-1@crm"))], False),
        ([("/cal/srv.ics", '"s"', meeting("m-1@crm", todo=True))], False),
        ([("/cal/srv.ics", '"s"', b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID;:\x7f\r\n")], False),
        ([("/cal/srv.ics", '"s"', b"not a calendar at all")], False),
        (
            [("/cal/a.ics", '"s"', meeting("m-1@crm")), ("/cal/b.ics", '"t"', meeting("m-1@crm"))],
            False,
        ),
        ([("/cal/ours.ics", '"s"', meeting("m-1@crm"))], False),  # where we tried to create it
        ([("/cal/" + "n" * 201 + ".ics", '"s"', meeting("m-1@crm"))], False),
    ],
)
async def test_only_the_same_meeting_is_adoptable(
    hostile: CannedServer, theirs: list[tuple[str, str, bytes]], adopted: bool
) -> None:
    from sync.adopt import adoptable

    hostile.answer = found(*theirs)
    async with CalendarClient(hostile.url, "u", "p", policy=LOOPBACK) as client:
        got = await adoptable(client, meeting("m-1@crm"), "ours.ics")
    assert got == (("srv.ics", '"s"') if adopted else None)


async def test_a_failing_uid_query_keeps_the_refusal_or_retries(hostile: CannedServer) -> None:
    from sync.adopt import adoptable

    async with CalendarClient(hostile.url, "u", "p", policy=LOOPBACK) as client:
        hostile.answers = {"PUT": UID_CONFLICT}
        with pytest.raises(PreconditionRefused) as refused:
            await client.put("ours.ics", meeting("m-1@crm"), create=True)
        assert refused.value.uid_conflict
        for answer in (
            http_response("501 Not Implemented", b""),
            http_response("403 Forbidden", b""),
            http_response("207 Multi-Status", b"<html/>"),
        ):
            hostile.answers["REPORT"] = answer
            assert await adoptable(client, meeting("m-1@crm"), "ours.ics") is None
        hostile.answers["REPORT"] = http_response("503 Service Unavailable", b"")
        with pytest.raises(TransientError):
            await adoptable(client, meeting("m-1@crm"), "ours.ics")
        assert await adoptable(client, meeting("m-1@crm", None), "ours.ics") is None


async def test_a_412_naming_a_uid_conflict_is_a_refusal(hostile: CannedServer) -> None:
    """Xandikos answers a create whose UID is taken with 412 + no-uid-conflict."""
    hostile.answers = {
        "PUT": http_response(
            "412 Precondition Failed",
            b'<ns0:error xmlns:ns0="DAV:" xmlns:ns1="urn:ietf:params:xml:ns:caldav">'
            b"<ns1:no-uid-conflict /></ns0:error>",
        )
    }
    async with CalendarClient(hostile.url, "u", "p", policy=LOOPBACK) as client:
        with pytest.raises(PreconditionRefused) as refused:
            await client.put("a.ics", b"x", create=True)
        assert refused.value.uid_conflict and hostile.methods == ["PUT"]
        hostile.answers["GET"] = http_response("404 Not Found", b"")
        with pytest.raises(PreconditionFailed):  # an update's 412 is still "changed there"
            await client.put("a.ics", b"x", etag='"e"')
