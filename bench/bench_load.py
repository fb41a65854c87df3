"""Load benchmark (issue 5): uvicorn on this machine, an open-loop generator on loopback.

"A realistic mix (diary week views, free/busy, creating and moving meetings) for 60
seconds at the highest rate it sustains with p99 under 250 ms; report requests/second,
p50/p99 and errors (must be zero), and the peak memory of the server.  Also report it
with 4 times the sustainable rate: the service sheds load with 429/503 and recovers, it
does not fall over."

What it does:

1. A temporary SQLite file: ``followups migrate`` + ``followups demo``, then a seed of
   ``--users`` associates (default 50) with ``--per-user`` follow-ups each (default 300:
   single meetings in working hours over -26..+26 weeks, tasks, calls, 10 % private,
   a quarter of the meetings with 1-3 colleagues invited, 3 weekly series each), 200
   companies with 600 persons, and one API token per associate = per simulated user.
2. ``followups serve`` as a subprocess on a free loopback port (one uvicorn process).
3. An open-loop generator in this process (aiohttp, its own event loop, on the other
   core): request *i* is scheduled at ``t0 + i / rate``; latency is measured from the
   scheduled time, so queueing in the generator or the server is never hidden
   (no coordinated omission).  Each request picks a random user (its own token).
   Mix: 60 % diary week view (70 % own diary, 30 % a team of 3-5), 20 % freeBusy of
   5-10 associates for a week (30 % with a room), 10 % createFollowUp (a meeting),
   10 % updateFollowUp moving one of the user's own meetings (versions tracked from the
   responses; a VersionConflictError is a valid typed answer, counted apart, not an
   error).  Error = anything else: transport error/timeout, HTTP status other than 200,
   GraphQL ``errors``, or a payload error other than VERSION_CONFLICT.
4. Capacity probes (``--probe-seconds``, default 10 s each) stepping the rate up until
   p99 >= 250 ms or any error, against a server with the per-token rate limit out of
   the way; 60 s runs start at 80 % of the best passing probe (a 10 s probe passes
   closer to saturation than 60 s do: there one transient fills the 64 slots and the
   server stays saturated) and step down by 10 % until one passes.
5. A fresh server on the same database with the documented rate limits:
   ``RATE_LIMIT_PER_MINUTE`` = 2 x the per-user share of that rate,
   ``RATE_LIMIT_BURST`` = a fifth of that (the 12 s ratio of the defaults 600/120),
   ``MAX_CONCURRENT_REQUESTS`` = 64 (the default).  Then 60 s at the sustainable rate;
   30 s at 4x; a 5 s pause (clients honour ``Retry-After: 1``); 10 s recovery at the
   sustainable rate.  Server RSS: after start-up, idle after a warm-up, VmHWM per phase
   (reset through /proc/<pid>/clear_refs) and over the life of the process; server CPU
   per phase; items per diary answer (creates go anywhere in the next 26 weeks, so the
   data set does not drift during the run).

Run: ``.venv/bin/python bench/bench_load.py`` (about 8 minutes); ``--rate N`` skips the
probes, ``--quick`` shortens every phase for a smoke test.
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
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
P99_BUDGET_MS = 250.0
TIMEOUT_S = 15.0
MAX_CONNECTIONS = 1000
OVERLOAD_FACTOR = 4
RECOVERY_PAUSE_S = 5.0
CLK_TCK = os.sysconf("SC_CLK_TCK")

# --------------------------------------------------------------------------- ids


def gid(type_name: str, key: int) -> str:
    import base64

    return base64.b64encode(f"{type_name}:{key}".encode()).decode()


def ungid(value: str) -> int:
    import base64

    return int(base64.b64decode(value).decode().split(":", 1)[1])


def monday(d: datetime) -> datetime:
    d = d.replace(hour=0, minute=0, second=0, microsecond=0)
    return d - timedelta(days=d.weekday())


# --------------------------------------------------------------------------- seed


async def seed(database_url: str, users: int, per_user: int) -> dict[str, Any]:
    """Create the data set; return tokens, associate ids and per-user meetings."""
    sys.path.insert(0, str(ROOT))
    from orm import db
    from orm import models as m
    from resolvers import followups
    from resolvers.auth import create_token
    from resolvers.series import parse_spec

    rng = random.Random(5)
    await db.connect(database_url)
    try:
        groups = await m.UserGroup.all()
        types = await m.ActivityType.all()
        meeting_types = [t for t in types if t.default_kind == m.Kind.MEETING]
        rooms = [r.id for r in await m.Resource.filter(kind=m.ResourceKind.ROOM)]
        await m.Company.bulk_create(
            [
                m.Company(name=f"Company {i:03d}", country=rng.choice(("NO", "DK", "SE")))
                for i in range(200)
            ]
        )
        companies = await m.Company.filter(name__startswith="Company ").order_by("id")
        await m.Person.bulk_create(
            [
                m.Person(first_name=f"First{i}", last_name=f"Last{i}", company_id=c.id)
                for c in companies
                for i in range(3)
            ]
        )
        persons = await m.Person.filter(first_name__startswith="First").order_by("id")
        await m.Associate.bulk_create(
            [
                m.Associate(
                    name=f"Bench User {i:02d}",
                    email=f"bench{i:02d}@example.com",
                    group_id=groups[i % len(groups)].id,
                )
                for i in range(users)
            ]
        )
        associates = await m.Associate.filter(name__startswith="Bench User ").order_by("id")
        a_ids = [a.id for a in associates]
        now = datetime.now(UTC)
        base = monday(now) - timedelta(weeks=26)
        rows: list[Any] = []
        for a in associates:
            for _ in range(per_user - 3):
                day = base + timedelta(weeks=rng.randrange(52), days=rng.randrange(5))
                start = day + timedelta(
                    hours=rng.randint(7, 15), minutes=rng.choice((0, 15, 30, 45))
                )
                company = rng.choice(companies) if rng.random() < 0.6 else None
                person = rng.choice(persons) if company is None and rng.random() < 0.3 else None
                common = dict(
                    owner_id=a.id,
                    company_id=company.id if company else None,
                    person_id=person.id if person else None,
                    private=rng.random() < 0.1,
                    uid=f"bench-{len(rows)}@followups",
                    tzid="Europe/Oslo",
                )
                r = rng.random()
                if r < 0.7:
                    end = start + timedelta(minutes=rng.choice((30, 45, 60, 60, 90)))
                    t = rng.choice(meeting_types)
                    rows.append(
                        m.FollowUp(
                            kind=m.Kind.MEETING,
                            title=f"Meeting {len(rows)}",
                            start_at=start,
                            end_at=end,
                            sort_at=start,
                            type_id=t.id,
                            location="Oslo",
                            **common,
                        )
                    )
                elif r < 0.85:
                    rows.append(
                        m.FollowUp(
                            kind=m.Kind.TASK,
                            title=f"Task {len(rows)}",
                            deadline=start,
                            sort_at=start,
                            done=start < now and rng.random() < 0.8,
                            **common,
                        )
                    )
                else:
                    logged = start < now and rng.random() < 0.5
                    rows.append(
                        m.FollowUp(
                            kind=m.Kind.CALL,
                            title=f"Call {len(rows)}",
                            deadline=start,
                            start_at=start if logged else None,
                            end_at=start + timedelta(minutes=15) if logged else None,
                            sort_at=start,
                            **common,
                        )
                    )
        await m.FollowUp.bulk_create(rows, batch_size=1000)
        meetings = await m.FollowUp.filter(
            owner_id__in=a_ids, kind=m.Kind.MEETING, rrule__isnull=True
        ).values("id", "owner_id", "start_at")
        parts: list[Any] = []
        statuses = list(m.ParticipantStatus)
        for row in meetings:
            if rng.random() < 0.25:
                parts.append(
                    m.Participant(
                        followup_id=row["id"],
                        associate_id=row["owner_id"],
                        status=m.ParticipantStatus.ACCEPTED,
                        organiser=True,
                    )
                )
                for other in rng.sample(
                    [x for x in a_ids if x != row["owner_id"]], rng.randint(1, 3)
                ):
                    parts.append(
                        m.Participant(
                            followup_id=row["id"], associate_id=other, status=rng.choice(statuses)
                        )
                    )
        await m.Participant.bulk_create(parts, batch_size=1000)
        for a in associates:
            for day, hour in (("MO", 8), ("WE", 13), ("FR", 15)):
                start = base + timedelta(days=("MO", "TU", "WE", "TH", "FR").index(day), hours=hour)
                await followups.create(
                    a,
                    {
                        "title": f"Weekly {day}",
                        "start_at": start,
                        "end_at": start + timedelta(minutes=30),
                        "recurrence": parse_spec(f"FREQ=WEEKLY;BYDAY={day}", None, [], []),
                    },
                )
        tokens = {a.id: await create_token(a, "bench") for a in associates}
        own: dict[int, list[list[Any]]] = {a: [] for a in a_ids}
        for row in meetings:
            own[row["owner_id"]].append([row["id"], 1, row["start_at"].isoformat()])
        return {
            "associates": a_ids,
            "tokens": {str(k): v for k, v in tokens.items()},
            "meetings": {str(k): v for k, v in own.items()},
            "rooms": rooms,
            "companies": [c.id for c in companies],
            "counts": {
                "followups": await m.FollowUp.all().count(),
                "participants": await m.Participant.all().count(),
                "associates": await m.Associate.all().count(),
            },
        }
    finally:
        await db.close()


# --------------------------------------------------------------------------- server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def proc_status(pid: int) -> dict[str, int]:
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0])  # kB
    return out


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def reset_peak(pid: int) -> bool:
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
        return True
    except OSError:
        return False


class Server:
    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.port = free_port()
        self.env = {**env, "PORT": str(self.port), "HOST": "127.0.0.1"}
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None
        self.lifetime_peak_kb = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [str(BIN / "followups"), "serve", "--port", str(self.port)],
            env=self.env,
            stdout=self.log.open("ab"),
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                sys.exit(f"server exited with {self.proc.returncode}; see {self.log}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                    s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                    if b" 200 " in s.recv(1024):
                        return
            except OSError:
                pass
            time.sleep(0.1)
        sys.exit("server did not start")

    def alive(self) -> bool:
        if self.proc is None or self.proc.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=2) as s:
                s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                return b" 200 " in s.recv(1024)
        except OSError:
            return False

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


# --------------------------------------------------------------------------- load

DIARY = """query($ids: [ID!]!, $from: DateTime!, $to: DateTime!) {
  diary(associateIds: $ids, from: $from, to: $to) {
    id kind title start end location private redacted version done
    owner { id name } company { id name } person { id fullName } type { name colour }
  }
}"""
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
KINDS = ("diary", "freeBusy", "create", "update")


@dataclass
class Result:
    kind: str
    outcome: str  # ok, conflict, 429, 503, or an error class
    latency_ms: float


@dataclass
class Phase:
    name: str
    rate: float
    seconds: float
    results: list[Result] = field(default_factory=list)
    wall: float = 0.0
    max_lag_ms: float = 0.0
    server_cpu: float = 0.0
    client_cpu: float = 0.0
    peak_kb: int = 0
    rss_after_kb: int = 0
    diary_items: float = 0.0

    def outcomes(self) -> Counter[str]:
        return Counter(r.outcome for r in self.results)

    def errors(self, shed_ok: bool = False) -> int:
        allowed = {"ok", "conflict"} | ({"429", "503"} if shed_ok else set())
        return sum(1 for r in self.results if r.outcome not in allowed)

    def lat(self, kinds: tuple[str, ...] = KINDS, only_ok: bool = True) -> list[float]:
        return sorted(
            r.latency_ms
            for r in self.results
            if r.kind in kinds and (not only_ok or r.outcome in ("ok", "conflict"))
        )

    @property
    def achieved(self) -> float:
        return len(self.results) / self.wall if self.wall else 0.0


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    return values[min(len(values) - 1, max(0, math.ceil(p / 100 * len(values)) - 1))]


class Workload:
    def __init__(self, data: dict[str, Any], rng: random.Random) -> None:
        self.rng = rng
        self.associates: list[int] = data["associates"]
        self.tokens = {int(k): f"Bearer {v}" for k, v in data["tokens"].items()}
        self.meetings = {int(k): v for k, v in data["meetings"].items()}
        self.rooms: list[int] = data["rooms"]
        self.companies: list[int] = data["companies"]
        self.this_monday = monday(datetime.now(UTC))
        self.created = 0
        self.diary_rows = 0  # items returned by diary queries: the data set must not drift

    def week(self) -> tuple[str, str]:
        r = self.rng.random()
        if r < 0.5:
            offset = 0
        elif r < 0.8:
            offset = self.rng.choice((-1, 1, 2, -2, 3, 4))
        else:
            offset = self.rng.randint(-26, 25)
        lo = self.this_monday + timedelta(weeks=offset)
        return lo.isoformat(), (lo + timedelta(weeks=1)).isoformat()

    def next(self) -> tuple[str, int, dict[str, Any]]:
        """(kind, user, GraphQL body) of the next request."""
        rng = self.rng
        user = rng.choice(self.associates)
        r = rng.random()
        if r < 0.6:
            lo, hi = self.week()
            ids = [user]
            if rng.random() < 0.3:
                ids += rng.sample([a for a in self.associates if a != user], rng.randint(2, 4))
            variables = {"ids": [gid("Associate", a) for a in ids], "from": lo, "to": hi}
            return "diary", user, {"query": DIARY, "variables": variables}
        if r < 0.8:
            lo, hi = self.week()
            ids = rng.sample(self.associates, rng.randint(5, 10))
            rooms = [gid("Resource", rng.choice(self.rooms))] if rng.random() < 0.3 else None
            variables = {
                "ids": [gid("Associate", a) for a in ids],
                "rooms": rooms,
                "from": lo,
                "to": hi,
            }
            return "freeBusy", user, {"query": FREEBUSY, "variables": variables}
        if r < 0.9 or not self.meetings[user]:
            # anywhere in the next half year, like the seed's density, so that the data set
            # (and the cost of a week view) does not drift during the run
            day = self.this_monday + timedelta(weeks=rng.randrange(26), days=rng.randrange(5))
            start = day + timedelta(hours=rng.randint(7, 15), minutes=rng.choice((0, 30)))
            self.created += 1
            data: dict[str, Any] = {
                "title": f"Load test meeting {self.created}",
                "start": start.isoformat(),
                "end": (start + timedelta(minutes=rng.choice((30, 60)))).isoformat(),
                "location": "Teams",
            }
            if rng.random() < 0.5:
                data["companyId"] = gid("Company", rng.choice(self.companies))
            return "create", user, {"query": CREATE, "variables": {"input": data}}
        item = rng.choice(self.meetings[user])
        start = datetime.fromisoformat(item[2]) + rng.choice(
            (
                timedelta(minutes=30),
                timedelta(hours=-1),
                timedelta(hours=2),
                timedelta(days=1),
                timedelta(days=-1),
            )
        )
        variables = {
            "id": gid("FollowUp", item[0]),
            "version": item[1],
            "input": {"start": start.isoformat()},
        }
        return "update", user, {"query": UPDATE, "variables": variables, "_item": item}

    def learn(self, kind: str, user: int, body: dict[str, Any], answer: dict[str, Any]) -> str:
        """Classify a 200 answer and keep the meeting versions right."""
        if answer.get("errors"):
            return "graphql_error"
        data = answer.get("data") or {}
        if kind in ("diary", "freeBusy"):
            if kind == "diary" and isinstance(data.get(kind), list):
                self.diary_rows += len(data[kind])
            return "ok" if isinstance(data.get(kind), list) else "bad_answer"
        payload = data.get("createFollowUp" if kind == "create" else "updateFollowUp") or {}
        errors = payload.get("errors") or []
        fu = payload.get("followUp")
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
    kind: str,
    user: int,
    body: dict[str, Any],
) -> None:
    loop = asyncio.get_running_loop()
    send = {k: v for k, v in body.items() if not k.startswith("_")}
    try:
        async with session.post(
            url,
            data=json.dumps(send),
            headers={"Authorization": work.tokens[user], "Content-Type": "application/json"},
        ) as resp:
            raw = await resp.read()
            status = resp.status
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


async def run_phase(
    server: Server, work: Workload, name: str, rate: float, seconds: float
) -> Phase:
    phase = Phase(name, rate, seconds)
    rows0 = work.diary_rows
    loop = asyncio.get_running_loop()
    connector = aiohttp.TCPConnector(limit=MAX_CONNECTIONS, force_close=False)
    timeout = aiohttp.ClientTimeout(total=TIMEOUT_S)
    url = server.url + "/graphql"
    server.lifetime_peak_kb = max(server.lifetime_peak_kb, proc_status(server.pid)["VmHWM"])
    reset_peak(server.pid)
    cpu0, ccpu0 = cpu_seconds(server.pid), time.process_time()
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        n = int(rate * seconds)
        t0 = loop.time() + 0.05
        tasks = set()
        for i in range(n):
            at = t0 + i / rate
            delay = at - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            phase.max_lag_ms = max(phase.max_lag_ms, (loop.time() - at) * 1000)
            kind, user, body = work.next()
            task = asyncio.create_task(one(session, url, work, at, phase, kind, user, body))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        if tasks:
            await asyncio.gather(*tasks)
        phase.wall = loop.time() - t0
    phase.server_cpu = cpu_seconds(server.pid) - cpu0
    diaries = sum(1 for r in phase.results if r.kind == "diary" and r.outcome == "ok")
    phase.diary_items = (work.diary_rows - rows0) / max(1, diaries)
    phase.client_cpu = time.process_time() - ccpu0
    status = proc_status(server.pid)
    phase.peak_kb, phase.rss_after_kb = status["VmHWM"], status["VmRSS"]
    server.lifetime_peak_kb = max(server.lifetime_peak_kb, phase.peak_kb)
    return phase


def passes(phase: Phase) -> bool:
    return phase.errors() == 0 and pct(phase.lat(only_ok=False), 99) < P99_BUDGET_MS


def show(phase: Phase, shed_ok: bool = False) -> None:
    every = phase.lat(only_ok=False)
    good = phase.lat()
    oc = phase.outcomes()
    per_kind = "  ".join(
        f"{k} p50/p99 {pct(phase.lat((k,)), 50):.0f}/{pct(phase.lat((k,)), 99):.0f}" for k in KINDS
    )
    print(
        f"  [{phase.name}] target {phase.rate:.0f}/s for {phase.seconds:.0f}s: "
        f"{len(phase.results)} req, {phase.achieved:.1f} req/s; "
        f"p50 {pct(every, 50):.1f} ms, p99 {pct(every, 99):.1f} ms (all answers); "
        f"successful p50 {pct(good, 50):.1f}, p99 {pct(good, 99):.1f} ms; "
        f"errors {phase.errors(shed_ok)}; outcomes {dict(oc)}"
    )
    print(
        f"      {per_kind}; {phase.diary_items:.1f} items per diary; "
        f"generator max lag {phase.max_lag_ms:.0f} ms; "
        f"server CPU {100 * phase.server_cpu / phase.wall:.0f}%, "
        f"generator CPU {100 * phase.client_cpu / phase.wall:.0f}%; "
        f"server peak RSS {phase.peak_kb / 1024:.1f} MiB, "
        f"after {phase.rss_after_kb / 1024:.1f} MiB",
        flush=True,
    )


# --------------------------------------------------------------------------- main


def prepare(tmp: Path, args: argparse.Namespace) -> tuple[dict[str, str], dict[str, Any]]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("RATE_LIMIT", "MAX_", "SMTP_", "DATABASE_URL"))
    }
    env.update(DATABASE_URL=f"sqlite://{tmp / 'bench.sqlite3'}", DEBUG="false")
    for cmd in ("migrate", "demo"):
        subprocess.run(
            [str(BIN / "followups"), cmd], env=env, cwd=ROOT, check=True, stdout=subprocess.DEVNULL
        )
    t = time.monotonic()
    data = asyncio.run(seed(env["DATABASE_URL"], args.users, args.per_user))
    print(
        f"seeded in {time.monotonic() - t:.1f}s: {data['counts']} "
        f"({args.users} bench users with {args.per_user} follow-ups each, one token each)",
        flush=True,
    )
    return env, data


async def probe(server: Server, work: Workload, args: argparse.Namespace) -> float:
    await run_phase(server, work, "warm-up", 20, 5)
    rate, best = args.start_rate, 0.0
    while True:
        phase = await run_phase(server, work, "probe", rate, args.probe_seconds)
        show(phase)
        if not passes(phase):
            break
        best = rate
        rate = rate * args.step
        await asyncio.sleep(2)
    if best == 0:
        sys.exit(f"even {args.start_rate}/s does not pass; lower --start-rate")
    # one finer step between the last pass and the first failure
    mid = round((best + rate) / 2)
    if mid > best:
        await asyncio.sleep(2)
        phase = await run_phase(server, work, "probe", mid, args.probe_seconds)
        show(phase)
        if passes(phase):
            best = mid
    return float(best)


async def main_async(
    args: argparse.Namespace, env: dict[str, str], data: dict[str, Any], tmp: Path
) -> int:
    work = Workload(data, random.Random(1))
    log = tmp / "server.log"
    rate = args.rate
    if not rate:
        print("\n== capacity probes (RATE_LIMIT_PER_MINUTE=1000000, burst 1000000)", flush=True)
        probe_server = Server(
            {**env, "RATE_LIMIT_PER_MINUTE": "1000000", "RATE_LIMIT_BURST": "1000000"}, log
        )
        probe_server.start()
        try:
            rate = await probe(probe_server, work, args)
        finally:
            probe_server.stop()
        # 10 s probes pass closer to saturation than a 60 s run does: near ~90 % CPU one
        # transient (a GC pass, a burst of heavy views) fills the 64 slots and the server
        # stays saturated, with less throughput than before.  Start 60 s runs at 80 %.
        rate = math.floor(rate * 0.8)
        print(f"   60 s runs start at 80 % of the best probe: {rate:.0f} req/s", flush=True)

    users = len(work.associates)
    per_minute = math.ceil(2 * rate / users * 60)  # 2x the per-user share of the rate
    burst = max(1, per_minute // 5)  # 12 s worth, the ratio of the defaults (600/120)
    limits = {
        "RATE_LIMIT_PER_MINUTE": str(per_minute),
        "RATE_LIMIT_BURST": str(burst),
        "MAX_CONCURRENT_REQUESTS": "64",
    }
    print(f"\n== measured server: {limits} ({users} users, one token each)", flush=True)
    server = Server({**env, **limits}, log)
    server.start()
    try:
        time.sleep(1)
        started = proc_status(server.pid)
        await run_phase(server, work, "warm-up", 20, 5)
        await asyncio.sleep(3)
        idle = proc_status(server.pid)["VmRSS"]
        print(
            f"   RSS after start-up {started['VmRSS'] / 1024:.1f} MiB (start-up peak "
            f"{started['VmHWM'] / 1024:.1f} MiB); idle after a 5 s warm-up {idle / 1024:.1f} MiB",
            flush=True,
        )
        main = await run_phase(server, work, "sustained", rate, args.run_seconds)
        show(main)
        for _ in range(3):
            if passes(main):
                break
            rate = math.floor(rate * 0.9)
            print(f"   did not pass; again at {rate}/s", flush=True)
            await asyncio.sleep(3)
            main = await run_phase(server, work, "sustained", rate, args.run_seconds)
            show(main)
        await asyncio.sleep(2)
        over = await run_phase(
            server,
            work,
            f"{OVERLOAD_FACTOR}x overload",
            OVERLOAD_FACTOR * rate,
            args.overload_seconds,
        )
        show(over, shed_ok=True)
        alive = server.alive()
        print(f"   server alive after overload: {alive}", flush=True)
        await asyncio.sleep(RECOVERY_PAUSE_S)
        rec = await run_phase(server, work, "recovery", rate, args.recovery_seconds)
        show(rec)
        alive = alive and server.alive()
    finally:
        server.stop()

    every, oc = main.lat(only_ok=False), over.outcomes()
    n = len(over.results)
    good = over.lat()
    rec_all = rec.lat(only_ok=False)
    answered = oc["ok"] + oc["conflict"]
    mib = 1024
    print("\n== results (paste into README)\n")
    print(
        f"One uvicorn process, SQLite, {data['counts']['followups']} follow-ups, {users} users "
        f"with a token each, on {os.cpu_count()} cores with the open-loop generator on "
        f"loopback; RATE_LIMIT_PER_MINUTE={per_minute}, RATE_LIMIT_BURST={burst}, "
        f"MAX_CONCURRENT_REQUESTS=64 (`bench/bench_load.py`).\n"
    )
    print("| run | offered | achieved | p50 | p99 | errors | notes |")
    print("|---|---|---|---|---|---|---|")
    print(
        f"| sustained {main.seconds:.0f} s | {main.rate:.0f} req/s | {main.achieved:.0f} req/s "
        f"| {pct(every, 50):.0f} ms | {pct(every, 99):.0f} ms | {main.errors()} "
        f"| {oc_str(main)}; server RSS peak {main.peak_kb / mib:.0f} MiB, "
        f"idle {idle / mib:.0f} MiB |"
    )
    print(
        f"| {OVERLOAD_FACTOR}x overload {over.seconds:.0f} s | {over.rate:.0f} req/s "
        f"| {over.achieved:.0f} req/s | {pct(good, 50):.0f} ms | {pct(good, 99):.0f} ms "
        f"| {over.errors(shed_ok=True)} | of the successful ones; 429: "
        f"{100 * oc['429'] / n:.0f} %, 503: {100 * oc['503'] / n:.0f} %, answered "
        f"{100 * answered / n:.0f} % ({answered / over.wall:.0f} req/s); "
        f"alive: {'yes' if alive else 'NO'}; RSS peak {over.peak_kb / mib:.0f} MiB |"
    )
    print(
        f"| recovery {rec.seconds:.0f} s | {rec.rate:.0f} req/s | {rec.achieved:.0f} req/s "
        f"| {pct(rec_all, 50):.0f} ms | {pct(rec_all, 99):.0f} ms | {rec.errors()} "
        f"| {RECOVERY_PAUSE_S:.0f} s after the overload; {oc_str(rec)}; RSS after "
        f"{rec.rss_after_kb / mib:.0f} MiB, lifetime peak {server.lifetime_peak_kb / mib:.0f} MiB |"
    )
    ok = passes(main) and passes(rec) and alive and over.errors(shed_ok=True) == 0
    print(f"\n{'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


def oc_str(phase: Phase) -> str:
    c = phase.outcomes()
    return f"version conflicts {c['conflict']}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--per-user", type=int, default=300)
    parser.add_argument("--rate", type=float, help="skip the probes and use this rate")
    parser.add_argument("--start-rate", type=float, default=40)
    parser.add_argument("--step", type=float, default=1.25)
    parser.add_argument("--probe-seconds", type=float, default=10)
    parser.add_argument("--run-seconds", type=float, default=60)
    parser.add_argument("--overload-seconds", type=float, default=30)
    parser.add_argument("--recovery-seconds", type=float, default=10)
    parser.add_argument("--quick", action="store_true", help="short phases (smoke test)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args()
    if args.quick:
        args.per_user, args.probe_seconds, args.run_seconds = 60, 3, 5
        args.overload_seconds, args.recovery_seconds = 5, 3
    tmp = Path(tempfile.mkdtemp(prefix="followups-load-"))
    try:
        env, data = prepare(tmp, args)
        code = asyncio.run(main_async(args, env, data, tmp))
    finally:
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    sys.exit(code)


if __name__ == "__main__":
    main()
