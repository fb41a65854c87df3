"""The worker's batches: one SMTP connection across batches, per-row outcomes in a batch."""

from __future__ import annotations

import asyncio
from typing import Any

from mail.worker import MailWorker
from orm import outbox
from orm.outbox_models import MailOutbox, MailStatus
from tests.mail.flow.mailflow import mail_settings
from tests.mail.flow.smtp_server import SmtpServer


async def _rows(recipients: list[str]) -> None:
    for i, to in enumerate(recipients):
        await MailOutbox.create(
            next_attempt_at=outbox.utcnow(),
            followup_id=i + 1,
            uid=f"u{i}@x",
            method="REQUEST",
            sender="ann@example.com",
            recipient=to,
            message_id=f"<m{i}@x>",
            message=f"Subject: {i}\r\nMessage-ID: <m{i}@x>\r\n\r\nbody {i}\r\n",
        )


async def _run_until_settled(worker: MailWorker) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    for _ in range(400):
        await asyncio.sleep(0.02)
        if not await MailOutbox.filter(status=MailStatus.QUEUED, attempts=0).exists():
            break
    stop.set()
    await asyncio.wait_for(task, 10)


async def test_consecutive_batches_share_one_connection(
    db: str, smtp: SmtpServer, settings: Any
) -> None:
    await _rows([f"r{i}@example.com" for i in range(23)])
    worker = MailWorker(mail_settings(smtp.port, mail_batch_size=5), name="w")
    await _run_until_settled(worker)
    assert await MailOutbox.filter(status=MailStatus.SENT).count() == 23
    assert len(smtp.sink.messages) == 23
    assert smtp.sink.sessions == 1  # five batches, one EHLO


async def test_refused_recipients_in_a_batch_fail_alone(
    db: str, smtp: SmtpServer, settings: Any
) -> None:
    to = [f"r{i}@example.com" for i in range(8)]
    to[2], to[5] = "reject@example.com", "later@example.com"
    await _rows(to)
    worker = MailWorker(mail_settings(smtp.port, mail_batch_size=4), name="w")
    await _run_until_settled(worker)
    rows = {r.recipient: r for r in await MailOutbox.all()}
    assert rows["reject@example.com"].status is MailStatus.FAILED
    later = rows["later@example.com"]
    assert later.status is MailStatus.QUEUED and later.attempts == 1  # retried later
    assert later.next_attempt_at > outbox.utcnow() and later.claimed_by is None
    sent = [r for r in rows.values() if r.status is MailStatus.SENT]
    assert len(sent) == 6 and all(r.attempts == 0 for r in sent)
    assert sorted(m.rcpt_tos[0] for m in smtp.sink.messages) == sorted(r.recipient for r in sent)
    assert smtp.sink.sessions == 1  # a refused recipient does not drop the connection


async def test_server_gone_between_batches_reconnects_and_sends_nothing_twice(
    db: str, smtp: SmtpServer, settings: Any
) -> None:
    await _rows([f"r{i}@example.com" for i in range(6)])
    s = mail_settings(smtp.port, mail_batch_size=3)
    worker = MailWorker(s, name="w")
    from mail.worker import Connection

    connection = Connection(worker.transport)
    try:
        assert (await worker.run_once(connection)).sent == 3
        smtp.stop()  # the kept connection dies with the server
        smtp.start()
        result = await worker.run_once(connection)  # notices the hang-up, reconnects
        assert (result.sent, result.retrying) == (3, 0)
        assert not await MailOutbox.filter(attempts__gt=0).exists()  # no attempt counted
    finally:
        await connection.close()
    assert await MailOutbox.filter(status=MailStatus.SENT).count() == 6
    got = [m.rcpt_tos[0] for m in smtp.sink.messages]
    assert len(got) == len(set(got)) == 6  # every mail once
