"""Benchmark: two-way calendars, a quiet pull over many accounts and edit-to-diary latency.

Part 1 (target: 1 request per account, within a minute for 1,000 accounts on one worker):
N accounts, each with its own Radicale calendar holding one meeting pushed by the worker;
after a first pass (tokens stored), quiet passes of the service (``sync.pull.pull_all``) are
timed, interleaved per pass with a bare baseline: an httpx loop sending the same
sync-collection REPORT with the same tokens over one keep-alive connection.  Requests,
seconds and the ratio service/bare per pass (min / median / max) are printed.

Part 2 (target: within CALDAV_POLL_SECONDS + 5 s): the sync worker runs (``SyncWorker.run``
with pull hooks, poll P s); a meeting's SUMMARY is changed on Radicale at random moments and
the time until the diary shows it is measured.

Run from the repository root:  .venv/bin/python bench/bench_sync_pull.py [--accounts 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from app.workers import pull_hooks  # noqa: E402
from config.settings import Secret, Settings  # noqa: E402
from orm import db  # noqa: E402
from orm import models as m  # noqa: E402
from orm.sync_models import CalendarAccount  # noqa: E402
from sync import dav_xml as dx  # noqa: E402
from sync import outbox  # noqa: E402
from sync.pull import pull_all  # noqa: E402
from sync.secrets import encrypt  # noqa: E402
from sync.worker import SyncWorker  # noqa: E402
from tests.helpers import LOOPBACK_HOSTS  # noqa: E402
from tests.sync.servers import DavServer  # noqa: E402
from tests.sync.test_sync_pull import edit_on_server, set_prop  # noqa: E402

T0 = datetime(2031, 1, 6, 9, 0, tzinfo=UTC)


async def seed(server: DavServer, settings: Settings, n: int) -> list[CalendarAccount]:
    out = []
    for i in range(n):
        owner = await m.Associate.create(name=f"B{i}", email=f"b{i}@example.com")
        await m.FollowUp.create(
            kind=m.Kind.MEETING, owner_id=owner.id, title=f"Meeting {i}", start_at=T0,
            end_at=T0 + timedelta(minutes=30), sort_at=T0, uid=f"{uuid.uuid4()}@followups",
        )  # fmt: skip
        acc = await CalendarAccount.create(
            associate_id=owner.id,
            server_url=server.base_url,
            username=server.username,
            secret_enc=encrypt(server.password, settings),
            calendar_url=server.make_calendar(f"pull-{i}-{uuid.uuid4().hex[:6]}"),
        )
        await outbox.queue_missing(acc)
        out.append(acc)
    worker = SyncWorker(settings)
    try:
        await worker.run_until_idle()
    finally:
        await worker.aclose()
    return out


async def bare_pass(server: DavServer, accounts: list[CalendarAccount]) -> tuple[int, float]:
    tokens = {a.id: a.sync_token for a in await CalendarAccount.all()}
    started = time.perf_counter()
    async with httpx.AsyncClient(auth=server.auth(), timeout=60) as client:
        for a in accounts:
            r = await client.request(
                "REPORT",
                a.calendar_url or "",
                content=dx.sync_collection_body(tokens[a.id]),
                headers={"Depth": "0", "Content-Type": "application/xml"},
            )
            assert r.status_code == 207, r.text
    return len(accounts), time.perf_counter() - started


async def quiet_part(server: DavServer, settings: Settings, n: int, passes: int) -> None:
    accounts = await seed(server, settings, n)
    hooks = pull_hooks(settings)
    await pull_all(settings, hooks)  # tokens stored, echoes of the push skipped
    ratios, service_times, bare_times = [], [], []
    for p in range(passes):
        order = [0, 1] if p % 2 == 0 else [1, 0]
        for side in order:
            if side == 0:
                started = time.perf_counter()
                reports = await pull_all(settings, hooks)
                took = time.perf_counter() - started
                requests = sum(r.requests for r in reports)
                changed = sum(r.changed for r in reports)
                service_times.append(took)
                print(f"pass {p}: service {requests} requests, {changed} changed, {took:.2f} s")
            else:
                count, took = await bare_pass(server, accounts)
                bare_times.append(took)
                print(f"pass {p}: bare    {count} requests, {took:.2f} s")
        ratios.append(service_times[-1] / bare_times[-1])
    print(
        f"quiet pull over {n} accounts: service median {statistics.median(service_times):.2f} s, "
        f"bare median {statistics.median(bare_times):.2f} s; ratio service/bare "
        f"min {min(ratios):.2f} / median {statistics.median(ratios):.2f} / max {max(ratios):.2f}"
    )


async def latency_part(server: DavServer, settings: Settings, samples: int) -> None:
    await CalendarAccount.all().delete()
    accounts = await seed(server, settings, 1)
    acc = accounts[0]
    row = await m.FollowUp.filter(owner_id=acc.associate_id).first()
    assert row is not None
    worker = SyncWorker(settings, name="latency", pull=pull_hooks(settings))
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    delays = []
    try:
        await asyncio.sleep(1.0)
        for i in range(samples):
            await asyncio.sleep(random.uniform(0, settings.caldav_poll_seconds))
            title = f"Edited {i}"
            edited = time.perf_counter()
            await asyncio.to_thread(
                edit_on_server, server, acc.calendar_url or "", row.uid, set_prop("SUMMARY", title)
            )
            while (await m.FollowUp.get(id=row.id)).title != title:
                await asyncio.sleep(0.05)
            delays.append(time.perf_counter() - edited)
            print(f"edit {i}: in the diary after {delays[-1]:.2f} s")
    finally:
        stop.set()
        await task
    bound = settings.caldav_poll_seconds + 5
    print(
        f"edit to diary (poll {settings.caldav_poll_seconds:.0f} s, target <= {bound:.0f} s): "
        f"min {min(delays):.2f} / median {statistics.median(delays):.2f} / max {max(delays):.2f} s"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=1000)
    parser.add_argument("--passes", type=int, default=3)
    parser.add_argument("--poll", type=float, default=5.0)
    parser.add_argument("--samples", type=int, default=5)
    args = parser.parse_args()
    settings = Settings(
        database_url="unused",
        secret_key=Secret("bench"),
        sync_batch_size=100,
        caldav_timeout=60.0,
        caldav_poll_seconds=args.poll,
        caldav_allowed_hosts=LOOPBACK_HOSTS,
    )
    url = f"sqlite://{tempfile.mkdtemp(prefix='bench-pull-')}/bench.sqlite3"
    await db.migrate(url)
    await db.close()
    await db.connect(url)
    server = DavServer(kind="radicale", username="bench", password="bench-pw", has_auth=True)
    server.start()
    try:
        await quiet_part(server, settings, args.accounts, args.passes)
        await latency_part(server, settings, args.samples)
    finally:
        server.stop()
        server.cleanup()
        await db.close()


if __name__ == "__main__":
    asyncio.run(main())
