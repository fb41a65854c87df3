"""The IMAP intake against a real Dovecot: IDLE, restart, outcomes, untouched mail."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import aioimaplib
import pytest

from calcore.model import PartStat
from mail.imap_intake import ImapIntake
from orm import models as m
from orm.intake_models import Mailbox, MailboxMessage, MailboxState
from sync import secrets
from tests.mail.flow.mailflow import deliver, invite, meeting
from tests.mail.flow.test_inbound_flow import _pk, _reply
from tests.mail.imap_server import DovecotServer

ANN_PW = "ann-imap-secret"
PLAIN = b"From: news@example.org\r\nTo: ann@example.com\r\nSubject: Newsletter\r\n\r\nHello\r\n"
TIMINGS: list[float] = []


@pytest.fixture
def dovecot() -> Iterator[DovecotServer]:
    server = DovecotServer({"ann": ANN_PW})
    server.start()
    yield server
    server.stop()


async def imap(server: DovecotServer) -> aioimaplib.IMAP4:
    client = aioimaplib.IMAP4(host="127.0.0.1", port=server.port, timeout=10)
    await client.wait_hello_from_server()
    assert (await client.login("ann", ANN_PW)).result == "OK"
    await client.select("INBOX")
    return client


async def flags(server: DovecotServer) -> dict[int, set[str]]:
    client = await imap(server)
    response = await client.uid("fetch", "1:*", "(UID FLAGS)")
    await client.logout()
    out = {}
    import re

    for line in response.lines:
        found = re.search(rb"UID (\d+) FLAGS \(([^)]*)\)", bytes(line))
        if found:
            out[int(found.group(1))] = set(found.group(2).decode().split())
    return out


async def append(server: DovecotServer, raw: bytes) -> None:
    client = await imap(server)
    assert (await client.append(raw, mailbox="INBOX")).result == "OK"
    await client.logout()


async def until(check: Any, seconds: float) -> float:
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        if await check():
            return time.monotonic() - start
        await asyncio.sleep(0.05)
    raise AssertionError(f"not within {seconds} s")


class Running:
    def __init__(self, settings: Any) -> None:
        self.intake = ImapIntake(settings, rescan_seconds=0.2)
        self.stop = asyncio.Event()
        self.task = asyncio.create_task(self.intake.run(self.stop))

    async def close(self) -> None:
        self.stop.set()
        await asyncio.wait_for(self.task, 20)


@pytest.fixture
async def world(
    people: dict[str, Any], dovecot: DovecotServer, smtp: Any, settings: Any
) -> AsyncIterator[dict[str, Any]]:
    gql = people["gql"]
    fu = await invite(gql, await meeting(gql), people["bob"], people["kari"])
    await deliver(settings)
    row = await m.FollowUp.get(id=int(_pk(fu["id"])))
    box = await Mailbox.create(
        associate_id=people["ann"].id,
        host="127.0.0.1",
        port=dovecot.port,
        tls=False,
        username="ann",
        secret_enc=secrets.encrypt(ANN_PW, settings),
    )
    yield {"row": row, "box": box, **people}


async def _status(row: m.FollowUp, email: str) -> m.ParticipantStatus:
    return (await m.Participant.get(followup_id=row.id, email=email)).status


async def test_reply_appended_is_applied_within_5_s_with_idle(
    world: dict[str, Any], dovecot: DovecotServer, settings: Any
) -> None:
    row, box = world["row"], world["box"]
    await append(dovecot, PLAIN)  # already there before the intake starts
    running = Running(settings)
    try:
        await until(lambda: Mailbox.filter(id=box.id, uidvalidity__isnull=False).exists(), 10)
        await asyncio.sleep(1.0)  # the reader is in IDLE now
        reply = await _reply(row, "bob@example.com", PartStat.ACCEPTED)
        started = time.monotonic()
        await append(dovecot, reply)

        async def accepted() -> bool:
            return await _status(row, "bob@example.com") is m.ParticipantStatus.ACCEPTED

        await until(accepted, 5.0)
        elapsed = time.monotonic() - started
        TIMINGS.append(elapsed)
        print(f"\nIMAP IDLE: reply applied {elapsed * 1000:.0f} ms after APPEND")
        assert elapsed < 5.0
        await until(lambda: MailboxMessage.exists(mailbox_id=box.id), 5)
    finally:
        await running.close()
    seen = await flags(dovecot)
    assert "$FollowupsProcessed" in seen[2] and "\\Seen" not in seen[2]
    assert not seen[1] & {"$FollowupsProcessed", "\\Seen", "\\Deleted"}  # untouched
    record = await MailboxMessage.get(mailbox_id=box.id)
    assert record.uid == 2 and record.outcome == "APPLIED" and record.followup_id == row.id
    assert await MailboxMessage.filter(uid=1).count() == 0  # not a calendar mail: no record


async def test_restart_keeps_state_and_applies_once(
    world: dict[str, Any], dovecot: DovecotServer, settings: Any
) -> None:
    row, box = world["row"], world["box"]
    await append(dovecot, await _reply(row, "bob@example.com", PartStat.ACCEPTED))
    running = Running(settings)
    await until(lambda: MailboxMessage.exists(mailbox_id=box.id), 10)
    await running.close()
    state = await Mailbox.get(id=box.id)
    assert state.last_uid == 1 and state.uidvalidity
    # Killed after the commit, before the flag: the UID is recorded, so it is not reapplied.
    client = await imap(dovecot)
    await client.uid("store", "1", "-FLAGS.SILENT", "($FollowupsProcessed)")
    await client.logout()
    await m.Participant.filter(followup_id=row.id, email="bob@example.com").update(
        status=m.ParticipantStatus.TENTATIVE
    )
    await append(dovecot, await _reply(row, "kari@acme.example", PartStat.DECLINED))
    running = Running(settings)
    try:

        async def declined() -> bool:
            return await _status(row, "kari@acme.example") is m.ParticipantStatus.DECLINED

        await until(declined, 10)
    finally:
        await running.close()
    assert await _status(row, "bob@example.com") is m.ParticipantStatus.TENTATIVE  # not again
    assert await MailboxMessage.filter(mailbox_id=box.id).count() == 2
    assert (await Mailbox.get(id=box.id)).last_uid == 2


async def test_refused_login_marks_the_mailbox_failed(
    world: dict[str, Any], dovecot: DovecotServer, settings: Any
) -> None:
    box = world["box"]
    await Mailbox.filter(id=box.id).update(secret_enc=secrets.encrypt("wrong", settings))
    running = Running(settings)
    try:
        await until(lambda: Mailbox.filter(id=box.id, state=MailboxState.FAILED).exists(), 10)
    finally:
        await running.close()
    failed = await Mailbox.get(id=box.id)
    assert "refused the login of 'ann'" in (failed.last_error or "")
    assert "wrong" not in (failed.last_error or "")
