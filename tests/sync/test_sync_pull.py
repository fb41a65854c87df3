"""Two-way calendars: edits made on the real servers as a calendar app would come back."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from icalendar import Alarm, Calendar

from app.workers import pull_hooks
from config.settings import Settings
from orm import models as m
from orm.outbox_models import OutboxStatus
from orm.sync_models import CalendarAccount, CalendarPull, SyncJob
from sync.names import object_name
from sync.pull import PullReport
from sync.worker import SyncWorker
from tests.helpers import associate, client_for, gid
from tests.sync import synchelp as h
from tests.sync.servers import DavServer
from tests.sync.synchelp import sync_settings

T0 = datetime(2030, 3, 4, 9, 0, tzinfo=UTC)


@pytest.fixture
def settings() -> Settings:
    return sync_settings(caldav_timeout=5.0)


def z(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


async def pull(settings: Settings) -> list[PullReport]:
    worker = SyncWorker(settings, name="puller", pull=pull_hooks(settings))
    try:
        return await worker.pull_once()
    finally:
        await worker.aclose()


def edit_on_server(
    server: DavServer, url: str, uid: str, change: Callable[[Calendar], None]
) -> None:
    """Change the object as a calendar app does: GET, edit, PUT with If-Match."""
    target = url + object_name(uid)
    got = httpx.get(target, auth=server.auth(), timeout=10)
    assert got.status_code == 200, got.text
    cal = Calendar.from_ical(got.content)
    change(cal)
    put = httpx.put(
        target,
        content=cal.to_ical(),
        headers={"If-Match": got.headers["ETag"], "Content-Type": "text/calendar"},
        auth=server.auth(),
        timeout=10,
    )
    assert put.status_code in (200, 201, 204), put.text


def set_prop(name: str, value: Any) -> Callable[[Calendar], None]:
    def change(cal: Calendar) -> None:
        ev = h.master(cal)
        ev.pop(name, None)
        ev.add(name, value)

    return change


async def meeting(gql: Any, title: str = "Kick-off", **extra: Any) -> dict[str, Any]:
    made = await gql(h.CREATE, {"input": {"title": title, "start": z(T0), **extra}})
    assert not made["createFollowUp"]["errors"], made
    return dict(made["createFollowUp"]["followUp"])


async def setup(
    http: httpx.AsyncClient, server: DavServer, settings: Settings
) -> tuple[m.Associate, Any, str]:
    ann = await associate("Ann")
    gql = await client_for(http, ann)
    cal = server.make_calendar(f"pull-{ann.id}-{id(ann)}")
    await h.add_account(gql, server, cal)
    return ann, gql, cal


@h.on_cyrus_too
async def test_quiet_pull_one_request_and_owner_edit_applied_without_echo(
    http: httpx.AsyncClient, settings: Settings, dav_server: DavServer
) -> None:
    _ann, gql, cal = await setup(http, dav_server, settings)
    fu = await meeting(gql)
    await h.drain(settings)
    first = await pull(settings)
    assert [r.requests for r in first] == [1] and first[0].changed == 0
    account = await CalendarAccount.get()
    assert account.sync_token or dav_server.kind != "radicale"
    for _ in range(3):  # quiet passes: one request each, nothing written
        quiet = await pull(settings)
        assert [(r.requests, r.changed) for r in quiet] == [(1, 0)]
    assert await CalendarPull.all().count() == 0
    assert await SyncJob.filter(status=OutboxStatus.QUEUED).count() == 0

    later = T0 + timedelta(hours=2)

    def moved(c: Calendar) -> None:
        set_prop("SUMMARY", "Kick-off (moved)")(c)
        set_prop("DTSTART", later)(c)
        set_prop("DTEND", later + timedelta(hours=1))(c)
        set_prop("LOCATION", "Room 4")(c)
        set_prop("DESCRIPTION", "Bring the figures")(c)
        ev = h.master(c)
        ev.subcomponents = [s for s in ev.subcomponents if s.name != "VALARM"]
        alarm = Alarm()
        alarm.add("ACTION", "DISPLAY")
        alarm.add("DESCRIPTION", "Reminder")
        alarm.add("TRIGGER", timedelta(minutes=-25))
        ev.add_component(alarm)

    edit_on_server(dav_server, cal, fu["uid"], moved)
    found = await pull(settings)
    assert found[0].changed == 1 and found[0].applied == {"APPLIED": 1}
    assert found[0].requests == 2  # the REPORT and one multiget
    row = await m.FollowUp.get(uid=fu["uid"])
    assert (row.title, row.start_at, row.end_at, row.location, row.agenda) == (
        "Kick-off (moved)",
        later,
        later + timedelta(hours=1),
        "Room 4",
        "Bring the figures",
    )
    assert row.alarm_minutes == 25
    assert row.version == fu["version"] + 1 and row.sequence > fu["sequence"]
    record = await CalendarPull.get()
    assert record.outcome == "APPLIED"
    from orm.live_models import LiveChange, LiveKind

    heard = await LiveChange.filter(followup_id=row.id).order_by("-id").first()
    assert heard is not None and heard.kind is LiveKind.UPDATED  # the pull is heard live
    assert set(record.fields_changed) == {
        "title",
        "start",
        "end",
        "location",
        "agenda",
        "alarmMinutes",
    }
    await h.drain(settings)  # the change goes out as a CRM change (new SEQUENCE)
    ev = h.master(h.server_copy(dav_server, cal, fu["uid"]))  # type: ignore[arg-type]
    assert int(ev["SEQUENCE"]) == row.sequence
    for _ in range(2):  # our own write does not come back
        echo = await pull(settings)
        assert echo[0].changed == 0 and echo[0].requests == 1
    assert await CalendarPull.all().count() == 1


@h.on_cyrus_too
async def test_invalid_edit_refused_put_back_and_reason_kept(
    http: httpx.AsyncClient, settings: Settings, dav_server: DavServer
) -> None:
    _ann, gql, cal = await setup(http, dav_server, settings)
    fu = await meeting(gql)
    await h.drain(settings)
    await pull(settings)
    edit_on_server(dav_server, cal, fu["uid"], set_prop("SUMMARY", "x" * 600))
    found = await pull(settings)
    assert found[0].applied == {"REFUSED": 1}
    row = await m.FollowUp.get(uid=fu["uid"])
    assert row.title == "Kick-off" and row.version == fu["version"]
    record = await CalendarPull.get()
    assert record.outcome == "REFUSED" and "title" in (record.reason or "")
    await h.drain(settings)
    ev = h.master(h.server_copy(dav_server, cal, fu["uid"]))  # type: ignore[arg-type]
    assert str(ev["SUMMARY"]) == "Kick-off"
    assert (await pull(settings))[0].changed == 0


@h.on_cyrus_too
async def test_participant_answer_sets_status_other_edits_put_back(
    http: httpx.AsyncClient, settings: Settings, dav_server: DavServer
) -> None:
    _ann, gql, _ = await setup(http, dav_server, settings)
    bob = await associate("Bob")
    bob_gql = await client_for(http, bob)
    bob_dav = dav_server.as_user("bob")
    bob_cal = bob_dav.make_calendar(f"pull-bob-{bob.id}-{id(bob)}")
    await h.add_account(bob_gql, bob_dav, bob_cal)
    fu = await meeting(gql)
    saved = await gql(
        h.SAVE,
        {"f": fu["id"], "v": fu["version"], "p": [{"associateId": gid("Associate", bob.id)}]},
    )
    assert not saved["saveParticipants"]["errors"]
    await h.drain(settings)
    await pull(settings)

    def accept(c: Calendar) -> None:
        ev = h.master(c)
        for a in ev.get("ATTENDEE", []):
            if "bob@" in str(a):
                a.params["PARTSTAT"] = "ACCEPTED"
        set_prop("SUMMARY", "Bob's title")(c)

    edit_on_server(bob_dav, bob_cal, fu["uid"], accept)
    found = await pull(settings)
    assert {k for r in found for k in r.applied} == {"STATUS"}
    p = await m.Participant.get(
        followup_id=(await m.FollowUp.get(uid=fu["uid"])).id, associate_id=bob.id
    )
    assert p.status == m.ParticipantStatus.ACCEPTED
    history = await m.StatusChange.filter(participant_id=p.id).order_by("-id").first()
    assert history is not None and history.via == "CALDAV"
    assert (await m.FollowUp.get(uid=fu["uid"])).title == "Kick-off"
    outcomes = sorted(r.outcome for r in await CalendarPull.all())
    assert outcomes == ["REVERTED", "STATUS"]
    await h.drain(settings)
    ev = h.master(h.server_copy(bob_dav, bob_cal, fu["uid"]))  # type: ignore[arg-type]
    assert str(ev["SUMMARY"]) == "Kick-off"
    assert any("bob@" in str(a) and a.params["PARTSTAT"] == "ACCEPTED" for a in ev["ATTENDEE"])


@h.on_cyrus_too
async def test_exdate_deletes_one_occurrence(
    http: httpx.AsyncClient, settings: Settings, dav_server: DavServer
) -> None:
    _ann, gql, cal = await setup(http, dav_server, settings)
    fu = await meeting(gql, "Weekly", recurrence={"rrule": "FREQ=WEEKLY;COUNT=5"})
    await h.drain(settings)
    await pull(settings)
    second = T0 + timedelta(days=7)

    def exdate(c: Calendar) -> None:
        h.master(c).add("EXDATE", second)

    edit_on_server(dav_server, cal, fu["uid"], exdate)
    found = await pull(settings)
    assert found[0].applied == {"APPLIED": 1}
    row = await m.FollowUp.get(uid=fu["uid"])
    assert [datetime.fromisoformat(d) for d in row.exdates] == [second]


PULLS = """query($id: ID!) { node(id: $id) { ... on FollowUp {
  calendarPulls { outcome fields reason calendarValues { field value } objectName at }
  calendarConflicts { fields calendarValues { field value } } } } }"""
ACCOUNTS = """{ calendarAccounts { pulls lastPullAt lastPullError
  pulled { outcome fields reason } } }"""


@h.on_cyrus_too
async def test_both_sides_changed_crm_wins_calendar_value_recorded_in_api(
    http: httpx.AsyncClient, settings: Settings, dav_server: DavServer
) -> None:
    _ann, gql, cal = await setup(http, dav_server, settings)
    fu = await meeting(gql)
    await h.drain(settings)
    await pull(settings)
    crm = await gql(h.UPDATE, {"id": fu["id"], "v": fu["version"], "input": {"title": "CRM"}})
    assert not crm["updateFollowUp"]["errors"]

    def both(c: Calendar) -> None:
        set_prop("SUMMARY", "Phone")(c)
        set_prop("LOCATION", "Cafe")(c)

    edit_on_server(dav_server, cal, fu["uid"], both)
    found = await pull(settings)
    assert found[0].applied == {"APPLIED": 1}
    row = await m.FollowUp.get(uid=fu["uid"])
    assert (row.title, row.location) == ("CRM", "Cafe")
    body = await gql(PULLS, {"id": fu["id"]})
    node = body["node"]
    assert sorted(p["outcome"] for p in node["calendarPulls"]) == ["APPLIED", "CONFLICT"]
    assert node["calendarConflicts"] == [
        {"fields": ["title"], "calendarValues": [{"field": "title", "value": "Phone"}]}
    ]
    accounts = (await gql(ACCOUNTS))["calendarAccounts"]
    assert accounts[0]["pulls"] is True and accounts[0]["lastPullAt"]
    assert len(accounts[0]["pulled"]) == 2
    await h.drain(settings)
    ev = h.master(h.server_copy(dav_server, cal, fu["uid"]))  # type: ignore[arg-type]
    assert (str(ev["SUMMARY"]), str(ev["LOCATION"])) == ("CRM", "Cafe")
    assert (await pull(settings))[0].changed == 0


@h.on_cyrus_too
async def test_etag_listing_fallback_and_override_is_a_this_edit(
    http: httpx.AsyncClient, settings: Settings, dav_server: DavServer
) -> None:
    _ann, gql, cal = await setup(http, dav_server, settings)
    fu = await meeting(gql, "Weekly", recurrence={"rrule": "FREQ=WEEKLY;COUNT=5"})
    await h.drain(settings)
    await CalendarAccount.all().update(supports_sync=False)
    quiet = await pull(settings)
    assert [(r.mode, r.requests, r.changed) for r in quiet] == [("etag-listing", 1, 0)]
    second = T0 + timedelta(days=7)

    def override(c: Calendar) -> None:
        copy = Calendar.from_ical(h.master(c).to_ical())
        for name in ("RRULE", "DTSTART", "DTEND", "SUMMARY"):
            copy.pop(name, None)
        copy.add("RECURRENCE-ID", second)
        copy.add("DTSTART", second + timedelta(hours=1))
        copy.add("DTEND", second + timedelta(hours=2))
        copy.add("SUMMARY", "Weekly (later)")
        c.add_component(copy)

    edit_on_server(dav_server, cal, fu["uid"], override)
    found = await pull(settings)
    assert found[0].applied == {"APPLIED": 1}, found
    occ = await m.Occurrence.get(series_id=(await m.FollowUp.get(uid=fu["uid"])).id)
    assert occ.recurrence_id == second and occ.start_at == second + timedelta(hours=1)
    assert occ.title == "Weekly (later)"
    master_row = await m.FollowUp.get(uid=fu["uid"])
    assert master_row.title == "Weekly" and master_row.start_at == T0


@h.on_cyrus_too
async def test_deleted_in_calendar_future_deleted_past_unlinked_participant_put_back(
    http: httpx.AsyncClient, settings: Settings, dav_server: DavServer
) -> None:
    _ann, gql, cal = await setup(http, dav_server, settings)
    bob = await associate("Bob")
    bob_dav = dav_server.as_user("bob")
    bob_cal = bob_dav.make_calendar(f"pull-bob-{bob.id}-{id(bob)}")
    await h.add_account(await client_for(http, bob), bob_dav, bob_cal)
    future = await meeting(gql, "Future")
    past_start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=3)
    made = await gql(h.CREATE, {"input": {"title": "Past", "start": z(past_start)}})
    past = made["createFollowUp"]["followUp"]
    joined = await meeting(gql, "Joined")
    saved = await gql(
        h.SAVE,
        {
            "f": joined["id"],
            "v": joined["version"],
            "p": [{"associateId": gid("Associate", bob.id)}],
        },
    )
    assert not saved["saveParticipants"]["errors"]
    await h.drain(settings)
    await pull(settings)
    for uid in (future["uid"], past["uid"]):
        assert httpx.delete(cal + object_name(uid), auth=dav_server.auth()).status_code < 300
    assert httpx.delete(bob_cal + object_name(joined["uid"]), auth=bob_dav.auth()).is_success
    found = await pull(settings)
    assert sum(r.changed for r in found) == 3
    assert not await m.FollowUp.filter(uid=future["uid"]).exists()
    past_row = await m.FollowUp.get(uid=past["uid"])
    assert past_row.title == "Past"
    await h.drain(settings)
    assert h.server_copy(bob_dav, bob_cal, joined["uid"]) is not None  # put back
    assert h.server_copy(dav_server, cal, past["uid"]) is None
    moved = await gql(h.UPDATE, {"id": past["id"], "v": past_row.version, "input": {"title": "P2"}})
    assert not moved["updateFollowUp"]["errors"]
    await h.drain(settings)
    assert h.server_copy(dav_server, cal, past["uid"]) is None  # unlinked stays unlinked
    assert sum(r.changed for r in await pull(settings)) == 0


DIARY = """query($a: [ID!]!) { diary(associateIds: $a, from: "2030-03-01T00:00:00Z",
  to: "2030-05-01T00:00:00Z") { title start seriesId } }"""
WEEKS = [T0 + timedelta(days=7 * i) for i in range(5)]


async def diary(gql: Any, who: m.Associate) -> list[tuple[str, datetime]]:
    body = await gql(DIARY, {"a": [gid("Associate", who.id)]})
    return [(d["title"], datetime.fromisoformat(d["start"])) for d in body["diary"]]


async def weekly(http: httpx.AsyncClient, server: DavServer, settings: Settings) -> Any:
    ann, gql, cal = await setup(http, server, settings)
    fu = await meeting(gql, "Weekly", recurrence={"rrule": "FREQ=WEEKLY;COUNT=5"})
    await h.drain(settings)
    await pull(settings)
    assert await diary(gql, ann) == [("Weekly", w) for w in WEEKS]
    return ann, gql, cal, fu


@h.on_cyrus_too
async def test_master_edit_in_calendar_is_an_all_edit(
    http: httpx.AsyncClient, settings: Settings, dav_server: DavServer
) -> None:
    ann, gql, cal, fu = await weekly(http, dav_server, settings)
    hour = timedelta(hours=1)

    def moved(c: Calendar) -> None:
        set_prop("SUMMARY", "Weekly (later)")(c)
        set_prop("DTSTART", T0 + hour)(c)
        set_prop("DTEND", T0 + 2 * hour)(c)

    edit_on_server(dav_server, cal, fu["uid"], moved)
    found = await pull(settings)
    assert found[0].applied == {"APPLIED": 1}, found
    assert await diary(gql, ann) == [("Weekly (later)", w + hour) for w in WEEKS]
    row = await m.FollowUp.get(uid=fu["uid"])
    assert row.version == fu["version"] + 1 and row.rrule == "FREQ=WEEKLY;COUNT=5"
    assert await m.FollowUp.all().count() == 1  # the whole series: no split
    await h.drain(settings)
    assert (await pull(settings))[0].changed == 0


@h.on_cyrus_too
async def test_thisandfuture_override_is_a_following_edit(
    http: httpx.AsyncClient, settings: Settings, dav_server: DavServer
) -> None:
    ann, gql, cal, fu = await weekly(http, dav_server, settings)
    third = WEEKS[2]

    def override(c: Calendar) -> None:
        copy = Calendar.from_ical(h.master(c).to_ical())
        for name in ("RRULE", "DTSTART", "DTEND", "SUMMARY"):
            copy.pop(name, None)
        copy.add("RECURRENCE-ID", third, parameters={"RANGE": "THISANDFUTURE"})
        copy.add("DTSTART", third + timedelta(hours=3))
        copy.add("DTEND", third + timedelta(hours=4))
        copy.add("SUMMARY", "Weekly (afternoons)")
        c.add_component(copy)

    edit_on_server(dav_server, cal, fu["uid"], override)
    found = await pull(settings)
    assert found[0].applied == {"APPLIED": 1}, found
    later = timedelta(hours=3)
    assert await diary(gql, ann) == [
        ("Weekly", WEEKS[0]),
        ("Weekly", WEEKS[1]),
        *(("Weekly (afternoons)", w + later) for w in WEEKS[2:]),
    ]
    assert await m.FollowUp.all().count() == 2  # split: the rest is a new series
    record = await CalendarPull.get()
    assert set(record.fields_changed) == {"start", "end", "title"}


@h.on_cyrus_too
async def test_rrule_until_cut_in_calendar_deletes_the_following_occurrences(
    http: httpx.AsyncClient, settings: Settings, dav_server: DavServer
) -> None:
    """The app's own "this and following": UNTIL on the old UID, the rest as a new UID."""
    ann, gql, cal, fu = await weekly(http, dav_server, settings)
    split_at = WEEKS[3]
    rest_uid = f"rest-of-{fu['uid']}"

    def cut(c: Calendar) -> None:
        ev = h.master(c)
        rule = ev["RRULE"]
        rule.pop("COUNT", None)
        rule["UNTIL"] = [split_at - timedelta(seconds=1)]

    edit_on_server(dav_server, cal, fu["uid"], cut)
    rest = Calendar.from_ical(h.server_copy(dav_server, cal, fu["uid"]).to_ical())  # type: ignore[union-attr]
    ev = h.master(rest)
    for name, value in (
        ("UID", rest_uid),
        ("DTSTART", split_at),
        ("DTEND", split_at + timedelta(hours=1)),
        ("SUMMARY", "Weekly (new part)"),
    ):
        ev.pop(name, None)
        ev.add(name, value)
    ev.pop("RRULE")
    ev.add("RRULE", {"FREQ": "WEEKLY", "COUNT": 2})
    put = httpx.put(
        cal + object_name(rest_uid),
        content=rest.to_ical(),
        headers={"If-None-Match": "*", "Content-Type": "text/calendar"},
        auth=dav_server.auth(),
        timeout=10,
    )
    assert put.status_code in (201, 204), put.text
    found = await pull(settings)
    assert found[0].applied == {"APPLIED": 1}, found
    assert await diary(gql, ann) == [("Weekly", w) for w in WEEKS[:3]]
    record = await CalendarPull.get()
    assert record.outcome == "APPLIED" and record.fields_changed == ["following"]
    # the new UID is a new event of the app: not imported by this account
    assert not await m.FollowUp.filter(uid=rest_uid).exists()
    await h.drain(settings)
    back = h.master(h.server_copy(dav_server, cal, fu["uid"]))  # type: ignore[arg-type]
    from calcore.recurrence import expand

    starts = expand(
        back.decoded("DTSTART"),
        back["RRULE"].to_ical().decode(),
        window_start=T0 - timedelta(days=1),
        window_end=T0 + timedelta(days=60),
    )
    assert starts == WEEKS[:3]
    again = await pull(settings)
    assert again[0].changed == 0 and await CalendarPull.all().count() == 1


@h.on_cyrus_too
async def test_edit_in_a_rooms_calendar_is_put_back(
    http: httpx.AsyncClient, settings: Settings, dav_server: DavServer
) -> None:
    _ann, gql, _ = await setup(http, dav_server, settings)
    admin = await associate("Root", is_admin=True)
    room = await m.Resource.create(name="Fjord room", email="fjord@rooms.example")
    room_dav = dav_server.as_user("cem")  # on Cyrus the room's calendar is user cem's
    room_cal = room_dav.make_calendar(f"pull-room-{room.id}-{id(room)}")
    await h.add_account(
        await client_for(http, admin), room_dav, room_cal, r=gid("Resource", room.id)
    )
    fu = await meeting(gql)
    saved = await gql(
        h.SAVE, {"f": fu["id"], "v": fu["version"], "p": [], "r": [gid("Resource", room.id)]}
    )
    assert not saved["saveParticipants"]["errors"], saved
    version = saved["saveParticipants"]["followUp"]["version"]
    await h.drain(settings)
    await pull(settings)
    assert h.server_copy(room_dav, room_cal, fu["uid"]) is not None

    def moved(c: Calendar) -> None:
        set_prop("SUMMARY", "Room's title")(c)
        set_prop("DTSTART", T0 + timedelta(hours=5))(c)
        set_prop("DTEND", T0 + timedelta(hours=6))(c)

    edit_on_server(room_dav, room_cal, fu["uid"], moved)
    found = await pull(settings)
    assert {k: v for r in found for k, v in r.applied.items()} == {"REVERTED": 1}, found
    row = await m.FollowUp.get(uid=fu["uid"])
    assert (row.title, row.start_at, row.version) == ("Kick-off", T0, version)
    record = await CalendarPull.get()
    assert record.outcome == "REVERTED" and set(record.fields_changed) == {
        "title",
        "start",
        "end",
    }
    await h.drain(settings)
    ev = h.master(h.server_copy(room_dav, room_cal, fu["uid"]))  # type: ignore[arg-type]
    assert (str(ev["SUMMARY"]), ev.decoded("DTSTART")) == ("Kick-off", T0)
    assert sum(r.changed for r in await pull(settings)) == 0
