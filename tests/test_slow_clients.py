"""Slow clients against a real ``followups serve``: nobody can hold the slots everyone shares.

The server runs as its own process on a loopback port and a SQLite file, with the default
MAX_CONCURRENT_REQUESTS (64) and short read deadlines (2 s) so the test is quick.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.templates import migrated_sqlite

HEADER_SECONDS = BODY_SECONDS = 2
INBOUND_SECRET = "inbound-secret"
CLI = [sys.executable, "-m", "app.cli"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(self, port: int, admin: str, other: str) -> None:
        self.port, self.admin, self.other = port, admin, other
        self.url = f"http://127.0.0.1:{port}"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    db = tmp_path_factory.mktemp("serve") / "serve.sqlite3"
    env = {
        **os.environ,
        "DATABASE_URL": migrated_sqlite(tmp_path_factory, db),
        "REQUEST_HEADER_TIMEOUT_SECONDS": str(HEADER_SECONDS),
        "REQUEST_BODY_TIMEOUT_SECONDS": str(BODY_SECONDS),
        "INBOUND_MAIL_SECRET": INBOUND_SECRET,
        "SYNC_WORKER": "false",
        "MAIL_WORKER": "false",
    }
    for name in ("SMTP_HOST", "MAX_CONCURRENT_REQUESTS", "MAX_CONCURRENT_PER_ASSOCIATE"):
        env.pop(name, None)
    root = Path(__file__).resolve().parent.parent
    demo = subprocess.run([*CLI, "demo"], env=env, cwd=root, capture_output=True, text=True)
    admin = demo.stdout.split("Bearer ", 1)[1].split()[0]
    other = subprocess.run(
        [*CLI, "token", "bjorn@example.com"], env=env, cwd=root, capture_output=True, text=True
    ).stdout.strip()
    port = _free_port()
    proc = subprocess.Popen(
        [*CLI, "serve", "--port", str(port)],
        env=env,
        cwd=root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline and proc.poll() is None, "server did not start"
            time.sleep(0.1)
        yield Server(port, admin, other)
    finally:
        proc.terminate()
        proc.wait(10)


async def _trickle(port: int, head: str, started: asyncio.Event | None = None) -> int:
    """Send ``head`` (request line and headers), then one body byte every 0.2 s; the status."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(head.encode())
    await writer.drain()

    async def drip() -> None:
        try:
            for _ in range(100):
                await asyncio.sleep(0.2)
                writer.write(b" ")
                await writer.drain()
        except (ConnectionError, OSError):
            pass

    dripping = asyncio.create_task(drip())
    try:
        line = await asyncio.wait_for(reader.readline(), 15)
        return int(line.split()[1]) if line else 0
    finally:
        dripping.cancel()
        writer.close()


def _post(path: str, headers: dict[str, str]) -> str:
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", "Content-Length: 100"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return "\r\n".join(lines) + "\r\n\r\n"


async def _answered_within(server: Server) -> float:
    async with httpx.AsyncClient(base_url=server.url) as client:
        began = time.monotonic()
        response = await client.post(
            "/graphql",
            json={"query": "{ me { name } }"},
            headers={"Authorization": f"Bearer {server.other}"},
        )
        elapsed = time.monotonic() - began
    assert response.status_code == 200, response.text
    assert response.json()["data"]["me"]["name"] == "Bjørn Berg"
    return elapsed


async def test_slow_bodies_of_one_token_leave_others_answered(server: Server) -> None:
    head = _post(
        "/graphql",
        {"Authorization": f"Bearer {server.admin}", "Content-Type": "application/json"},
    )
    attack = [asyncio.create_task(_trickle(server.port, head)) for _ in range(70)]
    await asyncio.sleep(0.7)  # every connection has sent its headers and is dripping
    assert not any(t.done() and t.result() != 429 for t in attack)
    elapsed = await _answered_within(server)
    assert elapsed < 1.0, f"another token waited {elapsed:.2f} s"
    statuses = Counter(await asyncio.gather(*attack))
    # MAX_CONCURRENT_PER_ASSOCIATE (8) wait for their body until the deadline, the rest
    # are refused at once without taking a shared slot.
    assert statuses == {408: 8, 429: 62}, statuses


async def test_slow_bodies_of_one_address_are_capped(server: Server) -> None:
    head = _post("/mail/inbound", {"X-Inbound-Secret": INBOUND_SECRET})
    began = time.monotonic()
    attack = [asyncio.create_task(_trickle(server.port, head)) for _ in range(20)]
    await asyncio.sleep(0.5)
    assert await _answered_within(server) < 1.0
    statuses = Counter(await asyncio.gather(*attack))
    assert statuses == {408: 16, 429: 4}, statuses  # MAX_CONCURRENT_PER_ADDRESS = 16
    assert time.monotonic() - began < BODY_SECONDS + 3


async def test_slow_headers_are_cut(server: Server) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    began = time.monotonic()
    writer.write(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    answer = b""
    try:
        for _ in range(40):  # a header byte every 0.2 s would go on for 8 s
            writer.write(b"X")
            await writer.drain()
            try:
                chunk = await asyncio.wait_for(reader.read(1000), 0.2)
            except TimeoutError:
                continue
            answer += chunk
            if not chunk:
                break
    except (ConnectionError, OSError):
        pass
    finally:
        writer.close()
    closed_after = time.monotonic() - began
    assert closed_after < HEADER_SECONDS + 1.5, f"still open after {closed_after:.1f} s"
    assert answer.startswith(b"HTTP/1.1 408")
