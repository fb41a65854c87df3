"""Diary columns (which requested associate an item belongs to) and the resource diary."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from orm import models as m
from resolvers import followups
from tests.helpers import associate, client_for, gid

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
WEEK = {"from": "2026-03-01T00:00:00Z", "to": "2026-03-08T00:00:00Z"}
DIARY = """query($ids: [ID!]!, $from: DateTime!, $to: DateTime!) {
  diary(associateIds: $ids, from: $from, to: $to) { title columns } }"""
ROOMS = """query($ids: [ID!]!, $from: DateTime!, $to: DateTime!) {
  resourceDiary(resourceIds: $ids, from: $from, to: $to) { title redacted start columns } }"""


async def test_an_item_names_every_requested_column_it_is_in(http: Any) -> None:
    ann, bob, cy = await associate("Ann"), await associate("Bob"), await associate("Cy")
    both = await followups.create(ann, {"title": "Both", "start_at": T0})
    await m.Participant.create(followup_id=both.id, associate=bob)
    declined = await followups.create(ann, {"title": "Ann only", "start_at": T0 + timedelta(1)})
    await m.Participant.create(
        followup_id=declined.id, associate=bob, status=m.ParticipantStatus.DECLINED
    )
    theirs = await followups.create(cy, {"title": "Cy's", "start_at": T0 + timedelta(2)})
    await m.Participant.create(followup_id=theirs.id, associate=bob)
    a, b = gid("Associate", ann.id), gid("Associate", bob.id)
    gql = await client_for(http, ann)
    found = (await gql(DIARY, {"ids": [b, a], **WEEK}))["diary"]
    assert found == [
        {"title": "Both", "columns": [b, a]},  # once, in both columns, in the order asked
        {"title": "Ann only", "columns": [a]},
        {"title": "Cy's", "columns": [b]},
    ]


async def test_resource_diary_redacts_a_private_meeting_for_outsiders(http: Any) -> None:
    owner, outsider = await associate("Olav"), await associate("Una")
    room = await m.Resource.create(name="Fjord")
    other = await m.Resource.create(name="Hall")
    secret = await followups.create(
        owner,
        {"title": "Board", "private": True, "start_at": T0, "end_at": T0 + timedelta(hours=1)},
    )
    await m.ResourceBooking.create(
        followup_id=secret.id, resource=room, start_at=secret.start_at, end_at=secret.end_at
    )
    await followups.create(owner, {"title": "Unbooked", "start_at": T0})
    variables = {"ids": [gid("Resource", other.id), gid("Resource", room.id)], **WEEK}
    mine = (await (await client_for(http, owner))(ROOMS, variables))["resourceDiary"]
    assert [(d["title"], d["redacted"], d["columns"]) for d in mine] == [
        ("Board", False, [gid("Resource", room.id)])
    ]
    theirs = (await (await client_for(http, outsider))(ROOMS, variables))["resourceDiary"]
    assert [(d["title"], d["redacted"], d["start"]) for d in theirs] == [
        (None, True, mine[0]["start"])
    ]


async def test_a_redacted_item_names_only_its_owner_column(http: Any) -> None:
    owner, insider, outsider = await associate("O"), await associate("I"), await associate("U")
    secret = await followups.create(owner, {"title": "Board", "private": True, "start_at": T0})
    await m.Participant.create(followup_id=secret.id, associate=insider)
    o, i = gid("Associate", owner.id), gid("Associate", insider.id)
    gql = await client_for(http, outsider)
    assert (await gql(DIARY, {"ids": [i, o], **WEEK}))["diary"] == [{"title": None, "columns": [o]}]
    assert (await gql(DIARY, {"ids": [i], **WEEK}))["diary"] == [{"title": None, "columns": []}]
    insider_sees = await (await client_for(http, insider))(DIARY, {"ids": [i, o], **WEEK})
    assert insider_sees["diary"] == [{"title": "Board", "columns": [i, o]}]
