"""Shared fixtures and helpers of the mail flow tests (real SMTP server, both databases)."""

from __future__ import annotations

import email
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from icalendar import Calendar

from config.settings import Secret, Settings
from mail import outbox
from mail.worker import MailWorker
from orm import models as m
from tests.helpers import LOOPBACK_HOSTS, Gql, associate, client_for, gid
from tests.mail.flow.smtp_server import Received, SmtpServer

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PASSWORD = "pa55-w0rd-never-shown"
CREATE = """mutation($input: FollowUpInput!) { createFollowUp(input: $input) {
  followUp { id version sequence } errors { code message } } }"""
UPDATE = """mutation($id: ID!, $v: Int!, $input: FollowUpInput!, $scope: EditScope) {
  updateFollowUp(id: $id, version: $v, input: $input, scope: $scope) {
    followUp { id version sequence } errors { code message } } }"""
SAVE = """mutation($f: ID!, $v: Int!, $p: [ParticipantInput!]!) {
  saveParticipants(followUpId: $f, version: $v, participants: $p, emailInvitations: true) {
    followUp { id version participants { id email emailInvitation organiser } }
    errors { code message } } }"""
DELETE = """mutation($id: ID!, $scope: EditScope) { deleteFollowUp(id: $id, scope: $scope) {
  deletedId errors { code message } } }"""


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


def mail_settings(port: int, **extra: Any) -> Settings:
    base: dict[str, Any] = dict(
        database_url="unused",
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_starttls=False,
        secret_key=Secret("reply-link-secret"),
        inbound_mail_secret=Secret("inbound-secret"),
        mail_poll_seconds=0.05,
        base_url="http://test",
        caldav_allowed_hosts=LOOPBACK_HOSTS,  # the loopback IMAP server of the tests
    )
    base.update(extra)
    return Settings(**base)


@pytest.fixture
def settings(smtp: SmtpServer) -> Iterator[Settings]:
    s = mail_settings(smtp.port)
    outbox.install(s)
    yield s
    outbox.uninstall()


@pytest.fixture
async def people(http: httpx.AsyncClient) -> dict[str, Any]:
    ann = await associate("Ann", is_admin=False)
    bob = await associate("Bob")
    acme = await m.Company.create(name="Acme")
    kari = await m.Person.create(first_name="Kari", last_name="K", company=acme)
    await m.EmailAddress.create(person=kari, address="kari@acme.example")
    return {"ann": ann, "bob": bob, "kari": kari, "gql": await client_for(http, ann)}


async def meeting(gql: Gql, **fields: Any) -> dict[str, Any]:
    data = {"title": "Kick-off", "start": T0.isoformat(), "end": T0.replace(hour=10).isoformat()}
    data.update(fields)
    result = await gql(CREATE, {"input": data})
    assert not result["createFollowUp"]["errors"], result
    return dict(result["createFollowUp"]["followUp"])


async def invite(gql: Gql, fu: dict[str, Any], *who: m.Associate | m.Person) -> dict[str, Any]:
    wanted = [
        {"associateId": gid("Associate", w.id)}
        if isinstance(w, m.Associate)
        else {"personId": gid("Person", w.id)}
        for w in who
    ]
    result = await gql(SAVE, {"f": fu["id"], "v": fu["version"], "p": wanted})
    assert not result["saveParticipants"]["errors"], result
    return dict(result["saveParticipants"]["followUp"])


async def deliver(settings: Settings) -> Any:
    return await MailWorker(settings, name="test").run_once()


def calendar_of(received: Received) -> tuple[Any, Calendar]:
    msg = email.message_from_bytes(received.data)
    for part in msg.walk():
        if part.get_content_type() == "text/calendar":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return msg, Calendar.from_ical(payload)
    raise AssertionError("no text/calendar part")


def summary(received: list[Received]) -> list[tuple[str, str, int, str | None]]:
    """(METHOD, recipient, SEQUENCE, RECURRENCE-ID) of each received mail, in order."""
    out = []
    for r in received:
        _, cal = calendar_of(r)
        comp = next(c for c in cal.walk() if c.name in ("VEVENT", "VTODO"))
        rid = comp.get("RECURRENCE-ID")
        out.append(
            (
                str(cal["METHOD"]),
                r.rcpt_tos[0],
                int(comp.get("SEQUENCE", 0)),
                rid.dt.astimezone(UTC).isoformat() if rid is not None else None,
            )
        )
    return out
