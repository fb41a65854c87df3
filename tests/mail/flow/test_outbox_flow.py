"""Invitations out: which mails a change queues, and the worker delivering them over SMTP."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from calcore.itip import normalize_address
from orm.outbox_models import MailOutbox, MailStatus
from tests.helpers import gid
from tests.mail.flow.mailflow import (
    DELETE,
    T0,
    UPDATE,
    calendar_of,
    deliver,
    invite,
    meeting,
    summary,
)
from tests.mail.flow.smtp_server import SmtpServer


async def test_invitation_update_cancel_flow(
    people: dict[str, Any], smtp: SmtpServer, settings: Any
) -> None:
    gql, bob, kari = people["gql"], people["bob"], people["kari"]
    fu = await meeting(gql, location="Room 1")
    fu = await invite(gql, fu, bob, kari)
    result = await deliver(settings)
    assert result.sent == 2 and smtp.sink.sessions == 1  # one connection for the batch
    assert sorted(summary(smtp.sink.messages)) == [
        ("REQUEST", "bob@example.com", 0, None),
        ("REQUEST", "kari@acme.example", 0, None),
    ]
    msg, cal = calendar_of(smtp.sink.messages[0])
    assert "ann@example.com" in msg["From"]
    event = next(c for c in cal.walk() if c.name == "VEVENT")
    attendees = {normalize_address(str(a)) for a in event.get("ATTENDEE")}
    assert {"bob@example.com", "kari@acme.example"} <= attendees
    assert "/reply/" in msg.as_string()  # the reply-link fallback is in the body

    smtp.sink.messages.clear()
    typo = await gql(UPDATE, {"id": fu["id"], "v": fu["version"], "input": {"agenda": "tpyo"}})
    fu = typo["updateFollowUp"]["followUp"]
    assert (await deliver(settings)).claimed == 0  # an agenda typo waits for the debounce

    moved = await gql(
        UPDATE,
        {
            "id": fu["id"],
            "v": fu["version"],
            "input": {"start": (T0 + timedelta(hours=2)).isoformat()},
        },
    )
    fu = moved["updateFollowUp"]["followUp"]
    assert fu["sequence"] == 1
    await deliver(settings)
    assert sorted(summary(smtp.sink.messages)) == [
        ("REQUEST", "bob@example.com", 1, None),
        ("REQUEST", "kari@acme.example", 1, None),
    ]

    smtp.sink.messages.clear()
    fu = await invite(gql, fu, bob)  # Kari removed
    await deliver(settings)
    assert summary(smtp.sink.messages) == [("CANCEL", "kari@acme.example", 1, None)]

    smtp.sink.messages.clear()
    deleted = await gql(DELETE, {"id": fu["id"]})
    assert not deleted["deleteFollowUp"]["errors"]
    await deliver(settings)
    assert summary(smtp.sink.messages) == [("CANCEL", "bob@example.com", 2, None)]
    assert await MailOutbox.filter(status=MailStatus.QUEUED).count() == 0
    assert await MailOutbox.filter(status=MailStatus.SENT).count() == 6


async def test_one_cancelled_occurrence(
    people: dict[str, Any], smtp: SmtpServer, settings: Any
) -> None:
    gql, bob = people["gql"], people["bob"]
    fu = await meeting(gql, recurrence={"freq": "WEEKLY", "count": 4})
    fu = await invite(gql, fu, bob)
    await deliver(settings)
    smtp.sink.messages.clear()
    second = T0 + timedelta(days=7)
    occurrence = gid(
        "FollowUp", f"{fu['id'] and _pk(fu['id'])}@{second.strftime('%Y%m%dT%H%M%SZ')}"
    )
    deleted = await gql(DELETE, {"id": occurrence, "scope": "THIS"})
    assert not deleted["deleteFollowUp"]["errors"], deleted
    await deliver(settings)
    assert summary(smtp.sink.messages) == [("CANCEL", "bob@example.com", 1, second.isoformat())]


def _pk(global_id: str) -> str:
    from strawberry import relay

    return relay.GlobalID.from_id(global_id).node_id


async def test_organiser_and_switched_off_get_nothing(
    people: dict[str, Any], smtp: SmtpServer, settings: Any
) -> None:
    gql, bob, kari = people["gql"], people["bob"], people["kari"]
    fu = await meeting(gql)
    result = await gql(
        """mutation($f: ID!, $v: Int!, $p: [ParticipantInput!]!) {
          saveParticipants(followUpId: $f, version: $v, participants: $p) {
            followUp { version } errors { code } } }""",
        {
            "f": fu["id"],
            "v": fu["version"],
            "p": [
                {"associateId": gid("Associate", bob.id), "emailInvitation": False},
                {"personId": gid("Person", kari.id), "emailInvitation": True},
            ],
        },
    )
    assert not result["saveParticipants"]["errors"]
    await deliver(settings)
    assert [r.rcpt_tos for r in smtp.sink.messages] == [["kari@acme.example"]]


async def test_times_are_in_the_recipients_zone_when_known(
    people: dict[str, Any], smtp: SmtpServer, settings: Any
) -> None:
    from orm import models as m

    gql, bob, kari = people["gql"], people["bob"], people["kari"]
    await m.Preference.create(
        key="TIME_ZONE",
        scope=m.PreferenceScope.ASSOCIATE,
        scope_key=f"associate:{bob.id}",
        value="America/New_York",
    )
    fu = await meeting(gql)
    await invite(gql, fu, bob, kari)
    await deliver(settings)
    import email
    from email import policy

    texts = {}
    for raw in smtp.sink.messages:
        msg = email.message_from_bytes(raw.data, policy=policy.default)
        body = msg.get_body(("plain",))  # type: ignore[attr-defined]
        texts[normalize_address(email.utils.parseaddr(str(msg["To"]))[1])] = body.get_content()
    assert "04:00" in texts["bob@example.com"]  # 09:00 UTC in New York (EST)
    assert "04:00" not in texts["kari@acme.example"]  # a contact: the meeting's own zone
