"""The live change log: one row per change, with whom it concerned before and after."""

from __future__ import annotations

from datetime import timedelta

import httpx
from strawberry import relay

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


SINCE = """query($a: [ID!]!, $c: String, $n: Int) {
  followUpChangesSince(associateIds: $a, after: $c, first: $n) {
    changes { cursor change followUpId occurrenceStart followUp { title redacted } }
    endCursor hasMore } }"""
PRIVATE = """mutation($o: ID!) { createFollowUp(input: {title: "Secret", kind: MEETING,
  private: true, start: "2026-03-02T09:00:00Z", end: "2026-03-02T10:00:00Z", ownerId: $o}) {
  followUp { id version } errors { code } } }"""


async def test_changes_since_a_cursor_as_the_diary_shows_them(http: httpx.AsyncClient) -> None:
    ann, una = await associate("Ann"), await associate("Una")
    mine, outsider = await client_for(http, ann), await client_for(http, una)
    who = {"a": [gid("Associate", ann.id)]}
    start = (await outsider(SINCE, who))["followUpChangesSince"]
    assert start["changes"] == [] and not start["hasMore"]

    made = (await mine(PRIVATE, {"o": gid("Associate", ann.id)}))["createFollowUp"]["followUp"]
    fid = made["id"]
    await mine(
        'mutation($id: ID!) { updateFollowUp(id: $id, version: 1, input: {title: "Still"}) '
        "{ errors { code } } }",
        {"id": fid},
    )
    await live.delivery_failed(int(relay.GlobalID.from_id(fid).node_id))  # a worker's report
    await mine("mutation($id: ID!) { deleteFollowUp(id: $id) { errors { code } } }", {"id": fid})

    seen = (await outsider(SINCE, {**who, "c": start["endCursor"]}))["followUpChangesSince"]
    assert [c["change"] for c in seen["changes"]] == ["CREATED", "UPDATED", "DELETED"]
    assert {c["followUpId"] for c in seen["changes"]} == {fid}
    assert all(c["followUp"] is None for c in seen["changes"])  # gone by now

    own = (await mine(SINCE, {**who, "c": start["endCursor"]}))["followUpChangesSince"]
    assert [c["change"] for c in own["changes"]] == [
        "CREATED",
        "UPDATED",
        "DELIVERY_FAILED",
        "DELETED",
    ]
    # paging: two at a time, resumed from each event's cursor and the page's end
    first = (await mine(SINCE, {**who, "c": start["endCursor"], "n": 2}))["followUpChangesSince"]
    assert [c["change"] for c in first["changes"]] == ["CREATED", "UPDATED"] and first["hasMore"]
    rest = (await mine(SINCE, {**who, "c": first["endCursor"]}))["followUpChangesSince"]
    assert [c["change"] for c in rest["changes"]] == ["DELIVERY_FAILED", "DELETED"]
    assert not rest["hasMore"]
    again = await mine(SINCE, {**who, "c": first["changes"][0]["cursor"]})
    assert len(again["followUpChangesSince"]["changes"]) == 3
    done = (await mine(SINCE, {**who, "c": rest["endCursor"]}))["followUpChangesSince"]
    assert done["changes"] == []


async def test_a_private_follow_up_shows_redacted_to_an_outsider(http: httpx.AsyncClient) -> None:
    ann, una = await associate("Ann"), await associate("Una")
    mine, outsider = await client_for(http, ann), await client_for(http, una)
    who = {"a": [gid("Associate", ann.id)]}
    start = (await outsider(SINCE, who))["followUpChangesSince"]["endCursor"]
    await mine(PRIVATE, {"o": gid("Associate", ann.id)})
    theirs = (await outsider(SINCE, {**who, "c": start}))["followUpChangesSince"]["changes"]
    assert theirs[0]["followUp"]["redacted"] is True and "Secret" not in str(theirs)
    own = (await mine(SINCE, {**who, "c": start}))["followUpChangesSince"]["changes"]
    assert own[0]["followUp"] == {"title": "Secret", "redacted": False}


async def test_an_expired_or_forged_cursor_is_a_typed_error(http: httpx.AsyncClient) -> None:
    from resolvers.live import Cursor

    ann = await associate("Ann")
    gql = await client_for(http, ann)
    who = {"a": [gid("Associate", ann.id)]}
    old = Cursor(0, utcnow() - timedelta(hours=25)).encode()
    body = await gql.raw(SINCE, {**who, "c": old})
    assert body["errors"][0]["extensions"]["code"] == "CURSOR_EXPIRED"
    body = await gql.raw(SINCE, {**who, "c": "not-a-cursor"})
    assert body["errors"][0]["extensions"] == {"code": "VALIDATION", "path": ["after"]}
