"""Non-significant changes reach the invitees: title, agenda, attendee list; debounced."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from calcore.itip import normalize_address
from orm import outbox
from orm.outbox_models import MailOutbox, MailStatus
from tests.mail.flow.mailflow import UPDATE, calendar_of, deliver, invite, meeting, summary
from tests.mail.flow.smtp_server import SmtpServer
from tests.mail.flow.test_order import later


async def edit(gql: Any, fu: dict[str, Any], **fields: Any) -> dict[str, Any]:
    result = await gql(UPDATE, {"id": fu["id"], "v": fu["version"], "input": fields})
    assert not result["updateFollowUp"]["errors"], result
    return {**fu, **result["updateFollowUp"]["followUp"]}


def event_of(received: Any) -> Any:
    _, cal = calendar_of(received)
    return next(c for c in cal.walk() if c.name == "VEVENT")


async def test_burst_of_title_and_agenda_edits_is_one_update_per_recipient(
    people: dict[str, Any], smtp: SmtpServer, settings: Any
) -> None:
    gql = people["gql"]
    fu = await invite(gql, await meeting(gql), people["bob"], people["kari"])
    await deliver(settings)
    smtp.sink.messages.clear()
    fu = await edit(gql, fu, title="Kick-off (draft)")
    fu = await edit(gql, fu, agenda="1. Budget\n2. Plan")
    fu = await edit(gql, fu, title="Kick-off 2026")
    assert fu["sequence"] == 0  # not significant: no SEQUENCE bump
    queued = await MailOutbox.filter(status=MailStatus.QUEUED)
    assert len(queued) == 2  # one per recipient, the older ones coalesced
    assert await MailOutbox.filter(status=MailStatus.SUPERSEDED).count() == 4
    soon = outbox.utcnow() + timedelta(seconds=settings.mail_update_debounce_seconds)
    assert all(outbox.utcnow() < r.next_attempt_at <= soon for r in queued)
    assert (await deliver(settings)).claimed == 0  # not before the debounce ends
    await later()
    assert (await deliver(settings)).sent == 2
    assert sorted(summary(smtp.sink.messages)) == [
        ("REQUEST", "bob@example.com", 0, None),
        ("REQUEST", "kari@acme.example", 0, None),
    ]
    for received in smtp.sink.messages:
        event = event_of(received)
        assert str(event["SUMMARY"]) == "Kick-off 2026"
        assert "Budget" in str(event["DESCRIPTION"])


async def test_removed_invitee_is_dropped_from_the_others_attendee_list(
    people: dict[str, Any], smtp: SmtpServer, settings: Any
) -> None:
    gql, bob, kari = people["gql"], people["bob"], people["kari"]
    fu = await invite(gql, await meeting(gql), bob, kari)
    await deliver(settings)
    smtp.sink.messages.clear()
    await invite(gql, fu, bob)  # Kari removed
    await deliver(settings)
    assert summary(smtp.sink.messages) == [("CANCEL", "kari@acme.example", 0, None)]
    await later()
    await deliver(settings)
    assert summary(smtp.sink.messages)[1] == ("REQUEST", "bob@example.com", 0, None)
    attendees = {normalize_address(str(a)) for a in event_of(smtp.sink.messages[1])["ATTENDEE"]}
    assert "kari@acme.example" not in attendees and "bob@example.com" in attendees


async def test_significant_change_is_not_delayed_by_a_pending_update(
    people: dict[str, Any], smtp: SmtpServer, settings: Any
) -> None:
    gql = people["gql"]
    fu = await invite(gql, await meeting(gql), people["bob"])
    await deliver(settings)
    smtp.sink.messages.clear()
    fu = await edit(gql, fu, title="Renamed")
    assert await MailOutbox.filter(status=MailStatus.QUEUED).count() == 1  # waiting
    fu = await edit(gql, fu, location="Room 2")  # significant: goes now, carries the title
    assert fu["sequence"] == 1
    assert (await deliver(settings)).sent == 1
    event = event_of(smtp.sink.messages[0])
    assert str(event["SUMMARY"]) == "Renamed" and int(event["SEQUENCE"]) == 1
    assert await MailOutbox.filter(status=MailStatus.QUEUED).count() == 0
