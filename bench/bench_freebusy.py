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
import contextlib
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


async def _child(
    url: str, associates_total: int, runs: int, http: dict[str, Any] | None
) -> dict[str, Any]:
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
    gql_times, resolver_times, radicale_times = [], [], []
    radicale = _Radicale(http) if http else None
    for _ in range(runs):
        t = time.perf_counter()
        data = await run(FREEBUSY, fb_vars)
        gql_times.append(time.perf_counter() - t)
        if radicale is not None:  # interleaved with ours, run by run
            radicale_times.append(await radicale.round())
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
    if radicale is not None:
        out["radicale_ms"] = _median_ms(radicale_times)
        await radicale.close()  # parses the answers
        out["radicale_answers"] = radicale.answers
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
    for _ in range(3):
        diary = await run(DIARY, d_vars)
        await raw_diary(conn, pg, associates_total)
    ours, raw = [], []
    for _ in range(runs):  # interleaved: both sides under the same load
        t = time.perf_counter()
        json.dumps(await run(DIARY, d_vars))
        ours.append(time.perf_counter() - t)
        t = time.perf_counter()
        await raw_diary(conn, pg, associates_total)
        raw.append(time.perf_counter() - t)
    out["diary_items"] = len(diary["diary"])
    out["diary_raw_items"] = len(json.loads(await raw_diary(conn, pg, associates_total))["rows"])
    out["diary_participants"] = sum(len(f["participants"]) for f in diary["diary"])
    out["diary_ms"] = _median_ms(ours)
    out["diary_raw_ms"] = _median_ms(raw)
    with QueryCounter() as counter:
        await run(DIARY, d_vars)
    out["diary_sql"] = counter.count
    if http is not None:
        out.update(await _over_http(http, viewer, fb_vars, d_vars, runs))

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


class _Radicale:
    """25 sequential free-busy REPORTs on one keep-alive connection."""

    def __init__(self, http: dict[str, Any]) -> None:
        import httpx

        self.urls: dict[str, str] = http["radicale_urls"]
        self.client = httpx.AsyncClient(auth=(USERNAME, PASSWORD), timeout=60.0)
        self.answers: dict[str, Any] = {}

    async def round(self) -> float:
        headers = {"Depth": "1", "Content-Type": "application/xml; charset=utf-8"}
        t = time.perf_counter()
        for key, url in self.urls.items():
            response = await self.client.request("REPORT", url, content=FB_QUERY, headers=headers)
            if response.status_code != 200:
                raise RuntimeError(f"REPORT {url}: {response.status_code} {response.text}")
            self.answers[key] = response.text
        elapsed = time.perf_counter() - t
        return elapsed

    async def close(self) -> None:
        await self.client.aclose()
        self.answers = {k: _busy_periods(v) for k, v in self.answers.items()}


async def _over_http(
    http: dict[str, Any], viewer: Any, fb_vars: dict[str, Any], d_vars: dict[str, Any], runs: int
) -> dict[str, Any]:
    """freeBusy and the diary through the service over HTTP, interleaved run by run with
    25 Radicale REPORTs and with the plain Starlette endpoint over HTTP."""
    import httpx

    from resolvers.auth import create_token

    token = await create_token(viewer, "bench")
    headers = {"Authorization": f"Bearer {token}"}
    radicale = _Radicale(http)
    times: dict[str, list[float]] = {"fb": [], "rad": [], "diary": [], "raw": []}
    async with httpx.AsyncClient(timeout=60.0) as client:

        async def gql(query: str, variables: dict[str, Any]) -> float:
            t = time.perf_counter()
            response = await client.post(
                http["service"], json={"query": query, "variables": variables}, headers=headers
            )
            elapsed = time.perf_counter() - t
            if response.status_code != 200 or "errors" in response.json():
                raise RuntimeError(response.text[:500])
            return elapsed

        async def plain() -> float:
            t = time.perf_counter()
            response = await client.get(http["raw"])
            elapsed = time.perf_counter() - t
            response.raise_for_status()
            return elapsed

        for _ in range(3):
            await gql(FREEBUSY, fb_vars), await gql(DIARY, d_vars), await plain()
        for _ in range(runs):
            times["fb"].append(await gql(FREEBUSY, fb_vars))
            times["rad"].append(await radicale.round())
            times["diary"].append(await gql(DIARY, d_vars))
            times["raw"].append(await plain())
    await radicale.close()
    return {
        "http_freebusy_ms": _median_ms(times["fb"]),
        "http_radicale_ms": _median_ms(times["rad"]),
        "http_diary_ms": _median_ms(times["diary"]),
        "http_raw_diary_ms": _median_ms(times["raw"]),
    }


def _ph(pg: bool, i: int) -> str:
    return f"${i}" if pg else "?"


async def raw_diary(conn: Any, pg: bool, associate: int) -> str:
    """The diary's rows without the service: plain SQL, series expanded with dateutil
    (exceptions and moved or cancelled occurrences applied), participants and owners by
    id, ``json.dumps``.  The same items as GraphQL's ``diary``."""
    from zoneinfo import ZoneInfo

    from dateutil.rrule import rrulestr

    def ph(i: int) -> str:
        return _ph(pg, i)

    lo_p: Any = LO if pg else str(LO)
    hi_p: Any = HI if pg else str(HI)

    def where(first: int) -> str:
        """Singles overlapping the window, or series that may reach into it."""
        hi1, lo1, hi2, lo2 = (ph(first + i) for i in range(4))
        return (
            f"((f.rrule IS NULL AND f.start_at < {hi1} AND f.end_at > {lo1}) OR "
            f"(f.rrule IS NOT NULL AND f.start_at IS NOT NULL AND f.sort_at < {hi2} "
            f"AND (f.series_end IS NULL OR f.series_end > {lo2})))"
        )

    rows = await conn.execute_query_dict(
        f"SELECT f.* FROM followup f WHERE f.owner_id = {ph(1)} AND {where(2)} UNION "
        "SELECT f.* FROM participant p JOIN followup f ON f.id = p.followup_id "
        f"WHERE p.associate_id = {ph(6)} AND p.status <> 'DECLINED' AND {where(7)}",
        [associate, hi_p, lo_p, hi_p, lo_p] * 2,
    )

    def moment(value: Any) -> datetime:
        return value if isinstance(value, datetime) else datetime.fromisoformat(value)

    series_ids = [r["id"] for r in rows if r["rrule"]] or [0]
    marks = ", ".join(ph(i + 1) for i in range(len(series_ids)))
    overrides: dict[tuple[int, datetime], dict[str, Any]] = {}
    for o in await conn.execute_query_dict(
        f"SELECT * FROM occurrence WHERE series_id IN ({marks})", series_ids
    ):
        overrides[(o["series_id"], moment(o["recurrence_id"]).astimezone(UTC))] = o
    items: list[dict[str, Any]] = []
    for r in rows:
        start, end = moment(r["start_at"]), moment(r["end_at"])
        if not r["rrule"]:
            items.append({**r, "start_at": start, "end_at": end})
            continue
        length = end - start
        zone = ZoneInfo(r["tzid"] or "UTC")
        rule = rrulestr(r["rrule"], dtstart=start.astimezone(zone), cache=False)
        skipped = {moment(x).astimezone(UTC) for x in (json.loads(r["exdates"] or "[]")
                   if isinstance(r["exdates"], str) else r["exdates"] or [])}  # fmt: skip
        for at in rule.between(LO - length, HI, inc=False):
            rid = at.astimezone(UTC)
            if rid in skipped:
                continue
            o = overrides.get((r["id"], rid))
            if o is not None:
                if o["cancelled"]:
                    continue
                s2 = moment(o["start_at"]) if o["start_at"] else rid
                e2 = moment(o["end_at"]) if o["end_at"] else s2 + length
                items.append({**r, "start_at": s2, "end_at": e2, "recurrence_id": rid})
            elif rid + length > LO:
                items.append({**r, "start_at": rid, "end_at": rid + length, "recurrence_id": rid})
    items.sort(key=lambda i: (i["start_at"], i["id"]))
    ids = sorted({r["id"] for r in rows}) or [0]
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
    return json.dumps({"rows": items, "participants": parts, "owners": names}, default=str)


def _raw_server(url: str, associate: int, port: int) -> None:
    """The plain Starlette endpoint over HTTP (its own process): ``raw_diary`` as JSON."""
    import uvicorn
    from starlette.applications import Starlette
    from starlette.responses import Response
    from starlette.routing import Route
    from tortoise.connection import get_connection

    from orm import db as orm_db

    async def endpoint(_: Any) -> Response:
        body = await raw_diary(get_connection("default"), not url.startswith("sqlite"), associate)
        return Response(body, media_type="application/json")

    @contextlib.asynccontextmanager
    async def lifespan(_: Any) -> Any:
        await orm_db.connect(url)
        yield
        await orm_db.close()

    app = Starlette(routes=[Route("/diary", endpoint)], lifespan=lifespan)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


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


def measure(url: str, n: int, runs: int, http: dict[str, Any] | None = None) -> dict[str, Any]:
    """Run the child measurement in a fresh process (clean RSS); return its results."""
    args = [sys.executable, str(Path(__file__).resolve()), "--child", url]
    args += ["--child-associates", str(_sizes(n).associates), "--runs", str(runs)]
    if http is not None:
        args += ["--child-http", json.dumps(http)]
    proc = subprocess.run(args, capture_output=True, text=True, cwd=ROOT, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"child failed:\n{proc.stderr[-4000:]}")
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def http_servers(
    url: str, n: int, raw_command: list[str] | None = None, raw_path: str = "/diary"
) -> Any:
    """``followups serve`` and a plain Starlette endpoint on loopback for one database
    (this bench's diary unless ``raw_command``, which gets ``--port``, serves ``raw_path``)."""
    import httpx

    service_port, raw_port = _free_port(), _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RATE_LIMIT", "DATABASE_"))}
    env.update(
        DATABASE_URL=url, PORT=str(service_port), HOST="127.0.0.1", SECRET_KEY="k" * 32,
        RATE_LIMIT_PER_MINUTE="1000000", RATE_LIMIT_BURST="1000000", IMAP_WORKER="false",
    )  # fmt: skip
    procs = [
        subprocess.Popen([str(ROOT / ".venv/bin/followups"), "serve"], env=env, cwd=ROOT,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
        subprocess.Popen((raw_command or [sys.executable, str(Path(__file__).resolve()),
                          "--raw-server", url, "--child-associates", str(_sizes(n).associates)])
                         + ["--port", str(raw_port)], cwd=ROOT),
    ]  # fmt: skip
    service = f"http://127.0.0.1:{service_port}"
    raw = f"http://127.0.0.1:{raw_port}{raw_path}"
    try:
        for probe in (service + "/health", raw):
            for _ in range(300):
                try:
                    if httpx.get(probe, timeout=5).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                time.sleep(0.1)
            else:
                raise RuntimeError(f"{probe} did not start")
        yield {"service": service + "/graphql", "raw": raw}
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(20)


def spread(values: list[float], digits: int = 2) -> str:
    """min / median / max of per-pass values."""
    if not values:
        return "n/a"
    f = f"{{:.{digits}f}}"
    low, mid, high = min(values), statistics.median(values), max(values)
    return f"{f.format(low)} / {f.format(mid)} / {f.format(high)}"


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
    parser.add_argument("--passes", type=int, default=3, help="interleaved measurements")
    parser.add_argument("--keep", action="store_true", help="keep (and reuse) scratch databases")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--child-associates", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--child-http", help=argparse.SUPPRESS)
    parser.add_argument("--raw-server", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.raw_server:
        _raw_server(args.raw_server, args.child_associates, args.port)
        return
    if args.child:
        http = json.loads(args.child_http) if args.child_http else None
        result = asyncio.run(_child(args.child, args.child_associates, args.runs, http))
        print(json.dumps(result))
        return

    from tests.sync.servers import DavServer

    sizes = [int(s) for s in args.sizes.split(",")]
    engines = args.engines.split(",")
    passes: dict[tuple[str, int], list[dict[str, Any]]] = {}
    made: list[tuple[str, int]] = []
    server = DavServer("radicale", USERNAME, PASSWORD, has_auth=True)
    try:
        urls_by = {}
        for engine in engines:
            for n in sizes:
                urls_by[(engine, n)], fresh = dataset(engine, n, args.keep)
                if fresh:
                    made.append((engine, n))
        big = max(sizes)
        events = measure(urls_by[(engines[0], big)], big, 1)["events"]
        server.start()
        radicale_urls = load_radicale(server, events)
        print(f"  Radicale holds {sum(len(v) for v in events.values())} events", flush=True)
        # Every pass measures every database; within a pass each ratio's two sides are
        # measured run by run alternately in one child process, so load from elsewhere
        # on the machine falls on both sides.  Ratios are per pass; min/median/max shown.
        for i in range(args.passes):
            for engine in engines:
                for n in sizes:
                    with http_servers(urls_by[(engine, n)], n) as http:
                        r = measure(
                            urls_by[(engine, n)], n, args.runs,
                            {**http, "radicale_urls": radicale_urls},
                        )  # fmt: skip
                    passes.setdefault((engine, n), []).append(r)
                    print(
                        f"  pass {i + 1} {engine} {_label(n)}: freeBusy {r['freebusy_ms']:.2f} ms"
                        f" vs Radicale {r['radicale_ms']:.1f} ms; over HTTP "
                        f"{r['http_freebusy_ms']:.2f} vs {r['http_radicale_ms']:.1f} ms; diary "
                        f"{r['diary_ms']:.2f} vs raw {r['diary_raw_ms']:.2f} ms "
                        f"({r['diary_items']} vs {r['diary_raw_items']} items), over HTTP "
                        f"{r['http_diary_ms']:.2f} vs {r['http_raw_diary_ms']:.2f} ms",
                        flush=True,
                    )
    finally:
        server.stop()
        server.cleanup()
        if not args.keep:
            for engine, n in made or [(e, n) for e in engines for n in sizes]:
                drop(engine, n)

    small = min(sizes)
    print()
    print(
        f"Free/busy 20 associates + 5 rooms, 14 days; diary of one associate, 14 days. "
        f"Per pass the median of {args.runs} alternating runs; cells are min / median / max "
        f"over {args.passes} passes."
    )
    print()
    print("| measure | target | " + " | ".join(engines) + " |")
    print("|---|---|" + "---|" * len(engines))

    def row(name: str, target: str, cells: list[str]) -> None:
        print(f"| {name} | {target} | " + " | ".join(cells) + " |")

    def ratios(engine: str, n: int, top: str, bottom: str) -> list[float]:
        return [p[top] / p[bottom] for p in passes[(engine, n)]]

    def values(engine: str, n: int, key: str) -> list[float]:
        return [p[key] for p in passes[(engine, n)]]

    for n in sizes:
        label = _label(n)
        row(
            f"freeBusy in-process at {label}, ms",
            "",
            [spread(values(e, n, "freebusy_ms")) for e in engines],
        )
        row(
            f"freeBusy / 25 Radicale REPORTs at {label} (Radicale over HTTP)",
            f"<= {TARGET_RADICALE:.3f}",
            [spread(ratios(e, n, "freebusy_ms", "radicale_ms"), 4) for e in engines],
        )
        row(
            f"freeBusy over HTTP / Radicale over HTTP at {label}",
            f"<= {TARGET_RADICALE:.3f}",
            [spread(ratios(e, n, "http_freebusy_ms", "http_radicale_ms"), 4) for e in engines],
        )
        row(
            f"diary in-process / raw SQL + series + JSON at {label}",
            "",
            [spread(ratios(e, n, "diary_ms", "diary_raw_ms")) for e in engines],
        )
        row(
            f"diary over HTTP / plain Starlette over HTTP at {label}",
            "<= 2.5",
            [spread(ratios(e, n, "http_diary_ms", "http_raw_diary_ms")) for e in engines],
        )
        row(
            f"diary over HTTP at {label}, ms",
            "",
            [spread(values(e, n, "http_diary_ms")) for e in engines],
        )
    if small != big:
        for key, name in (("freebusy_ms", "freeBusy"), ("diary_ms", "diary")):
            row(
                f"{name} {_label(big)} / {_label(small)} (pass by pass)",
                f"<= {TARGET_SCALING}",
                [
                    spread(
                        [
                            b[key] / s[key]
                            for b, s in zip(passes[(e, big)], passes[(e, small)], strict=True)
                        ]
                    )
                    for e in engines
                ],
            )
    first = [passes[(e, big)][0] for e in engines]
    row(
        "Radicale answers agree with ours",
        "yes",
        ["yes" if agree(r["freebusy"], r["radicale_answers"]) else "NO" for r in first],
    )
    row(
        "items: diary / raw baseline",
        "equal",
        [f"{r['diary_items']} / {r['diary_raw_items']}" for r in first],
    )
    row(
        f"peak RSS above idle, {_label(big)} freeBusy (worst pass)",
        f"<= {TARGET_MEMORY_MB} MB",
        [f"{max(values(e, big, 'rss_peak_above_idle_mb')):.1f} MB" for e in engines],
    )
    row(
        "SQL statements per freeBusy / diary",
        "constant",
        [f"{r['freebusy_sql']} / {r['diary_sql']}" for r in first],
    )
    row(
        "trivial query `{ __typename }` in-process, ms",
        f"<= {TARGET_TRIVIAL_MS}",
        [spread(values(e, big, "trivial_ms"), 3) for e in engines],
    )


if __name__ == "__main__":
    main()
