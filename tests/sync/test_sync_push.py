"""CalDAV push through the service: GraphQL changes -> outbox jobs -> worker -> real servers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from icalendar import Calendar

from config.settings import Settings
from orm import models as m
from orm.sync_models import AccountState, CalendarAccount, CalendarObject, SyncJob
from sync.names import object_name
from tests.helpers import Gql, associate, client_for, gid
from tests.sync import synchelp as h
from tests.sync.servers import DavServer
from tests.sync.synchelp import sync_settings

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def settings() -> Settings:
    return sync_settings(caldav_timeout=5.0)


def z(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


async def test_create_update_participants_delete(
    http: httpx.AsyncClient, settings: Settings, dav_server: DavServer
) -> None:
    ann, bob = await associate("Ann"), await associate("Bob")
    ann_gql, bob_gql = await client_for(http, ann), await client_for(http, bob)
    ann_cal = dav_server.make_calendar(f"ann-{ann.id}-{id(ann)}")
    bob_cal = dav_server.make_calendar(f"bob-{bob.id}-{id(bob)}")
    ann_acc = await h.add_account(ann_gql, dav_server, ann_cal)
    await h.add_account(bob_gql, dav_server, bob_cal)

    made = await ann_gql(h.CREATE, {"input": {"title": "Kick-off", "start": z(T0)}})
    fu = made["createFollowUp"]["followUp"]
    saved = await ann_gql(
        h.SAVE,
        {"f": fu["id"], "v": fu["version"], "p": [{"associateId": gid("Associate", bob.id)}]},
    )
    assert not saved["saveParticipants"]["errors"]
    state = await ann_gql(h.SYNC_STATE, {"id": fu["id"]})
    assert [s["state"] for s in state["node"]["calendarSync"]] == ["PENDING"]
    await h.drain(settings)

    for cal in (ann_cal, bob_cal):
        copy = h.server_copy(dav_server, cal, fu["uid"])
        assert copy is not None
        ev = h.master(copy)
        assert str(ev["UID"]) == fu["uid"]
        assert ev.decoded("DTSTART") == T0
        assert any("bob@example.com" in str(a) for a in ev.get("ATTENDEE", []))
    state = await ann_gql(h.SYNC_STATE, {"id": fu["id"]})
    assert state["node"]["calendarSync"][0]["state"] == "SYNCED"
    assert state["node"]["calendarSync"][0]["account"]["id"] == ann_acc

    version = saved["saveParticipants"]["followUp"]["version"]
    moved = await ann_gql(
        h.UPDATE, {"id": fu["id"], "v": version, "input": {"start": z(T0 + timedelta(hours=2))}}
    )
    assert not moved["updateFollowUp"]["errors"]
    await h.drain(settings)
    ev = h.master(h.server_copy(dav_server, bob_cal, fu["uid"]))  # type: ignore[arg-type]
    assert ev.decoded("DTSTART") == T0 + timedelta(hours=2)
    assert int(ev["SEQUENCE"]) == moved["updateFollowUp"]["followUp"]["sequence"] > 0

    version = moved["updateFollowUp"]["followUp"]["version"]
    removed = await ann_gql(h.SAVE, {"f": fu["id"], "v": version, "p": []})
    assert not removed["saveParticipants"]["errors"]
    await h.drain(settings)
    assert h.server_copy(dav_server, bob_cal, fu["uid"]) is None
    assert h.server_copy(dav_server, ann_cal, fu["uid"]) is not None

    gone = await ann_gql(h.DELETE, {"id": fu["id"]})
    assert not gone["deleteFollowUp"]["errors"]
    await h.drain(settings)
    assert h.server_copy(dav_server, ann_cal, fu["uid"]) is None
    assert await SyncJob.filter(status="QUEUED").count() == 0


async def test_series_with_override_and_exdate(
    http: httpx.AsyncClient, settings: Settings, dav_server: DavServer
) -> None:
    ann = await associate("Ann")
    gql = await client_for(http, ann)
    cal = dav_server.make_calendar(f"series-{id(gql)}")
    await h.add_account(gql, dav_server, cal)
    body = await gql(
        h.CREATE,
        {
            "input": {
                "title": "Standup",
                "start": z(T0),
                "recurrence": {"freq": "WEEKLY", "count": 4},
            }
        },
    )
    fu = body["createFollowUp"]["followUp"]
    diary = await gql(
        """query($ids: [ID!]!, $from: DateTime!, $to: DateTime!) {
        diary(associateIds: $ids, from: $from, to: $to) { id recurrenceId } }""",
        {"ids": [gid("Associate", ann.id)], "from": z(T0), "to": z(T0 + timedelta(days=30))},
    )
    occ = sorted(diary["diary"], key=lambda o: o["recurrenceId"])
    assert len(occ) == 4
    second = occ[1]["id"]
    edited = await gql(
        h.UPDATE,
        {
            "id": second,
            "v": fu["version"],
            "input": {"title": "Moved standup", "start": z(T0 + timedelta(days=7, hours=1))},
        },
    )
    assert not edited["updateFollowUp"]["errors"], edited
    dropped = await gql(h.DELETE, {"id": occ[2]["id"]})
    assert not dropped["deleteFollowUp"]["errors"], dropped
    await h.drain(settings)
    copy = h.server_copy(dav_server, cal, fu["uid"])
    assert copy is not None
    main = h.master(copy)
    assert "FREQ=WEEKLY" in main["RRULE"].to_ical().decode()
    exdates = (
        [
            d.dt
            for d in (main["EXDATE"] if isinstance(main["EXDATE"], list) else [main["EXDATE"]])
            for d in d.dts
        ]
        if "EXDATE" in main
        else []
    )
    assert T0 + timedelta(days=14) in [e.astimezone(UTC) for e in exdates]
    overrides = [c for c in copy.walk() if c.name == "VEVENT" and "RECURRENCE-ID" in c]
    assert len(overrides) == 1
    assert overrides[0].decoded("RECURRENCE-ID").astimezone(UTC) == T0 + timedelta(days=7)
    assert str(overrides[0]["SUMMARY"]) == "Moved standup"
    assert overrides[0].decoded("DTSTART").astimezone(UTC) == T0 + timedelta(days=7, hours=1)


async def test_server_down_then_up_loses_nothing(
    http: httpx.AsyncClient, settings: Settings, own_radicale: DavServer
) -> None:
    ann = await associate("Ann")
    gql = await client_for(http, ann)
    cal = own_radicale.make_calendar("down")
    await h.add_account(gql, own_radicale, cal)
    own_radicale.stop()
    fu = (await gql(h.CREATE, {"input": {"title": "While down", "start": z(T0)}}))[
        "createFollowUp"
    ]["followUp"]
    result = await h.drain(settings)
    assert result.retrying == 1 and result.synced == 0
    job = await SyncJob.get(status="QUEUED")
    assert job.attempts == 1 and job.next_attempt_at > job.created_at
    state = (await gql(h.SYNC_STATE, {"id": fu["id"]}))["node"]["calendarSync"][0]
    assert state["state"] == "PENDING" and state["error"]
    assert (await h.drain(settings)).claimed == 0  # backing off, not hammering
    own_radicale.start()
    await h.make_due()
    assert (await h.drain(settings)).synced == 1
    assert h.server_copy(own_radicale, cal, fu["uid"]) is not None


async def test_concurrent_edit_is_merged_not_overwritten(
    http: httpx.AsyncClient, settings: Settings, dav_server: DavServer
) -> None:
    ann = await associate("Ann")
    gql = await client_for(http, ann)
    cal = dav_server.make_calendar(f"merge-{id(gql)}")
    await h.add_account(gql, dav_server, cal)
    fu = (await gql(h.CREATE, {"input": {"title": "Original", "start": z(T0)}}))["createFollowUp"][
        "followUp"
    ]
    await h.drain(settings)
    url = cal + object_name(fu["uid"])
    got = httpx.get(url, auth=dav_server.auth())
    edited = got.content.replace(
        b"END:VEVENT",
        b"X-USER-NOTE:bring slides\r\nBEGIN:VALARM\r\nACTION:DISPLAY\r\nTRIGGER:-PT2H\r\n"
        b"DESCRIPTION:user alarm\r\nEND:VALARM\r\nEND:VEVENT",
    ).replace(b"SUMMARY:Original", b"SUMMARY:Edited in the app")
    put = httpx.put(
        url,
        content=edited,
        auth=dav_server.auth(),
        headers={"If-Match": got.headers["ETag"], "Content-Type": "text/calendar"},
    )
    assert put.status_code in (201, 204)
    updated = await gql(h.UPDATE, {"id": fu["id"], "v": fu["version"], "input": {"title": "Ours"}})
    assert not updated["updateFollowUp"]["errors"]
    await h.drain(settings)
    ev = h.master(h.server_copy(dav_server, cal, fu["uid"]))  # type: ignore[arg-type]
    assert str(ev["SUMMARY"]) == "Ours"
    assert str(ev["X-USER-NOTE"]) == "bring slides"
    assert any(str(a.get("DESCRIPTION")) == "user alarm" for a in ev.subcomponents)


async def test_wrong_password_fails_account_until_fixed(
    http: httpx.AsyncClient, settings: Settings, radicale_server: DavServer
) -> None:
    ann = await associate("Ann")
    gql = await client_for(http, ann)
    cal = radicale_server.make_calendar(f"auth-{id(gql)}")
    acc = await h.add_account(gql, radicale_server, cal, password="wrong")
    fu = (await gql(h.CREATE, {"input": {"title": "Secret", "start": z(T0)}}))["createFollowUp"][
        "followUp"
    ]
    result = await h.drain(settings)
    assert result.accounts_failed == 1 and result.synced == 0
    row = await CalendarAccount.get()
    assert row.state is AccountState.FAILED and "401" in (row.last_error or "")
    from orm.live_models import LiveChange, LiveKind, LiveParty

    failed = await LiveChange.get(kind=LiveKind.SYNC_FAILED)
    assert failed.account_id == row.id
    assert await LiveParty.filter(change_id=failed.id).values_list("party_id", flat=True) == [
        ann.id
    ]
    job = await SyncJob.get(status="QUEUED")
    assert job.attempts == 0
    await h.make_due()
    assert (await h.drain(settings)).claimed == 0  # no retry storm
    state = (await gql(h.SYNC_STATE, {"id": fu["id"]}))["node"]["calendarSync"][0]
    assert state["state"] == "FAILED" and "401" in state["error"]
    fixed = await gql(
        h.UPDATE_ACCOUNT, {"id": acc, "input": {"password": radicale_server.password}}
    )
    assert fixed["updateCalendarAccount"]["account"]["state"] == "OK"
    assert (await h.drain(settings)).synced == 1
    assert h.server_copy(radicale_server, cal, fu["uid"]) is not None


async def test_resource_calendar_and_task_with_time(
    http: httpx.AsyncClient, settings: Settings, dav_server: DavServer
) -> None:
    when = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)  # in the first-push window
    admin = await associate("Ada", is_admin=True)
    gql = await client_for(http, admin)
    room = await m.Resource.create(name="Room 1", email="room1@example.com")
    room_cal = dav_server.make_calendar(f"room-{id(room)}")
    await h.add_account(gql, dav_server, room_cal, r=gid("Resource", room.id))
    fu = (await gql(h.CREATE, {"input": {"title": "Board", "start": z(when)}}))["createFollowUp"][
        "followUp"
    ]
    booked = await gql(
        h.SAVE, {"f": fu["id"], "v": fu["version"], "p": [], "r": [gid("Resource", room.id)]}
    )
    assert not booked["saveParticipants"]["errors"]
    own_cal = dav_server.make_calendar(f"ada-{id(room)}")
    await h.add_account(gql, dav_server, own_cal)  # queues Ada's existing meeting too
    task = await gql(
        h.CREATE,
        {
            "input": {
                "kind": "TASK",
                "title": "Prepare",
                "start": z(when),
                "deadline": z(when + timedelta(hours=1)),
            }
        },
    )
    assert not task["createFollowUp"]["errors"], task
    await h.drain(settings)
    assert h.server_copy(dav_server, room_cal, fu["uid"]) is not None
    assert h.server_copy(dav_server, own_cal, fu["uid"]) is not None
    todo = h.server_copy(dav_server, own_cal, task["createFollowUp"]["followUp"]["uid"])
    assert todo is not None and h.master(todo).name == "VTODO"


def _app_copy(uid: str, organizer: str, summary: str) -> bytes:
    """The meeting as a participant's calendar app files an invitation it received."""
    return "\r\n".join(
        [
            "BEGIN:VCALENDAR",
            "VERSION:2.0",
            "PRODID:-//Mail app//Invitations//EN",
            "BEGIN:VEVENT",
            f"UID:{uid}",
            "DTSTAMP:20260301T000000Z",
            f"DTSTART:{T0.strftime('%Y%m%dT%H%M%SZ')}",
            "DURATION:PT1H",
            f"SUMMARY:{summary}",
            f"ORGANIZER:mailto:{organizer}",
            "ATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:bob@example.com",
            "END:VEVENT",
            "END:VCALENDAR",
            "",
        ]
    ).encode()


async def _meeting_with_bobs_app_copy(
    http: httpx.AsyncClient, server: DavServer, organizer: str
) -> tuple[Gql, Gql, dict, int, str]:
    ann, bob = await associate("Ann"), await associate("Bob")
    ann_gql, bob_gql = await client_for(http, ann), await client_for(http, bob)
    ann_cal = server.make_calendar(f"ann-{ann.id}-{id(ann)}")
    bob_cal = server.make_calendar(f"bob-{bob.id}-{id(bob)}")
    await h.add_account(ann_gql, server, ann_cal)
    await h.add_account(bob_gql, server, bob_cal)
    made = await ann_gql(h.CREATE, {"input": {"title": "Board", "start": z(T0)}})
    fu = made["createFollowUp"]["followUp"]
    saved = await ann_gql(
        h.SAVE,
        {"f": fu["id"], "v": fu["version"], "p": [{"associateId": gid("Associate", bob.id)}]},
    )
    assert not saved["saveParticipants"]["errors"], saved
    put = httpx.put(
        bob_cal + "from-mail.ics",
        content=_app_copy(fu["uid"], organizer, "filed by the app"),
        auth=server.auth(),
        headers={"Content-Type": "text/calendar", "If-None-Match": "*"},
        timeout=10,
    )
    assert put.status_code == 201, put.text
    return ann_gql, bob_gql, fu, saved["saveParticipants"]["followUp"]["version"], bob_cal


async def test_participants_app_copy_of_our_meeting_is_adopted(
    http: httpx.AsyncClient, settings: Settings, dav_server: DavServer
) -> None:
    """No scheduling server, but Bob's app filed our invitation (same UID and ORGANIZER)
    under its own name first: ours is written over it there, and stays there."""
    ann_gql, bob_gql, fu, version, bob_cal = await _meeting_with_bobs_app_copy(
        http, dav_server, "ANN@example.com"
    )
    result = await h.drain(settings)
    assert (result.synced, result.failed, result.retrying) == (2, 0, 0), result
    state = (await bob_gql(h.SYNC_STATE, {"id": fu["id"]}))["node"]["calendarSync"]
    assert [s["state"] for s in state] == ["SYNCED"], state
    assert h.server_copy(dav_server, bob_cal, fu["uid"]) is None  # not beside it
    got = httpx.get(bob_cal + "from-mail.ics", auth=dav_server.auth(), timeout=10)
    ev = h.master(Calendar.from_ical(got.content))
    assert str(ev["SUMMARY"]) == "Board"
    assert ev["ORGANIZER"].params["SCHEDULE-AGENT"] == "CLIENT"
    objs = await CalendarObject.filter(uid=fu["uid"]).order_by("id")
    assert [o.name for o in objs] == [object_name(fu["uid"]), "from-mail.ics"]
    assert objs[1].etag == got.headers["ETag"]

    moved = await ann_gql(
        h.UPDATE, {"id": fu["id"], "v": version, "input": {"start": z(T0 + timedelta(hours=4))}}
    )
    assert not moved["updateFollowUp"]["errors"], moved
    result = await h.drain(settings)
    assert (result.synced, result.failed) == (2, 0), result
    got = httpx.get(bob_cal + "from-mail.ics", auth=dav_server.auth(), timeout=10)
    assert h.master(Calendar.from_ical(got.content)).decoded("DTSTART") == T0 + timedelta(hours=4)
    assert h.server_copy(dav_server, bob_cal, fu["uid"]) is None
    gone = await ann_gql(h.DELETE, {"id": fu["id"]})
    assert not gone["deleteFollowUp"]["errors"], gone
    assert (await h.drain(settings)).failed == 0
    gone_there = httpx.get(bob_cal + "from-mail.ics", auth=dav_server.auth(), timeout=10)
    assert gone_there.status_code == 404


async def test_participants_copy_from_another_organizer_is_not_adopted(
    http: httpx.AsyncClient, settings: Settings, dav_server: DavServer
) -> None:
    """Same UID, another ORGANIZER: not our meeting; the create is refused once, finally,
    with the server's reason, and the app's copy is left as it was."""
    _, bob_gql, fu, _, bob_cal = await _meeting_with_bobs_app_copy(
        http, dav_server, "cem@elsewhere.example"
    )
    before = httpx.get(bob_cal + "from-mail.ics", auth=dav_server.auth(), timeout=10)
    result = await h.drain(settings)
    assert (result.synced, result.failed, result.retrying) == (1, 1, 0), result
    state = (await bob_gql(h.SYNC_STATE, {"id": fu["id"]}))["node"]["calendarSync"]
    assert [s["state"] for s in state] == ["FAILED"], state
    assert "no-uid-conflict" in state[0]["error"], state
    job = await SyncJob.get(status="FAILED")
    assert job.attempts == 1
    after = httpx.get(bob_cal + "from-mail.ics", auth=dav_server.auth(), timeout=10)
    assert (after.content, after.headers["ETag"]) == (before.content, before.headers["ETag"])
    assert h.server_copy(dav_server, bob_cal, fu["uid"]) is None
    await h.make_due()
    assert (await h.drain(settings)).claimed == 0
