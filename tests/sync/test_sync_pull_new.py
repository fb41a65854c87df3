"""Two-way calendars: events made in calendar apps, and the per-account deletion policy.

On the real servers (Radicale, Xandikos): an event PUT into the calendar as an app does
(its own object name and UID) becomes a meeting only with ``importNewEvents`` on, once,
and our later writes go to that very object; what is not importable is refused or ignored
and not fetched again; ``pullDelete`` on the account overrides CALDAV_PULL_DELETE.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from icalendar import Calendar

from config.settings import Settings
from orm import models as m
from orm.sync_models import CalendarAccount, CalendarObject, CalendarPull
from sync.client import CalendarClient
from sync.names import object_name
from tests.helpers import LOOPBACK, associate, client_for, gid
from tests.sync import synchelp as h
from tests.sync.servers import DavServer
from tests.sync.synchelp import sync_settings
from tests.sync.test_sync_pull import T0, meeting, pull, setup

UID = "8e1f0c2a-app-event@phone.example"
NAME = "app-event-1.ics"
ACCOUNT = """{ calendarAccounts { id importNewEvents pullDelete } }"""


@pytest.fixture
def settings() -> Settings:
    return sync_settings(caldav_timeout=5.0)


def stamp_z(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y%m%dT%H%M%SZ")


def event(uid: str = UID, *lines: str, start: datetime | None = T0) -> bytes:
    """An event as a calendar app writes it (no ORGANIZER, its own UID)."""
    body = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Phone//Calendar 1.0//EN",
        "BEGIN:VEVENT",
        f"UID:{uid}",
        "DTSTAMP:20300101T000000Z",
        *(
            [f"DTSTART:{stamp(start)}", f"DTEND:{stamp(start + timedelta(hours=1))}"]
            if start
            else []
        ),
        *lines,
        "END:VEVENT",
        "END:VCALENDAR",
        "",
    ]
    return "\r\n".join(body).encode()


def put(server: DavServer, url: str, name: str, data: bytes) -> int:
    r = httpx.put(
        url + name,
        content=data,
        headers={"Content-Type": "text/calendar", "If-None-Match": "*"},
        auth=server.auth(),
        timeout=10,
    )
    return r.status_code


async def objects(server: DavServer, url: str) -> dict[str, bytes]:
    """Every object in the calendar, by name."""
    async with CalendarClient(
        server.base_url,
        server.username,
        server.password,
        timeout=10.0,
        calendar_url=url,
        policy=LOOPBACK,
    ) as client:
        names = list(await client.list_etags())
        got = await client.multiget(names) if names else {}
    return {n: data for n, (data, _) in got.items()}


async def set_account(gql: Any, **fields: Any) -> dict[str, Any]:
    account_id = (await gql(ACCOUNT))["calendarAccounts"][0]["id"]
    body = await gql(h.UPDATE_ACCOUNT, {"id": account_id, "input": fields})
    assert not body["updateCalendarAccount"]["errors"], body
    return dict((await gql(ACCOUNT))["calendarAccounts"][0])


@h.on_cyrus_too
async def test_new_event_imported_only_when_on_once_and_our_writes_go_to_it(
    http: httpx.AsyncClient, settings: Settings, dav_server: DavServer
) -> None:
    ann, gql, cal = await setup(http, dav_server, settings)
    assert (await gql(ACCOUNT))["calendarAccounts"][0]["importNewEvents"] is False
    data = event(
        UID,
        "SUMMARY:Dentist",
        "LOCATION:Main Street 5",
        "DESCRIPTION:Bring the card",
        "RRULE:FREQ=WEEKLY;COUNT=3",
        "SEQUENCE:3",
        "BEGIN:VALARM",
        "ACTION:DISPLAY",
        "DESCRIPTION:Reminder",
        "TRIGGER:-PT10M",
        "END:VALARM",
    )
    assert put(dav_server, cal, NAME, data) in (201, 204)
    for _ in range(2):  # off (the default): nothing fetched, nothing made
        off = await pull(settings)
        assert off[0].applied == {} and off[0].requests == 1
    assert not await m.FollowUp.filter(uid=UID).exists()
    assert await CalendarPull.all().count() == 0

    shown = await set_account(gql, importNewEvents=True)
    assert shown["importNewEvents"] is True and shown["pullDelete"] is None
    found = await pull(settings)
    assert found[0].applied == {"IMPORTED": 1}, found
    row = await m.FollowUp.get(uid=UID)
    assert (row.owner_id, row.kind, row.title, row.location, row.agenda) == (
        ann.id,
        m.Kind.MEETING,
        "Dentist",
        "Main Street 5",
        "Bring the card",
    )
    assert (row.start_at, row.end_at, row.alarm_minutes) == (T0, T0 + timedelta(hours=1), 10)
    assert row.rrule is not None and "WEEKLY" in row.rrule and "COUNT=3" in row.rrule
    assert row.series_end == T0 + timedelta(days=14, hours=1)
    assert row.sequence == 3  # our updates go on from the app's SEQUENCE
    record = await CalendarPull.get()
    assert (record.outcome, record.followup_id, record.name) == ("IMPORTED", row.id, NAME)
    obj = await CalendarObject.get(followup_id=row.id)
    assert (obj.name, obj.uid) == (NAME, UID)

    await h.drain(settings)  # our form of it goes to the same object
    for _ in range(2):  # pulled again: nothing new, still one meeting
        again = await pull(settings)
        assert again[0].changed == 0 and again[0].applied == {}
    assert await m.FollowUp.filter(uid=UID).count() == 1
    assert await m.FollowUp.all().count() == 1

    fid = gid("FollowUp", row.id)
    moved = await gql(h.UPDATE, {"id": fid, "v": row.version, "input": {"title": "Dentist!"}})
    assert not moved["updateFollowUp"]["errors"], moved
    await h.drain(settings)
    on_server = await objects(dav_server, cal)
    assert list(on_server) == [NAME]  # one object, the app's, not a second one of ours
    assert b"SUMMARY:Dentist!" in on_server[NAME] and UID.encode() in on_server[NAME]
    assert b"SEQUENCE:3" in on_server[NAME]  # a new title is no significant change
    assert (await pull(settings))[0].changed == 0  # our write does not come back
    assert await CalendarPull.all().count() == 1


async def test_invalid_foreign_and_room_events_refused_or_ignored_never_refetched(
    http: httpx.AsyncClient, settings: Settings, dav_server: DavServer
) -> None:
    ann, gql, cal = await setup(http, dav_server, settings)
    await set_account(gql, importNewEvents=True)
    await pull(settings)
    with_guests = event(  # someone else's meeting copied in: not the associate's to import
        "guests@app",
        "SUMMARY:Lunch",
        "ORGANIZER:mailto:yan@elsewhere.example",
        "ATTENDEE:mailto:zoe@elsewhere.example",
    )
    invitation = event(
        "invite@elsewhere",
        "SUMMARY:Their meeting",
        "ORGANIZER:mailto:zoe@elsewhere.example",
        f"ATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:{ann.email}",
    )
    no_start = event("nostart@app", "SUMMARY:When?", start=None)
    task = b"\r\n".join(
        [
            b"BEGIN:VCALENDAR",
            b"VERSION:2.0",
            b"PRODID:-//Phone//EN",
            b"BEGIN:VTODO",
            b"UID:todo@app",
            b"DTSTAMP:20300101T000000Z",
            b"SUMMARY:Buy milk",
            b"END:VTODO",
            b"END:VCALENDAR",
            b"",
        ]
    )
    hostile = event("hostile@app", "SUMMARY:" + "x" * 600, "RRULE:FREQ=SECONDLY;INTERVAL=1")
    accepted = {
        name: put(dav_server, cal, f"{name}.ics", data) < 300
        for name, data in {
            "guests": with_guests,
            "invitation": invitation,
            "nostart": no_start,
            "task": task,
            "hostile": hostile,
        }.items()
    }
    assert accepted["guests"] and accepted["invitation"] and accepted["hostile"]
    found = await pull(settings)
    refused = 2 + accepted["nostart"]
    assert found[0].applied == {"REFUSED": refused}, found
    assert await m.FollowUp.all().count() == 0
    reasons = {r.name: r.reason or "" for r in await CalendarPull.all()}
    assert "ORGANIZER" in reasons["guests.ics"]
    assert "hostile.ics" in reasons
    if accepted["nostart"]:
        assert "DTSTART" in reasons["nostart.ics"] or "start" in reasons["nostart.ics"]
    assert all(r.followup_id is None for r in await CalendarPull.all())
    quiet = await pull(settings)  # remembered by ETag: not fetched again
    assert quiet[0].changed == 0 and quiet[0].requests == 1
    await CalendarAccount.all().update(supports_sync=False)  # full listings too
    listed = await pull(settings)
    assert listed[0].changed == 0 and listed[0].requests == 1
    assert await CalendarPull.all().count() == refused

    room = await m.Resource.create(name="Room 1")
    admin = await associate("Adm", is_admin=True)
    room_cal = dav_server.make_calendar(f"room-{room.id}-{id(room)}")
    await h.add_account(
        await client_for(http, admin),
        dav_server,
        room_cal,
        r=gid("Resource", room.id),
    )
    await CalendarAccount.filter(resource_id=room.id).update(import_new_events=True)
    assert put(dav_server, room_cal, "booked.ics", event("room@app", "SUMMARY:Booked")) < 300
    rooms = await pull(settings)
    assert all(r.applied == {} for r in rooms)
    assert not await m.FollowUp.filter(uid="room@app").exists()


POLICIES = [
    ("safe", "RESTORE", "put back"),
    ("restore", "UNLINK", "unlinked"),
    ("restore", "SAFE", "deleted"),
]


@pytest.mark.parametrize(("default", "account", "expected"), POLICIES)
async def test_account_pull_delete_overrides_the_global_policy(
    http: httpx.AsyncClient, dav_server: DavServer, default: str, account: str, expected: str
) -> None:
    settings = sync_settings(caldav_timeout=5.0, caldav_pull_delete=default)
    _ann, gql, cal = await setup(http, dav_server, settings)
    assert (await set_account(gql, pullDelete=account))["pullDelete"] == account
    fu = await meeting(gql, "Future")
    await h.drain(settings)
    await pull(settings)
    assert httpx.delete(cal + object_name(fu["uid"]), auth=dav_server.auth()).is_success
    found = await pull(settings)
    assert found[0].changed == 1
    await h.drain(settings)
    alive = await m.FollowUp.filter(uid=fu["uid"]).exists()
    back = h.server_copy(dav_server, cal, fu["uid"]) is not None
    assert (alive, back) == {
        "put back": (True, True),
        "unlinked": (True, False),
        "deleted": (False, False),
    }[expected]
    record = await CalendarPull.get()
    assert record.outcome == ("REVERTED" if expected == "put back" else "APPLIED")
    cleared = await set_account(gql, pullDelete=None)  # null: the global setting again
    assert cleared["pullDelete"] is None
    assert (await CalendarAccount.get()).pull_delete is None


async def test_turning_import_on_makes_the_next_pull_list_the_whole_calendar(
    http: httpx.AsyncClient, settings: Settings, dav_server: DavServer
) -> None:
    _ann, gql, _cal = await setup(http, dav_server, settings)
    await pull(settings)
    before = await CalendarAccount.get()
    assert before.sync_token or dav_server.kind != "radicale"
    await set_account(gql, importNewEvents=True)
    assert (await CalendarAccount.get()).sync_token is None  # the next pull lists all
    assert (await CalendarAccount.get()).import_new_events is True


async def test_all_day_event_imported_as_all_day_dates_in_the_owners_zone(
    http: httpx.AsyncClient, settings: Settings, dav_server: DavServer
) -> None:
    _ann, gql, cal = await setup(http, dav_server, settings)
    await set_account(gql, importNewEvents=True)
    data = event(
        "holiday@app",
        "SUMMARY:Holiday",
        "DTSTART;VALUE=DATE:20300304",
        "DTEND;VALUE=DATE:20300306",
        "TRANSP:TRANSPARENT",
        start=None,
    )
    assert put(dav_server, cal, "holiday.ics", data) < 300
    found = await pull(settings)
    assert found[0].applied == {"IMPORTED": 1}, found
    row = await m.FollowUp.get(uid="holiday@app")
    zone = ZoneInfo(row.tzid)
    assert row.all_day and not row.busy
    assert row.start_at == datetime(2030, 3, 4, tzinfo=zone)
    assert row.end_at == datetime(2030, 3, 6, tzinfo=zone)  # exclusive, two days
    await h.drain(settings)
    on_server = await objects(dav_server, cal)
    assert list(on_server) == ["holiday.ics"]
    assert b"DTSTART;VALUE=DATE:20300304" in on_server["holiday.ics"]


@h.on_cyrus_too
async def test_event_without_an_end_follows_rfc_5545_and_the_owners_meeting_length(
    http: httpx.AsyncClient, settings: Settings, dav_server: DavServer
) -> None:
    """RFC 5545 §3.6.1: no DTEND nor DURATION: a DATE lasts its day, a DATE-TIME ends at its
    start.  A meeting ends after it starts (DOMAIN.md), so a timed event of no length lasts
    the owner's "duration of new meeting" (here 25 minutes) instead of being refused."""
    _ann, gql, cal = await setup(http, dav_server, settings)
    saved = await gql(
        """mutation { setPreference(key: MEETING_DURATION, scope: ASSOCIATE, value: "25") {
        errors { code message } } }"""
    )
    assert not saved["setPreference"]["errors"], saved
    await set_account(gql, importNewEvents=True)
    later = T0 + timedelta(days=1)
    events = {
        "noend": event("noend@app", "SUMMARY:Quick call", f"DTSTART:{stamp(T0)}", start=None),
        "zero": event(
            "zero@app",
            "SUMMARY:Pin",
            f"DTSTART:{stamp(later)}",
            f"DTEND:{stamp(later)}",
            start=None,
        ),
        "weekly": event(
            "weekly@app",
            "SUMMARY:Stand-up",
            f"DTSTART:{stamp(T0)}",
            "RRULE:FREQ=WEEKLY;COUNT=2",
            start=None,
        ),
        "day": event("day@app", "SUMMARY:Fair", "DTSTART;VALUE=DATE:20300305", start=None),
    }
    stored = {n for n, data in events.items() if put(dav_server, cal, f"{n}.ics", data) < 300}
    if dav_server.kind == "cyrus":  # Cyrus itself refuses a timed event of no length
        assert stored == {"day"}, stored
    else:
        assert stored == set(events), stored
    found = await pull(settings)
    assert found[0].applied == {"IMPORTED": len(stored)}, [
        (r.name, r.reason) for r in await CalendarPull.all()
    ]
    minutes = timedelta(minutes=25)
    rows = {r.uid: r for r in await m.FollowUp.all()}
    if "noend" in stored:
        assert (rows["noend@app"].start_at, rows["noend@app"].end_at) == (T0, T0 + minutes)
        assert (rows["zero@app"].start_at, rows["zero@app"].end_at) == (later, later + minutes)
        assert rows["weekly@app"].series_end == T0 + timedelta(days=7) + minutes
    day, zone = rows["day@app"], ZoneInfo(rows["day@app"].tzid)
    assert day.all_day and day.start_at == datetime(2030, 3, 5, tzinfo=zone)
    assert day.end_at == datetime(2030, 3, 6, tzinfo=zone)  # exclusive: that one day
    result = await h.drain(settings)
    assert (result.synced, result.failed) == (len(stored), 0), result
    on_server = await objects(dav_server, cal)
    assert sorted(on_server) == sorted(f"{n}.ics" for n in stored)  # the apps' objects
    if "noend" in stored:
        assert f"DTEND:{stamp(T0 + minutes)}".encode() in on_server["noend.ics"]
    for _ in range(2):
        quiet = await pull(settings)
        assert quiet[0].changed == 0 and quiet[0].applied == {}, quiet


@h.on_cyrus_too
async def test_series_with_changed_occurrences_imported_with_them(
    http: httpx.AsyncClient, settings: Settings, dav_server: DavServer
) -> None:
    """RECURRENCE-ID overrides come in as the series' changed occurrences: moved and
    renamed (a THIS edit), cancelled (a THIS delete), another room (THIS edit); an override
    of no occurrence of the series is refused with the reason, nothing made."""
    _ann, gql, cal = await setup(http, dav_server, settings)
    await set_account(gql, importNewEvents=True)
    week = timedelta(days=7)

    def override(rid: datetime, *lines: str) -> list[str]:
        head = ["END:VEVENT", "BEGIN:VEVENT", "UID:standup@app", "DTSTAMP:20300101T000000Z"]
        return [*head, f"RECURRENCE-ID:{stamp(rid)}", *lines]

    moved = T0 + week + timedelta(hours=2)
    data = event(
        "standup@app",
        "SUMMARY:Stand-up",
        "LOCATION:Room 1",
        "RRULE:FREQ=WEEKLY;COUNT=4",
        *override(
            T0 + week,
            f"DTSTART:{stamp(moved)}",
            f"DTEND:{stamp(moved + timedelta(minutes=30))}",
            "SUMMARY:Stand-up (moved)",
            "LOCATION:Room 1",
        ),
        *override(
            T0 + 2 * week,
            f"DTSTART:{stamp(T0 + 2 * week)}",
            f"DTEND:{stamp(T0 + 2 * week + timedelta(hours=1))}",
            "SUMMARY:Stand-up",
            "STATUS:CANCELLED",
        ),
        *override(
            T0 + 3 * week,
            f"DTSTART:{stamp(T0 + 3 * week)}",
            f"DTEND:{stamp(T0 + 3 * week + timedelta(hours=1))}",
            "SUMMARY:Stand-up",
            "LOCATION:Room 2",
        ),
    )
    stray = T0 + timedelta(days=3)  # no occurrence of a weekly series
    bad = event(
        "stray@app",
        "SUMMARY:Review",
        "RRULE:FREQ=WEEKLY;COUNT=2",
        *override(
            stray,
            f"DTSTART:{stamp(stray)}",
            f"DTEND:{stamp(stray + timedelta(hours=1))}",
            "SUMMARY:Review (moved)",
        ),
    ).replace(b"UID:standup@app", b"UID:stray@app")
    assert put(dav_server, cal, "standup.ics", data) < 300
    assert put(dav_server, cal, "stray.ics", bad) < 300
    found = await pull(settings)
    assert found[0].applied == {"IMPORTED": 1, "REFUSED": 1}, [
        (r.name, r.reason) for r in await CalendarPull.all()
    ]
    row = await m.FollowUp.get(uid="standup@app")
    assert not await m.FollowUp.filter(uid="stray@app").exists()
    refused = await CalendarPull.get(name="stray.ics")
    assert refused.outcome == "REFUSED", refused
    assert refused.reason == f"not imported: RECURRENCE-ID {stamp_z(stray)} is no occurrence"
    record = await CalendarPull.get(name="standup.ics")
    assert "occurrences" in record.fields_changed, record.fields_changed
    assert row.exdates == [(T0 + 2 * week).isoformat()]
    changed = {o.recurrence_id: o for o in await m.Occurrence.filter(series_id=row.id)}
    assert set(changed) == {T0 + week, T0 + 3 * week}
    first = changed[T0 + week]
    assert (first.start_at, first.end_at, first.title) == (
        moved,
        moved + timedelta(minutes=30),
        "Stand-up (moved)",
    )
    assert first.location is None  # as the series'
    assert changed[T0 + 3 * week].location == "Room 2"

    result = await h.drain(settings)
    assert (result.synced, result.failed) == (1, 0), result
    on_server = await objects(dav_server, cal)
    assert "standup.ics" in on_server
    comps = [
        c
        for c in Calendar.from_ical(on_server["standup.ics"]).walk()
        if c.name == "VEVENT" and "RECURRENCE-ID" in c
    ]
    rids = {c.decoded("RECURRENCE-ID").astimezone(UTC): c for c in comps}
    assert set(rids) == {T0 + week, T0 + 3 * week}
    assert rids[T0 + week].decoded("DTSTART").astimezone(UTC) == moved
    for _ in range(2):
        quiet = await pull(settings)
        assert quiet[0].changed == 0 and quiet[0].applied == {}, quiet
