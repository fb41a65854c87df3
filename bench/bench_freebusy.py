"""Benchmark (issue 4): free/busy on 100k and 1M follow-ups, SQLite and PostgreSQL.

For each engine a scratch database per size is built by ``bench/gen_data.py`` (100k:
200 associates and 20 rooms; 1M: 2,000 associates and 200 rooms; same density per
calendar, so only the table sizes differ).  A fresh child process per database measures,
through the real code path:

* ``freeBusy`` for 20 associates and 5 rooms over 14 days, the GraphQL schema executed
  in-process (``schema.execute``), and the resolver alone (``busy_times`` + ``merge``);
* its SQL statement count, and peak RSS above the idle process (``VmHWM`` after
  ``clear_refs``; idle = connected, imports done, one trivial query answered);
* the diary of one associate over two weeks (~50 items with participants) against the
  raw SQL of the same rows plus ``json.dumps``;
* a trivial query (``{ __typename }``) in-process.

The baseline is a Radicale (from PyPI) started on loopback holding the same 25
calendars' events of that window (one VEVENT per busy interval, tentative ones with
``STATUS:TENTATIVE``, written straight into its storage folder), asked with 25 CalDAV
``free-busy-query`` REPORTs (RFC 4791 section 7.10) on one keep-alive connection; its
merged BUSY periods are checked against ours.  Medians over ``--runs``.

Run from the repository root:  .venv/bin/python bench/bench_freebusy.py
(``--keep`` keeps the scratch databases for the next run, ``--sizes 100000`` for a quick
look; PostgreSQL is 127.0.0.1:5432 as in the test suite, env ``TEST_POSTGRES_URL``.)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
for _path in (ROOT, ROOT / "bench"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

import gen_data  # noqa: E402

POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test")
SCRATCH = Path(os.environ.get("BENCH_SCRATCH", "/tmp/followups-bench"))
LO = gen_data.NOW
HI = gen_data.NOW + timedelta(days=14)
ASSOCIATES = list(range(1, 21))
RESOURCES = list(range(1, 6))
USERNAME, PASSWORD = "bench", "bench-pw"

TARGET_RADICALE = 1 / 50
TARGET_SCALING = 1.5
TARGET_MEMORY_MB = 50
TARGET_DIARY = 4.0
TARGET_TRIVIAL_MS = 1.0

FREEBUSY = """query($a: [ID!], $r: [ID!], $from: DateTime!, $to: DateTime!) {
  freeBusy(associateIds: $a, resourceIds: $r, from: $from, to: $to) { kind id busy tentative }
}"""
DIARY = """query($ids: [ID!]!, $from: DateTime!, $to: DateTime!) {
  diary(associateIds: $ids, from: $from, to: $to) {
    id kind title start end redacted location owner { name }
    participants { status organiser associate { name } person { fullName } }
  }
}"""
TRIVIAL = "{ __typename }"


# ----------------------------------------------------------------------------- child


def _rss_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(field)


def _median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


async def _child(url: str, associates_total: int, runs: int) -> dict[str, Any]:
    import gc

    from tortoise.connection import get_connection

    from config.settings import Settings
    from orm import db as orm_db
    from orm import models as m
    from resolvers import availability
    from resolvers.context import Context
    from schema import schema
    from schema.ids import encode
    from tests.helpers import QueryCounter

    await orm_db.connect(url)
    settings = Settings(database_url=url, debug=False)
    viewer = await m.Associate.get(id=associates_total)

    async def run(query: str, variables: dict[str, Any] | None = None) -> Any:
        result = await schema.execute(
            query, variable_values=variables, context_value=Context(viewer, settings)
        )
        if result.errors:
            raise RuntimeError(result.errors)
        return result.data

    await run(TRIVIAL)
    gc.collect()
    idle_kb = _rss_kb("VmRSS")
    Path("/proc/self/clear_refs").write_text("5")  # peak RSS := current RSS
    fb_vars = {
        "a": [encode("Associate", a) for a in ASSOCIATES],
        "r": [encode("Resource", r) for r in RESOURCES],
        "from": LO.isoformat(),
        "to": HI.isoformat(),
    }
    out: dict[str, Any] = {}
    for _ in range(3):
        data = await run(FREEBUSY, fb_vars)
    gql_times, resolver_times = [], []
    for _ in range(runs):
        t = time.perf_counter()
        data = await run(FREEBUSY, fb_vars)
        gql_times.append(time.perf_counter() - t)
        t = time.perf_counter()
        busy = await availability.busy_times(
            ASSOCIATES, RESOURCES, [], LO, HI, settings.max_occurrences_per_series
        )
        for key in [(availability.Entity.ASSOCIATE, a) for a in ASSOCIATES] + [
            (availability.Entity.RESOURCE, r) for r in RESOURCES
        ]:
            hard, soft = availability.merge(busy.get(key, []))
            availability.clip(hard, LO, HI)
            availability.clip(soft, LO, HI)
        resolver_times.append(time.perf_counter() - t)
    peak_kb = _rss_kb("VmHWM")
    out["freebusy_ms"] = _median_ms(gql_times)
    out["freebusy_resolver_ms"] = _median_ms(resolver_times)
    out["rss_idle_mb"] = idle_kb / 1024
    out["rss_peak_above_idle_mb"] = (peak_kb - idle_kb) / 1024
    out["freebusy"] = data["freeBusy"]
    out["intervals"] = sum(len(v) for v in busy.values())
    out["events"] = {
        f"{key[0].value.lower()}-{key[1]}": [
            (b.start.isoformat(), b.end.isoformat(), b.tentative, b.followup_id) for b in items
        ]
        for key, items in busy.items()
    }
    with QueryCounter() as counter:
        await run(FREEBUSY, fb_vars)
    out["freebusy_sql"] = counter.count

    # diary: one associate, two weeks, ~50 items with participants
    d_vars = {"ids": [encode("Associate", associates_total)], **fb_vars}
    del d_vars["a"], d_vars["r"]
    conn = get_connection("default")
    pg = not url.startswith("sqlite")

    def ph(i: int) -> str:
        return f"${i}" if pg else "?"

    lo_p: Any = LO if pg else str(LO)
    hi_p: Any = HI if pg else str(HI)
    window = (
        "f.start_at < {hi} AND (f.end_at > {lo} OR (f.rrule IS NOT NULL AND "
        "(f.series_end IS NULL OR f.series_end > {lo2})))"
    )
    q_rows = (
        "SELECT f.* FROM followup f WHERE f.owner_id = {a} AND "
        + window
        + " UNION SELECT f.* FROM participant p JOIN followup f ON f.id = p.followup_id "
        "WHERE p.associate_id = {a2} AND p.status <> 'DECLINED' AND "
        + window.replace("{hi}", "{hi2}").replace("{lo}", "{lo3}").replace("{lo2}", "{lo4}")
    ).format(a=ph(1), hi=ph(2), lo=ph(3), lo2=ph(4), a2=ph(5), hi2=ph(6), lo3=ph(7), lo4=ph(8))
    q_params = [associates_total, hi_p, lo_p, lo_p] * 2

    async def raw_diary() -> str:
        rows = await conn.execute_query_dict(q_rows, q_params)
        ids = [r["id"] for r in rows] or [0]
        marks = ", ".join(ph(i + 1) for i in range(len(ids)))
        parts = await conn.execute_query_dict(
            "SELECT p.followup_id, p.status, p.organiser, a.name AS associate_name, "
            "pe.first_name, pe.last_name FROM participant p "
            "LEFT JOIN associate a ON a.id = p.associate_id "
            f"LEFT JOIN person pe ON pe.id = p.person_id WHERE p.followup_id IN ({marks})",
            ids,
        )
        owners = sorted({r["owner_id"] for r in rows}) or [0]
        marks = ", ".join(ph(i + 1) for i in range(len(owners)))
        names = await conn.execute_query_dict(
            f"SELECT id, name FROM associate WHERE id IN ({marks})", owners
        )
        return json.dumps({"rows": rows, "participants": parts, "owners": names}, default=str)

    for _ in range(3):
        diary = await run(DIARY, d_vars)
        await raw_diary()
    ours, raw = [], []
    for _ in range(runs):
        t = time.perf_counter()
        json.dumps(await run(DIARY, d_vars))
        ours.append(time.perf_counter() - t)
        t = time.perf_counter()
        await raw_diary()
        raw.append(time.perf_counter() - t)
    out["diary_items"] = len(diary["diary"])
    out["diary_participants"] = sum(len(f["participants"]) for f in diary["diary"])
    out["diary_ms"] = _median_ms(ours)
    out["diary_raw_ms"] = _median_ms(raw)
    with QueryCounter() as counter:
        await run(DIARY, d_vars)
    out["diary_sql"] = counter.count

    trivial = []
    for _ in range(50):
        await run(TRIVIAL)
    for _ in range(1000):
        t = time.perf_counter()
        await run(TRIVIAL)
        trivial.append(time.perf_counter() - t)
    out["trivial_ms"] = _median_ms(trivial)
    await orm_db.close()
    return out


# ----------------------------------------------------------------------------- datasets


def _sizes(n: int) -> gen_data.Sizes:
    return gen_data.Sizes(n, max(25, n // 500), max(5, n // 5000))


def _label(n: int) -> str:
    return f"{n // 1_000_000}m" if n % 1_000_000 == 0 else f"{n // 1000}k"


async def _pg_admin(sql: str) -> Any:
    import asyncpg

    conn = await asyncpg.connect(POSTGRES_URL.replace("postgres://", "postgresql://"))
    try:
        return await conn.fetch(sql)
    finally:
        await conn.close()


def dataset(engine: str, n: int, keep: bool) -> tuple[str, bool]:
    """The URL of a filled scratch database (reused when ``keep`` and complete)."""
    SCRATCH.mkdir(parents=True, exist_ok=True)
    name = f"followups_bench_{_label(n)}"
    marker = SCRATCH / f"{engine}-{name}.done"
    if engine == "sqlite":
        path = SCRATCH / f"{name}.sqlite3"
        url = f"sqlite://{path}"
        if keep and marker.exists() and path.exists():
            return url, False
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    else:
        url = POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"
        exists = asyncio.run(_pg_admin(f"SELECT 1 FROM pg_database WHERE datname = '{name}'"))
        if keep and marker.exists() and exists:
            return url, False
        asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    marker.unlink(missing_ok=True)
    started = time.perf_counter()
    counts = asyncio.run(gen_data.build(url, _sizes(n)))
    marker.write_text(json.dumps(counts))
    print(
        f"  generated {engine} {_label(n)}: {counts['followup']:,} follow-ups, "
        f"{counts['participant']:,} participants, {counts['resource_booking']:,} bookings "
        f"in {time.perf_counter() - started:.0f}s",
        flush=True,
    )
    return url, True


def drop(engine: str, n: int) -> None:
    name = f"followups_bench_{_label(n)}"
    (SCRATCH / f"{engine}-{name}.done").unlink(missing_ok=True)
    if engine == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(f"{SCRATCH / name}.sqlite3{suffix}").unlink(missing_ok=True)
    else:
        asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def measure(url: str, n: int, runs: int) -> dict[str, Any]:
    """Run the child measurement in a fresh process (clean RSS); return its results."""
    args = [sys.executable, str(Path(__file__).resolve()), "--child", url]
    args += ["--child-associates", str(_sizes(n).associates), "--runs", str(runs)]
    proc = subprocess.run(args, capture_output=True, text=True, cwd=ROOT, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"child failed:\n{proc.stderr[-4000:]}")
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def _best(old: dict[str, Any] | None, new: dict[str, Any]) -> dict[str, Any]:
    if old is None:
        return new
    out = dict(new)
    for key, value in old.items():
        if key.endswith("_ms"):
            out[key] = min(value, new[key])
        elif key.startswith("rss_peak"):
            out[key] = max(value, new[key])
    return out


# ----------------------------------------------------------------------------- Radicale


def _stamp(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _vevent(uid: str, start: str, end: str, tentative: bool) -> bytes:
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//followups//bench//EN",
        "BEGIN:VEVENT",
        f"UID:{uid}",
        "DTSTAMP:20261201T000000Z",
        f"DTSTART:{_stamp(datetime.fromisoformat(start))}",
        f"DTEND:{_stamp(datetime.fromisoformat(end))}",
        "SUMMARY:Busy",
        "TRANSP:OPAQUE",
        f"STATUS:{'TENTATIVE' if tentative else 'CONFIRMED'}",
        "END:VEVENT",
        "END:VCALENDAR",
        "",
    ]
    return "\r\n".join(lines).encode()


def load_radicale(server: Any, events: dict[str, list[Any]]) -> dict[str, str]:
    """One calendar per entity with its window events; returns entity -> calendar URL."""
    urls = {}
    keys = [f"associate-{a}" for a in ASSOCIATES] + [f"resource-{r}" for r in RESOURCES]
    for key in keys:
        url = server.make_calendar(key)
        folder = server.workdir / "collections" / "collection-root" / server.username / key
        for i, (start, end, tentative, fid) in enumerate(events.get(key, [])):
            uid = f"{fid}-{i}@followups.bench"
            (folder / f"{fid}-{i}.ics").write_bytes(_vevent(uid, start, end, tentative))
        urls[key] = url
    return urls


FB_QUERY = (
    '<?xml version="1.0" encoding="utf-8" ?>'
    '<C:free-busy-query xmlns:C="urn:ietf:params:xml:ns:caldav">'
    f'<C:time-range start="{_stamp(LO)}" end="{_stamp(HI)}"/></C:free-busy-query>'
)


def _busy_periods(text: str) -> tuple[list[str], list[str]]:
    """Merged BUSY and BUSY-TENTATIVE periods of a VFREEBUSY answer, 'start/end' (UTC)."""
    from resolvers.availability import subtract, union

    found: dict[str, list[tuple[datetime, datetime]]] = {"BUSY": [], "BUSY-TENTATIVE": []}
    for line in text.replace("\r\n ", "").splitlines():
        if not line.startswith("FREEBUSY"):
            continue
        head, _, value = line.partition(":")
        kind = "BUSY-TENTATIVE" if "BUSY-TENTATIVE" in head else "BUSY"
        for period in value.split(","):
            start, _, end = period.partition("/")
            s = datetime.strptime(start, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
            e = datetime.strptime(end, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
            found[kind].append((s, e))
    busy = union(found["BUSY"])
    tentative = subtract(union(found["BUSY-TENTATIVE"]), busy)

    def fmt(pairs: list[tuple[datetime, datetime]]) -> list[str]:
        return ["/".join(v.strftime("%Y-%m-%dT%H:%M:%SZ") for v in p) for p in pairs]

    return fmt(busy), fmt(tentative)


def radicale_round(server: Any, urls: dict[str, str], runs: int) -> tuple[float, dict[str, Any]]:
    """Median seconds of 25 sequential free-busy REPORTs; the last answers by entity."""
    import httpx

    headers = {"Depth": "1", "Content-Type": "application/xml; charset=utf-8"}
    answers: dict[str, Any] = {}
    times = []
    with httpx.Client(auth=server.auth(), timeout=60.0) as http:

        def once() -> None:
            for key, url in urls.items():
                response = http.request("REPORT", url, content=FB_QUERY, headers=headers)
                if response.status_code != 200:
                    raise RuntimeError(f"REPORT {url}: {response.status_code} {response.text}")
                answers[key] = _busy_periods(response.text)

        for _ in range(3):
            once()
        for _ in range(runs):
            t = time.perf_counter()
            once()
            times.append(time.perf_counter() - t)
    return statistics.median(times), answers


def agree(ours: list[dict[str, Any]], theirs: dict[str, Any]) -> bool:
    from strawberry import relay

    for item in ours:
        key = relay.GlobalID.from_id(item["id"]).node_id
        name = f"{item['kind'].lower()}-{key}"
        if (item["busy"], item["tentative"]) != tuple(theirs[name]):
            print(f"  ! {name}: ours {item['busy'][:3]}... Radicale {theirs[name][0][:3]}...")
            return False
    return True


# ----------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engines", default="sqlite,postgres")
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--passes", type=int, default=2, help="interleaved measurements")
    parser.add_argument("--keep", action="store_true", help="keep (and reuse) scratch databases")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--child-associates", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        result = asyncio.run(_child(args.child, args.child_associates, args.runs))
        print(json.dumps(result))
        return

    from tests.sync.servers import DavServer

    sizes = [int(s) for s in args.sizes.split(",")]
    engines = args.engines.split(",")
    results: dict[tuple[str, int], dict[str, Any]] = {}
    made: list[tuple[str, int]] = []
    server = DavServer("radicale", USERNAME, PASSWORD, has_auth=True)
    try:
        urls_by = {}
        for engine in engines:
            for n in sizes:
                urls_by[(engine, n)], fresh = dataset(engine, n, args.keep)
                if fresh:
                    made.append((engine, n))
        # passes interleave the databases, so load from elsewhere on the machine falls on
        # all of them; each timing keeps its best median, memory its worst peak
        for _ in range(args.passes):
            for engine in engines:
                for n in sizes:
                    r = measure(urls_by[(engine, n)], n, args.runs)
                    results[(engine, n)] = _best(results.get((engine, n)), r)
                    print(
                        f"  {engine} {_label(n)}: freeBusy {r['freebusy_ms']:.2f} ms "
                        f"(resolver {r['freebusy_resolver_ms']:.2f} ms, {r['intervals']} "
                        f"intervals, {r['freebusy_sql']} SQL), diary {r['diary_ms']:.2f} ms "
                        f"vs raw {r['diary_raw_ms']:.2f} ms ({r['diary_items']} items), "
                        f"peak +{r['rss_peak_above_idle_mb']:.1f} MB",
                        flush=True,
                    )
        big = max(sizes)
        server.start()
        urls = load_radicale(server, results[(engines[0], big)]["events"])
        radicale_s, answers = radicale_round(server, urls, args.runs)
        events = sum(len(v) for v in results[(engines[0], big)]["events"].values())
        print(f"  Radicale: 25 REPORTs {radicale_s * 1000:.1f} ms ({events} events)")
    finally:
        server.stop()
        server.cleanup()
        if not args.keep:
            for engine, n in made or [(e, n) for e in engines for n in sizes]:
                drop(engine, n)

    small = min(sizes)
    print()
    print(f"Free/busy, 20 associates + 5 rooms, 14 days; medians of {args.runs} runs.")
    print()
    print("| measure | target | " + " | ".join(engines) + " |")
    print("|---|---|" + "---|" * len(engines))

    def row(name: str, target: str, cells: list[str]) -> None:
        print(f"| {name} | {target} | " + " | ".join(cells) + " |")

    big_r = [results[(e, big)] for e in engines]
    row(
        f"freeBusy (GraphQL in-process) at {_label(big)}",
        "",
        [f"{r['freebusy_ms']:.2f} ms" for r in big_r],
    )
    row("25 free-busy REPORTs on Radicale", "", [f"{radicale_s * 1000:.1f} ms"] * len(engines))
    row(
        "ours / Radicale",
        f"<= {TARGET_RADICALE:.3f} (1/50)",
        [
            f"{r['freebusy_ms'] / 1000 / radicale_s:.4f} "
            f"(1/{radicale_s * 1000 / r['freebusy_ms']:.0f})"
            for r in big_r
        ],
    )
    row(
        "Radicale answers agree with ours",
        "yes",
        ["yes" if agree(r["freebusy"], answers) else "NO" for r in big_r],
    )
    if small != big:
        row(
            f"freeBusy {_label(big)} / {_label(small)}",
            f"<= {TARGET_SCALING}",
            [
                f"{results[(e, big)]['freebusy_ms'] / results[(e, small)]['freebusy_ms']:.2f} "
                f"({results[(e, small)]['freebusy_ms']:.2f} -> "
                f"{results[(e, big)]['freebusy_ms']:.2f} ms)"
                for e in engines
            ],
        )
    row(
        f"peak RSS above idle, {_label(big)} freeBusy",
        f"<= {TARGET_MEMORY_MB} MB",
        [f"{r['rss_peak_above_idle_mb']:.1f} MB" for r in big_r],
    )
    row(
        "SQL statements per freeBusy (10/100/1,000 items: tests)",
        "constant",
        [f"{r['freebusy_sql']}" for r in big_r],
    )
    row(
        f"diary, 1 associate, 14 days ({big_r[0]['diary_items']} items, "
        f"{big_r[0]['diary_participants']} participants) / raw SQL + JSON",
        f"<= {TARGET_DIARY}",
        [
            f"{r['diary_ms'] / r['diary_raw_ms']:.2f} ({r['diary_ms']:.2f} / "
            f"{r['diary_raw_ms']:.2f} ms, {r['diary_sql']} SQL)"
            for r in big_r
        ],
    )
    row(
        "trivial query `{ __typename }` in-process",
        f"<= {TARGET_TRIVIAL_MS} ms",
        [f"{r['trivial_ms']:.3f} ms" for r in big_r],
    )


if __name__ == "__main__":
    main()
