"""sync-collection (RFC 6578) on real servers: initial, incremental, refused token."""

from __future__ import annotations

import uuid

from sync.client import CalendarClient, object_name
from tests.sync.ics import vevent


async def _create(client: CalendarClient, n: int) -> dict[str, str]:
    made = {}
    for i in range(n):
        uid = f"{uuid.uuid4()}@sync.test"
        made[object_name(uid)] = await client.put(
            object_name(uid), vevent(uid, f"e{i}", day=i), create=True
        )
    return made


async def test_initial_and_incremental_sync(client: CalendarClient) -> None:
    empty = await client.sync_collection(None)
    assert empty.full and empty.changed == {} and empty.deleted == [] and empty.token

    made = await _create(client, 4)
    initial = await client.sync_collection(None)
    assert initial.full
    assert initial.changed == made
    assert initial.deleted == []

    # nothing changed: one request, nothing reported
    before = client.request_count
    quiet = await client.sync_collection(initial.token)
    assert client.request_count == before + 1
    assert not quiet.full and quiet.changed == {} and quiet.deleted == []

    names = sorted(made)
    changed_name, deleted_name = names[0], names[1]
    body, etag = await client.get(changed_name)
    uid = next(
        line.split(":", 1)[1] for line in body.decode().splitlines() if line.startswith("UID:")
    )
    new_etag = await client.put(changed_name, vevent(uid, "moved", sequence=1), etag=etag)
    await client.delete(deleted_name, etag=made[deleted_name])
    added = await _create(client, 1)

    delta = await client.sync_collection(quiet.token)
    assert not delta.full
    assert delta.changed == {changed_name: new_etag, **added}
    assert delta.deleted == [deleted_name]
    assert delta.token != quiet.token

    # the changed objects come back in one multiget
    fetched = await client.multiget(list(delta.changed))
    assert {n: e for n, (_, e) in fetched.items()} == delta.changed

    again = await client.sync_collection(delta.token)
    assert again.changed == {} and again.deleted == []


async def test_refused_token_falls_back_to_full(client: CalendarClient) -> None:
    made = await _create(client, 3)
    result = await client.sync_collection("http://example.invalid/not-a-token/1")
    assert result.full
    assert result.changed == made
    assert result.deleted == []
    follow = await client.sync_collection(result.token)
    assert not follow.full and follow.changed == {} and follow.deleted == []
