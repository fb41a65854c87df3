"""One account's trouble stays with it: a stuck server, an outage, one refused object."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from config.settings import Settings
from orm.outbox_models import OutboxStatus
from orm.sync_models import CalendarObject, ObjectState, SyncJob
from sync.names import object_name
from sync.worker import SyncWorker
from tests.helpers import associate, client_for
from tests.sync import synchelp as h
from tests.sync.faulty import FailingProxy, StuckServer
from tests.sync.servers import DavServer
from tests.sync.synchelp import sync_settings

# in the first-push window (CALDAV_INITIAL_WINDOW_DAYS) of accounts made after the follow-ups
T0 = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=7)


def tuned(**extra: object) -> Settings:
    return sync_settings(**extra)


@pytest.fixture
def settings() -> Settings:
    return tuned()


def z(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


@pytest.fixture
def stuck() -> Iterator[StuckServer]:
    server = StuckServer()
    yield server
    server.close()


async def test_stuck_server_delays_no_other_account(
    http: httpx.AsyncClient, radicale_server: DavServer, stuck: StuckServer
) -> None:
    ann, bob = await associate("Ann"), await associate("Bob")
    ann_gql, bob_gql = await client_for(http, ann), await client_for(http, bob)
    stuck_url = f"{stuck.base_url}ann/cal/"
    await ann_gql(
        h.CREATE_ACCOUNT,
        {"input": {"serverUrl": stuck.base_url, "username": "ann", "password": "pw",
                   "calendarUrl": stuck_url}},
    )  # fmt: skip
    cal = radicale_server.make_calendar(f"iso-{id(bob_gql)}")
    await h.add_account(bob_gql, radicale_server, cal)
    for i in range(3):  # the stuck account's jobs come first in the queue
        await ann_gql(h.CREATE, {"input": {"title": f"A{i}", "start": z(T0 + timedelta(hours=i))}})
    fu = (await bob_gql(h.CREATE, {"input": {"title": "B", "start": z(T0)}}))["createFollowUp"][
        "followUp"
    ]
    cfg = tuned(caldav_timeout=8.0)
    started = time.monotonic()
    drain = asyncio.create_task(h.drain(cfg))
    while h.server_copy(radicale_server, cal, fu["uid"]) is None:
        assert time.monotonic() - started < 5, "the Radicale push waited for the stuck server"
        await asyncio.sleep(0.05)
    while True:
        state = (await bob_gql(h.SYNC_STATE, {"id": fu["id"]}))["node"]["calendarSync"][0]
        if state["state"] == "SYNCED":
            break
        assert time.monotonic() - started < 5, state
        await asyncio.sleep(0.05)
    pushed = time.monotonic() - started
    assert not drain.done()  # the stuck server is still being waited for
    await drain
    assert pushed < 5 and time.monotonic() - started >= 8
    stuck_jobs = await SyncJob.filter(status=OutboxStatus.QUEUED).order_by("id")
    assert len(stuck_jobs) == 3
    assert "server unreachable" in (stuck_jobs[0].last_error or "")  # one text for every cause
    # the account was noticed as unreachable once: the others waited untried (no 3 x 8 s)
    assert time.monotonic() - started < 8 * 2


async def test_one_refused_object_fails_alone(
    http: httpx.AsyncClient, radicale_server: DavServer
) -> None:
    ann = await associate("Ann")
    gql = await client_for(http, ann)
    cal = radicale_server.make_calendar(f"five-{id(gql)}")
    made = [
        (await gql(h.CREATE, {"input": {"title": t, "start": z(T0 + timedelta(hours=i))}}))[
            "createFollowUp"
        ]["followUp"]
        for i, t in enumerate(("bad", "good", "later"))
    ]
    proxy = FailingProxy(radicale_server.base_url.rstrip("/"), {object_name(made[0]["uid"])})
    try:
        proxied = cal.replace(radicale_server.base_url, proxy.base_url)
        body = await gql(
            h.CREATE_ACCOUNT,
            {"input": {"serverUrl": proxy.base_url, "username": radicale_server.username,
                       "password": radicale_server.password, "calendarUrl": proxied}},
        )  # fmt: skip
        assert not body["createCalendarAccount"]["errors"], body
        cfg = tuned(sync_max_attempts=3)
        first = await h.drain(cfg)
        assert first.synced == 2 and first.retrying == 1, first  # the others were not deferred
        for fu in made[1:]:
            state = (await gql(h.SYNC_STATE, {"id": fu["id"]}))["node"]["calendarSync"][0]
            assert state["state"] == "SYNCED" and state["error"] is None, state
            assert h.server_copy(radicale_server, cal, fu["uid"]) is not None
        for _ in range(5):
            await h.make_due()
            await h.drain(cfg)
        assert proxy.failed_writes == 3  # bounded
        state = (await gql(h.SYNC_STATE, {"id": made[0]["id"]}))["node"]["calendarSync"][0]
        assert state["state"] == "FAILED" and "500" in state["error"], state
        assert await SyncJob.filter(status=OutboxStatus.QUEUED).count() == 0
        assert await CalendarObject.filter(state=ObjectState.SYNCED).count() == 2
    finally:
        proxy.close()


async def test_back_after_outage_within_a_minute(
    http: httpx.AsyncClient, own_radicale: DavServer
) -> None:
    ann = await associate("Ann")
    gql = await client_for(http, ann)
    cal = own_radicale.make_calendar("outage")
    await h.add_account(gql, own_radicale, cal)
    own_radicale.stop()
    uids = []
    for i in range(3):
        fu = await gql(h.CREATE, {"input": {"title": f"M{i}", "start": z(T0 + timedelta(days=i))}})
        uids.append(fu["createFollowUp"]["followUp"]["uid"])
    cfg = tuned()  # default SYNC_UNREACHABLE_RETRY_SECONDS
    for _ in range(8):  # a long outage: many failed tries, backoff at its cap
        await h.make_due()
        await h.drain(cfg)
    job = await SyncJob.filter(status=OutboxStatus.QUEUED).order_by("id").first()
    assert job is not None and job.attempts >= 8
    assert job.next_attempt_at - datetime.now(UTC) <= timedelta(
        seconds=cfg.sync_unreachable_retry_seconds
    )
    own_radicale.start()
    back = time.monotonic()
    worker = SyncWorker(tuned(sync_poll_seconds=0.5), name="outage-worker")
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    try:
        while await SyncJob.filter(status=OutboxStatus.QUEUED).exists():
            assert time.monotonic() - back < 60, "not delivered within a minute of the return"
            await asyncio.sleep(0.25)
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)
    assert all(h.server_copy(own_radicale, cal, uid) is not None for uid in uids)
