"""Delivery reports of Postfix and Exchange: only ``Action: failed`` fails a delivery."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from orm.outbox_models import MailOutbox, MailStatus
from tests.mail.flow.mailflow import deliver, invite, meeting
from tests.mail.flow.smtp_server import SmtpServer

DSN = Path(__file__).resolve().parents[2] / "data" / "dsn"
HEADERS = {"X-Inbound-Secret": "inbound-secret"}
DELIVERY = """query($id: ID!) { node(id: $id) { ... on Participant {
  email mailDelivery { status lastError } } } }"""


def report(name: str, message_id: str, **swap: str) -> bytes:
    text = (DSN / name).read_bytes().replace(b"{{MESSAGE_ID}}", message_id.encode())
    for old, new in swap.items():
        text = text.replace(old.encode(), new.encode())
    return text


async def _kari(people: dict[str, Any], settings: Any) -> tuple[dict[str, Any], MailOutbox]:
    gql = people["gql"]
    fu = await invite(gql, await meeting(gql), people["bob"], people["kari"])
    assert (await deliver(settings)).sent == 2
    kari = next(p for p in fu["participants"] if p["email"] == "kari@acme.example")
    return kari, await MailOutbox.get(recipient="kari@acme.example")


async def _shown(gql: Any, participant: dict[str, Any]) -> dict[str, Any]:
    return dict((await gql(DELIVERY, {"id": participant["id"]}))["node"]["mailDelivery"])


@pytest.mark.parametrize(
    ("name", "status"), [("postfix_delayed.eml", "4.4.1"), ("exchange_delayed.eml", "4.4.7")]
)
async def test_delayed_report_is_not_a_failure(
    name: str,
    status: str,
    people: dict[str, Any],
    http: httpx.AsyncClient,
    smtp: SmtpServer,
    settings: Any,
) -> None:
    kari, row = await _kari(people, settings)
    response = await http.post(
        "/mail/inbound", content=report(name, row.message_id), headers=HEADERS
    )
    assert response.status_code == 200, response.text
    assert response.json()["outcomes"][0]["kind"] == "BOUNCE"
    shown = await _shown(people["gql"], kari)
    assert shown["status"] == "DELAYED" and status in shown["lastError"]
    assert (await MailOutbox.get(recipient="bob@example.com")).status is MailStatus.SENT


async def test_failed_after_delays_fails_and_stays_failed(
    people: dict[str, Any], http: httpx.AsyncClient, smtp: SmtpServer, settings: Any
) -> None:
    kari, row = await _kari(people, settings)
    for name in ("postfix_delayed.eml", "postfix_failed_expired.eml", "exchange_delayed.eml"):
        response = await http.post(
            "/mail/inbound", content=report(name, row.message_id), headers=HEADERS
        )
        assert response.status_code == 200, response.text
        if name == "postfix_delayed.eml":
            assert (await _shown(people["gql"], kari))["status"] == "DELAYED"
    shown = await _shown(people["gql"], kari)
    assert shown["status"] == "FAILED"  # a late delay report does not revive it
    assert "bounced: 4.4.1" in shown["lastError"]  # failed, though the status is 4.x.x


async def test_delivered_report_changes_nothing(
    people: dict[str, Any], http: httpx.AsyncClient, smtp: SmtpServer, settings: Any
) -> None:
    kari, row = await _kari(people, settings)
    raw = report("postfix_delayed.eml", row.message_id, **{"Action: delayed": "Action: delivered"})
    response = await http.post("/mail/inbound", content=raw, headers=HEADERS)
    outcome = response.json()["outcomes"][0]
    assert outcome["kind"] == "IGNORED" and "no failed or delayed" in outcome["reason"]
    assert (await _shown(people["gql"], kari))["status"] == "SENT"
