"""Subscriptions end to end: real ``followups serve`` processes and real websocket clients.

Two server processes share one database (each engine): a mutation through process A
reaches subscribers connected to process B over graphql-transport-ws; a private meeting
reaches an outsider redacted; a slow consumer gets RESYNC while a fast one gets every
event; followUpChangesSince returns what a disconnected client missed; a bad token and a
revoked one close the connection with 4401.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from orm import models as m
from resolvers.auth import create_token, hash_token
from tests.helpers import associate, gid
from tests.mail.flow.smtp_server import free_port

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent / "followups"
PROTOCOL = "graphql-transport-ws"

PRIVATE = """mutation($o: ID!) { createFollowUp(input: {title: "Secret plan", kind: MEETING,
  private: true, start: "2026-03-02T09:00:00Z", end: "2026-03-02T10:00:00Z", ownerId: $o}) {
  followUp { id version } errors { code } } }"""
RENAME = """mutation($id: ID!, $v: Int!, $t: String!, $a: String) {
  updateFollowUp(id: $id, version: $v, input: {title: $t, agenda: $a}) {
  followUp { version } errors { code message } } }"""
LIGHT = """subscription($a: [ID!]!) { followUpChanged(associateIds: $a) {
  cursor change followUpId followUp { title redacted } } }"""
HEAVY = (
    "subscription($a: [ID!]!) { followUpChanged(associateIds: $a) { cursor change "
    + " ".join(f"f{i}: followUp {{ agenda }}" for i in range(30))
    + " } }"
)
SINCE = """query($a: [ID!]!, $c: String) { followUpChangesSince(associateIds: $a, after: $c) {
  changes { cursor change followUp { title } } endCursor hasMore } }"""


def _env(db: str, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SMTP_", "MAIL_", "LIVE_"))}
    env.update(
        DATABASE_URL=db,
        HOST="127.0.0.1",
        PORT=str(port),
        SYNC_WORKER="false",
        IMAP_WORKER="false",
        LIVE_QUEUE_SIZE="3",
        LIVE_POLL_SECONDS="0.05",
        LIVE_TOKEN_CHECK_SECONDS="0.3",
        LIVE_MAX_SUBSCRIPTIONS_PER_TOKEN="2",
        RATE_LIMIT_PER_MINUTE="100000",
        RATE_LIMIT_BURST="10000",
        MAX_ALIASES="64",
        REQUEST_HEADER_TIMEOUT_SECONDS="1",
    )
    return env


@asynccontextmanager
async def servers(db: str, tmp: Path, count: int = 2) -> AsyncIterator[list[str]]:
    ports = [free_port() for _ in range(count)]
    logs = [(tmp / f"serve{i}.log").open("wb") for i in range(count)]
    procs = [
        subprocess.Popen([str(BIN), "serve"], env=_env(db, p), cwd=ROOT, stderr=log)
        for p, log in zip(ports, logs, strict=True)
    ]
    bases = [f"127.0.0.1:{p}" for p in ports]
    try:
        async with httpx.AsyncClient() as c:
            for base in bases:
                for _ in range(300):
                    try:
                        if (await c.get(f"http://{base}/health")).status_code == 200:
                            break
                    except httpx.TransportError:
                        pass
                    await asyncio.sleep(0.1)
                else:
                    raise AssertionError((tmp / "serve0.log").read_text()[-3000:])
        yield bases
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
        for log in logs:
            log.close()


async def gql(base: str, token: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    async with httpx.AsyncClient(timeout=30) as c:
        r = await c.post(
            f"http://{base}/graphql",
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {token}"},
        )
    assert r.status_code == 200, r.text
    body = r.json()
    assert not body.get("errors"), body
    return dict(body["data"])


async def subscribe(
    base: str, token: str | None, query: str, variables: dict[str, Any]
) -> ClientConnection:
    ws = await connect(
        f"ws://{base}/graphql",
        subprotocols=[PROTOCOL],  # type: ignore[list-item]
        max_size=None,
    )
    payload = {"Authorization": f"Bearer {token}"} if token else {}
    await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
    ack = json.loads(await asyncio.wait_for(ws.recv(), 10))
    assert ack["type"] == "connection_ack", ack
    message = {"query": query, "variables": variables}
    await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": message}))
    return ws


class StalledClient:
    """A websocket client that subscribes and then stops reading (a tiny receive buffer),
    written by hand so that no library reads on its behalf."""

    def __init__(self, base: str) -> None:
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        host, port = base.split(":")
        self.sock.connect((host, int(port)))
        self.sock.sendall(
            f"GET /graphql HTTP/1.1\r\nHost: {base}\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            f"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: {PROTOCOL}\r\n\r\n".encode()
        )
        head = b""
        while b"\r\n\r\n" not in head:
            head += self.sock.recv(1)
        assert head.startswith(b"HTTP/1.1 101"), head
        self.buffer = b""

    def send(self, message: dict[str, Any]) -> None:
        data = json.dumps(message).encode()
        mask = os.urandom(4)
        size = len(data)
        header = bytes([0x81]) + (
            bytes([0x80 | size]) if size < 126 else bytes([0x80 | 126]) + size.to_bytes(2, "big")
        )
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
        self.sock.sendall(header + mask + masked)

    def _read(self, n: int) -> bytes:
        while len(self.buffer) < n:
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise EOFError("closed")
            self.buffer += chunk
        out, self.buffer = self.buffer[:n], self.buffer[n:]
        return out

    def recv(self) -> dict[str, Any]:
        """The next text message (blocking; call in a thread)."""
        while True:
            first, second = self._read(2)
            size = second & 0x7F
            if size == 126:
                size = int.from_bytes(self._read(2), "big")
            elif size == 127:
                size = int.from_bytes(self._read(8), "big")
            payload = self._read(size)
            if first & 0x0F == 0x1:
                return dict(json.loads(payload))


async def event(ws: ClientConnection, timeout: float = 10.0) -> dict[str, Any]:
    while True:
        message = json.loads(await asyncio.wait_for(ws.recv(), timeout))
        if message["type"] == "ping":
            await ws.send(json.dumps({"type": "pong"}))
            continue
        assert message["type"] == "next", message
        assert not message["payload"].get("errors"), message
        return dict(message["payload"]["data"]["followUpChanged"])


async def test_a_change_through_one_process_reaches_subscribers_of_another(
    db: str, tmp_path: Path
) -> None:
    ann, una = await associate("Ann"), await associate("Una")
    ann_token, una_token = await create_token(ann), await create_token(una)
    diary = {"a": [gid("Associate", ann.id)]}
    async with servers(db, tmp_path) as (a, b):
        start = (await gql(b, ann_token, SINCE, diary))["followUpChangesSince"]["endCursor"]
        fast = await subscribe(b, ann_token, LIGHT, diary)
        outsider = await subscribe(b, una_token, LIGHT, diary)
        slow = StalledClient(b)
        slow.send({"type": "connection_init", "payload": {"Authorization": f"Bearer {ann_token}"}})
        slow.send({"id": "1", "type": "subscribe", "payload": {"query": HEAVY, "variables": diary}})
        await asyncio.sleep(0.3)  # the subscriptions are registered once their tasks run

        made = await gql(a, ann_token, PRIVATE, {"o": gid("Associate", ann.id)})
        fid, version = made["createFollowUp"]["followUp"]["id"], 1
        first = await event(fast)
        assert (first["change"], first["followUpId"]) == ("CREATED", fid)
        assert first["followUp"] == {"title": "Secret plan", "redacted": False}
        theirs = await event(outsider)
        assert theirs["followUpId"] == fid and theirs["followUp"]["redacted"] is True
        assert "Secret" not in json.dumps(theirs)

        latencies, cursors = [], [first["cursor"]]
        agenda = "x" * 20_000  # each event of the slow subscription carries 600 kB
        for i in range(30):
            t0 = time.perf_counter()
            answer = await gql(
                a, ann_token, RENAME, {"id": fid, "v": version, "t": f"Plan {i}", "a": agenda}
            )
            assert answer["updateFollowUp"]["errors"] == [], answer
            version = answer["updateFollowUp"]["followUp"]["version"]
            got = await event(fast)
            latencies.append(time.perf_counter() - t0)
            assert (got["change"], got["followUp"]["title"]) == ("UPDATED", f"Plan {i}")
            cursors.append(got["cursor"])
            assert (await event(outsider))["followUp"]["title"] != f"Plan {i}"
        latencies.sort()
        print(
            f"mutation-to-event p50 {latencies[15] * 1000:.0f} ms, max {latencies[-1] * 1000:.0f} ms"
        )

        # the slow one: whatever it got before falling behind, then one RESYNC and complete
        kinds: list[str] = []
        while True:
            message = await asyncio.wait_for(asyncio.to_thread(slow.recv), 30)
            if message["type"] == "connection_ack":
                continue
            if message["type"] == "complete":
                break
            kinds.append(message["payload"]["data"]["followUpChanged"]["change"])
        assert kinds[-1] == "RESYNC" and kinds.count("RESYNC") == 1
        assert len(kinds) < 31, kinds

        # a client that went away after the 10th event catches up from its cursor
        missed = await gql(b, ann_token, SINCE, {**diary, "c": cursors[10]})
        titles = [c["followUp"]["title"] for c in missed["followUpChangesSince"]["changes"]]
        assert titles == ["Plan 29"] * 20  # every change, the follow-up as it is now
        everything = await gql(a, ann_token, SINCE, {**diary, "c": start})
        assert len(everything["followUpChangesSince"]["changes"]) == 31
        for ws in (fast, outsider):
            await ws.close()
        slow.sock.close()


async def test_a_bad_token_and_a_revoked_one_close_with_4401(db: str, tmp_path: Path) -> None:
    ann = await associate("Ann")
    token = await create_token(ann)
    diary = {"a": [gid("Associate", ann.id)]}
    async with servers(db, tmp_path, count=1) as (base,):
        for payload in ({}, {"Authorization": "Bearer fu_nope"}, {"Authorization": 5}):
            ws = await connect(f"ws://{base}/graphql", subprotocols=[PROTOCOL])  # type: ignore[list-item]
            await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), 10)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401

        # a bad argument and one subscription beyond the token's limit: typed errors
        bad = await subscribe(base, token, LIGHT, {"a": ["nope"]})
        message = json.loads(await asyncio.wait_for(bad.recv(), 10))
        assert message["payload"]["errors"][0]["extensions"]["code"] == "VALIDATION", message
        live = await subscribe(base, token, LIGHT, diary)
        await subscribe(base, token, LIGHT, diary)
        await asyncio.sleep(0.3)
        third = await subscribe(base, token, LIGHT, diary)
        message = json.loads(await asyncio.wait_for(third.recv(), 10))
        assert message["payload"]["errors"][0]["extensions"]["code"] == "LIVE_UNAVAILABLE"
        # open longer than REQUEST_HEADER_TIMEOUT_SECONDS (1 s here): still served
        await asyncio.sleep(1.5)
        await gql(base, token, PRIVATE, {"o": gid("Associate", ann.id)})
        assert (await event(live))["change"] == "CREATED"
        await m.ApiToken.filter(token_hash=hash_token(token)).update(revoked_at=datetime.now(UTC))
        t0 = time.perf_counter()
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(live.recv(), 10)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401
        assert time.perf_counter() - t0 < 3
