"""Account life cycle against real Radicale: changed credentials are tried, first-push
window, and what deleting an account does to the objects in its calendar."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from app.sync_cli import run_full
from config.settings import Settings
from orm.sync_models import AccountState, CalendarAccount, SyncJob
from tests.helpers import associate, client_for
from tests.sync import synchelp as h
from tests.sync.servers import DavServer
from tests.sync.synchelp import sync_settings


@pytest.fixture
def settings() -> Settings:
    return sync_settings()


def z(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


async def test_wrong_new_password_is_tested_and_shown(
    http: httpx.AsyncClient, settings: Settings, radicale_server: DavServer
) -> None:
    ann = await associate("Ann")
    gql = await client_for(http, ann)
    cal = radicale_server.make_calendar(f"pw-{id(gql)}")
    acc = await h.add_account(gql, radicale_server, cal)
    wrong = await gql(h.UPDATE_ACCOUNT, {"id": acc, "input": {"password": "not-it"}})
    payload = wrong["updateCalendarAccount"]
    assert not payload["errors"], payload
    assert payload["account"]["state"] == "FAILED"
    assert "401" in payload["account"]["lastError"], payload
    row = await CalendarAccount.get()
    assert row.state is AccountState.FAILED and row.failed_at is not None
    fu = (
        await gql(
            h.CREATE,
            {"input": {"title": "Held", "start": z(datetime.now(UTC) + timedelta(days=1))}},
        )
    )["createFollowUp"]["followUp"]
    assert (await h.drain(settings)).claimed == 0  # nothing is tried with refused credentials
    right = await gql(
        h.UPDATE_ACCOUNT, {"id": acc, "input": {"password": radicale_server.password}}
    )
    account = right["updateCalendarAccount"]["account"]
    assert account["state"] == "OK" and account["lastError"] is None
    assert (await h.drain(settings)).synced == 1
    assert h.server_copy(radicale_server, cal, fu["uid"]) is not None
    assert await SyncJob.filter(status="QUEUED").count() == 0


DELETE_ACCOUNT = """mutation($id: ID!, $keep: Boolean! = false) {
  deleteCalendarAccount(id: $id, keepObjects: $keep) { deletedId errors { code message path } } }"""


async def _made(gql: object, title: str, start: datetime, **extra: object) -> dict:
    body = await gql(h.CREATE, {"input": {"title": title, "start": z(start), **extra}})  # type: ignore[operator]
    assert not body["createFollowUp"]["errors"], body
    return body["createFollowUp"]["followUp"]  # type: ignore[no-any-return]


async def test_first_push_window_and_full_sync(
    http: httpx.AsyncClient, settings: Settings, radicale_server: DavServer
) -> None:
    ann = await associate("Ann")
    gql = await client_for(http, ann)
    now = datetime.now(UTC).replace(microsecond=0)
    old = await _made(gql, "Long ago", now - timedelta(days=100))
    recent = await _made(gql, "Last week", now - timedelta(days=7))
    coming = await _made(gql, "Next week", now + timedelta(days=7))
    weekly = await _made(
        gql, "Old weekly", now - timedelta(days=200), recurrence={"rrule": "FREQ=WEEKLY"}
    )
    ended = await _made(
        gql,
        "Ended series",
        now - timedelta(days=200),
        recurrence={"freq": "WEEKLY", "until": z(now - timedelta(days=60))},
    )
    cal = radicale_server.make_calendar(f"win-{id(gql)}")
    await h.add_account(gql, radicale_server, cal)
    await h.drain(settings)
    inside = (recent, coming, weekly)
    assert all(h.server_copy(radicale_server, cal, f["uid"]) is not None for f in inside)
    assert all(h.server_copy(radicale_server, cal, f["uid"]) is None for f in (old, ended))

    # a full sync keeps to the window too
    assert await run_full(settings, stdout=io.StringIO(), stderr=io.StringIO()) == 0
    await h.drain(settings)
    assert h.server_copy(radicale_server, cal, old["uid"]) is None
    # a change to an old meeting goes to the calendar (and a full sync keeps it there)
    moved = await gql(
        h.UPDATE, {"id": old["id"], "v": old["version"], "input": {"title": "Long ago, edited"}}
    )
    assert not moved["updateFollowUp"]["errors"]
    await h.drain(settings)
    assert await run_full(settings, stdout=io.StringIO(), stderr=io.StringIO()) == 0
    await h.drain(settings)
    assert h.server_copy(radicale_server, cal, old["uid"]) is not None


async def test_deleting_an_account_removes_our_objects_unless_kept(
    http: httpx.AsyncClient, settings: Settings, radicale_server: DavServer
) -> None:
    ann = await associate("Ann")
    gql = await client_for(http, ann)
    soon = datetime.now(UTC).replace(microsecond=0) + timedelta(days=2)
    fus = [await _made(gql, f"M{i}", soon + timedelta(hours=i)) for i in range(3)]
    cals = [radicale_server.make_calendar(f"del-{i}-{id(gql)}") for i in range(2)]
    accs = [await h.add_account(gql, radicale_server, cal) for cal in cals]
    await h.drain(settings)
    foreign = "not-ours@example.org"
    httpx.put(
        cals[0] + "not-ours.ics",
        content=b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\nBEGIN:VEVENT\r\n"
        b"UID:" + foreign.encode() + b"\r\nDTSTAMP:20260101T000000Z\r\n"
        b"DTSTART:20270101T090000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
        auth=radicale_server.auth(),
        headers={"Content-Type": "text/calendar"},
    )
    gone = await gql(DELETE_ACCOUNT, {"id": accs[0]})
    assert not gone["deleteCalendarAccount"]["errors"], gone
    assert all(h.server_copy(radicale_server, cals[0], f["uid"]) is None for f in fus)
    assert httpx.get(cals[0] + "not-ours.ics", auth=radicale_server.auth()).status_code == 200
    kept = await gql(DELETE_ACCOUNT, {"id": accs[1], "keep": True})
    assert not kept["deleteCalendarAccount"]["errors"], kept
    assert all(h.server_copy(radicale_server, cals[1], f["uid"]) is not None for f in fus)
    assert await CalendarAccount.all().count() == 0


async def test_deleting_when_the_server_is_down_changes_nothing(
    http: httpx.AsyncClient, settings: Settings, own_radicale: DavServer
) -> None:
    ann = await associate("Ann")
    gql = await client_for(http, ann)
    fu = await _made(gql, "M", datetime.now(UTC) + timedelta(days=1))
    cal = own_radicale.make_calendar("down-del")
    acc = await h.add_account(gql, own_radicale, cal)
    await h.drain(settings)
    own_radicale.stop()
    refused = await gql(DELETE_ACCOUNT, {"id": acc})
    errors = refused["deleteCalendarAccount"]["errors"]
    assert errors and errors[0]["code"] == "VALIDATION" and "keepObjects" in errors[0]["message"]
    assert await CalendarAccount.all().count() == 1
    own_radicale.start()
    assert not (await gql(DELETE_ACCOUNT, {"id": acc}))["deleteCalendarAccount"]["errors"]
    assert h.server_copy(own_radicale, cal, fu["uid"]) is None
