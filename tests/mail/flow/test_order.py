"""Order per recipient after an outage: retries never reorder, obsolete mails are not sent."""

from __future__ import annotations

import asyncio
import email
from datetime import timedelta
from typing import Any

import pytest

from mail.worker import MailWorker
from orm.outbox_models import MailOutbox, MailStatus
from tests.helpers import gid
from tests.mail.flow.mailflow import (
    DELETE,
    T0,
    UPDATE,
    deliver,
    invite,
    mail_settings,
    meeting,
    summary,
)
from tests.mail.flow.smtp_server import Received, Sink, SmtpServer

DELIVERIES = """query($id: ID!) { node(id: $id) { ... on Participant {
  mailDeliveries { status method sequence } } } }"""


async def later(hours: float = 2.0) -> None:
    """Let time pass: every queued row's due time moves back, keeping their order."""
    for row in await MailOutbox.filter(status=MailStatus.QUEUED):
        await MailOutbox.filter(id=row.id).update(
            next_attempt_at=row.next_attempt_at - timedelta(hours=hours)
        )


async def retry_round(settings: Any) -> None:
    await later()
    await deliver(settings)


async def drain(settings: Any) -> None:
    for _ in range(20):
        await later()
        if not (await deliver(settings)).claimed:
            return
    raise AssertionError("the outbox does not drain")


def per_recipient(received: list[Received]) -> dict[str, list[tuple[str, int]]]:
    out: dict[str, list[tuple[str, int]]] = {}
    for method, to, seq, _ in summary(received):
        out.setdefault(to, []).append((method, seq))
    return out


async def move(gql: Any, fu: dict[str, Any], hours: int) -> dict[str, Any]:
    start = (T0 + timedelta(hours=hours)).isoformat()
    end = (T0 + timedelta(hours=hours + 1)).isoformat()
    result = await gql(
        UPDATE, {"id": fu["id"], "v": fu["version"], "input": {"start": start, "end": end}}
    )
    assert not result["updateFollowUp"]["errors"], result
    return dict(result["updateFollowUp"]["followUp"])


async def test_outage_keeps_sequence_order_and_cancel_is_last(
    people: dict[str, Any], smtp: SmtpServer, settings: Any
) -> None:
    gql, bob, kari = people["gql"], people["bob"], people["kari"]
    smtp.stop()
    fu = await invite(gql, await meeting(gql), bob, kari)
    await retry_round(settings)
    await retry_round(settings)
    fu = await move(gql, fu, 2)
    await retry_round(settings)
    fu = await move(gql, fu, 4)
    assert fu["sequence"] == 2
    await retry_round(settings)
    fu = await invite(gql, fu, bob)  # Kari removed
    await retry_round(settings)
    await retry_round(settings)
    smtp.start()
    await drain(settings)

    got = per_recipient(smtp.sink.messages)
    for mails in got.values():
        sequences = [seq for _, seq in mails]
        assert sequences == sorted(sequences), got
    assert got["kari@acme.example"][-1][0] == "CANCEL"
    assert got["kari@acme.example"] == [("CANCEL", 2)]  # her obsolete REQUESTs never left
    assert got["bob@example.com"][0] == ("REQUEST", 2)
    assert await MailOutbox.filter(status=MailStatus.QUEUED).count() == 0
    superseded = await MailOutbox.filter(status=MailStatus.SUPERSEDED).count()
    assert superseded == 6  # bob's 0, 1 and 2 (before Kari left), kari's 0, 1 and 2
    assert got["bob@example.com"] == [("REQUEST", 2)]  # one mail, with the final attendees

    bob_part = next(p for p in fu["participants"] if p["email"] == "bob@example.com")
    shown = (await gql(DELIVERIES, {"id": bob_part["id"]}))["node"]["mailDeliveries"]
    assert [d["status"] for d in shown] == ["SUPERSEDED"] * 3 + ["SENT"]
    assert shown[3]["sequence"] == 2


async def test_retried_occurrence_cancels_keep_their_order(
    people: dict[str, Any], smtp: SmtpServer, settings: Any
) -> None:
    """Mails that do not supersede each other wait for the older one's retries."""
    from strawberry import relay

    gql, bob = people["gql"], people["bob"]
    fu = await invite(gql, await meeting(gql, recurrence={"freq": "WEEKLY", "count": 4}), bob)
    await deliver(settings)
    smtp.sink.messages.clear()
    smtp.stop()
    pk = relay.GlobalID.from_id(fu["id"]).node_id
    days = []
    for week in (1, 2):
        when = T0 + timedelta(days=7 * week)
        days.append(when.isoformat())
        occurrence = gid("FollowUp", f"{pk}@{when.strftime('%Y%m%dT%H%M%SZ')}")
        deleted = await gql(DELETE, {"id": occurrence, "scope": "THIS"})
        assert not deleted["deleteFollowUp"]["errors"], deleted
        for _ in range(3 - week):  # the first cancel fails more often: longer backoff
            await retry_round(settings)
    first, second = await MailOutbox.filter(method="CANCEL").order_by("id")
    assert second.next_attempt_at < first.next_attempt_at  # the trap: due in reverse order
    smtp.start()
    await drain(settings)
    assert [rid for _, _, _, rid in summary(smtp.sink.messages)] == days


class FlakySink(Sink):
    """Refuses every third recipient with a 451 (greylisting, a full queue)."""

    calls = 0

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:  # fmt: skip
        FlakySink.calls += 1
        if FlakySink.calls % 3 == 0:
            return "451 4.7.1 try again later"
        return await super().handle_RCPT(server, session, envelope, address, rcpt_options)


async def test_concurrent_workers_keep_order_per_recipient(db: str, people: dict[str, Any]) -> None:
    if not db.startswith("postgres"):
        pytest.skip("several workers need PostgreSQL (SKIP LOCKED); SQLite runs one")
    from mail import outbox as mail_outbox
    from orm import models as m

    server = SmtpServer()
    server.sink = FlakySink()
    server.start()
    s = mail_settings(server.port, mail_batch_size=3)
    mail_outbox.install(s)
    try:
        gql, bob, kari = people["gql"], people["bob"], people["kari"]
        acme = await m.Company.get(name="Acme")
        ola = await m.Person.create(first_name="Ola", last_name="N", company=acme)
        await m.EmailAddress.create(person=ola, address="ola@acme.example")
        stop = asyncio.Event()

        async def work(w: MailWorker) -> None:
            while not stop.is_set():
                await later(0.5)
                if not (await w.run_once()).claimed:
                    await asyncio.sleep(0.01)

        workers = [asyncio.create_task(work(MailWorker(s, name=f"w{i}"))) for i in range(4)]
        meetings = [await invite(gql, await meeting(gql), bob, kari, ola) for _ in range(5)]
        for step in range(3):
            for i, fu in enumerate(meetings):
                fu = await move(gql, fu, 2 + step)
                await asyncio.sleep(0.02)
                meetings[i] = fu
        for i, fu in enumerate(meetings):
            meetings[i] = await invite(gql, fu, bob, ola)  # Kari removed
        for _ in range(400):
            if not await MailOutbox.filter(status=MailStatus.QUEUED).exists():
                break
            await asyncio.sleep(0.05)
        stop.set()
        await asyncio.gather(*workers)
    finally:
        mail_outbox.uninstall()
        server.stop()

    rows = {r.message_id: r for r in await MailOutbox.all()}
    assert not any(r.status is MailStatus.QUEUED for r in rows.values())
    seen: dict[tuple[str, str], list[MailOutbox]] = {}
    ids = [
        str(email.message_from_bytes(r.data)["Message-ID"]).strip() for r in server.sink.messages
    ]
    assert len(ids) == len(set(ids))  # nothing sent twice
    for mid in ids:
        row = rows[mid]
        seen.setdefault((row.uid, row.recipient), []).append(row)
    assert len(seen) == 15
    for (_, to), sent in seen.items():
        assert [r.id for r in sent] == sorted(r.id for r in sent), to
        assert [r.sequence for r in sent] == sorted(r.sequence for r in sent), to
        last = max((r for r in rows.values() if r.recipient == to and r.uid == sent[0].uid),
                   key=lambda r: r.id)  # fmt: skip
        assert sent[-1].id == last.id  # the newest state arrived last
        if to == "kari@acme.example":
            assert sent[-1].method == "CANCEL"
