"""A private meeting in a room's calendar is a busy block; the people on it get it in full.

A room calendar is read by everyone who books the room, so what the service writes there
for a private meeting has a neutral SUMMARY and no LOCATION, DESCRIPTION, ATTENDEE,
ORGANIZER, URL, CATEGORIES or alarm - also on its overridden occurrences - while the
owner's and the associate participant's calendars hold the whole object (issue 17 item 3).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from icalendar import Calendar

from config.settings import Settings
from orm import models as m
from tests.helpers import associate, client_for, gid
from tests.sync import synchelp as h
from tests.sync.servers import DavServer
from tests.sync.synchelp import sync_settings

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
HIDDEN = ("LOCATION", "DESCRIPTION", "ATTENDEE", "ORGANIZER", "URL", "CATEGORIES")


@pytest.fixture
def settings() -> Settings:
    return sync_settings(caldav_timeout=5.0)


def z(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def components(cal: Calendar) -> list[object]:
    return [c for c in cal.walk() if c.name == "VEVENT"]


async def test_private_meeting_is_a_busy_block_in_the_room_calendar(
    http: httpx.AsyncClient, settings: Settings, dav_server: DavServer
) -> None:
    ann = await associate("Ann")
    bob = await associate("Bob")
    admin = await associate("Root", is_admin=True)
    kind = await m.ActivityType.create(name="Board")
    room = await m.Resource.create(name="Fjord room", email="fjord@rooms.example")
    ann_gql, bob_gql = await client_for(http, ann), await client_for(http, bob)
    tag = f"{ann.id}-{id(ann_gql)}"
    cals = {who: dav_server.make_calendar(f"{who}-{tag}") for who in ("ann", "bob", "room")}
    await h.add_account(ann_gql, dav_server, cals["ann"])
    await h.add_account(bob_gql, dav_server, cals["bob"])
    await h.add_account(
        await client_for(http, admin), dav_server, cals["room"], r=gid("Resource", room.id)
    )
    made = await ann_gql(
        h.CREATE,
        {
            "input": {
                "title": "Merger talks",
                "agenda": "Who buys whom",
                "location": "Fjord room on the 4th floor",
                "start": z(T0),
                "end": z(T0 + timedelta(hours=1)),
                "private": True,
                "alarmMinutes": 10,
                "typeId": gid("ActivityType", kind.id),
                "recurrence": {"freq": "WEEKLY", "count": 3},
            }
        },
    )
    fu = made["createFollowUp"]["followUp"]
    saved = await ann_gql(
        h.SAVE,
        {
            "f": fu["id"],
            "v": fu["version"],
            "p": [{"associateId": gid("Associate", bob.id)}],
            "r": [gid("Resource", room.id)],
        },
    )
    assert not saved["saveParticipants"]["errors"], saved
    pk = (await m.FollowUp.get(uid=fu["uid"])).id
    second = z(T0 + timedelta(days=7)).replace("-", "").replace(":", "")
    edited = await ann_gql(
        h.UPDATE,
        {
            "id": gid("FollowUp", f"{pk}@{second}"),
            "v": saved["saveParticipants"]["followUp"]["version"],
            "input": {"title": "Merger talks II", "location": "Fjord room again"},
        },
    )
    assert not edited["updateFollowUp"]["errors"], edited
    await h.drain(settings)

    for who in ("ann", "bob"):
        full = h.server_copy(dav_server, cals[who], fu["uid"])
        assert full is not None, who
        text = full.to_ical().decode()
        for needle in (
            "Merger talks",
            "Who buys whom",
            "Fjord room on the 4th floor",
            "Merger talks II",
            "ORGANIZER",
            "ATTENDEE",
            "VALARM",
            "Board",
        ):
            assert needle in text, (who, needle)
    busy = h.server_copy(dav_server, cals["room"], fu["uid"])
    assert busy is not None
    text = busy.to_ical().decode()
    for needle in (
        "Merger",
        "Who buys",
        "Fjord room",
        "Board",
        "VALARM",
        "ann@example.com",
        "bob@example.com",
        "fjord@rooms.example",
        f"/followups/{pk}",
    ):
        assert needle not in text, needle
    events = components(busy)
    assert len(events) == 2  # the master and the overridden occurrence, times kept
    for ev in events:
        assert str(ev["SUMMARY"]) == "Busy"
        assert str(ev["CLASS"]) == "PRIVATE"
        assert str(ev["TRANSP"]) == "OPAQUE"
        for name in HIDDEN:
            assert name not in ev, name
    assert h.master(busy).decoded("DTSTART") == T0
    assert "FREQ=WEEKLY" in h.master(busy)["RRULE"].to_ical().decode()

    # made public: the room calendar gets the full object
    current = await m.FollowUp.get(uid=fu["uid"])
    opened = await ann_gql(
        h.UPDATE, {"id": fu["id"], "v": current.version, "input": {"private": False}}
    )
    assert not opened["updateFollowUp"]["errors"], opened
    await h.drain(settings)
    room_copy = h.server_copy(dav_server, cals["room"], fu["uid"])
    assert room_copy is not None
    assert str(h.master(room_copy)["SUMMARY"]) == "Merger talks"
