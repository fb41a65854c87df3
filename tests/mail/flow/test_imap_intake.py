"""The IMAP intake against a real Dovecot: IDLE, restart, outcomes, untouched mail."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import aioimaplib
import pytest

from app.workers import intake_hooks
from calcore.model import PartStat
from config.settings import Secret, Settings
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
        self.intake = ImapIntake(settings, intake_hooks(), rescan_seconds=0.2)
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


CREATE_BOX = """mutation($input: MailboxInput!, $a: ID) { createMailbox(input: $input, associateId: $a) {
  mailbox { id host port tls username folder passwordSet state } errors { code message path } } }"""
BOXES = """query($a: ID, $s: Boolean! = false) { mailboxes(associateId: $a, shared: $s) {
  id shared username state lastError lastUid messages { uid outcome outcomeKind reason followUpId } } }"""
UPDATE_BOX = """mutation($id: ID!, $input: MailboxInput!) { updateMailbox(id: $id, input: $input) {
  mailbox { id state } errors { code message path } } }"""


async def test_mailbox_api_and_outcomes(
    people: dict[str, Any], dovecot: DovecotServer, smtp: Any, settings: Any, http: Any
) -> None:
    from tests.helpers import associate, client_for, gid

    gql = people["gql"]  # Ann, not an administrator
    fu = await invite(gql, await meeting(gql), people["bob"], people["kari"])
    await deliver(settings)
    row = await m.FollowUp.get(id=int(_pk(fu["id"])))
    bad = await gql(
        CREATE_BOX, {"input": {"host": "not a host!", "username": "a", "password": "p"}}
    )
    assert bad["createMailbox"]["errors"][0]["code"] == "VALIDATION"
    assert bad["createMailbox"]["errors"][0]["path"] == ["host"]
    made = await gql(
        CREATE_BOX,
        {
            "input": {
                "host": "127.0.0.1",
                "port": dovecot.port,
                "tls": False,
                "username": "ann",
                "password": ANN_PW,
            }
        },
    )
    box = made["createMailbox"]["mailbox"]
    assert not made["createMailbox"]["errors"] and box["passwordSet"] and box["folder"] == "INBOX"
    stored = await Mailbox.get()
    assert stored.secret_enc and ANN_PW not in stored.secret_enc  # encrypted at rest
    admin = await client_for(http, await associate("Ada", is_admin=True))
    theirs = await admin(BOXES, {"a": gid("Associate", people["ann"].id)})
    assert [b["id"] for b in theirs["mailboxes"]] == [box["id"]]
    assert (await gql(BOXES, {"s": True}))["mailboxes"] == []  # the shared one: admins only
    assert (await (await client_for(http, people["bob"]))(BOXES, {"a": theirs_id(people)}))[
        "mailboxes"
    ] == []

    running = Running(settings)
    try:
        await until(lambda: Mailbox.filter(uidvalidity__isnull=False).exists(), 10)
        await append(dovecot, await _reply(row, "bob@example.com", PartStat.ACCEPTED))
        stranger = (
            b"From: kari@acme.example\r\nTo: ann@example.com\r\nSubject: Accepted\r\n"
            b"Message-ID: <stranger@acme.example>\r\n"
            b"Content-Type: text/calendar; method=REPLY; charset=UTF-8\r\n\r\n"
            b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\nMETHOD:REPLY\r\n"
            b"BEGIN:VEVENT\r\nUID:unknown-uid@elsewhere\r\nDTSTAMP:20260301T000000Z\r\n"
            b"SEQUENCE:0\r\nDTSTART:20260302T090000Z\r\nORGANIZER:mailto:ann@example.com\r\n"
            b"ATTENDEE;PARTSTAT=ACCEPTED:mailto:kari@acme.example\r\nEND:VEVENT\r\n"
            b"END:VCALENDAR\r\n"
        )
        await append(dovecot, stranger)
        await until(_two, 10)
    finally:
        await running.close()
    shown = (await gql(BOXES, {}))["mailboxes"][0]
    assert shown["lastUid"] == 2 and shown["state"] == "OK"
    outcomes = {msg["uid"]: msg for msg in shown["messages"]}
    assert outcomes[1]["outcome"] == "APPLIED" and outcomes[1]["followUpId"] == fu["id"]
    assert outcomes[2]["outcome"] == "REJECTED" and outcomes[2]["reason"]
    # the enum field reads the same stored outcome as the deprecated string
    assert [outcomes[u]["outcomeKind"] for u in (1, 2)] == ["APPLIED", "REJECTED"]
    stored_outcomes = (
        await MailboxMessage.filter().order_by("uid").values_list("outcome", flat=True)
    )
    assert stored_outcomes == ["APPLIED", "REJECTED"]
    text = str(await gql.raw(BOXES, {}))
    assert ANN_PW not in text
    renamed = await gql(UPDATE_BOX, {"id": box["id"], "input": {"password": "new-one"}})
    assert renamed["updateMailbox"]["mailbox"]["state"] == "OK"


def theirs_id(people: dict[str, Any]) -> str:
    from tests.helpers import gid

    return gid("Associate", people["ann"].id)


async def _two() -> bool:
    return await MailboxMessage.all().count() == 2


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "localhost", "10.0.0.1", "169.254.169.254", "[::1]", "0x7f000001"]
)
async def test_mailbox_hosts_pass_the_outbound_address_policy(
    people: dict[str, Any], host: str
) -> None:
    """Without the allow-list no mailbox may point at a non-public address (no SSRF)."""
    from resolvers import mailboxes
    from resolvers.errors import ValidationFailed
    from resolvers.mailboxes import MailboxInput
    from sync.errors import UNREACHABLE

    strict = Settings(database_url="unused", secret_key=Secret("k"))
    data = MailboxInput(host=host, port=143, tls=False, username="ann", password="pw")
    with pytest.raises(ValidationFailed) as refused:
        await mailboxes.create(people["ann"], data, strict)
    assert refused.value.path == ["host"] and str(refused.value) == UNREACHABLE
    assert not await Mailbox.exists()
