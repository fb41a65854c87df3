"""Create/read/update/delete with preconditions against real Radicale and Xandikos."""

from __future__ import annotations

import uuid

import pytest

from sync.client import CalendarClient, object_name
from sync.errors import NotFoundError, PreconditionFailed
from tests.helpers import LOOPBACK
from tests.sync.ics import vevent, vtodo
from tests.sync.servers import DavServer


def new_uid() -> str:
    return f"{uuid.uuid4()}@followups.test"


async def test_create_get_update_delete(client: CalendarClient) -> None:
    uid = new_uid()
    name = object_name(uid)
    etag1 = await client.put(name, vevent(uid, "First"), create=True)
    assert etag1
    body, etag = await client.get(name)
    assert etag == etag1
    assert b"SUMMARY:First" in body
    assert uid.encode() in body

    etag2 = await client.put(name, vevent(uid, "Second", sequence=1), etag=etag1)
    assert etag2 and etag2 != etag1
    body, etag = await client.get(name)
    assert etag == etag2
    assert b"SUMMARY:Second" in body

    await client.delete(name, etag=etag2)
    with pytest.raises(NotFoundError):
        await client.get(name)
    # deleting again is fine: 404 means already gone
    await client.delete(name, etag=etag2)


async def test_create_twice_is_412_with_server_copy(client: CalendarClient) -> None:
    uid = new_uid()
    name = object_name(uid)
    etag = await client.put(name, vevent(uid, "Original"), create=True)
    with pytest.raises(PreconditionFailed) as caught:
        await client.put(name, vevent(uid, "Retry"), create=True)
    assert caught.value.status == 412
    assert caught.value.server_etag == etag
    assert caught.value.server_ics is not None
    assert b"SUMMARY:Original" in caught.value.server_ics
    body, _ = await client.get(name)
    assert b"SUMMARY:Original" in body


async def test_update_with_stale_etag_carries_server_copy(client: CalendarClient) -> None:
    uid = new_uid()
    name = object_name(uid)
    stale = await client.put(name, vevent(uid, "v1"), create=True)
    current = await client.put(name, vevent(uid, "v2 by someone else", sequence=1), etag=stale)

    with pytest.raises(PreconditionFailed) as caught:
        await client.put(name, vevent(uid, "v2 by us", sequence=1), etag=stale)
    err = caught.value
    assert err.server_etag == current
    assert err.server_ics is not None and b"SUMMARY:v2 by someone else" in err.server_ics

    # the caller re-applies on the server copy and retries with its ETag
    merged = await client.put(name, vevent(uid, "v3 merged", sequence=2), etag=err.server_etag)
    body, etag = await client.get(name)
    assert etag == merged
    assert b"SUMMARY:v3 merged" in body


async def test_update_of_vanished_object_is_412_without_copy(client: CalendarClient) -> None:
    uid = new_uid()
    name = object_name(uid)
    etag = await client.put(name, vevent(uid), create=True)
    await client.delete(name, etag=etag)
    with pytest.raises(PreconditionFailed) as caught:
        await client.put(name, vevent(uid, "again"), etag=etag)
    assert caught.value.server_ics is None
    assert caught.value.server_etag is None


async def test_delete_with_stale_etag_keeps_object(client: CalendarClient) -> None:
    uid = new_uid()
    name = object_name(uid)
    stale = await client.put(name, vevent(uid, "v1"), create=True)
    current = await client.put(name, vevent(uid, "v2", sequence=1), etag=stale)
    with pytest.raises(PreconditionFailed) as caught:
        await client.delete(name, etag=stale)
    assert caught.value.server_etag == current
    body, etag = await client.get(name)
    assert etag == current and b"SUMMARY:v2" in body


async def test_blind_overwrite_is_refused(client: CalendarClient) -> None:
    with pytest.raises(ValueError):
        await client.put(object_name(new_uid()), vevent(new_uid()))
    with pytest.raises(ValueError):
        await client.put(object_name(new_uid()), vevent(new_uid()), etag='"x"', create=True)


async def test_odd_uid_round_trips(client: CalendarClient) -> None:
    uid = "weird/uid with spaces/ünïcødé/" + "x" * 500 + "@host"
    name = object_name(uid)
    etag = await client.put(name, vevent(uid, "Odd"), create=True)
    body, got = await client.get(name)
    assert got == etag
    assert b"SUMMARY:Odd" in body
    assert await client.list_etags() == {name: etag}


async def test_list_etags(client: CalendarClient) -> None:
    assert await client.list_etags() == {}
    expected = {}
    for i in range(5):
        uid = new_uid()
        expected[object_name(uid)] = await client.put(
            object_name(uid), vevent(uid, f"n{i}", day=i), create=True
        )
    before = client.request_count
    assert await client.list_etags() == expected
    assert client.request_count == before + 1


async def test_multiget_in_one_request(client: CalendarClient) -> None:
    uids = [new_uid() for _ in range(20)]
    etags = {}
    for i, uid in enumerate(uids):
        etags[object_name(uid)] = await client.put(
            object_name(uid), vevent(uid, f"item {i}", day=i), create=True
        )
    wanted = [object_name(u) for u in uids[:15]] + [object_name(new_uid())]  # one absent
    before = client.request_count
    got = await client.multiget(wanted)
    assert client.request_count == before + 1
    assert set(got) == set(wanted[:15])
    for i, uid in enumerate(uids[:15]):
        body, etag = got[object_name(uid)]
        assert etag == etags[object_name(uid)]
        assert f"SUMMARY:item {i}".encode() in body
        assert uid.encode() in body
    assert await client.multiget([]) == {}


async def test_vtodo_supported_and_stored(client: CalendarClient) -> None:
    assert await client.supports_vtodo() is True
    uid = new_uid()
    etag = await client.put(object_name(uid), vtodo(uid, "Call back"), create=True)
    body, got = await client.get(object_name(uid))
    assert got == etag and b"BEGIN:VTODO" in body


async def test_event_only_calendar_has_no_vtodo(dav_server: DavServer) -> None:
    url = dav_server.make_calendar(f"events-{uuid.uuid4().hex[:8]}", ("VEVENT",))
    async with CalendarClient(
        dav_server.base_url,
        dav_server.username,
        dav_server.password,
        calendar_url=url,
        policy=LOOPBACK,
    ) as cal:
        assert await cal.supports_vtodo() is False
