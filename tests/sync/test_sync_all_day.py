"""All-day follow-ups pushed to real Radicale and Xandikos and read back: DATE values,
no times and no VTIMEZONE, and the copy parses back to the same dates."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import httpx
import pytest

from calcore.ical_import import import_calendar
from config.settings import Settings
from orm import models as m
from orm.occurrences import occurrence_key
from schema.ids import encode
from sync.names import object_name
from tests.helpers import associate, client_for
from tests.sync import synchelp as h
from tests.sync.servers import DavServer
from tests.sync.synchelp import sync_settings

SET_TZ = """mutation { setPreference(key: TIME_ZONE, scope: ASSOCIATE, value: "Europe/Oslo") {
  errors { code message } } }"""


@pytest.fixture
def settings() -> Settings:
    return sync_settings()


async def test_all_day_meeting_series_and_task_round_trip(
    http: httpx.AsyncClient, settings: Settings, dav_server: DavServer
) -> None:
    ann = await associate("Ann")
    gql = await client_for(http, ann)
    assert not (await gql(SET_TZ))["setPreference"]["errors"]
    url = dav_server.make_calendar(f"allday-{uuid.uuid4().hex[:12]}")
    await h.add_account(gql, dav_server, url)
    trip = (
        await gql(
            h.CREATE,
            {
                "input": {
                    "title": "Trip",
                    "allDay": True,
                    "startDate": "2026-03-27",
                    "endDate": "2026-03-30",
                    "recurrence": {"rrule": "FREQ=WEEKLY;COUNT=4"},
                }
            },
        )
    )["createFollowUp"]
    task = (
        await gql(
            h.CREATE,
            {
                "input": {
                    "title": "Quote",
                    "kind": "TASK",
                    "allDay": True,
                    "deadlineDate": "2026-03-29",
                }
            },
        )
    )["createFollowUp"]
    assert not trip["errors"] and not task["errors"]
    # the second occurrence (Oslo's 3 April, after the DST change) moved by a day: its
    # RECURRENCE-ID and its new dates are DATEs too
    stored = await m.FollowUp.get(uid=trip["followUp"]["uid"])
    second = datetime(2026, 4, 2, 22, tzinfo=UTC)
    moved = await gql(
        h.UPDATE,
        {
            "id": encode("FollowUp", occurrence_key(stored.id, second)),
            "v": trip["followUp"]["version"],
            "input": {"startDate": "2026-04-04"},
        },
    )
    assert not moved["updateFollowUp"]["errors"], moved
    await h.drain(settings)

    raw = httpx.get(url + object_name(trip["followUp"]["uid"]), auth=dav_server.auth()).text
    assert "DTSTART;VALUE=DATE:20260327" in raw and "DTEND;VALUE=DATE:20260331" in raw
    assert "RECURRENCE-ID;VALUE=DATE:20260403" in raw
    assert "DTSTART;VALUE=DATE:20260404" in raw and "DTEND;VALUE=DATE:20260408" in raw
    assert "VTIMEZONE" not in raw and "TZID" not in raw
    [back] = import_calendar(raw, default_tzid="Europe/Oslo")
    assert back.all_day and (back.start, back.end) == (stored.start_at, stored.end_at)
    [override] = back.overrides
    assert override.all_day and override.start is not None
    assert override.start.astimezone(ZoneInfo("Europe/Oslo")).date() == date(2026, 4, 4)

    todo = httpx.get(url + object_name(task["followUp"]["uid"]), auth=dav_server.auth()).text
    assert "DUE;VALUE=DATE:20260329" in todo and "VTIMEZONE" not in todo
    [t] = import_calendar(todo, default_tzid="Europe/Oslo")
    row = await m.FollowUp.get(uid=task["followUp"]["uid"])
    assert t.all_day and t.due == row.deadline
