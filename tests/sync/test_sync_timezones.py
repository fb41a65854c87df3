"""Embedded VTIMEZONEs that stay right: a weekly 09:00 series expanded for 2030 and 2035
from nothing but the definition in the object (pushed to real Radicale and read back;
mailed as an iTIP REQUEST)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from zoneinfo import ZoneInfo

import httpx
import pytest
from dateutil.rrule import rrulestr
from icalendar import Calendar

from calcore.model import Attendee, EventSnapshot, Kind, Person
from config.settings import Settings
from mail.compose import compose_invitation
from sync.names import object_name
from tests.calcore.vtz_eval import embedded_zones, rdate_lines_with_lists
from tests.helpers import associate, client_for
from tests.sync import synchelp as h
from tests.sync.servers import DavServer
from tests.sync.synchelp import sync_settings

# zone: (UTC time of 09:00 local in July, in January); Sydney's is the day before
EXPECTED = {
    "Europe/Oslo": ((7, 0), (8, 0)),
    "America/New_York": ((13, 0), (14, 0)),
    "Australia/Sydney": ((23, 0), (22, 0)),
    "Asia/Kolkata": ((3, 30), (3, 30)),
    "Europe/London": ((8, 0), (9, 0)),
}
FIRST = datetime(2026, 3, 16, 9, 0)  # a Monday
SET_TZ = """mutation($v: String!) { setPreference(key: TIME_ZONE, scope: ASSOCIATE, value: $v) {
  errors { code message } } }"""


@pytest.fixture
def settings() -> Settings:
    return sync_settings()


def assert_nine_local(cal: Calendar, zone: str) -> None:
    """Expand the series from the object alone; check 2030 and 2035 in both seasons."""
    ev = next(c for c in cal.walk("VEVENT") if "RECURRENCE-ID" not in c)
    assert ev["DTSTART"].params["TZID"] == zone
    start = datetime.strptime(ev["DTSTART"].to_ical().decode(), "%Y%m%dT%H%M%S")
    assert start == FIRST
    rule = rrulestr(ev["RRULE"].to_ical().decode(), dtstart=start)
    tz = embedded_zones(cal)[zone]
    summer, winter = EXPECTED[zone]
    for year in (2030, 2035):
        for month, (hour, minute) in ((7, summer), (1, winter)):
            local = rule.after(datetime(year, month, 1))
            assert local is not None and (local.hour, local.minute) == (9, 0)
            utc = tz.to_utc(local)
            assert (utc.hour, utc.minute) == (hour, minute), (zone, local, utc)
            day = local.date() - timedelta(days=1) if zone == "Australia/Sydney" else local.date()
            assert utc.date() == day, (zone, local, utc)


@pytest.mark.parametrize("zone", sorted(EXPECTED))
async def test_pushed_series_expands_from_its_own_vtimezone(
    http: httpx.AsyncClient, settings: Settings, radicale_server: DavServer, zone: str
) -> None:
    ann = await associate("Ann")
    gql = await client_for(http, ann)
    assert not (await gql(SET_TZ, {"v": zone}))["setPreference"]["errors"]
    cal_url = radicale_server.make_calendar(f"tz-{uuid.uuid4().hex[:12]}")
    await h.add_account(gql, radicale_server, cal_url)
    start = FIRST.replace(tzinfo=ZoneInfo(zone)).isoformat()  # input only
    made = await gql(
        h.CREATE,
        {"input": {"title": "Standup", "start": start, "recurrence": {"rrule": "FREQ=WEEKLY"}}},
    )
    assert not made["createFollowUp"]["errors"], made
    await h.drain(settings)
    uid = made["createFollowUp"]["followUp"]["uid"]
    raw = httpx.get(cal_url + object_name(uid), auth=radicale_server.auth(), timeout=10)
    assert raw.status_code == 200
    assert rdate_lines_with_lists(raw.content) == []
    assert_nine_local(Calendar.from_ical(raw.content), zone)


@pytest.mark.parametrize("zone", sorted(EXPECTED))
def test_mailed_series_expands_from_its_own_vtimezone(zone: str) -> None:
    start = FIRST.replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)
    snap = EventSnapshot(
        uid=f"tz-{zone}@followups", kind=Kind.MEETING, title="Standup", start=start,
        end=start + timedelta(hours=1), tzid=zone, rrule="FREQ=WEEKLY",
        organizer=Person("ann@example.com", "Ann"), attendees=(Attendee("kari@kunde.no"),),
    )  # fmt: skip
    msg = compose_invitation(
        snap, "REQUEST", Attendee("kari@kunde.no"), organizer_language="en",
        message_id_domain="example.com", reply_to="ann@example.com",
        now=datetime(2026, 3, 1, tzinfo=UTC),
    )  # fmt: skip
    parsed = message_from_bytes(msg.as_bytes(), policy=policy.default)
    parts = [p for p in parsed.walk() if p.get_content_type() == "text/calendar"]
    assert parts
    for part in parts:
        data = part.get_payload(decode=True)
        assert isinstance(data, bytes)
        assert b"SCHEDULE-AGENT" not in data  # RFC 6638 7.1: never in iTIP
        assert rdate_lines_with_lists(data) == []
        assert_nine_local(Calendar.from_ical(data), zone)
