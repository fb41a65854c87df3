"""Account-level behaviour on real servers: discovery, test connection, auth, outages."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest

from sync.client import CalendarClient, object_name
from sync.errors import AuthError, TransientError
from tests.helpers import LOOPBACK
from tests.sync.ics import vevent
from tests.sync.servers import DavServer


async def test_discovery_finds_the_calendar(dav_server: DavServer, calendar_url: str) -> None:
    async with CalendarClient(
        dav_server.base_url, dav_server.username, dav_server.password, policy=LOOPBACK
    ) as account:
        calendars = await account.discover()
        by_url = {info.url: info for info in calendars}
        assert calendar_url in by_url
        info = by_url[calendar_url]
        assert info.supports_vevent and info.supports_vtodo
        assert info.display_name == calendar_url.rstrip("/").rsplit("/", 1)[-1]

        # the chosen calendar then takes the object operations
        account.use_calendar(info)
        uid = f"{uuid.uuid4()}@t"
        etag = await account.put(object_name(uid), vevent(uid), create=True)
        assert await account.list_etags() == {object_name(uid): etag}


async def test_discovery_reports_component_sets(dav_server: DavServer) -> None:
    url = dav_server.make_calendar(f"ev-{uuid.uuid4().hex[:8]}", ("VEVENT",))
    async with CalendarClient(
        dav_server.principal_url, dav_server.username, dav_server.password, policy=LOOPBACK
    ) as account:
        info = {c.url: c for c in await account.discover()}[url]
        assert info.supports_vevent and not info.supports_vtodo


async def test_test_connection_ok(dav_server: DavServer) -> None:
    async with CalendarClient(
        dav_server.base_url, dav_server.username, dav_server.password, policy=LOOPBACK
    ) as account:
        report = await account.test_connection()
    assert report.ok, report
    assert report.status == 207
    assert report.principal_url == dav_server.principal_url


async def test_wrong_password_is_auth_error(radicale_server: DavServer) -> None:
    url = radicale_server.make_calendar(f"auth-{uuid.uuid4().hex[:8]}")
    async with CalendarClient(
        radicale_server.base_url,
        radicale_server.username,
        "wrong",
        calendar_url=url,
        policy=LOOPBACK,
    ) as bad:
        report = await bad.test_connection()
        assert not report.ok and report.status == 401
        assert "credentials" in report.reason
        with pytest.raises(AuthError) as caught:
            await bad.put(object_name("u@t"), vevent("u@t"), create=True)
        assert caught.value.status == 401
        with pytest.raises(AuthError):
            await bad.list_etags()
        with pytest.raises(AuthError):
            await bad.sync_collection(None)
        with pytest.raises(AuthError):
            await bad.discover()


async def test_other_users_calendar_is_auth_error(radicale_server: DavServer) -> None:
    # owner_only rights: alice may not write into bob's home -> 403
    async with CalendarClient(
        radicale_server.base_url,
        radicale_server.username,
        radicale_server.password,
        calendar_url=f"{radicale_server.base_url}bob/cal/",
        policy=LOOPBACK,
    ) as cal:
        with pytest.raises(AuthError) as caught:
            await cal.put(object_name("u@t"), vevent("u@t"), create=True)
        assert caught.value.status == 403


async def test_server_down_then_up(own_radicale: DavServer) -> None:
    url = own_radicale.make_calendar("outage")
    async with CalendarClient(
        own_radicale.base_url,
        own_radicale.username,
        own_radicale.password,
        timeout=5.0,
        calendar_url=url,
        policy=LOOPBACK,
    ) as cal:
        uid = "outage@t"
        etag = await cal.put(object_name(uid), vevent(uid, "before"), create=True)
        own_radicale.stop()

        with pytest.raises(TransientError):
            await cal.put(object_name(uid), vevent(uid, "during", sequence=1), etag=etag)
        with pytest.raises(TransientError):
            await cal.sync_collection(None)
        with pytest.raises(TransientError):
            await cal.discover()
        report = await cal.test_connection()
        assert not report.ok and report.status is None
        assert "unreachable" in report.reason

        own_radicale.start()
        # the same client (and its connection pool) recovers once the server is back
        new = await cal.put(object_name(uid), vevent(uid, "after", sequence=1), etag=etag)
        body, got = await cal.get(object_name(uid))
        assert got == new and b"SUMMARY:after" in body


async def test_one_connection_is_reused(xandikos_server: DavServer) -> None:
    # Xandikos keeps HTTP/1.1 connections alive (Radicale's server closes each one)
    url = xandikos_server.make_calendar(f"keep-{uuid.uuid4().hex[:8]}")
    loop = asyncio.get_running_loop()
    real = loop.create_connection
    opened = 0

    async def counting(*args: Any, **kwargs: Any) -> Any:
        nonlocal opened
        opened += 1
        return await real(*args, **kwargs)

    loop.create_connection = counting  # type: ignore[method-assign]
    try:
        async with CalendarClient(
            xandikos_server.base_url, "any", "any", calendar_url=url, policy=LOOPBACK
        ) as cal:
            for i in range(10):
                uid = f"keep-{i}@t"
                await cal.put(object_name(uid), vevent(uid), create=True)
            await cal.list_etags()
            assert cal.request_count == 11
    finally:
        loop.create_connection = real  # type: ignore[method-assign]
    assert opened == 1
