"""Two-way calendars: imported events keep their attendees and their time zone.

On the real servers (Radicale, Xandikos): an event made in the associate's calendar app
with ATTENDEEs becomes a meeting whose participants are the associates, contact persons
and plain addresses it lists (status from PARTSTAT, no invitation mails), its rooms
bookings where the room allows; our later writes keep them.  A series in another zone
than the owner's keeps its TZID, so its occurrences do not move at clock changes.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from icalendar import Calendar

from config.settings import Settings
from orm import models as m
from orm.outbox_models import MailOutbox
from orm.sync_models import CalendarPull
from resolvers import followup_mutations as mutations
from resolvers import participants
from resolvers.diary import expand_rows
from tests.helpers import associate, gid
from tests.sync import synchelp as h
from tests.sync.servers import DavServer
from tests.sync.synchelp import sync_settings
from tests.sync.test_sync_pull import T0, meeting, pull, setup
from tests.sync.test_sync_pull_new import event, objects, put, set_account

NEW_YORK = """BEGIN:VTIMEZONE
TZID:America/New_York
BEGIN:DAYLIGHT
TZOFFSETFROM:-0500
TZOFFSETTO:-0400
TZNAME:EDT
DTSTART:19700308T020000
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=2SU
END:DAYLIGHT
BEGIN:STANDARD
TZOFFSETFROM:-0400
TZOFFSETTO:-0500
TZNAME:EST
DTSTART:19701101T020000
RRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=1SU
END:STANDARD
END:VTIMEZONE"""


@pytest.fixture
def settings() -> Settings:
    # SMTP set: the mail handler is live, so an invitation would be queued if one were due
    return sync_settings(caldav_timeout=5.0, smtp_host="127.0.0.1")


async def in_oslo(who: m.Associate) -> None:
    await m.Preference.create(
        key="TIME_ZONE",
        scope=m.PreferenceScope.ASSOCIATE,
        scope_key=f"associate:{who.id}",
        value="Europe/Oslo",
    )


def partstats(data: bytes) -> dict[str, str]:
    found = h.master(Calendar.from_ical(data)).get("ATTENDEE", [])
    return {
        str(a).lower().removeprefix("mailto:").split("@")[0]: str(a.params.get("PARTSTAT"))
        for a in (found if isinstance(found, list) else [found])
    }


def answer_in_app(server: DavServer, url: str, answers: dict[str, str]) -> None:
    """Set PARTSTATs in the organiser's copy, as a server taking in iMIP replies does."""
    got = httpx.get(url, auth=server.auth(), timeout=10)
    assert got.status_code == 200, got.text
    cal = Calendar.from_ical(got.content)
    for a in h.master(cal).get("ATTENDEE", []):
        who = str(a).lower().removeprefix("mailto:").split("@")[0]
        if who in answers:
            a.params["PARTSTAT"] = answers[who]
    put = httpx.put(
        url,
        content=cal.to_ical(),
        headers={"If-Match": got.headers["ETag"], "Content-Type": "text/calendar"},
        auth=server.auth(),
        timeout=10,
    )
    assert put.status_code in (200, 201, 204), put.text


def attendees_of(data: bytes) -> set[str]:
    found = h.master(Calendar.from_ical(data)).get("ATTENDEE", [])
    return {str(a).lower() for a in (found if isinstance(found, list) else [found])}


@h.on_cyrus_too
async def test_attendees_become_participants_and_bookings_without_invitations(
    http: httpx.AsyncClient, settings: Settings, dav_server: DavServer
) -> None:
    ann, gql, cal = await setup(http, dav_server, settings)
    bob = await associate("Bob")
    carl = await m.Person.create(first_name="Carl", last_name="Client")
    await m.EmailAddress.create(person_id=carl.id, address="carl@client.example", position=0)
    taken = await m.Resource.create(
        name="Room 1", email="room1@example.com", allow_double_booking=False
    )
    free = await m.Resource.create(name="Room 2", email="room2@example.com")
    other = await meeting(gql, "Earlier booking")  # Room 1 is taken at T0
    fu = await m.FollowUp.get(uid=other["uid"])
    saved = await gql(
        h.SAVE, {"f": other["id"], "v": fu.version, "p": [], "r": [gid("Resource", taken.id)]}
    )
    assert not saved["saveParticipants"]["errors"], saved
    await h.drain(settings)
    await set_account(gql, importNewEvents=True)
    await pull(settings)
    uid = "team@app"
    data = event(
        uid,
        "SUMMARY:Team",
        f"ORGANIZER;CN=Ann:mailto:{ann.email}",
        f"ATTENDEE;PARTSTAT=ACCEPTED:mailto:{ann.email}",
        "ATTENDEE;PARTSTAT=ACCEPTED;CN=Bob:mailto:Bob@Example.COM",
        "ATTENDEE;PARTSTAT=TENTATIVE:mailto:carl@client.example",
        "ATTENDEE;PARTSTAT=DECLINED:mailto:zoe@elsewhere.example",
        "ATTENDEE;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:yan@elsewhere.example",
        "ATTENDEE;CUTYPE=ROOM;PARTSTAT=NEEDS-ACTION:mailto:room1@example.com",
        "ATTENDEE;CUTYPE=ROOM;PARTSTAT=NEEDS-ACTION:mailto:room2@example.com",
        "ATTENDEE;CUTYPE=RESOURCE:mailto:projector@nowhere.example",
    )
    assert put(dav_server, cal, "team.ics", data) < 300
    found = await pull(settings)
    assert found[0].applied == {"IMPORTED": 1}, found
    row = await m.FollowUp.get(uid=uid)
    people = {
        (p.associate_id, p.person_id, p.email): (p.status, p.email_invitation, p.organiser)
        for p in await m.Participant.filter(followup_id=row.id)
    }
    A, T, D, N = (
        m.ParticipantStatus.ACCEPTED,
        m.ParticipantStatus.TENTATIVE,
        m.ParticipantStatus.DECLINED,
        m.ParticipantStatus.INVITED,
    )
    assert people == {
        (ann.id, None, ann.email): (A, False, True),
        (bob.id, None, bob.email): (A, False, False),
        (None, carl.id, "carl@client.example"): (T, False, False),
        (None, None, "zoe@elsewhere.example"): (D, False, False),
        (None, None, "yan@elsewhere.example"): (N, False, False),
    }
    booked = await m.ResourceBooking.filter(followup_id=row.id).values_list(
        "resource_id", flat=True
    )
    assert list(booked) == [free.id]
    record = await CalendarPull.get(followup_id=row.id)
    assert record.outcome == "IMPORTED"
    assert {"participants", "resources"} <= set(record.fields_changed)
    assert "Room 1" in (record.reason or "") and "projector@nowhere.example" in (
        record.reason or ""
    )
    statuses = await m.StatusChange.filter(participant__followup_id=row.id).values_list(
        "status", "via"
    )
    assert sorted(statuses) == [(A, "CALDAV"), (D, "CALDAV"), (T, "CALDAV")]
    assert await MailOutbox.filter(followup_id=row.id).count() == 0  # the app invited them

    await h.drain(settings)  # our form of it, in the app's object, still lists them
    expected = {
        f"mailto:{ann.email}",
        "mailto:bob@example.com",
        "mailto:carl@client.example",
        "mailto:zoe@elsewhere.example",
        "mailto:yan@elsewhere.example",
        "mailto:room2@example.com",
    }
    assert attendees_of((await objects(dav_server, cal))["team.ics"]) == expected
    assert (await pull(settings))[0].changed == 0

    # replies the calendar server took in for the organiser are the attendees' answers
    answer_in_app(dav_server, cal + "team.ics", {"zoe": "ACCEPTED", "yan": "TENTATIVE"})
    replied = await pull(settings)
    assert replied[0].applied == {"APPLIED": 1}, replied
    now = {p.email: p.status for p in await m.Participant.filter(followup_id=row.id, person=None)}
    assert now["zoe@elsewhere.example"] == A and now["yan@elsewhere.example"] == T
    assert await MailOutbox.filter(followup_id=row.id).count() == 0
    await h.drain(settings)
    back = (await objects(dav_server, cal))["team.ics"]
    assert {"zoe": "ACCEPTED", "yan": "TENTATIVE"}.items() <= partstats(back).items()

    row = await m.FollowUp.get(uid=uid)
    moved = await gql(
        h.UPDATE, {"id": gid("FollowUp", row.id), "v": row.version, "input": {"title": "Team!"}}
    )
    assert not moved["updateFollowUp"]["errors"], moved
    await h.drain(settings)
    after = (await objects(dav_server, cal))["team.ics"]
    assert b"SUMMARY:Team!" in after and attendees_of(after) == expected
    assert await m.Participant.filter(followup_id=row.id).count() == 5
    assert await MailOutbox.filter(followup_id=row.id).count() == 0

    # the control: with the switch on, the same participants do get invitations
    row = await m.FollowUp.get(uid=uid)
    wanted = [
        participants.Wanted(associate_id=bob.id),
        participants.Wanted(person_id=carl.id),
        participants.Wanted(email="ZOE@elsewhere.example"),
        participants.Wanted(email="yan@elsewhere.example"),
    ]
    await mutations.in_series_change(
        row.id,
        lambda: participants.save(ann, row.id, row.version, wanted, [free.id], True, settings),
    )
    assert await m.Participant.filter(followup_id=row.id).count() == 5  # matched, not added
    sent = await MailOutbox.filter(followup_id=row.id).values_list("recipient", flat=True)
    assert sorted(s.lower() for s in sent) == [
        "bob@example.com",
        "carl@client.example",
        "yan@elsewhere.example",
        "zoe@elsewhere.example",
    ]


async def test_someone_elses_organizer_with_attendees_refused(
    http: httpx.AsyncClient, settings: Settings, dav_server: DavServer
) -> None:
    _ann, gql, cal = await setup(http, dav_server, settings)
    await set_account(gql, importNewEvents=True)
    data = event(
        "forwarded@app",
        "SUMMARY:Theirs",
        "ORGANIZER:mailto:zoe@elsewhere.example",
        "ATTENDEE:mailto:yan@elsewhere.example",
    )
    assert put(dav_server, cal, "theirs.ics", data) < 300
    found = await pull(settings)
    assert found[0].applied == {"REFUSED": 1}, found
    assert "ORGANIZER" in ((await CalendarPull.get()).reason or "")
    assert not await m.FollowUp.exists()


async def test_series_keeps_its_tzid_across_a_clock_change_the_owners_zone_lacks(
    http: httpx.AsyncClient, settings: Settings, dav_server: DavServer
) -> None:
    ann, gql, cal = await setup(http, dav_server, settings)
    await in_oslo(ann)
    await set_account(gql, importNewEvents=True)
    body = "\r\n".join(
        [
            "BEGIN:VCALENDAR",
            "VERSION:2.0",
            "PRODID:-//Phone//Calendar 1.0//EN",
            *NEW_YORK.splitlines(),
            "BEGIN:VEVENT",
            "UID:standup-ny@app",
            "DTSTAMP:20270101T000000Z",
            "DTSTART;TZID=America/New_York:20270304T090000",
            "DTEND;TZID=America/New_York:20270304T093000",
            "RRULE:FREQ=WEEKLY;COUNT=6",
            "SUMMARY:Stand-up (New York)",
            "END:VEVENT",
            "END:VCALENDAR",
            "",
        ]
    ).encode()
    assert put(dav_server, cal, "standup.ics", body) < 300
    found = await pull(settings)
    assert found[0].applied == {"IMPORTED": 1}, found
    row = await m.FollowUp.get(uid="standup-ny@app")
    assert row.tzid == "America/New_York"
    ny = ZoneInfo("America/New_York")
    lo, hi = datetime(2027, 3, 1, tzinfo=UTC), datetime(2027, 4, 30, tzinfo=UTC)
    spans = [s for s in await expand_rows([row], lo, hi, 100) if s.start]
    starts = [s.start.astimezone(ny) for s in spans if s.start]
    assert [d.strftime("%m-%d %H:%M") for d in starts] == [
        "03-04 09:00",
        "03-11 09:00",
        "03-18 09:00",  # New York is on summer time, Oslo not yet: 13:00 UTC, not 14:00
        "03-25 09:00",
        "04-01 09:00",
        "04-08 09:00",
    ]
    assert [s.start.astimezone(UTC).hour for s in spans if s.start] == [14, 14, 13, 13, 13, 13]
    assert row.series_end == datetime(2027, 4, 8, 9, 30, tzinfo=ny)

    await h.drain(settings)  # written back in its own zone, to the app's object
    on_server = (await objects(dav_server, cal))["standup.ics"].decode()
    assert "DTSTART;TZID=America/New_York:20270304T090000" in on_server
    assert (await pull(settings))[0].changed == 0


async def test_floating_and_utc_series_follow_the_owners_zone(
    http: httpx.AsyncClient, settings: Settings, dav_server: DavServer
) -> None:
    ann, gql, cal = await setup(http, dav_server, settings)
    await in_oslo(ann)
    await set_account(gql, importNewEvents=True)
    assert put(dav_server, cal, "utc.ics", event("utc@app", "RRULE:FREQ=DAILY;COUNT=2")) < 300
    floating = event(
        "floating@app",
        "DTSTART:20300304T100000",
        "DTEND:20300304T103000",
        "RRULE:FREQ=DAILY;COUNT=3",
        start=None,
    )
    assert put(dav_server, cal, "floating.ics", floating) < 300
    got = await pull(settings)
    assert got[0].applied == {"IMPORTED": 2}, [r.reason for r in await CalendarPull.all()]
    row = await m.FollowUp.get(uid="utc@app")
    assert (row.tzid, row.start_at, row.end_at) == ("Europe/Oslo", T0, T0 + timedelta(hours=1))
    row = await m.FollowUp.get(uid="floating@app")
    assert (row.tzid, row.start_at) == ("Europe/Oslo", T0)  # 10:00 in Oslo
