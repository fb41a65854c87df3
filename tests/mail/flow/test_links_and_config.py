"""Links and texts: no dead URL, reply pages in the invitation's language and zone, and
SMTP configuration errors shown as such (aiosmtpd without STARTTLS, with AUTH)."""

from __future__ import annotations

import email
from typing import Any

import httpx

from config.settings import Secret, Settings, load_settings
from mail.worker import MailWorker
from orm import models as m
from orm.outbox_models import MailOutbox, MailStatus
from tests.mail.flow.mailflow import (
    PASSWORD,
    calendar_of,
    deliver,
    invite,
    mail_settings,
    meeting,
)
from tests.mail.flow.smtp_server import SmtpServer

DELIVERY = """query($id: ID!) { node(id: $id) { ... on Participant {
  email mailDelivery { status lastError attempts } } } }"""


async def _pref(who: m.Associate, key: str, value: str) -> None:
    await m.Preference.create(
        key=key, scope=m.PreferenceScope.ASSOCIATE, scope_key=f"associate:{who.id}", value=value
    )


def _links(raw: bytes) -> list[str]:
    msg = email.message_from_bytes(raw)
    for part in msg.walk():
        if part.get_content_type() == "text/plain":
            text = part.get_payload(decode=True).decode()
            return [w for w in text.split() if "/reply/" in w]
    return []


async def test_no_hard_coded_url(people: dict[str, Any], smtp: SmtpServer, settings: Any) -> None:
    gql = people["gql"]
    await invite(gql, await meeting(gql), people["bob"])
    await deliver(settings)
    raw = smtp.sink.messages[0].data
    assert b"127.0.0.1:8000" not in raw
    _, cal = calendar_of(smtp.sink.messages[0])
    event = next(c for c in cal.walk() if c.name == "VEVENT")
    assert "URL" not in event  # no page per follow-up exists; reply links use BASE_URL
    assert all(link.startswith("http://test/reply/") for link in _links(raw))
    assert _links(raw)


async def test_reply_page_speaks_the_invitation_language_and_zone(
    people: dict[str, Any], http: httpx.AsyncClient, smtp: SmtpServer, settings: Any
) -> None:
    gql, ann, bob = people["gql"], people["ann"], people["bob"]
    await _pref(ann, "LANGUAGE", "no")
    await _pref(ann, "TIME_ZONE", "Europe/Oslo")
    await _pref(bob, "TIME_ZONE", "America/New_York")
    await invite(gql, await meeting(gql), bob, people["kari"])  # 09:00-10:00 UTC
    await deliver(settings)
    pages = {}
    for received in smtp.sink.messages:
        accept = next(link for link in _links(received.data) if link)
        pages[received.rcpt_tos[0]] = accept.removeprefix("http://test")
    kari = await http.get(pages["kari@acme.example"])
    assert kari.status_code == 200
    assert '<html lang="no">' in kari.text and "Bekreft: Godta" in kari.text
    assert "10:00\u201311:00 (Europe/Oslo)" in kari.text  # the meeting's zone, Norwegian date
    assert "mandag 2. mars 2026" in kari.text and "UTC" not in kari.text
    bob_page = await http.get(pages["bob@example.com"])
    assert "04:00\u201305:00 (America/New_York)" in bob_page.text  # an associate: his zone
    done = await http.post(pages["kari@acme.example"], data={"confirm": "yes"})  # the form
    assert done.status_code == 200 and "Takk" in done.text and "er registrert" in done.text


def test_starttls_default_matches_readme(monkeypatch: Any) -> None:
    from pathlib import Path

    monkeypatch.delenv("SMTP_STARTTLS", raising=False)
    assert load_settings().smtp_starttls is True
    readme = (Path(__file__).resolve().parents[3] / "README.md").read_text()
    assert "| `SMTP_STARTTLS` | `true` |" in readme


async def _queued(people: dict[str, Any]) -> dict[str, Any]:
    gql = people["gql"]
    fu = await invite(gql, await meeting(gql), people["bob"])
    return next(p for p in fu["participants"] if p["email"] == "bob@example.com")


async def test_no_starttls_offered_is_a_config_error(
    people: dict[str, Any], smtp: SmtpServer, settings: Settings
) -> None:
    bob = await _queued(people)
    worker = MailWorker(mail_settings(smtp.port, smtp_starttls=True), name="w")
    result = await worker.run_once()
    assert result.config_errors == 1 and result.retrying == 0
    shown = (await people["gql"](DELIVERY, {"id": bob["id"]}))["node"]["mailDelivery"]
    assert shown["status"] == "CONFIG_ERROR" and "SMTP_STARTTLS=false" in shown["lastError"]
    assert shown["attempts"] == 0
    assert (await worker.run_once()).claimed == 0  # no endless retry
    fixed = MailWorker(settings, name="restarted")  # a restart with fixed settings sends it
    assert (await fixed.run_once()).sent == 1
    assert (await MailOutbox.get()).status is MailStatus.SENT


async def test_refused_credentials_are_a_config_error(people: dict[str, Any]) -> None:
    server = SmtpServer(password=PASSWORD, require_auth=True)
    server.start()
    try:
        bob = await _queued(people)
        wrong = mail_settings(server.port, smtp_user="ann", smtp_password=Secret("wrong-pw"))
        result = await MailWorker(wrong, name="w").run_once()
        assert result.config_errors == 1
        shown = (await people["gql"](DELIVERY, {"id": bob["id"]}))["node"]["mailDelivery"]
        assert shown["status"] == "CONFIG_ERROR"
        assert "refused the credentials of SMTP_USER 'ann' (535)" in shown["lastError"]
        assert "wrong-pw" not in shown["lastError"]
        anonymous = await MailWorker(mail_settings(server.port), name="anon").run_once()
        shown = (await people["gql"](DELIVERY, {"id": bob["id"]}))["node"]["mailDelivery"]
        assert anonymous.config_errors == 1 and "wants authentication" in shown["lastError"]
        good = mail_settings(server.port, smtp_user="ann", smtp_password=Secret(PASSWORD))
        assert (await MailWorker(good, name="fixed").run_once()).sent == 1
        assert len(server.sink.messages) == 1
    finally:
        server.stop()
