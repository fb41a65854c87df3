"""All-day meetings and tasks: the API, the diary, free/busy, series across DST, the
calendar objects built for CalDAV and mail, and the import of DATE events."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import icalendar
import pytest

from calcore.builder import build_calendar
from calcore.ical_import import import_calendar
from config.settings import Settings
from orm import models as m
from orm.snapshots import snapshot
from resolvers.ical_series import import_series
from tests.helpers import associate, client_for, gid

FIELDS = """id kind allDay startDate endDate deadlineDate start end deadline availability
  overdue version recurrence { rrule }"""
CREATE = f"""mutation($input: FollowUpInput!) {{ createFollowUp(input: $input) {{
  followUp {{ {FIELDS} }} errors {{ code message path }} }} }}"""
UPDATE = f"""mutation($id: ID!, $v: Int!, $input: FollowUpInput!, $scope: EditScope) {{
  updateFollowUp(id: $id, version: $v, input: $input, scope: $scope) {{
    followUp {{ {FIELDS} }} errors {{ code message path }} }} }}"""
DIARY = """query($ids: [ID!]!, $from: DateTime!, $to: DateTime!) {
  diary(associateIds: $ids, from: $from, to: $to) { id title allDay startDate endDate start end } }"""
FREEBUSY = """query($a: [ID!], $from: DateTime!, $to: DateTime!) {
  freeBusy(associateIds: $a, from: $from, to: $to) { id busy } }"""
SLOTS = """query($a: [ID!]!, $from: DateTime!, $to: DateTime!) {
  firstFreeSlots(associateIds: $a, durationMinutes: 60, from: $from, to: $to, limit: 1) {
    start end } }"""
DATA = Path(__file__).parent / "data" / "all-day"


async def _zone(who: m.Associate, tzid: str) -> None:
    await m.Preference.create(
        key="TIME_ZONE",
        scope=m.PreferenceScope.ASSOCIATE,
        scope_key=f"associate:{who.id}",
        value=tzid,
    )


@pytest.fixture
async def oslo(db: str) -> m.Associate:
    me = await associate("Ola")
    await _zone(me, "Europe/Oslo")
    return me


async def _create(gql: Any, **fields: Any) -> dict[str, Any]:
    out = (await gql(CREATE, {"input": {"title": "Away", **fields}}))["createFollowUp"]
    assert out["errors"] == [], out["errors"]
    return dict(out["followUp"])


async def _update(gql: Any, item: dict[str, Any], scope: str = "THIS", **fields: Any) -> Any:
    variables = {"id": item["id"], "v": item["version"], "input": fields, "scope": scope}
    return (await gql(UPDATE, variables))["updateFollowUp"]


def z(text: str) -> str:
    return datetime.fromisoformat(text).astimezone(UTC).isoformat().replace("+00:00", "Z")


async def test_create_read_and_validate_all_day_meetings_and_tasks(http: Any, oslo: Any) -> None:
    gql = await client_for(http, oslo)
    trip = await _create(gql, allDay=True, startDate="2026-03-02", endDate="2026-03-04")
    assert trip["allDay"] and trip["kind"] == "MEETING"
    assert (trip["startDate"], trip["endDate"]) == ("2026-03-02", "2026-03-04")
    # stored as Oslo midnights, the end exclusive
    assert z(trip["start"]) == "2026-03-01T23:00:00Z" and z(trip["end"]) == "2026-03-04T23:00:00Z"
    assert trip["availability"] == "FREE"  # all-day items are free unless told
    one = await _create(gql, allDay=True, start="2026-03-09T15:00:00-08:00")  # date as written
    assert (one["startDate"], one["endDate"]) == ("2026-03-09", "2026-03-09")
    busy = await _create(gql, allDay=True, startDate="2026-03-10", availability="BUSY")
    assert busy["availability"] == "BUSY"
    task = await _create(gql, kind="TASK", allDay=True, deadlineDate="2020-03-05")
    assert task["deadlineDate"] == "2020-03-05" and task["startDate"] is None
    assert z(task["deadline"]) == "2020-03-04T23:00:00Z" and task["overdue"]
    timed = await _create(gql, start="2026-03-02T09:00:00+01:00")
    assert not timed["allDay"] and timed["startDate"] is None

    bad = [
        ({"allDay": True, "startDate": "2026-03-05", "endDate": "2026-03-04"}, ["endDate"]),
        ({"startDate": "2026-03-05"}, ["startDate"]),
        (
            {"allDay": True, "startDate": "2026-03-05", "start": "2026-03-05T00:00:00Z"},
            ["startDate"],
        ),
        ({"allDay": True, "kind": "CALL", "startDate": "2026-03-05"}, ["allDay"]),
        ({"allDay": True}, ["start"]),
        ({"allDay": True, "startDate": "2300-01-01"}, ["startDate"]),
    ]
    count = await m.FollowUp.all().count()
    for fields, path in bad:
        out = (await gql(CREATE, {"input": {"title": "x", **fields}}))["createFollowUp"]
        assert [e["path"] for e in out["errors"]] == [path], (fields, out)
        assert out["errors"][0]["code"] == "VALIDATION"
    assert await m.FollowUp.all().count() == count


async def test_move_switch_to_timed_and_back_and_change_kind(http: Any, oslo: Any) -> None:
    gql = await client_for(http, oslo)
    trip = await _create(gql, allDay=True, startDate="2026-03-27", endDate="2026-03-29")
    # moved across the DST change: still three whole days
    out = await _update(gql, trip, startDate="2026-03-28")
    moved = out["followUp"]
    assert (moved["startDate"], moved["endDate"]) == ("2026-03-28", "2026-03-30")
    assert z(moved["end"]) == "2026-03-30T22:00:00Z"  # midnight of CEST
    out = await _update(gql, moved, allDay=False)
    timed = out["followUp"]
    assert not timed["allDay"] and timed["availability"] == "BUSY"
    assert z(timed["start"]) == "2026-03-27T23:00:00Z" and z(timed["end"]) == "2026-03-28T00:00:00Z"
    timed = (
        await _update(
            gql, timed, start="2026-03-28T22:30:00+01:00", end="2026-03-29T10:00:00+02:00"
        )
    )["followUp"]
    back = (await _update(gql, timed, allDay=True))["followUp"]  # the days it touched
    assert (back["startDate"], back["endDate"]) == ("2026-03-28", "2026-03-29")
    assert back["availability"] == "FREE"
    task = (await _update(gql, back, kind="TASK"))["followUp"]
    assert task["kind"] == "TASK" and task["deadlineDate"] == "2026-03-29"  # its last day
    meeting = (await _update(gql, task, kind="MEETING"))["followUp"]
    assert (meeting["startDate"], meeting["endDate"], meeting["deadlineDate"]) == (
        "2026-03-28",
        "2026-03-29",
        None,
    )
    todo = await _create(gql, kind="TASK", allDay=True, deadlineDate="2026-04-01")
    made = (await _update(gql, todo, kind="MEETING"))["followUp"]
    assert (made["startDate"], made["endDate"]) == ("2026-04-01", "2026-04-01")


async def test_viewer_in_another_zone_sees_the_owners_dates(http: Any, oslo: Any) -> None:
    gql = await client_for(http, oslo)
    await _create(gql, allDay=True, startDate="2026-03-02")
    viewer = await associate("Nina")
    await _zone(viewer, "America/New_York")
    other = await client_for(http, viewer)
    ids = [gid("Associate", oslo.id)]

    async def day(lo: str, hi: str) -> list[Any]:
        return list((await other(DIARY, {"ids": ids, "from": lo, "to": hi}))["diary"])

    # the item is the owner's Monday (Oslo midnight to midnight): New York's Sunday evening
    # and Monday both show it, with the owner's dates
    for lo, hi in (
        ("2026-03-01T00:00:00-05:00", "2026-03-02T00:00:00-05:00"),
        ("2026-03-02T00:00:00-05:00", "2026-03-03T00:00:00-05:00"),
    ):
        [item] = await day(lo, hi)
        assert (item["allDay"], item["startDate"], item["endDate"]) == (
            True,
            "2026-03-02",
            "2026-03-02",
        )
    assert await day("2026-03-03T00:00:00+01:00", "2026-03-04T00:00:00+01:00") == []
    assert await day("2026-02-28T00:00:00+01:00", "2026-03-01T00:00:00+01:00") == []


async def test_free_busy_slots_and_conflicts(http: Any, oslo: Any) -> None:
    gql = await client_for(http, oslo)
    item = await _create(gql, allDay=True, startDate="2026-03-02")
    window = {
        "a": [gid("Associate", oslo.id)],
        "from": "2026-03-02T08:00:00+01:00",
        "to": "2026-03-02T18:00:00+01:00",
    }
    [fb] = (await gql(FREEBUSY, window))["freeBusy"]
    assert fb["busy"] == []
    [slot] = (await gql(SLOTS, window))["firstFreeSlots"]
    assert z(slot["start"]) == "2026-03-02T07:00:00Z"  # 08:00 Oslo, working hours start
    await _update(gql, item, availability="BUSY")
    [fb] = (await gql(FREEBUSY, window))["freeBusy"]
    assert len(fb["busy"]) == 1
    assert (await gql(SLOTS, window))["firstFreeSlots"] == []


async def test_setting_makes_all_day_items_busy_by_default(
    db: str, settings: Settings, oslo: Any
) -> None:
    import httpx

    from app.web import create_app

    busy_settings = Settings(**{**settings.__dict__, "all_day_busy_default": True})
    app = create_app(busy_settings, manage_db=False)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as http:
        gql = await client_for(http, oslo)
        item = await _create(gql, allDay=True, startDate="2026-03-02")
        assert item["availability"] == "BUSY"
        free = await _create(gql, allDay=True, startDate="2026-03-03", availability="FREE")
        assert free["availability"] == "FREE"
        window = {
            "a": [gid("Associate", oslo.id)],
            "from": "2026-03-01T00:00:00Z",
            "to": "2026-03-05T00:00:00Z",
        }
        [fb] = (await gql(FREEBUSY, window))["freeBusy"]
        assert len(fb["busy"]) == 1


async def test_weekly_all_day_series_across_dst(http: Any, oslo: Any) -> None:
    gql = await client_for(http, oslo)
    series = await _create(
        gql,
        allDay=True,
        startDate="2026-03-23",
        endDate="2026-03-24",
        availability="BUSY",
        recurrence={"freq": "WEEKLY", "count": 3, "exdates": ["2026-04-06T00:00:00+02:00"]},
    )
    found = await gql(
        DIARY,
        {
            "ids": [gid("Associate", oslo.id)],
            "from": "2026-03-16T00:00:00Z",
            "to": "2026-04-20T00:00:00Z",
        },
    )
    items = found["diary"]
    assert [(i["startDate"], i["endDate"]) for i in items] == [
        ("2026-03-23", "2026-03-24"),
        ("2026-03-30", "2026-03-31"),
    ]
    assert [z(i["start"]) for i in items] == ["2026-03-22T23:00:00Z", "2026-03-29T22:00:00Z"]
    assert z(items[1]["end"]) == "2026-03-31T22:00:00Z"  # two whole CEST days
    [fb] = (
        await gql(
            FREEBUSY,
            {
                "a": [gid("Associate", oslo.id)],
                "from": "2026-03-29T00:00:00Z",
                "to": "2026-04-02T00:00:00Z",
            },
        )
    )["freeBusy"]
    assert [tuple(z(t) for t in p.split("/")) for p in fb["busy"]] == [
        ("2026-03-29T22:00:00Z", "2026-03-31T22:00:00Z")
    ]
    # one occurrence moved by a day (scope THIS) stays two days long
    occ = dict(items[1], version=series["version"], id=items[1]["id"])
    out = await _update(gql, occ, startDate="2026-04-01")
    assert out["errors"] == []
    assert (out["followUp"]["startDate"], out["followUp"]["endDate"]) == (
        "2026-04-01",
        "2026-04-02",
    )


async def test_calendar_object_has_dates_and_parses_back(http: Any, oslo: Any) -> None:
    gql = await client_for(http, oslo)
    item = await _create(
        gql,
        allDay=True,
        startDate="2026-05-17",
        availability="BUSY",
        recurrence={
            "freq": "YEARLY",
            "until": "2030-05-17T00:00:00+02:00",
            "exdates": ["2027-05-17T00:00:00+02:00"],
        },
    )
    task = await _create(gql, kind="TASK", allDay=True, deadlineDate="2026-03-05")
    row = await m.FollowUp.get(id=int(_raw(item["id"])))
    snap = await snapshot(row)
    text = build_calendar(snap, client_scheduling=True).to_ical().decode()
    assert "DTSTART;VALUE=DATE:20260517\r\n" in text
    assert "DTEND;VALUE=DATE:20260518\r\n" in text
    assert "UNTIL=20300517;" in text or "UNTIL=20300517\r\n" in text
    assert "EXDATE;VALUE=DATE:20270517\r\n" in text
    assert "VTIMEZONE" not in text and "TZID" not in text
    mail = build_calendar(snap, "REQUEST").to_ical().decode()
    assert "DTSTART;VALUE=DATE:20260517" in mail and "VTIMEZONE" not in mail
    [back] = import_calendar(text, default_tzid="Europe/Oslo")
    assert back.all_day and back.start == row.start_at and back.end == row.end_at
    assert back.exdates == (datetime(2027, 5, 16, 22, tzinfo=UTC),)
    todo = build_calendar(await snapshot(await m.FollowUp.get(id=int(_raw(task["id"])))))
    todo_text = todo.to_ical().decode()
    assert "DUE;VALUE=DATE:20260305\r\n" in todo_text
    [t] = import_calendar(todo_text, default_tzid="Europe/Oslo")
    assert t.all_day and t.due == datetime(2026, 3, 4, 23, tzinfo=UTC)
    # a whole round trip: what we write, imported as another owner's, gives the same dates
    other = await associate("Kari")
    await _zone(other, "Europe/Oslo")
    [copy] = await import_series(other, text.replace(row.uid, "copy@x").encode())
    assert copy.all_day and (copy.start_at, copy.end_at) == (row.start_at, row.end_at)
    assert copy.busy and copy.exdates == row.exdates


async def test_import_date_events_become_all_day_follow_ups(http: Any, oslo: Any) -> None:
    rows = await import_series(oslo, (DATA / "holidays.ics").read_bytes())
    by_title = {r.title: r for r in rows}
    day = by_title["Constitution Day"]
    assert day.all_day and not day.busy and day.rrule is not None
    assert day.start_at == datetime(2026, 5, 16, 22, tzinfo=UTC)
    assert day.end_at == datetime(2026, 5, 17, 22, tzinfo=UTC)
    trip = by_title["Conference"]
    assert trip.all_day and trip.busy
    gql = await client_for(http, oslo)
    found = await gql(
        DIARY,
        {
            "ids": [gid("Associate", oslo.id)],
            "from": "2028-05-01T00:00:00Z",
            "to": "2028-06-01T00:00:00Z",
        },
    )
    assert [(i["title"], i["startDate"], i["endDate"]) for i in found["diary"]] == [
        ("Constitution Day", "2028-05-17", "2028-05-17")
    ]
    task = by_title["File taxes"]
    assert task.kind is m.Kind.TASK and task.all_day
    assert task.deadline == datetime(2026, 4, 29, 22, tzinfo=UTC)
    assert date(2026, 4, 30) == task.deadline.astimezone(_oslo()).date()


def _oslo() -> Any:
    from zoneinfo import ZoneInfo

    return ZoneInfo("Europe/Oslo")


def _raw(global_id: str) -> str:
    import base64

    return base64.b64decode(global_id).decode().split(":", 1)[1]


def test_ics_fixture_is_calendar_data() -> None:
    cal = icalendar.Calendar.from_ical((DATA / "holidays.ics").read_bytes())
    assert len(list(cal.walk("VEVENT"))) == 2 and len(list(cal.walk("VTODO"))) == 1


def test_a_counter_with_dates_moves_an_all_day_meeting_by_its_dates() -> None:
    from resolvers.all_day import moved_to

    row = m.FollowUp(all_day=True, tzid="Europe/Oslo")
    # a COUNTER's DTSTART/DTEND;VALUE=DATE are read in the meeting's zone (mail.replies)
    start, end = datetime(2026, 3, 4, 23, tzinfo=UTC), datetime(2026, 3, 6, 23, tzinfo=UTC)
    assert moved_to(row, start, end) == {
        "start_date": date(2026, 3, 5),
        "end_date": date(2026, 3, 6),
    }
