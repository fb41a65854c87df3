"""Push to a server with RFC 6638 implicit scheduling (real Cyrus IMAP on loopback).

We are the scheduling agent: the participant's calendar must hold exactly the object we
wrote (no server-made scheduling copy, nothing in the scheduling Inbox), updates and
deletes must succeed there (no lingering CANCELLED copy), and a write the server refuses
with a precondition (same UID under another name) ends FAILED with the server's reason -
unless that other object is the server's own scheduling copy of our meeting (same UID and
ORGANIZER, delivered when the organiser made it in a calendar app): then ours is written
over it and it stays ours under the server's name.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from icalendar import Calendar

from config.settings import Settings
from orm.outbox_models import OutboxStatus
from orm.sync_models import CalendarObject, ObjectState, SyncJob
from sync.dav_xml import mkcalendar_body
from sync.names import object_name
from tests.helpers import associate, client_for, gid
from tests.sync import synchelp as h
from tests.sync.cyrus import CyrusServer, CyrusUser
from tests.sync.ics import vevent
from tests.sync.synchelp import sync_settings

T0 = datetime(2027, 5, 3, 9, 0, tzinfo=UTC)


@pytest.fixture
def settings() -> Settings:
    return sync_settings()


def z(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def objects_with_uid(server: CyrusServer, user: CyrusUser, url: str, uid: str) -> list[Calendar]:
    """Return every object in the collection whose UID is ``uid`` (name, parsed)."""
    found = []
    for name in server.hrefs(url, user):
        got = httpx.get(url + name, auth=user.auth(), timeout=10)
        if got.status_code == 200 and uid.encode() in got.content:
            found.append((name, Calendar.from_ical(got.content)))
    return found  # type: ignore[return-value]


async def _meeting(http: httpx.AsyncClient, cyrus: CyrusServer, title: str) -> tuple:
    ann, bob = await associate("Ann"), await associate("Bob")
    ann_gql, bob_gql = await client_for(http, ann), await client_for(http, bob)
    a, b = cyrus.user("ann"), cyrus.user("bob")
    await h.add_account(ann_gql, a, a.calendar_url)  # type: ignore[arg-type]
    await h.add_account(bob_gql, b, b.calendar_url)  # type: ignore[arg-type]
    made = await ann_gql(h.CREATE, {"input": {"title": title, "start": z(T0)}})
    fu = made["createFollowUp"]["followUp"]
    saved = await ann_gql(
        h.SAVE,
        {"f": fu["id"], "v": fu["version"], "p": [{"associateId": gid("Associate", bob.id)}]},
    )
    assert not saved["saveParticipants"]["errors"]
    version = saved["saveParticipants"]["followUp"]["version"]
    return ann_gql, bob_gql, fu, version, a, b


async def _states(fu: dict, *clients: object) -> list[dict]:
    """Return the calendarSync state each client sees (its own account)."""
    out = []
    for gql in clients:
        out += (await gql(h.SYNC_STATE, {"id": fu["id"]}))["node"]["calendarSync"]  # type: ignore[operator]
    return out


async def test_participant_holds_exactly_our_object(
    http: httpx.AsyncClient, settings: Settings, cyrus_server: CyrusServer
) -> None:
    gql, bob_gql, fu, version, ann, bob = await _meeting(http, cyrus_server, "Scheduled by us")
    uid = fu["uid"]
    await h.drain(settings)

    states = await _states(fu, gql, bob_gql)
    assert [s["state"] for s in states] == ["SYNCED", "SYNCED"], states
    for user in (ann, bob):
        found = objects_with_uid(cyrus_server, user, user.calendar_url, uid)
        assert [name for name, _ in found] == [object_name(uid)]  # type: ignore[misc]
        ev = h.master(found[0][1])  # type: ignore[index]
        assert ev["ORGANIZER"].params["SCHEDULE-AGENT"] == "CLIENT"
        assert all(a.params["SCHEDULE-AGENT"] == "CLIENT" for a in ev["ATTENDEE"])
        assert objects_with_uid(cyrus_server, user, user.inbox_url, uid) == []

    moved = await gql(
        h.UPDATE, {"id": fu["id"], "v": version, "input": {"start": z(T0 + timedelta(hours=3))}}
    )
    assert not moved["updateFollowUp"]["errors"]
    await h.drain(settings)
    states = await _states(fu, gql, bob_gql)
    assert [s["state"] for s in states] == ["SYNCED", "SYNCED"], states
    found = objects_with_uid(cyrus_server, bob, bob.calendar_url, uid)
    assert len(found) == 1
    assert h.master(found[0][1]).decoded("DTSTART") == T0 + timedelta(hours=3)  # type: ignore[index]

    gone = await gql(h.DELETE, {"id": fu["id"]})
    assert not gone["deleteFollowUp"]["errors"]
    await h.drain(settings)
    assert await SyncJob.filter(status=OutboxStatus.FAILED).count() == 0
    for user in (ann, bob):
        assert objects_with_uid(cyrus_server, user, user.calendar_url, uid) == []
        assert objects_with_uid(cyrus_server, user, user.inbox_url, uid) == []


async def test_uid_conflict_is_final_with_the_servers_reason(
    http: httpx.AsyncClient, settings: Settings, cyrus_server: CyrusServer
) -> None:
    gql, bob_gql, fu, _, ann, bob = await _meeting(http, cyrus_server, "Conflicting")
    uid = fu["uid"]
    # a calendar app already stored the same UID under another name in Bob's calendar
    put = httpx.put(
        bob.calendar_url + "from-app.ics",
        content=vevent(uid, summary="app copy"),
        auth=bob.auth(),
        headers={"Content-Type": "text/calendar"},
        timeout=10,
    )
    assert put.status_code in (201, 204), put.text
    try:
        result = await h.drain(settings)
        assert result.failed == 1 and result.retrying == 0, result
        states = await _states(fu, gql, bob_gql)
        assert [s["state"] for s in states] == ["SYNCED", "FAILED"], states
        failed = states[1]
        # Cyrus names its UID index conflict unique-scheduling-object-resource
        reasons = ("no-uid-conflict", "unique-scheduling-object-resource")
        assert any(r in failed["error"] for r in reasons), failed
        assert "from-app.ics" in failed["error"], failed
        job = await SyncJob.get(status=OutboxStatus.FAILED)
        assert job.attempts == 1  # final at once, not a retry loop
        await h.make_due()
        assert (await h.drain(settings)).claimed == 0
    finally:
        httpx.delete(bob.calendar_url + "from-app.ics", auth=bob.auth(), timeout=10)
        httpx.delete(ann.calendar_url + object_name(uid), auth=ann.auth(), timeout=10)


async def test_same_uid_in_two_calendars_of_one_user_is_final(
    http: httpx.AsyncClient, settings: Settings, cyrus_server: CyrusServer
) -> None:
    ann_row, bob_row = await associate("Ann"), await associate("Bob")
    gql = await client_for(http, ann_row)
    ann = cyrus_server.user("ann")
    work = f"{cyrus_server.base_url}dav/calendars/user/ann/work-{uuid.uuid4().hex[:8]}/"
    made = httpx.request(
        "MKCALENDAR",
        work,
        auth=ann.auth(),
        content=mkcalendar_body("Work"),
        headers={"Content-Type": "application/xml"},
        timeout=20,
    )
    assert made.status_code == 201, made.text
    await h.add_account(gql, ann, ann.calendar_url)  # type: ignore[arg-type]
    await h.add_account(gql, ann, work)  # type: ignore[arg-type]
    fu = (await gql(h.CREATE, {"input": {"title": "Twice", "start": z(T0)}}))["createFollowUp"][
        "followUp"
    ]
    saved = await gql(
        h.SAVE,
        {"f": fu["id"], "v": fu["version"], "p": [{"associateId": gid("Associate", bob_row.id)}]},
    )
    assert not saved["saveParticipants"]["errors"]
    try:
        result = await h.drain(settings)
        assert (result.synced, result.failed, result.retrying) == (1, 1, 0), result
        states = (await gql(h.SYNC_STATE, {"id": fu["id"]}))["node"]["calendarSync"]
        assert sorted(s["state"] for s in states) == ["FAILED", "SYNCED"], states
        failed = next(s for s in states if s["state"] == "FAILED")
        assert "unique-scheduling-object-resource" in failed["error"]
        # the server's pointer to the copy in the other calendar (the two PUTs run in parallel)
        other = "/Default/" if failed is states[1] else "/work-"
        assert other in failed["error"].split("conflicting resource:")[1], failed
    finally:
        for url in (ann.calendar_url, work):
            httpx.delete(url + object_name(fu["uid"]), auth=ann.auth(), timeout=10)


async def test_room_calendar_gets_a_busy_block_for_a_private_meeting(
    http: httpx.AsyncClient, settings: Settings, cyrus_server: CyrusServer
) -> None:
    """On a scheduling server too: the room's calendar holds a plain busy block, the
    participant's the full object, and the server added no copy of its own."""
    from orm import models as m

    ann, bob = await associate("Ann"), await associate("Bob")
    admin = await associate("Root", is_admin=True)
    room = await m.Resource.create(name="Fjord room", email="fjord@rooms.example")
    ann_gql, bob_gql = await client_for(http, ann), await client_for(http, bob)
    a, b, c = cyrus_server.user("ann"), cyrus_server.user("bob"), cyrus_server.user("cem")
    await h.add_account(ann_gql, a, a.calendar_url)  # type: ignore[arg-type]
    await h.add_account(bob_gql, b, b.calendar_url)  # type: ignore[arg-type]
    await h.add_account(
        await client_for(http, admin),
        c,
        c.calendar_url,
        r=gid("Resource", room.id),  # type: ignore[arg-type]
    )
    title, place = f"Merger talks {uuid.uuid4().hex[:6]}", "Fjord room, 4th floor"
    made = await ann_gql(
        h.CREATE,
        {"input": {"title": title, "location": place, "start": z(T0), "private": True}},
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
    await h.drain(settings)
    (full,) = [cal for _, cal in objects_with_uid(cyrus_server, b, b.calendar_url, fu["uid"])]
    assert title in full.to_ical().decode() and "ATTENDEE" in full.to_ical().decode()
    blocks = objects_with_uid(cyrus_server, c, c.calendar_url, fu["uid"])
    assert len(blocks) == 1, blocks  # ours alone, no scheduling copy beside it
    text = blocks[0][1].to_ical().decode()
    assert title not in text and place not in text and "fjord@rooms.example" not in text
    (event,) = [e for e in blocks[0][1].walk() if e.name == "VEVENT"]
    assert str(event["SUMMARY"]) == "Busy" and str(event["CLASS"]) == "PRIVATE"
    for name in ("LOCATION", "DESCRIPTION", "ATTENDEE", "ORGANIZER", "URL"):
        assert name not in event, name
    assert event.decoded("DTSTART") == T0
    states = await _states(fu, ann_gql, bob_gql)
    assert {s["state"] for s in states} == {"SYNCED"}, states


async def test_pull_owner_edit_and_participant_answer(
    http: httpx.AsyncClient, settings: Settings, cyrus_server: CyrusServer
) -> None:
    from orm import models as m
    from tests.sync.test_sync_pull import edit_on_server, pull, set_prop

    _, _, fu, _, ann, bob = await _meeting(http, cyrus_server, "Two-way")
    await h.drain(settings)
    first = await pull(settings)
    assert [r.changed for r in first] == [0, 0]
    quiet = await pull(settings)
    assert [(r.requests, r.changed) for r in quiet] == [(1, 0), (1, 0)]
    later = T0 + timedelta(hours=3)

    def moved(c: Calendar) -> None:
        set_prop("SUMMARY", "Two-way (moved)")(c)
        set_prop("DTSTART", later)(c)
        set_prop("DTEND", later + timedelta(hours=1))(c)

    edit_on_server(ann, ann.calendar_url, fu["uid"], moved)  # type: ignore[arg-type]

    def accept(c: Calendar) -> None:
        for a in h.master(c).get("ATTENDEE", []):
            if "bob@" in str(a):
                a.params["PARTSTAT"] = "ACCEPTED"

    edit_on_server(bob, bob.calendar_url, fu["uid"], accept)  # type: ignore[arg-type]
    found = await pull(settings)
    assert {k for r in found for k in r.applied} == {"APPLIED", "STATUS"}, found
    row = await m.FollowUp.get(uid=fu["uid"])
    assert (row.title, row.start_at) == ("Two-way (moved)", later)
    p = await m.Participant.get(followup_id=row.id, associate_id__isnull=False, organiser=False)
    assert p.status == m.ParticipantStatus.ACCEPTED
    await h.drain(settings)
    for _ in range(2):
        echo = await pull(settings)
        assert [r.changed for r in echo] == [0, 0], echo


@asynccontextmanager
async def _team_meeting(
    http: httpx.AsyncClient,
    settings: Settings,
    cyrus_server: CyrusServer,
    bob_row: Any = None,
) -> AsyncIterator[tuple[Any, CyrusUser, CyrusUser, str, str]]:
    """Ann (an account of hers with importNewEvents on) makes "Team" with Bob as attendee
    in her app on Cyrus, which schedules it itself; ``bob_row``: Bob has an account with
    us too. Yields Ann's GraphQL client, Ann, Bob, Ann's calendar and the UID; the
    calendars go afterwards."""
    from tests.sync.test_sync_pull import pull
    from tests.sync.test_sync_pull_new import event, put, set_account

    ann_gql = await client_for(http, await associate("Ann"))
    ann, bob = cyrus_server.user("ann"), cyrus_server.user("bob")
    dav = cyrus_server.dav("ann")
    cal = dav.make_calendar("import")
    try:
        await h.add_account(ann_gql, ann, cal)  # type: ignore[arg-type]
        if bob_row is not None:
            await h.add_account(await client_for(http, bob_row), bob, bob.calendar_url)  # type: ignore[arg-type]
        await set_account(ann_gql, importNewEvents=True)
        await pull(settings)
        uid = f"team-{uuid.uuid4().hex[:6]}@app"
        data = event(
            uid,
            "SUMMARY:Team",
            f"ORGANIZER:mailto:{ann.email}",
            f"ATTENDEE;PARTSTAT=ACCEPTED:mailto:{ann.email}",
            f"ATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:{bob.email}",
        )
        assert put(dav, cal, "team.ics", data) < 300
        yield ann_gql, ann, bob, cal, uid
    finally:
        dav.remove_calendars()
        cyrus_server.clear_defaults()


async def test_imported_meeting_reaches_a_participant_cyrus_already_invited(
    http: httpx.AsyncClient, settings: Settings, cyrus_server: CyrusServer
) -> None:
    """An event with ATTENDEEs made in Ann's app (no SCHEDULE-AGENT: the server schedules)
    is imported; Bob, whose calendar Cyrus already put its invitation in, gets ours there:
    one object with the UID, synced."""
    from orm import models as m
    from tests.sync.test_sync_pull import pull

    bob_row = await associate("Bob")
    async with _team_meeting(http, settings, cyrus_server, bob_row) as (ann_gql, _, bob, _, uid):
        # Cyrus's own doing: the invitation is in Bob's calendar before we wrote anything
        invited = objects_with_uid(cyrus_server, bob, bob.calendar_url, uid)
        assert len(invited) == 1, invited
        cyrus_name = invited[0][0]  # type: ignore[index]
        imported = await pull(settings)
        assert {k for r in imported for k in r.applied} == {"IMPORTED"}, imported
        result = await h.drain(settings)
        assert (result.failed, result.retrying) == (0, 0), [
            j.last_error for j in await SyncJob.filter(status=OutboxStatus.FAILED)
        ]
        found = objects_with_uid(cyrus_server, bob, bob.calendar_url, uid)
        assert len(found) == 1, found
        (name, copy), *_ = found  # type: ignore[misc]
        assert name == cyrus_name and name != object_name(uid)  # Cyrus's object, adopted
        ev = h.master(copy)
        assert ev["ORGANIZER"].params.get("SCHEDULE-AGENT") == "CLIENT"  # ours, not Cyrus's
        row = await m.FollowUp.get(uid=uid)
        bob_obj = await CalendarObject.get(followup_id=row.id, account__associate_id=bob_row.id)
        assert (bob_obj.name, bob_obj.state) == (name, ObjectState.SYNCED)
        assert [r.changed for r in await pull(settings)] == [0, 0]  # our write is no change
        assert str(ev["STATUS"]) == "CONFIRMED"
        # Cyrus's own iTIP: its REQUEST for the app's event, and a CANCEL it sent when our
        # write to Ann's copy took the scheduling over (SCHEDULE-AGENT=CLIENT)
        inbox = {n for n, _ in objects_with_uid(cyrus_server, bob, bob.inbox_url, uid)}  # type: ignore[misc]

        # from now on a plain update of that object (If-Match), then its deletion
        fu_id = gid("FollowUp", row.id)
        later = T0 + timedelta(days=1)
        moved = await ann_gql(
            h.UPDATE, {"id": fu_id, "v": row.version, "input": {"start": z(later)}}
        )
        assert not moved["updateFollowUp"]["errors"], moved
        result = await h.drain(settings)
        assert (result.synced, result.failed, result.retrying) == (2, 0, 0), result
        found = objects_with_uid(cyrus_server, bob, bob.calendar_url, uid)
        assert [n for n, _ in found] == [name]  # type: ignore[misc]
        assert h.master(found[0][1]).decoded("DTSTART") == later  # type: ignore[index]
        gone = await ann_gql(h.DELETE, {"id": fu_id})
        assert not gone["deleteFollowUp"]["errors"], gone
        result = await h.drain(settings)
        assert (result.failed, result.retrying) == (0, 0), result
        assert objects_with_uid(cyrus_server, bob, bob.calendar_url, uid) == []
        # our update and deletion of the adopted copy scheduled nothing
        assert {n for n, _ in objects_with_uid(cyrus_server, bob, bob.inbox_url, uid)} == inbox  # type: ignore[misc]


async def test_a_copy_with_another_organizer_is_not_adopted(
    http: httpx.AsyncClient, settings: Settings, cyrus_server: CyrusServer
) -> None:
    """Same UID in Bob's calendar, but another ORGANIZER: not our meeting, so not written
    over; the create stays refused with the server's reason and the copy is untouched."""
    gql, bob_gql, fu, _, ann, bob = await _meeting(http, cyrus_server, "Not ours")
    uid = fu["uid"]
    theirs = vevent(uid, summary="their meeting").replace(
        b"SUMMARY:", b"ORGANIZER:mailto:someone@elsewhere.example\r\nSUMMARY:"
    )
    put = httpx.put(
        bob.calendar_url + "theirs.ics",
        content=theirs,
        auth=bob.auth(),
        headers={"Content-Type": "text/calendar"},
        timeout=10,
    )
    assert put.status_code in (201, 204), put.text
    try:
        result = await h.drain(settings)
        assert (result.failed, result.retrying) == (1, 0), result
        states = await _states(fu, gql, bob_gql)
        assert [s["state"] for s in states] == ["SYNCED", "FAILED"], states
        assert "unique-scheduling-object-resource" in states[1]["error"], states
        found = objects_with_uid(cyrus_server, bob, bob.calendar_url, uid)
        assert [n for n, _ in found] == ["theirs.ics"]  # type: ignore[misc]
        assert str(h.master(found[0][1])["SUMMARY"]) == "their meeting"  # type: ignore[index]
        assert await CalendarObject.filter(name="theirs.ics").count() == 0
    finally:
        httpx.delete(bob.calendar_url + "theirs.ics", auth=bob.auth(), timeout=10)
        httpx.delete(ann.calendar_url + object_name(uid), auth=ann.auth(), timeout=10)


async def test_imported_meeting_stays_confirmed_for_an_attendee_we_do_not_write(
    http: httpx.AsyncClient, settings: Settings, cyrus_server: CyrusServer
) -> None:
    from tests.sync.test_sync_pull import pull

    async with _team_meeting(http, settings, cyrus_server) as (_, _, bob, _, uid):
        imported = await pull(settings)
        assert {k for r in imported for k in r.applied} == {"IMPORTED"}, imported
        result = await h.drain(settings)
        assert (result.synced, result.failed) == (1, 0), result
        found = objects_with_uid(cyrus_server, bob, bob.calendar_url, uid)
        assert len(found) == 1, found
        assert str(h.master(found[0][1]).get("STATUS", "CONFIRMED")) != "CANCELLED"  # type: ignore[index]


def _methods(server: CyrusServer, user: CyrusUser, uid: str) -> dict[str, str]:
    """The iTIP messages about ``uid`` in the user's scheduling Inbox: name -> METHOD."""
    return {
        name: str(cal.get("METHOD", ""))
        for name, cal in objects_with_uid(server, user, user.inbox_url, uid)  # type: ignore[misc]
    }


@pytest.mark.parametrize("settings", [sync_settings(smtp_host="smtp.invalid")])
async def test_a_move_of_an_imported_meeting_reaches_the_servers_attendee_once(
    http: httpx.AsyncClient, settings: Settings, cyrus_server: CyrusServer
) -> None:
    """The server schedules the imported meeting for Bob (no account with us): our writes
    keep it so (no SCHEDULE-AGENT on him, our first write sends him nothing), a move in
    the CRM reaches his copy as one update from the server, and we send him nothing of
    our own (no mail, no copy)."""
    from orm import models as m
    from orm.outbox_models import MailOutbox
    from tests.sync.test_sync_pull import pull

    async with _team_meeting(http, settings, cyrus_server) as (ann_gql, ann, bob, cal, uid):
        invited = _methods(cyrus_server, bob, uid)
        assert sorted(invited.values()) == ["REQUEST"], invited  # the app's invitation
        (_, app_copy), *_ = objects_with_uid(cyrus_server, bob, bob.calendar_url, uid)  # type: ignore[misc]
        assert {k for r in await pull(settings) for k in r.applied} == {"IMPORTED"}
        assert (await h.drain(settings)).failed == 0
        # our first write changed nothing for Bob: no second invitation, no CANCEL
        assert _methods(cyrus_server, bob, uid) == invited
        (_, copy), *_ = objects_with_uid(cyrus_server, bob, bob.calendar_url, uid)  # type: ignore[misc]
        assert copy.to_ical() == app_copy.to_ical()
        (_, mine), *_ = objects_with_uid(cyrus_server, ann, cal, uid)  # type: ignore[misc]
        ev = h.master(mine)
        (him,) = [a for a in ev["ATTENDEE"] if bob.email in str(a)]
        assert "SCHEDULE-AGENT" not in him.params and "SCHEDULE-AGENT" not in ev["ORGANIZER"].params
        row = await m.FollowUp.get(uid=uid)
        (p,) = await m.Participant.filter(followup_id=row.id, organiser=False)
        assert (p.email, p.email_invitation) == (bob.email, False)

        later = T0 + timedelta(days=1, hours=2)
        moved = await ann_gql(
            h.UPDATE,
            {"id": gid("FollowUp", row.id), "v": row.version, "input": {"start": z(later)}},
        )
        assert not moved["updateFollowUp"]["errors"], moved
        result = await h.drain(settings)
        assert (result.synced, result.failed, result.retrying) == (1, 0, 0), result
        found = objects_with_uid(cyrus_server, bob, bob.calendar_url, uid)
        assert len(found) == 1, found
        copy = h.master(found[0][1])  # type: ignore[index,arg-type]
        assert copy.decoded("DTSTART") == later
        assert str(copy.get("STATUS", "CONFIRMED")) == "CONFIRMED"
        # delivered by the server, once: its status on Ann's object says so (1.2,
        # delivered), Bob's copy is that delivery (the SEQUENCE of our write) and his
        # Inbox holds no CANCEL; no copy of ours was written beside it
        (_, mine), *_ = objects_with_uid(cyrus_server, ann, cal, uid)  # type: ignore[misc]
        (him,) = [a for a in h.master(mine)["ATTENDEE"] if bob.email in str(a)]
        assert str(him.params.get("SCHEDULE-STATUS", "")).startswith("1.2"), him.params
        assert copy["SEQUENCE"] == h.master(mine)["SEQUENCE"] == 1
        assert set(_methods(cyrus_server, bob, uid).values()) == {"REQUEST"}
        assert await MailOutbox.all().count() == 0  # the server invited him, not our mail
        assert await CalendarObject.filter(followup_id=row.id).count() == 1  # Ann's only
