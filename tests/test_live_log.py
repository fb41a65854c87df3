"""The live change log: one row per change, with whom it concerned before and after."""

from __future__ import annotations

from datetime import timedelta

import httpx

from orm import live
from orm.live_models import LiveChange, LiveKind, LiveParty, PartyKind
from orm.outbox import utcnow
from tests.helpers import associate, client_for, gid

CREATE = """mutation($o: ID!) { createFollowUp(input: {title: "Plan", kind: MEETING,
  start: "2026-03-02T09:00:00Z", end: "2026-03-02T10:00:00Z", ownerId: $o}) {
  followUp { id version } errors { code } } }"""
SAVE = """mutation($f: ID!, $v: Int!, $p: [ParticipantInput!]!, $r: [ID!]) {
  saveParticipants(followUpId: $f, version: $v, participants: $p, resourceIds: $r) {
    followUp { version } errors { code } } }"""


async def parties(change_id: int) -> set[tuple[str, int]]:
    rows = await LiveParty.filter(change_id=change_id)
    return {(p.party.value, p.party_id) for p in rows}


async def test_every_change_is_logged_with_whom_it_concerned_before_and_after(
    http: httpx.AsyncClient,
) -> None:
    from orm import models as m

    ann, bob = await associate("Ann"), await associate("Bob")
    room = await m.Resource.create(name="Fjord")
    gql = await client_for(http, ann)
    made = (await gql(CREATE, {"o": gid("Associate", ann.id)}))["createFollowUp"]["followUp"]
    fid = made["id"]
    people = [{"associateId": gid("Associate", bob.id)}]
    saved = await gql(
        SAVE, {"f": fid, "v": made["version"], "p": people, "r": [gid("Resource", room.id)]}
    )
    version = saved["saveParticipants"]["followUp"]["version"]
    await gql(SAVE, {"f": fid, "v": version, "p": [], "r": []})  # Bob and the room removed
    await gql("mutation($id: ID!) { deleteFollowUp(id: $id) { errors { code } } }", {"id": fid})

    rows = await LiveChange.all().order_by("id")
    assert [r.kind for r in rows] == [
        LiveKind.CREATED,
        LiveKind.UPDATED,
        LiveKind.UPDATED,
        LiveKind.DELETED,
    ]
    assert len({r.followup_id for r in rows}) == 1
    a, b, r = ("A", ann.id), ("A", bob.id), ("R", room.id)
    assert [await parties(row.id) for row in rows] == [{a}, {a, b, r}, {a, b, r}, {a}]


async def test_old_changes_are_pruned_and_the_cursor_range_follows(db: str) -> None:
    old = await live.record(LiveKind.UPDATED, followup_id=1, associates=[1])
    kept = await live.record(LiveKind.UPDATED, followup_id=2, associates=[1])
    await LiveChange.filter(id=old.id).update(at=utcnow() - timedelta(hours=25))
    assert await live.oldest_kept(24) == kept.id
    assert await live.prune(24) == 1
    assert [r.id for r in await LiveChange.all()] == [kept.id]
    assert {p.change_id for p in await LiveParty.all()} == {kept.id}
    assert await live.last_id() == kept.id
    assert (await LiveParty.get(change_id=kept.id)).party is PartyKind.ASSOCIATE
