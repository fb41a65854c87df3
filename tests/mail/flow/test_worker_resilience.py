"""The worker under failure: SMTP down, concurrent workers, a killed worker, secrets."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any

import pytest
from graphql import GraphQLObjectType

from config.settings import Secret
from mail.worker import MailWorker
from orm import outbox
from orm.outbox_models import MailOutbox, MailStatus
from schema import schema
from tests.helpers import gid
from tests.mail.flow.mailflow import PASSWORD, deliver, invite, mail_settings, meeting
from tests.mail.flow.smtp_server import SmtpServer

DELIVERY = """query($id: ID!) { node(id: $id) { ... on Participant {
  email mailDelivery { status method attempts lastError sentAt } } } }"""


async def _rows(n: int) -> None:
    for i in range(n):
        await MailOutbox.create(
            next_attempt_at=outbox.utcnow(),
            followup_id=1,
            uid="u@x",
            method="REQUEST",
            sender="ann@example.com",
            recipient=f"r{i}@example.com",
            message_id=f"<m{i}@x>",
            message=f"Subject: {i}\r\nMessage-ID: <m{i}@x>\r\n\r\nbody {i}\r\n",
        )


async def test_smtp_down_then_up_delivers_everything_once(
    people: dict[str, Any], smtp: SmtpServer, settings: Any
) -> None:
    gql = people["gql"]
    smtp.stop()
    fu = await invite(gql, await meeting(gql), people["bob"], people["kari"])
    for _ in range(3):  # an hour of outage is a few failed tries, nothing is lost
        await MailOutbox.all().update(next_attempt_at=outbox.utcnow())
        result = await deliver(settings)
        assert result.retrying == 2 and result.sent == 0
    rows = await MailOutbox.all()
    assert all(r.status is MailStatus.QUEUED and r.attempts == 3 for r in rows)
    assert all(r.next_attempt_at > outbox.utcnow() for r in rows)
    bob = next(p for p in fu["participants"] if p["email"] == "bob@example.com")
    shown = (await gql(DELIVERY, {"id": bob["id"]}))["node"]["mailDelivery"]
    assert shown["status"] == "QUEUED" and shown["attempts"] == 3 and shown["lastError"]
    smtp.start()
    assert (await deliver(settings)).claimed == 0  # still backing off
    await MailOutbox.all().update(next_attempt_at=outbox.utcnow())
    assert (await deliver(settings)).sent == 2
    assert (await deliver(settings)).claimed == 0
    assert sorted(r.rcpt_tos[0] for r in smtp.sink.messages) == [
        "bob@example.com",
        "kari@acme.example",
    ]
    shown = (await gql(DELIVERY, {"id": bob["id"]}))["node"]["mailDelivery"]
    assert shown["status"] == "SENT" and shown["sentAt"]


async def test_concurrent_workers_never_send_a_row_twice(
    db: str, smtp: SmtpServer, settings: Any
) -> None:
    if not db.startswith("postgres"):
        pytest.skip("several workers need PostgreSQL (SKIP LOCKED); SQLite runs one")
    await _rows(120)
    s = mail_settings(smtp.port, mail_batch_size=7)
    workers = [MailWorker(s, name=f"w{i}") for i in range(4)]

    async def drain(w: MailWorker) -> None:
        while (await w.run_once()).claimed:
            pass

    await asyncio.gather(*(drain(w) for w in workers))
    got = sorted(r.rcpt_tos[0] for r in smtp.sink.messages)
    assert got == sorted(f"r{i}@example.com" for i in range(120))
    assert await MailOutbox.filter(status=MailStatus.SENT).count() == 120


async def test_killed_worker_resends_at_most_its_batch(
    db: str, smtp: SmtpServer, settings: Any
) -> None:
    await _rows(10)
    token, held = await outbox.claim(MailOutbox, "dead", limit=4, lease=timedelta(minutes=5))
    assert len(held) == 4  # then the worker dies without sending
    s = mail_settings(smtp.port, mail_batch_size=50)
    assert (await MailWorker(s, name="alive").run_once()).sent == 6  # the lease holds
    past = outbox.utcnow() - timedelta(seconds=1)
    await MailOutbox.filter(claimed_by=token).update(claimed_until=past)
    assert (await MailWorker(s, name="alive").run_once()).sent == 4
    assert not await outbox.mark_sent(MailOutbox, held[0].id, token)  # fenced off
    assert len(smtp.sink.messages) == 10
    assert len({r.rcpt_tos[0] for r in smtp.sink.messages}) == 10


async def test_permanent_refusal_fails_at_once(db: str, smtp: SmtpServer, settings: Any) -> None:
    await _rows(2)
    await MailOutbox.filter(recipient="r1@example.com").update(recipient="reject@example.com")
    result = await deliver(settings)
    assert result.sent == 1 and result.failed == 1 and smtp.sink.sessions == 1
    failed = await MailOutbox.get(recipient="reject@example.com")
    assert failed.status is MailStatus.FAILED and "550" in (failed.last_error or "")
    from orm.live_models import LiveChange, LiveKind

    heard = await LiveChange.filter(kind=LiveKind.DELIVERY_FAILED)  # the worker tells it live
    assert [c.followup_id for c in heard] == [failed.followup_id]


async def test_password_never_in_logs_or_api(
    people: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    server = SmtpServer(password="the-right-one")
    server.start()
    try:
        s = mail_settings(server.port, smtp_user="ann", smtp_password=Secret(PASSWORD))
        caplog.set_level(logging.DEBUG)
        gql = people["gql"]
        fu = await invite(gql, await meeting(gql), people["bob"])
        result = await MailWorker(s, name="t").run_once()
        assert result.config_errors == 1  # refused credentials: a configuration error
        row = await MailOutbox.get()
        assert row.last_error and PASSWORD not in row.last_error
        bob = next(p for p in fu["participants"] if p["email"] == "bob@example.com")
        body = await gql.raw(DELIVERY, {"id": bob["id"]})
        assert PASSWORD not in str(body)
        assert PASSWORD not in caplog.text
        assert PASSWORD not in repr(s) and PASSWORD not in str(s)
        assert PASSWORD not in schema.as_str()
        outputs = [
            t
            for t in schema._schema.type_map.values()
            if isinstance(t, GraphQLObjectType) and not t.name.startswith("__")
        ]
        readable = {f"{t.name}.{name}" for t in outputs for name in t.fields}
        assert not {f for f in readable if f.lower().endswith(("password", "smtppassword"))}
    finally:
        server.stop()
    assert gid("Participant", 1)
