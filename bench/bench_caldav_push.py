"""Benchmark: push N meetings to a local Radicale; count the requests of a quiet reconcile.

Part 1 (target ours/bare <= 1.2): N generated VEVENTs are PUT into a fresh calendar by
``sync.client.CalendarClient.put(create=True)`` (one keep-alive httpx session,
``If-None-Match: *``) and, in the same run, by a bare ``caldav`` library loop
(``caldav.DAVClient.put``, the library's plain PUT on its niquests session) into another
fresh calendar, interleaved in chunks of 50 with alternating order (so load from other
processes on the machine falls on both sides); the median over rounds is compared.
``--save-event`` adds ``Calendar.save_event`` as a second, informative baseline.

Part 2 (target <= 3 requests): M objects (default 10,000, written straight into
Radicale's storage folder, see ``fill_storage``) sit in a calendar; after an initial
sync-collection, a "nothing changed" reconcile (sync-collection with the token, then a
multiget only for what changed) is run and its HTTP requests are counted.

Run from the repository root:  .venv/bin/python bench/bench_caldav_push.py [--objects 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from caldav.davclient import DAVClient  # noqa: E402

from sync.client import CalendarClient, object_name  # noqa: E402
from tests.helpers import LOOPBACK  # noqa: E402
from tests.sync.ics import vevent  # noqa: E402
from tests.sync.servers import DavServer  # noqa: E402

USERNAME = "bench"
PASSWORD = "bench-pw"
PUSH_TARGET = 1.2
REQUEST_TARGET = 3


def make_objects(n: int) -> list[tuple[str, bytes]]:
    """Return n (object name, VEVENT bytes) pairs with fresh UIDs."""
    run = uuid.uuid4().hex[:8]
    objects = []
    for i in range(n):
        uid = f"bench-{run}-{i}@followups.bench"
        objects.append((object_name(uid), vevent(uid, f"Meeting {i}", day=i % 365)))
    return objects


async def push_round(
    server: DavServer, objects: list[tuple[str, bytes]], chunk: int
) -> tuple[float, float]:
    """Push the objects with both clients, interleaved by chunks; return (ours, bare) seconds.

    Each side writes into its own fresh calendar, so both collections grow alike; the
    order within a chunk alternates, so background load on the machine hits both sides.
    """
    url_ours = server.make_calendar(f"ours-{uuid.uuid4().hex[:8]}")
    url_bare = server.make_calendar(f"bare-{uuid.uuid4().hex[:8]}")
    headers = {"Content-Type": "text/calendar; charset=utf-8"}
    times = {"ours": 0.0, "bare": 0.0}
    bare = DAVClient(url=server.base_url, username=server.username, password=server.password)
    try:
        async with CalendarClient(
            server.base_url,
            server.username,
            server.password,
            calendar_url=url_ours,
            policy=LOOPBACK,
        ) as ours:
            for k, first in enumerate(range(0, len(objects), chunk)):
                part = objects[first : first + chunk]
                for side in ("ours", "bare") if k % 2 == 0 else ("bare", "ours"):
                    started = time.perf_counter()
                    if side == "ours":
                        for name, ics in part:
                            await ours.put(name, ics, create=True)
                    else:
                        for name, ics in part:
                            response = bare.put(url_bare + name, ics.decode("utf-8"), headers)
                            if response.status not in (201, 204):
                                raise RuntimeError(f"bare PUT failed: {response.status}")
                    times[side] += time.perf_counter() - started
    finally:
        bare.close()
    return times["ours"], times["bare"]


def push_save_event(server: DavServer, url: str, objects: list[tuple[str, bytes]]) -> float:
    """Time caldav's high-level Calendar.save_event loop; return seconds."""
    client = DAVClient(url=server.base_url, username=server.username, password=server.password)
    try:
        calendar = client.calendar(url=url)
        started = time.perf_counter()
        for _, ics in objects:
            calendar.save_event(ics.decode("utf-8"))
        return time.perf_counter() - started
    finally:
        client.close()


async def push_part(server: DavServer, n: int, rounds: int, save_event: bool) -> float:
    """Run the push comparison; print and return the ratio ours/bare."""
    ours: list[float] = []
    bare: list[float] = []
    saves: list[float] = []
    await push_round(server, make_objects(20), chunk=10)  # warm-up: imports, first connects
    for r in range(rounds):
        objects = make_objects(n)
        ours_s, bare_s = await push_round(server, objects, chunk=50)
        ours.append(ours_s)
        bare.append(bare_s)
        line = f"  round {r + 1}: ours {ours_s:.2f}s  bare caldav PUT {bare_s:.2f}s"
        if save_event:
            url = server.make_calendar(f"save-{uuid.uuid4().hex[:8]}")
            saves.append(push_save_event(server, url, objects))
            line += f"  caldav save_event {saves[-1]:.2f}s"
        print(line, flush=True)
    ours_med, bare_med = statistics.median(ours), statistics.median(bare)
    ratio = ours_med / bare_med
    print(f"push of {n} meetings to Radicale (median of {rounds} rounds)")
    print(f"  ours (CalendarClient.put, If-None-Match): {ours_med:.2f}s  {n / ours_med:.0f}/s")
    print(f"  bare caldav DAVClient.put loop:           {bare_med:.2f}s  {n / bare_med:.0f}/s")
    if saves:
        save_med = statistics.median(saves)
        print(f"  caldav Calendar.save_event loop:          {save_med:.2f}s  {n / save_med:.0f}/s")
    verdict = "OK" if ratio <= PUSH_TARGET else "OVER TARGET"
    print(f"  ratio ours/bare = {ratio:.3f} (target <= {PUSH_TARGET}) {verdict}", flush=True)
    return ratio


async def reconcile(client: CalendarClient, token: str) -> tuple[str, int]:
    """Run one reconcile pass: changes since token, then fetch what changed."""
    result = await client.sync_collection(token)
    if result.changed:
        await client.multiget(list(result.changed))
    return result.token, len(result.changed) + len(result.deleted)


def fill_storage(server: DavServer, url: str, m: int) -> None:
    """Write m objects straight into Radicale's file storage for the calendar at url.

    PUTting 10,000 objects into one Radicale collection takes tens of minutes (its PUT
    cost grows with the collection size), and the fill is not what is measured here.
    """
    calendar = url.rstrip("/").rsplit("/", 1)[-1]
    folder = server.workdir / "collections" / "collection-root" / server.username / calendar
    if not folder.is_dir():
        raise RuntimeError(f"no Radicale storage folder {folder}")
    for name, ics in make_objects(m):
        (folder / name).write_bytes(ics)


async def request_part(server: DavServer, m: int) -> int:
    """Fill a calendar with m objects and count a quiet reconcile's requests."""
    url = server.make_calendar(f"reconcile-{uuid.uuid4().hex[:8]}")
    fill_storage(server, url, m)
    async with CalendarClient(
        server.base_url,
        server.username,
        server.password,
        calendar_url=url,
        timeout=300.0,
        policy=LOOPBACK,
    ) as client:
        started = time.perf_counter()
        initial = await client.sync_collection(None)
        took = time.perf_counter() - started
        print(f"reconcile over {m} objects (initial sync-collection: {took:.1f}s)")
        if len(initial.changed) != m:
            raise RuntimeError(f"initial sync saw {len(initial.changed)} of {m} objects")
        before = client.request_count
        started = time.perf_counter()
        token, differences = await reconcile(client, initial.token)
        elapsed = time.perf_counter() - started
        count = client.request_count - before
        verdict = "OK" if count <= REQUEST_TARGET and differences == 0 else "OVER TARGET"
        print(
            f"  nothing-changed reconcile: {count} HTTP request(s), {differences} differences, "
            f"{elapsed * 1000:.1f} ms (target <= {REQUEST_TARGET}) {verdict}"
        )
        name = next(iter(initial.changed))
        body, etag = await client.get(name)
        await client.put(name, body.replace(b"SUMMARY:", b"SUMMARY:moved "), etag=etag)
        before = client.request_count
        _, differences = await reconcile(client, token)
        print(
            f"  one-change reconcile: {client.request_count - before} HTTP request(s), "
            f"{differences} difference(s)"
        )
    return count


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=1000, help="meetings per push round")
    parser.add_argument("--rounds", type=int, default=3, help="push rounds per side")
    parser.add_argument("--reconcile-objects", type=int, default=10_000)
    parser.add_argument("--save-event", action="store_true", help="also time save_event")
    args = parser.parse_args()
    server = DavServer(kind="radicale", username=USERNAME, password=PASSWORD, has_auth=True)
    server.start()
    try:
        await push_part(server, args.objects, args.rounds, args.save_event)
        await request_part(server, args.reconcile_objects)
    finally:
        server.stop()
        server.cleanup()


if __name__ == "__main__":
    asyncio.run(main())
