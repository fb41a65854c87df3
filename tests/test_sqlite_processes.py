"""Several processes on one SQLite file: ``serve`` and a ``mail-worker`` both write.

A real ``followups mail-worker`` delivers invitations to a real SMTP server (aiosmtpd on
loopback) while a real ``followups serve`` answers a burst of 100 mutations, half of
which queue more mail: no mutation may fail (``database is locked`` was INTERNAL) and
every edit must be there afterwards.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.mail.flow.smtp_server import SmtpServer, free_port
from tests.templates import migrated_sqlite

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent / "followups"
CREATE = """mutation($i: FollowUpInput!) { createFollowUp(input: $i) {
  followUp { id } errors { code message } } }"""
DIARY = """query($a: [ID!]!) { diary(associateIds: $a, from: "2030-01-01T00:00:00Z",
  to: "2030-02-01T00:00:00Z") { title participants { id } } }"""
SAVE = """mutation($f: ID!, $p: [ParticipantInput!]!) {
  saveParticipants(followUpId: $f, version: 1, participants: $p, emailInvitations: true) {
    followUp { id } errors { code message } } }"""


def _env(db: Path, smtp_port: int, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SMTP_", "MAIL_"))}
    env.update(
        DATABASE_URL=f"sqlite://{db}", SMTP_HOST="127.0.0.1", SMTP_PORT=str(smtp_port),
        MAIL_WORKER="false", SYNC_WORKER="false", MAIL_POLL_SECONDS="0.05",
        MAIL_BATCH_SIZE="5", SMTP_STARTTLS="false", HOST="127.0.0.1", PORT=str(port), SECRET_KEY="k" * 32,
        RATE_LIMIT_PER_MINUTE="100000", RATE_LIMIT_BURST="100000", MAX_CONCURRENT_REQUESTS="200",
        MAX_CONCURRENT_PER_ASSOCIATE="200",  # the burst is one associate's
    )  # fmt: skip
    return env


def _gid(kind: str, key: int) -> str:
    import base64

    return base64.b64encode(f"{kind}:{key}".encode()).decode()


async def _wait_up(url: str) -> None:
    async with httpx.AsyncClient() as c:
        for _ in range(200):
            try:
                await c.get(url)
                return
            except httpx.TransportError:
                await asyncio.sleep(0.1)
    raise AssertionError("serve did not start")


async def test_serve_and_mail_worker_share_one_sqlite_file(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    smtp = SmtpServer()
    smtp.start()
    port = free_port()
    migrated_sqlite(tmp_path_factory, tmp_path / "shared.sqlite3")
    env = _env(tmp_path / "shared.sqlite3", smtp.port, port)
    demo = subprocess.run(
        [str(BIN), "demo"], env=env, cwd=ROOT, capture_output=True, text=True, check=True
    )
    token = demo.stdout.split("Bearer ")[1].split()[0]
    logs = (tmp_path / "serve.log").open("wb"), (tmp_path / "worker.log").open("wb")
    serve = subprocess.Popen([str(BIN), "serve"], env=env, cwd=ROOT, stderr=logs[0])
    worker: subprocess.Popen[bytes] | None = None
    base = f"http://127.0.0.1:{port}"
    try:
        await _wait_up(base + "/graphql")
        async with httpx.AsyncClient(base_url=base, timeout=60) as c:

            async def gql(query: str, variables: dict[str, Any]) -> dict[str, Any]:
                r = await c.post("/graphql", json={"query": query, "variables": variables},
                                 headers={"Authorization": f"Bearer {token}"})  # fmt: skip
                assert r.status_code == 200, r.text
                body = r.json()
                assert "errors" not in body, body
                payload = next(iter(body["data"].values()))
                assert payload["errors"] == [], payload
                return dict(payload)

            def meeting(title: str, day: int) -> dict[str, Any]:
                return {"i": {"title": title, "start": f"2030-01-{day:02d}T09:00:00Z"}}

            invitees = [{"associateId": _gid("Associate", 2)},
                        {"associateId": _gid("Associate", 3)}]  # fmt: skip
            made = [(await gql(CREATE, meeting(f"pre {i}", 1 + i % 28)))["followUp"]["id"]
                    for i in range(60)]  # fmt: skip
            for fid in made[:10]:  # mail waiting before the worker starts
                await gql(SAVE, {"f": fid, "p": invitees})
            worker = subprocess.Popen(
                [str(BIN), "mail-worker"], env=env, cwd=ROOT, stderr=logs[1]
            )
            deadline = time.monotonic() + 60
            while not smtp.sink.messages and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            assert smtp.sink.messages, (tmp_path / "worker.log").read_text()[-3000:]

            jobs = [gql(CREATE, meeting(f"burst {i}", 1 + i % 28)) for i in range(50)]
            jobs += [gql(SAVE, {"f": fid, "p": invitees}) for fid in made[10:]]
            results = await asyncio.gather(*jobs, return_exceptions=True)
            failures = [r for r in results if isinstance(r, BaseException)]
            assert failures == [], failures[:3]

            diary = await c.post(
                "/graphql",
                json={"query": DIARY, "variables": {"a": [_gid("Associate", 1)]}},
                headers={"Authorization": f"Bearer {token}"},
            )
            items = diary.json()["data"]["diary"]
            assert {f"burst {i}" for i in range(50)} <= {i["title"] for i in items}
            invited = [i for i in items if i["title"].startswith("pre ")]
            assert len(invited) == 60 and all(len(i["participants"]) == 3 for i in invited)
            deadline = time.monotonic() + 120
            while len(smtp.sink.messages) < 120 and time.monotonic() < deadline:
                await asyncio.sleep(0.2)
            assert len(smtp.sink.messages) == 120  # two invitations per meeting
    finally:
        for proc in (worker, serve):
            if proc is not None:
                proc.terminate()
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    proc.kill()
        smtp.stop()
