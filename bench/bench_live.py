"""Benchmark: mutation-to-event latency of subscriptions over two processes (PostgreSQL).

Two ``followups serve`` processes on one fresh PostgreSQL database; S websocket
subscribers (graphql-transport-ws) spread over both follow one associate's diary; a
driver creates follow-ups in that diary at R mutations/s for D seconds through both
processes (alternating).  For every (mutation, subscriber) pair the time from sending
the mutation to receiving its CREATED event is measured.  Target: p99 at most 200 ms with
100 subscribers at 20 mutations/s.  Every subscriber must receive every event.  The CPU
time each server process used while the mutations ran (``/proc``, Linux) is printed too:
per 1,000 events delivered it depends far less on what else the machine runs than the
latency does.

Run from the repository root:  .venv/bin/python bench/bench_live.py [--subscribers 100]
(PostgreSQL at TEST_POSTGRES_URL, default postgres://postgres@127.0.0.1:5432/test).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import asyncpg  # noqa: E402
import httpx  # noqa: E402
from websockets.asyncio.client import connect  # noqa: E402

from orm import db  # noqa: E402
from orm import models as m  # noqa: E402
from resolvers.auth import create_token  # noqa: E402
from schema.ids import encode  # noqa: E402

BIN = Path(sys.executable).parent / "followups"
PG = os.environ.get("TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test")
CREATE = """mutation($o: ID!, $t: String!) { createFollowUp(input: {title: $t, kind: MEETING,
  start: "2026-03-02T09:00:00Z", end: "2026-03-02T10:00:00Z", ownerId: $o}) {
  errors { code } } }"""
SUB = """subscription($a: [ID!]!) { followUpChanged(associateIds: $a) {
  cursor change followUpId followUp { title } } }"""


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process so far (Linux ``/proc``; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--subscribers", type=int, default=100)
    parser.add_argument("--rate", type=float, default=20.0)
    parser.add_argument("--seconds", type=float, default=15.0)
    args = parser.parse_args()

    admin = await asyncpg.connect(PG.replace("postgres://", "postgresql://"))
    name = f"followups_bench_{uuid.uuid4().hex[:8]}"
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = PG.rsplit("/", 1)[0] + f"/{name}"
    procs: list[subprocess.Popen[bytes]] = []
    try:
        await db.migrate(url)
        await db.close()
        await db.connect(url)
        owner = await m.Associate.create(name="Owner", email="owner@example.com")
        token = await create_token(owner)
        viewers = [
            await m.Associate.create(name=f"V{i}", email=f"v{i}@example.com") for i in range(10)
        ]
        tokens = [await create_token(v) for v in viewers]
        await db.close()

        ports = [free_port(), free_port()]
        logs = Path(tempfile.mkdtemp())
        for port in ports:
            env = {**os.environ, "DATABASE_URL": url, "PORT": str(port), "HOST": "127.0.0.1"}
            env.update(SYNC_WORKER="false", IMAP_WORKER="false", RATE_LIMIT_PER_MINUTE="100000")
            env.update(
                RATE_LIMIT_BURST="100000", LOG_LEVEL="WARNING", MAX_CONCURRENT_PER_ASSOCIATE="64"
            )
            log = (logs / f"{port}.log").open("wb")
            procs.append(subprocess.Popen([str(BIN), "serve"], env=env, cwd=ROOT, stderr=log))
        async with httpx.AsyncClient() as c:
            for port in ports:
                for _ in range(300):
                    try:
                        if (await c.get(f"http://127.0.0.1:{port}/health")).status_code == 200:
                            break
                    except httpx.TransportError:
                        await asyncio.sleep(0.1)

        diary = {"a": [encode("Associate", owner.id)]}
        sent: dict[str, float] = {}
        received: list[dict[str, float]] = [{} for _ in range(args.subscribers)]
        sockets = []
        kinds: dict[str, int] = {}
        for i in range(args.subscribers):
            ws = await connect(
                f"ws://127.0.0.1:{ports[i % 2]}/graphql",
                subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
            )
            auth = {"Authorization": f"Bearer {tokens[i % len(tokens)]}"}
            await ws.send(json.dumps({"type": "connection_init", "payload": auth}))
            assert json.loads(await ws.recv())["type"] == "connection_ack"
            body = {"query": SUB, "variables": diary}
            await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": body}))
            sockets.append(ws)

        async def listen(i: int) -> None:
            async for raw in sockets[i]:
                message = json.loads(raw)
                if message.get("type") != "next":
                    kinds[message.get("type", "?")] = kinds.get(message.get("type", "?"), 0) + 1
                    continue
                change = message["payload"]["data"]["followUpChanged"]
                if change["followUp"] is None:
                    kinds[change["change"]] = kinds.get(change["change"], 0) + 1
                    continue
                title = change["followUp"]["title"]
                received[i][title] = time.perf_counter()

        listeners = [asyncio.create_task(listen(i)) for i in range(args.subscribers)]
        await asyncio.sleep(1.0)
        clients = [httpx.AsyncClient(base_url=f"http://127.0.0.1:{p}", timeout=30) for p in ports]
        headers = {"Authorization": f"Bearer {token}"}

        async def mutate(n: int) -> None:
            title = f"m{n}"
            sent[title] = time.perf_counter()
            r = await clients[n % 2].post(
                "/graphql",
                json={"query": CREATE, "variables": {**diary, "o": diary["a"][0], "t": title}},
                headers=headers,
            )
            assert r.status_code == 200 and not r.json().get("errors"), r.text

        total = int(args.rate * args.seconds)
        cpu_before = [cpu_seconds(proc.pid) for proc in procs]
        start = time.perf_counter()
        jobs = []
        for n in range(total):
            await asyncio.sleep(max(0.0, start + n / args.rate - time.perf_counter()))
            jobs.append(asyncio.create_task(mutate(n)))
        await asyncio.gather(*jobs)
        await asyncio.sleep(2.0)
        cpu = [cpu_seconds(proc.pid) - b for proc, b in zip(procs, cpu_before, strict=True)]
        for task in listeners:
            task.cancel()
        latencies = [(got[t] - sent[t]) * 1000 for got in received for t in sent if t in got]
        missed = sum(1 for got in received for t in sent if t not in got)
        for port_index in (0, 1):
            counts = [len(received[i]) for i in range(port_index, args.subscribers, 2)]
            lost = sorted(
                {
                    t
                    for i in range(port_index, args.subscribers, 2)
                    for t in sent
                    if t not in received[i]
                },
                key=lambda t: int(t[1:]),
            )
            print(f"process {port_index}: received {counts[:10]}..., lost e.g. {lost[:12]}")
        latencies.sort()
        p = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))]  # noqa: E731
        print(
            f"{args.subscribers} subscribers on 2 processes, {total} mutations at "
            f"{args.rate:g}/s: {len(latencies)} events, missed {missed}; latency ms "
            f"p50 {p(0.5):.0f} p99 {p(0.99):.0f} max {latencies[-1]:.0f} "
            f"(mean {statistics.mean(latencies):.0f}); other messages {kinds}"
        )
        delivered = max(1, len(latencies) // 2)  # per process
        print(
            "server CPU s: "
            + ", ".join(f"{c:.2f}" for c in cpu)
            + "; ms per 1,000 events delivered (its half of the mutations included): "
            + ", ".join(f"{c * 1e6 / delivered:.0f}" for c in cpu)
        )
        for c in clients:
            await c.aclose()
        for ws in sockets:
            await ws.close()
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(10)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


if __name__ == "__main__":
    asyncio.run(main())
