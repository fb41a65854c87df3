"""Load benchmark (issue 12): the realistic mix, open loop, on SQLite or PostgreSQL.

1. The data set is ``bench/gen_data.py`` at ``--followups`` (default 100k: 200
   associates, 20 rooms, follow-ups linked to companies, persons, sales and projects),
   built once into a pristine scratch database and copied for every run (a file copy on
   SQLite, ``CREATE DATABASE ... TEMPLATE`` on PostgreSQL), so creates never drift into
   the next run.  ``--users`` associates (default 50) get one API token each.
2. ``followups serve`` on a free loopback port: one process, or ``--processes N`` as
   ``serve --workers N`` (PostgreSQL only) with the limits shared in Redis
   (``REDIS_URL``, default redis://127.0.0.1:6379/0).  The per-associate rate limit is
   out of the way (1,000,000/min); MAX_CONCURRENT_REQUESTS (64) and the per-associate
   cap (8) are the defaults, so overload shows as shed answers (429/503), counted apart.
3. An open-loop generator (aiohttp, this process): request *i* is due at
   ``t0 + i / rate`` and its latency counts from then, so queueing anywhere is never
   hidden.  Each request picks a random user (its own token).  Mix: 40 % diary of the
   user's week, 10 % team diary of 3-5 associates, 15 % activities page (50) of a
   company, 10 % to-do list, 10 % freeBusy of 5-10 associates (30 % with a room) for a
   week, 10 % createFollowUp, 5 % updateFollowUp moving one of the user's meetings (a
   VERSION_CONFLICT is a typed answer, counted apart).  Error = anything else: transport
   error or timeout, a status other than 200/429/503, GraphQL ``errors``, a payload error.

Prints, per offered rate: achieved rate (answers per second), answered (200s), p50/p99/
max over all answers, errors, shed counts, per-kind p50/p99 and server CPU.

    .venv/bin/python bench/bench_load.py --engine postgres --rate 100
    .venv/bin/python bench/bench_load.py --engine sqlite --rate 60
    .venv/bin/python bench/bench_load.py --engine postgres --processes 2 --rate 160
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
for _path in (ROOT, ROOT / "bench"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

import gen_data  # noqa: E402

BIN = ROOT / ".venv" / "bin"
POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test")
SCRATCH = Path(os.environ.get("BENCH_SCRATCH", "/tmp/followups-bench"))
P99_BUDGET_MS = 250.0
TIMEOUT_S = 15.0
CLK_TCK = os.sysconf("SC_CLK_TCK")

DIARY = """query($ids: [ID!]!, $from: DateTime!, $to: DateTime!) {
  diary(associateIds: $ids, from: $from, to: $to) {
    id kind title start end location private redacted version done
    owner { id name } company { id name } person { id fullName } type { name colour }
    participants { status organiser associate { name } person { fullName } }
  }
}"""
ACTIVITIES = """query($company: ID!) {
  activities(companyId: $company, first: 50) {
    totalCount nodes { id kind title start end deadline done owner { name } type { name } }
  }
}"""
TODO = """query { todo(first: 50) { id kind title deadline done company { name } } }"""
FREEBUSY = """query($ids: [ID!], $rooms: [ID!], $from: DateTime!, $to: DateTime!) {
  freeBusy(associateIds: $ids, resourceIds: $rooms, from: $from, to: $to) {
    kind id busy tentative
  }
}"""
PAYLOAD = """followUp { id start end version }
    errors { code message path ... on VersionConflictError { currentVersion } }"""
CREATE = f"""mutation($input: FollowUpInput!) {{
  createFollowUp(input: $input) {{ {PAYLOAD} }}
}}"""
UPDATE = f"""mutation($id: ID!, $version: Int!, $input: FollowUpInput!) {{
  updateFollowUp(id: $id, version: $version, input: $input) {{ {PAYLOAD} }}
}}"""
MIX = (
    ("diary", 0.40),
    ("team", 0.10),
    ("activities", 0.15),
    ("todo", 0.10),
    ("freeBusy", 0.10),
    ("create", 0.10),
    ("update", 0.05),
)
KINDS = tuple(k for k, _ in MIX)
ROOT_FIELD = {"team": "diary", "create": "createFollowUp", "update": "updateFollowUp"}


def gid(type_name: str, key: int) -> str:
    import base64

    return base64.b64encode(f"{type_name}:{key}".encode()).decode()


def ungid(value: str) -> int:
    import base64

    return int(base64.b64decode(value).decode().split(":", 1)[1])


# --------------------------------------------------------------------------- data


def _label(n: int) -> str:
    return f"{n // 1_000_000}m" if n % 1_000_000 == 0 else f"{n // 1000}k"


async def _pg_admin(sql: str) -> Any:
    import asyncpg

    conn = await asyncpg.connect(POSTGRES_URL.replace("postgres://", "postgresql://"))
    try:
        return await conn.fetch(sql)
    finally:
        await conn.close()


def _sizes(n: int) -> gen_data.Sizes:
    return gen_data.Sizes(n, max(25, n // 500), max(5, n // 5000))


def fresh_copy(engine: str, n: int) -> str:
    """A database with the generated data set, copied from a pristine one (built once)."""
    SCRATCH.mkdir(parents=True, exist_ok=True)
    name = f"followups_load_{_label(n)}"
    marker = SCRATCH / f"{engine}-{name}.done"
    if engine == "sqlite":
        pristine = SCRATCH / f"{name}.sqlite3"
        url = f"sqlite://{pristine}"
    else:
        url = POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"
    if not marker.exists():
        if engine == "sqlite":
            for suffix in ("", "-wal", "-shm"):
                Path(f"{pristine}{suffix}").unlink(missing_ok=True)
        else:
            asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
        started = time.perf_counter()
        counts = asyncio.run(gen_data.build(url, _sizes(n)))
        print(f"generated {engine} {_label(n)} in {time.perf_counter() - started:.0f}s: {counts}")
        marker.write_text(json.dumps(counts))
    if engine == "sqlite":
        run = SCRATCH / f"{name}-run.sqlite3"
        for suffix in ("-wal", "-shm"):
            Path(f"{run}{suffix}").unlink(missing_ok=True)
        shutil.copyfile(pristine, run)
        return f"sqlite://{run}"
    asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}_run" WITH (FORCE)'))
    asyncio.run(_pg_admin(f'CREATE DATABASE "{name}_run" TEMPLATE "{name}"'))
    return POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}_run"


async def tokens_and_meetings(url: str, users: int) -> dict[str, Any]:
    """One token per bench user; each user's single meetings near NOW (for updates)."""
    from orm import db
    from orm import models as m
    from resolvers.auth import create_token

    await db.migrate(url)
    await db.close()
    await db.connect(url)
    try:
        associates = await m.Associate.all().order_by("id").limit(users)
        tokens, meetings = {}, {}
        for a in associates:
            tokens[a.id] = f"Bearer {await create_token(a, 'load')}"
            rows = await m.FollowUp.filter(
                owner_id=a.id,
                kind=m.Kind.MEETING,
                rrule=None,
                start_at__gte=gen_data.NOW - timedelta(weeks=4),
                start_at__lt=gen_data.NOW + timedelta(weeks=8),
            ).limit(20)
            meetings[a.id] = [[f.id, f.version, f.start_at.isoformat()] for f in rows]
        companies = await m.Company.all().count()
        rooms = await m.Resource.all().values_list("id", flat=True)
        everyone = await m.Associate.all().values_list("id", flat=True)
    finally:
        await db.close()
    return {
        "tokens": tokens,
        "meetings": meetings,
        "companies": companies,
        "rooms": list(rooms),
        "everyone": list(everyone),
    }


# --------------------------------------------------------------------------- server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpu_seconds(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / CLK_TCK
    return total


class Server:
    def __init__(self, env: dict[str, str], processes: int, log: Path) -> None:
        self.port = free_port()
        self.env = {**env, "PORT": str(self.port), "HOST": "127.0.0.1"}
        self.processes, self.log = processes, log
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/graphql"

    def pids(self) -> list[int]:
        assert self.proc is not None
        found = [self.proc.pid]
        children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
        if children.exists():
            found += [int(p) for p in children.read_text().split()]
        return found

    def start(self) -> None:
        command = [str(BIN / "followups"), "serve", "--workers", str(self.processes)]
        self.proc = subprocess.Popen(
            command, env=self.env, stdout=self.log.open("ab"), stderr=subprocess.STDOUT, cwd=ROOT
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                sys.exit(f"server exited with {self.proc.returncode}; see {self.log}")
            started = self.log.read_text().count("Application startup complete")
            if started >= self.processes:
                return
            time.sleep(0.1)
        sys.exit("server did not start")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


# --------------------------------------------------------------------------- load


@dataclass
class Result:
    kind: str
    outcome: str  # ok, conflict, 429, 503, or an error class
    latency_ms: float


@dataclass
class Phase:
    rate: float
    seconds: float
    results: list[Result] = field(default_factory=list)
    wall: float = 0.0
    server_cpu: float = 0.0
    max_lag_ms: float = 0.0

    def outcomes(self) -> Counter[str]:
        return Counter(r.outcome for r in self.results)

    def errors(self) -> int:
        return sum(1 for r in self.results if r.outcome not in ("ok", "conflict", "429", "503"))

    def shed(self) -> int:
        return sum(1 for r in self.results if r.outcome in ("429", "503"))

    def answered(self) -> int:
        return sum(1 for r in self.results if r.outcome in ("ok", "conflict"))

    def lat(self, kinds: tuple[str, ...] = KINDS) -> list[float]:
        return sorted(r.latency_ms for r in self.results if r.kind in kinds)


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    return values[min(len(values) - 1, max(0, math.ceil(p / 100 * len(values)) - 1))]


class Workload:
    def __init__(self, data: dict[str, Any], rng: random.Random) -> None:
        self.rng = rng
        self.tokens: dict[int, str] = data["tokens"]
        self.users = list(self.tokens)
        self.meetings: dict[int, list[list[Any]]] = data["meetings"]
        self.companies: int = data["companies"]
        self.rooms: list[int] = data["rooms"]
        self.everyone: list[int] = data["everyone"]
        self.created = 0
        self.cumulative = [sum(w for _, w in MIX[: i + 1]) for i in range(len(MIX))]

    def week(self) -> tuple[str, str]:
        offset = 0 if self.rng.random() < 0.6 else self.rng.choice((-2, -1, 1, 2, 3))
        lo = gen_data.NOW + timedelta(weeks=offset)
        return lo.isoformat(), (lo + timedelta(weeks=1)).isoformat()

    def next(self) -> tuple[str, int, dict[str, Any]]:
        """(kind, user, GraphQL body) of the next request."""
        rng, user = self.rng, self.rng.choice(self.users)
        r = rng.random()
        kind = next((k for (k, _), c in zip(MIX, self.cumulative, strict=True) if r < c), "diary")
        if kind == "update" and not self.meetings[user]:
            kind = "create"
        if kind in ("diary", "team"):
            lo, hi = self.week()
            ids = [user]
            if kind == "team":
                others = [a for a in self.everyone if a != user]
                ids += rng.sample(others, rng.randint(2, 4))
            variables = {"ids": [gid("Associate", a) for a in ids], "from": lo, "to": hi}
            return kind, user, {"query": DIARY, "variables": variables}
        if kind == "activities":
            company = gid("Company", rng.randint(1, self.companies))
            return kind, user, {"query": ACTIVITIES, "variables": {"company": company}}
        if kind == "todo":
            return kind, user, {"query": TODO}
        if kind == "freeBusy":
            lo, hi = self.week()
            ids = rng.sample(self.everyone, rng.randint(5, 10))
            rooms = [gid("Resource", rng.choice(self.rooms))] if rng.random() < 0.3 else None
            variables = {"ids": [gid("Associate", a) for a in ids], "rooms": rooms}
            return kind, user, {"query": FREEBUSY, "variables": {**variables, "from": lo, "to": hi}}
        if kind == "create":
            day = gen_data.NOW + timedelta(weeks=rng.randrange(26), days=rng.randrange(5))
            start = day + timedelta(hours=rng.randint(7, 15), minutes=rng.choice((0, 30)))
            self.created += 1
            data: dict[str, Any] = {
                "title": f"Load test meeting {self.created}",
                "start": start.isoformat(),
                "end": (start + timedelta(minutes=rng.choice((30, 60)))).isoformat(),
                "location": "Teams",
                "companyId": gid("Company", rng.randint(1, self.companies)),
            }
            return kind, user, {"query": CREATE, "variables": {"input": data}}
        item = rng.choice(self.meetings[user])
        moved = rng.choice((timedelta(minutes=30), timedelta(hours=-1), timedelta(days=1)))
        start = datetime.fromisoformat(item[2]) + moved
        variables = {
            "id": gid("FollowUp", item[0]),
            "version": item[1],
            "input": {"start": start.isoformat()},
        }
        return kind, user, {"query": UPDATE, "variables": variables, "_item": item}

    def learn(self, kind: str, user: int, body: dict[str, Any], answer: dict[str, Any]) -> str:
        """Classify a 200 answer and keep the meeting versions right."""
        if answer.get("errors"):
            return "graphql_error"
        value = (answer.get("data") or {}).get(ROOT_FIELD.get(kind, kind))
        if kind not in ("create", "update"):
            return "ok" if value is not None else "bad_answer"
        errors, fu = (value or {}).get("errors") or [], (value or {}).get("followUp")
        if kind == "create":
            if errors or not fu:
                return "payload_error"
            self.meetings[user].append([ungid(fu["id"]), fu["version"], fu["start"]])
            return "ok"
        item = body["_item"]
        if errors:
            if errors[0].get("code") == "VERSION_CONFLICT":
                item[1] = max(item[1], errors[0].get("currentVersion") or item[1])
                return "conflict"
            return "payload_error"
        if not fu:
            return "payload_error"
        if fu["version"] >= item[1]:
            item[1], item[2] = fu["version"], fu["start"]
        return "ok"


async def one(
    session: aiohttp.ClientSession,
    url: str,
    work: Workload,
    at: float,
    phase: Phase,
    request: tuple[str, int, dict[str, Any]],
) -> None:
    kind, user, body = request
    loop = asyncio.get_running_loop()
    send = {k: v for k, v in body.items() if not k.startswith("_")}
    headers = {"Authorization": work.tokens[user], "Content-Type": "application/json"}
    try:
        async with session.post(url, data=json.dumps(send), headers=headers) as resp:
            raw, status = await resp.read(), resp.status
        if status == 200:
            outcome = work.learn(kind, user, body, json.loads(raw))
        elif status in (429, 503):
            outcome = str(status)
        else:
            outcome = f"http_{status}"
    except TimeoutError:
        outcome = "timeout"
    except aiohttp.ClientError as exc:
        outcome = type(exc).__name__
    phase.results.append(Result(kind, outcome, (loop.time() - at) * 1000))


async def run_phase(server: Server, work: Workload, rate: float, seconds: float) -> Phase:
    phase = Phase(rate, seconds)
    loop = asyncio.get_running_loop()
    connector = aiohttp.TCPConnector(limit=1000)
    timeout = aiohttp.ClientTimeout(total=TIMEOUT_S)
    pids = server.pids()
    cpu0 = cpu_seconds(pids)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        t0 = loop.time() + 0.05
        tasks = set()
        for i in range(int(rate * seconds)):
            at = t0 + i / rate
            delay = at - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            phase.max_lag_ms = max(phase.max_lag_ms, (loop.time() - at) * 1000)
            task = asyncio.create_task(one(session, server.url, work, at, phase, work.next()))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        if tasks:
            await asyncio.gather(*tasks)
        phase.wall = loop.time() - t0
    phase.server_cpu = cpu_seconds(pids) - cpu0
    return phase


def show(label: str, phase: Phase) -> None:
    every = phase.lat()
    per_kind = "  ".join(
        f"{k} {pct(phase.lat((k,)), 50):.0f}/{pct(phase.lat((k,)), 99):.0f}" for k in KINDS
    )
    oc = phase.outcomes()
    ok = phase.errors() == 0 and pct(every, 99) <= P99_BUDGET_MS and phase.shed() == 0
    print(
        f"{label}: offered {phase.rate:.0f}/s for {phase.seconds:.0f}s; achieved "
        f"{len(phase.results) / phase.wall:.1f}/s, answered {phase.answered() / phase.wall:.1f}/s; "
        f"p50 {pct(every, 50):.0f} ms, p99 {pct(every, 99):.0f} ms, max {every[-1]:.0f} ms; "
        f"errors {phase.errors()}, shed {phase.shed()} (429 {oc['429']}, 503 {oc['503']}), "
        f"version conflicts {oc['conflict']}; {'PASS' if ok else 'MISS'} (p99 <= 250 ms, 0 errors)"
    )
    others = {k: v for k, v in oc.items() if k not in ("ok", "conflict", "429", "503")}
    print(
        f"    p50/p99 ms per kind: {per_kind}; server CPU "
        f"{100 * phase.server_cpu / phase.wall:.0f}% of one core; generator max lag "
        f"{phase.max_lag_ms:.0f} ms{'; errors: ' + str(others) if others else ''}",
        flush=True,
    )


# --------------------------------------------------------------------------- main


async def drive(server: Server, work: Workload, args: argparse.Namespace, label: str) -> None:
    await run_phase(server, work, min(20.0, args.rates[0]), args.warmup)
    for rate in args.rates:
        await asyncio.sleep(2)
        show(label, await run_phase(server, work, rate, args.seconds))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--engine", choices=("sqlite", "postgres"), default="postgres")
    parser.add_argument("--rate", default="100", help="offered req/s; several: 60,80,100")
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--warmup", type=float, default=5)
    parser.add_argument("--followups", type=int, default=100_000)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--processes", type=int, default=1)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    args = parser.parse_args()
    args.rates = [float(r) for r in args.rate.split(",")]
    if args.processes > 1 and args.engine != "postgres":
        sys.exit("--processes above 1 needs --engine postgres")
    url = fresh_copy(args.engine, args.followups)
    data = asyncio.run(tokens_and_meetings(url, args.users))
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("RATE_LIMIT", "MAX_", "SMTP_", "IMAP_", "DATABASE_", "REDIS_"))
    }
    env.update(
        DATABASE_URL=url, DEBUG="false", RATE_LIMIT_PER_MINUTE="1000000",
        RATE_LIMIT_BURST="1000000", IMAP_WORKER="false", SECRET_KEY="k" * 32,
    )  # fmt: skip
    if args.processes > 1:
        env["REDIS_URL"] = args.redis_url
    log = SCRATCH / "load-server.log"
    log.unlink(missing_ok=True)
    server = Server(env, args.processes, log)
    server.start()
    label = (
        f"{args.engine}, {args.processes} process{'es' if args.processes > 1 else ''}, "
        f"{_label(args.followups)}"
    )
    try:
        asyncio.run(drive(server, Workload(data, random.Random(1)), args, label))
    finally:
        server.stop()


if __name__ == "__main__":
    main()
