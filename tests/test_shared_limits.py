"""Several API processes keep one rate limit and one concurrency cap (REDIS_URL).

Two real ``followups serve`` processes on loopback share one PostgreSQL database and one
real Redis (a private ``redis-server`` on a free port): an associate's burst alternating
between the two ports gets exactly its RATE_LIMIT_BURST answers and 429 for the rest,
and its MAX_CONCURRENT_PER_ASSOCIATE requests in flight on both ports together refuse
the next one.  Without the shared state each process allowed its own burst and cap.
``--workers`` above 1 on SQLite is refused with one line; on PostgreSQL it serves.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from resolvers.auth import create_token
from tests.helpers import associate

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent / "followups"
QUERY = b'{"query": "{ me { id } }"}'
BURST = 10
CAP = 2


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    server = shutil.which("redis-server")
    if server is None:
        pytest.fail("redis-server is missing (tests/servers/install-redis.sh installs it)")
    port = _free_port()
    proc = subprocess.Popen(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _env(database_url: str, port: int, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SMTP_", "IMAP_"))}
    env.update(
        DATABASE_URL=database_url, HOST="127.0.0.1", PORT=str(port), SECRET_KEY="k" * 32,
        MAIL_WORKER="true", SYNC_WORKER="true", IMAP_WORKER="false",
        RATE_LIMIT_BURST=str(BURST), RATE_LIMIT_PER_MINUTE="1",
        MAX_CONCURRENT_PER_ASSOCIATE=str(CAP), REQUEST_BODY_TIMEOUT_SECONDS="30",
    )  # fmt: skip
    env.update(extra)
    return env


async def _wait_up(port: int) -> None:
    async with httpx.AsyncClient() as c:
        for _ in range(300):
            try:
                if (await c.get(f"http://127.0.0.1:{port}/health")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError(f"serve on {port} did not start")


@pytest.fixture
async def two_servers(db: str, redis_url: str, tmp_path: Path) -> AsyncIterator[list[int]]:
    if not db.startswith("postgres"):
        pytest.skip("several API processes run on PostgreSQL")
    ports = [_free_port(), _free_port()]
    procs = [
        subprocess.Popen(
            [str(BIN), "serve"],
            env=_env(db, port, REDIS_URL=redis_url),
            cwd=ROOT,
            stderr=(tmp_path / f"serve-{port}.log").open("wb"),
        )
        for port in ports
    ]
    try:
        for port in ports:
            await _wait_up(port)
        yield ports
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


async def _post(port: int, token: str) -> httpx.Response:
    async with httpx.AsyncClient(timeout=30) as c:
        return await c.post(
            f"http://127.0.0.1:{port}/graphql",
            content=QUERY,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )


async def test_rate_limit_holds_across_two_processes(two_servers: list[int]) -> None:
    token = await create_token(await associate("Burst"))
    answers = [await _post(two_servers[i % 2], token) for i in range(BURST + 4)]
    statuses = [r.status_code for r in answers]
    assert statuses == [200] * BURST + [429] * 4, [r.text for r in answers]
    assert {r.json()["errors"][0]["extensions"]["code"] for r in answers[BURST:]} == {
        "RATE_LIMITED"
    }


async def _held(port: int, token: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A request whose headers are in but whose body is not: it holds its slot."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        b"POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        + f"Authorization: Bearer {token}\r\nContent-Length: {len(QUERY)}\r\n\r\n".encode()
    )
    await writer.drain()
    return reader, writer


async def _slots_taken(redis_url: str, associate_id: int) -> int:
    from redis.asyncio import Redis

    client = Redis.from_url(redis_url)
    try:
        return int(await client.zcard(f"followups:slots:associate:{associate_id}"))
    finally:
        await client.aclose()


async def test_concurrency_cap_holds_across_two_processes(
    two_servers: list[int], redis_url: str
) -> None:
    who = await associate("Holder")
    token = await create_token(who)
    held = [await _held(port, token) for port in two_servers]  # one in flight on each
    deadline = time.monotonic() + 20
    while await _slots_taken(redis_url, who.id) < CAP and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    try:
        for port in two_servers:
            refused = await _post(port, token)
            assert refused.status_code == 429, refused.text
            assert refused.json()["errors"][0]["extensions"]["code"] == "TOO_MANY_CONCURRENT"
    finally:
        answers: list[Any] = []
        for reader, writer in held:
            writer.write(QUERY)
            await writer.drain()
            answers.append(await asyncio.wait_for(reader.readline(), 20))
            writer.close()
    assert all(line.startswith(b"HTTP/1.1 200") for line in answers), answers
    assert (await _post(two_servers[0], token)).status_code == 200  # the slots came back
    assert await _slots_taken(redis_url, who.id) == 0


async def test_workers_on_sqlite_are_refused(tmp_path: Path) -> None:
    env = _env(f"sqlite://{tmp_path / 'x.sqlite3'}", _free_port())
    done = subprocess.run(
        [str(BIN), "serve", "--workers", "2"], env=env, cwd=ROOT, capture_output=True, text=True,
        timeout=60,
    )  # fmt: skip
    assert done.returncode != 0
    assert "--workers above 1 needs PostgreSQL" in done.stderr


async def test_workers_serve_on_postgres(db: str, redis_url: str, tmp_path: Path) -> None:
    if not db.startswith("postgres"):
        pytest.skip("several API processes run on PostgreSQL")
    port = _free_port()
    env = _env(db, port, REDIS_URL=redis_url)
    log = tmp_path / "workers.log"
    proc = subprocess.Popen(
        [str(BIN), "serve", "--workers", "2"], env=env, cwd=ROOT, stderr=log.open("wb")
    )
    try:
        await _wait_up(port)
        token = await create_token(await associate("Worker"))
        deadline = time.monotonic() + 30
        while log.read_text().count("Application startup complete") < 2:
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            await asyncio.sleep(0.1)
        answers = [await _post(port, token) for _ in range(BURST + 2)]
        assert [r.status_code for r in answers] == [200] * BURST + [429] * 2
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
