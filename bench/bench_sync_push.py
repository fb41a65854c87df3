"""Benchmark: CalDAV push through the service, and a quiet reconcile through the service.

Part 1 (target service/bare <= 1.2): N meetings are queued as outbox rows by the service
(``sync.outbox.queue_missing``: snapshot -> ``build_calendar`` -> ``SyncJob``), then the
worker (``SyncWorker.run_until_idle``: claim, PUT with If-None-Match, record ETags) pushes
them to Radicale; in the same run a bare caldav ``DAVClient.put`` loop PUTs the same
objects into another fresh calendar.  Only the delivery is compared; queueing is printed.

Part 2 (target <= 3 requests): M follow-ups whose objects sit in a Radicale calendar (written
straight into its storage, as ``bench_caldav_push.fill_storage`` does) with matching
object states; ``sync.reconcile.reconcile_account`` runs twice and its requests are counted.

Run from the repository root:  .venv/bin/python bench/bench_sync_push.py [--objects 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from caldav.davclient import DAVClient  # noqa: E402

from config.settings import Secret, Settings  # noqa: E402
from orm import db  # noqa: E402
from orm import models as m  # noqa: E402
from orm.outbox_models import OutboxStatus  # noqa: E402
from orm.sync_models import CalendarAccount, CalendarObject, ObjectState, SyncJob  # noqa: E402
from sync import outbox  # noqa: E402
from sync.account_client import client_for  # noqa: E402
from sync.reconcile import reconcile_account  # noqa: E402
from sync.secrets import encrypt  # noqa: E402
from sync.worker import SyncWorker  # noqa: E402
from tests.helpers import LOOPBACK_HOSTS  # noqa: E402
from tests.sync.servers import DavServer  # noqa: E402

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


async def seed(owner: m.Associate, n: int) -> None:
    run = uuid.uuid4().hex[:8]
    rows = [
        m.FollowUp(
            kind=m.Kind.MEETING, owner_id=owner.id, title=f"Meeting {i}",
            start_at=T0 + timedelta(hours=i), end_at=T0 + timedelta(hours=i, minutes=30),
            sort_at=T0 + timedelta(hours=i), uid=f"{run}-{i}@followups",
        )
        for i in range(n)
    ]  # fmt: skip
    await m.FollowUp.bulk_create(rows, batch_size=500)


async def account(server: DavServer, owner: m.Associate, settings: Settings) -> CalendarAccount:
    return await CalendarAccount.create(
        associate_id=owner.id,
        server_url=server.base_url,
        username=server.username,
        secret_enc=encrypt(server.password, settings),
        calendar_url=server.make_calendar(f"svc-{uuid.uuid4().hex[:8]}"),
    )


async def push_part(server: DavServer, settings: Settings, n: int) -> float:
    owner = await m.Associate.create(name="Bench", email="bench@example.com")
    await seed(owner, n)
    acc = await account(server, owner, settings)
    started = time.perf_counter()
    await outbox.queue_missing(acc)
    queued = time.perf_counter() - started
    jobs = await SyncJob.filter(account_id=acc.id).order_by("id")
    bare_url = server.make_calendar(f"bare-{uuid.uuid4().hex[:8]}")
    bare = DAVClient(url=server.base_url, username=server.username, password=server.password)
    headers = {"Content-Type": "text/calendar; charset=utf-8", "If-None-Match": "*"}
    started = time.perf_counter()
    for job in jobs:
        response = bare.put(bare_url + job.name, job.ics or "", headers)
        if response.status not in (201, 204):
            raise RuntimeError(f"bare PUT failed: {response.status}")
    bare_s = time.perf_counter() - started
    bare.close()
    worker = SyncWorker(settings, name="bench")
    started = time.perf_counter()
    result = await worker.run_until_idle()
    ours_s = time.perf_counter() - started
    await worker.aclose()
    if result.synced != n:
        raise RuntimeError(f"service pushed {result.synced} of {n}")
    ratio = ours_s / bare_s
    verdict = "OK" if ratio <= 1.2 else "OVER TARGET"
    print(f"push of {n} meetings to Radicale")
    print(f"  queueing through the service (snapshot, build, job rows): {queued:.2f}s")
    print(f"  service worker (claim, PUT If-None-Match, record): {ours_s:.2f}s  {n / ours_s:.0f}/s")
    print(f"  bare caldav DAVClient.put loop:                   {bare_s:.2f}s  {n / bare_s:.0f}/s")
    print(f"  ratio service/bare = {ratio:.3f} (target <= 1.2) {verdict}", flush=True)
    return ratio


async def reconcile_part(server: DavServer, settings: Settings, n: int) -> int:
    owner = await m.Associate.create(name="Quiet", email="quiet@example.com")
    await seed(owner, n)
    acc = await account(server, owner, settings)
    await outbox.queue_missing(acc)
    calendar = (acc.calendar_url or "").rstrip("/").rsplit("/", 1)[-1]
    folder = server.workdir / "collections" / "collection-root" / server.username / calendar
    for job in await SyncJob.filter(account_id=acc.id):
        (folder / job.name).write_text(job.ics or "", encoding="utf-8")
    await SyncJob.filter(account_id=acc.id).update(status=OutboxStatus.SENT)
    async with client_for(acc, settings) as client:  # set-up: the ETags the worker had seen
        etags = await client.list_etags()
    for obj in await CalendarObject.filter(account_id=acc.id):
        await CalendarObject.filter(id=obj.id).update(
            etag=etags[obj.name], state=ObjectState.SYNCED
        )
    counts = []
    for label in ("first (no token: full sync-collection)", "second (token)"):
        started = time.perf_counter()
        report = await reconcile_account(acc, settings)
        took = time.perf_counter() - started
        counts.append(report.requests)
        print(
            f"  reconcile {label}: {report.requests} HTTP request(s), drift {report.drift}, "
            f"{took:.2f}s ({report.mode})"
        )
    verdict = "OK" if counts[-1] <= 3 else "OVER TARGET"
    print(f"quiet reconcile over {n} objects: {counts[-1]} request(s) (target <= 3) {verdict}")
    return counts[-1]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=1000)
    parser.add_argument("--reconcile-objects", type=int, default=10_000)
    args = parser.parse_args()
    settings = Settings(
        database_url="unused",
        secret_key=Secret("bench"),
        sync_batch_size=100,
        caldav_timeout=300.0,
        caldav_allowed_hosts=LOOPBACK_HOSTS,
    )
    url = f"sqlite://{tempfile.mkdtemp(prefix='bench-sync-')}/bench.sqlite3"
    await db.migrate(url)
    await db.close()
    await db.connect(url)
    server = DavServer(kind="radicale", username="bench", password="bench-pw", has_auth=True)
    server.start()
    try:
        await push_part(server, settings, args.objects)
        await reconcile_part(server, settings, args.reconcile_objects)
    finally:
        server.stop()
        server.cleanup()
        await db.close()


if __name__ == "__main__":
    asyncio.run(main())
