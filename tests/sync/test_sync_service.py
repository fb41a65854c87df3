"""Reconcile after calendar-app edits, concurrent workers, and account permissions."""

from __future__ import annotations

import asyncio
import io
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from app.sync_cli import run_full
from config.settings import Secret, Settings
from orm.outbox_models import OutboxStatus
from orm.sync_models import CalendarAccount, JobOp, SyncJob
from sync import worker as worker_mod
from sync.names import object_name
from sync.reconcile import reconcile_account
from tests.helpers import associate, client_for, gid
from tests.sync import synchelp as h
from tests.sync.ics import vevent
from tests.sync.servers import DavServer
from tests.sync.synchelp import sync_settings

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def settings() -> Settings:
    return sync_settings()


def z(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


async def test_reconcile_repairs_app_edits(
    http: httpx.AsyncClient, settings: Settings, dav_server: DavServer
) -> None:
    ann = await associate("Ann")
    gql = await client_for(http, ann)
    cal = dav_server.make_calendar(f"rec-{id(gql)}")
    await h.add_account(gql, dav_server, cal)
    uids = []
    for i in range(3):
        body = await gql(
            h.CREATE, {"input": {"title": f"M{i}", "start": z(T0 + timedelta(days=i))}}
        )
        uids.append(body["createFollowUp"]["followUp"]["uid"])
    await h.drain(settings)
    account = await CalendarAccount.get()
    first = await reconcile_account(account, settings)  # establishes the sync token
    assert first.drift == 0
    auth = dav_server.auth()
    httpx.delete(cal + object_name(uids[0]), auth=auth)
    got = httpx.get(cal + object_name(uids[1]), auth=auth)
    httpx.put(
        cal + object_name(uids[1]),
        content=got.content.replace(b"SUMMARY:M1", b"SUMMARY:changed in app"),
        auth=auth,
        headers={"If-Match": got.headers["ETag"], "Content-Type": "text/calendar"},
    )
    orphan = "orphan-1@followups"
    foreign = "someone-else@example.org"
    for uid in (orphan, foreign):
        httpx.put(
            cal + object_name(uid),
            content=vevent(uid),
            auth=auth,
            headers={"Content-Type": "text/calendar"},
        )
    out, err = io.StringIO(), io.StringIO()
    assert await run_full(settings, stdout=out, stderr=err) == 0
    text = out.getvalue()
    assert f"restored {object_name(uids[0])}" in text
    assert f"reverted {object_name(uids[1])}" in text
    assert f"removed {object_name(orphan)}" in text
    assert "[" in err.getvalue()
    assert h.server_copy(dav_server, cal, uids[0]) is not None
    assert str(h.master(h.server_copy(dav_server, cal, uids[1]))["SUMMARY"]) == "M1"  # type: ignore[arg-type]
    assert h.server_copy(dav_server, cal, orphan) is None
    assert h.server_copy(dav_server, cal, foreign) is not None
    account = await CalendarAccount.get()
    quiet = await reconcile_account(account, settings)
    assert quiet.drift == 0 and quiet.requests <= 3


async def test_two_workers_never_run_a_job_twice(
    db: str, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not db.startswith("postgres"):
        pytest.skip("several workers share PostgreSQL")
    ann = await associate("Ann")
    account = await CalendarAccount.create(
        associate_id=ann.id,
        server_url="http://127.0.0.1:9/",
        username="x",
        calendar_url="http://127.0.0.1:9/cal/",
    )
    for i in range(60):
        for op in (JobOp.PUT, JobOp.DELETE, JobOp.PUT):
            await SyncJob.create(
                next_attempt_at=datetime.now(UTC),
                account_id=account.id,
                followup_id=i,
                name=f"obj-{i}.ics",
                op=op,
                ics="x",
            )
    runs: list[tuple[str, int]] = []

    async def fake_put(self, client, account, job, obj):  # type: ignore[no-untyped-def]
        runs.append((job.name, job.id))
        await asyncio.sleep(0.001)
        return '"etag"', "x", job.name

    async def fake_delete(self, client, job, obj):  # type: ignore[no-untyped-def]
        runs.append((job.name, job.id))
        await asyncio.sleep(0.001)

    monkeypatch.setattr(worker_mod.SyncWorker, "_put", fake_put)
    monkeypatch.setattr(worker_mod.SyncWorker, "_delete", fake_delete)
    small = Settings(database_url="unused", sync_batch_size=7, secret_key=Secret("k"))
    await asyncio.gather(*(h.drain(small, name=f"w{i}") for i in range(3)))
    ids = [j for _, j in runs]
    assert len(ids) == len(set(ids)) == 180
    for name in {n for n, _ in runs}:
        order = [j for n, j in runs if n == name]
        assert order == sorted(order)
    assert await SyncJob.filter(status=OutboxStatus.SENT).count() == 180


async def test_accounts_are_private_and_passwords_write_only(
    http: httpx.AsyncClient, settings: Settings, radicale_server: DavServer
) -> None:
    ann, eve = await associate("Ann"), await associate("Eve")
    ann_gql, eve_gql = await client_for(http, ann), await client_for(http, eve)
    cal = radicale_server.make_calendar(f"priv-{id(ann_gql)}")
    acc = await h.add_account(ann_gql, radicale_server, cal)
    mine = await ann_gql("{ calendarAccounts { id username passwordSource state } }")
    assert mine["calendarAccounts"] == [
        {"id": acc, "username": "alice", "passwordSource": "STORED", "state": "OK"}
    ]
    assert (await eve_gql("{ calendarAccounts { id } }"))["calendarAccounts"] == []
    node = await eve_gql("query($id: ID!) { node(id: $id) { id } }", {"id": acc})
    assert node["node"] is None
    for doc in (
        "mutation($id: ID!) { deleteCalendarAccount(id: $id) { errors { code } } }",
        "mutation($id: ID!) { testCalendarAccount(id: $id) { errors { code } } }",
    ):
        body = await eve_gql(doc, {"id": acc})
        assert next(iter(body.values()))["errors"][0]["code"] == "NOT_FOUND"
    other = await eve_gql(
        h.CREATE_ACCOUNT,
        {
            "input": {"serverUrl": radicale_server.base_url, "username": "x", "calendarUrl": cal},
            "a": gid("Associate", ann.id),
        },
    )
    assert other["createCalendarAccount"]["errors"][0]["code"] == "NOT_FOUND"
    row = await CalendarAccount.get()
    assert radicale_server.password not in (row.secret_enc or "")
    test = await ann_gql(
        """mutation($id: ID!) { testCalendarAccount(id: $id) {
        result { ok status message principalUrl calendars { url name supportsTasks } } } }""",
        {"id": acc},
    )
    result = test["testCalendarAccount"]["result"]
    assert result["ok"] and result["status"] == 207 and result["calendars"]
    await ann_gql(h.UPDATE_ACCOUNT, {"id": acc, "input": {"password": "nope"}})
    bad = await ann_gql(
        "mutation($id: ID!) { testCalendarAccount(id: $id) { result { ok status message } } }",
        {"id": acc},
    )
    assert bad["testCalendarAccount"]["result"]["ok"] is False
    assert bad["testCalendarAccount"]["result"]["status"] == 401
    discovered = await ann_gql(
        h.CREATE_ACCOUNT,
        {
            "input": {
                "serverUrl": radicale_server.base_url,
                "username": radicale_server.username,
                "passwordEnv": "FOLLOWUPS_TEST_UNSET_VARIABLE",
            }
        },
    )
    assert discovered["createCalendarAccount"]["errors"][0]["path"] == ["passwordEnv"]
