"""An all-day meeting mailed through the outbox to a real SMTP server: the invitation's
iCalendar carries DATE values (no times, no VTIMEZONE), the text shows the owner's dates
without times, and the attachment parses back to the same dates."""

from __future__ import annotations

import email
from typing import Any

from calcore.ical_import import import_calendar
from orm import models as m
from tests.mail.flow.mailflow import UPDATE, calendar_of, deliver, invite, meeting
from tests.mail.flow.smtp_server import SmtpServer


def _text(received: Any) -> str:
    msg = email.message_from_bytes(received.data)
    part = next(p for p in msg.walk() if p.get_content_type() == "text/plain")
    payload = part.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode(part.get_content_charset() or "utf-8")


def _ics(received: Any) -> str:
    msg = email.message_from_bytes(received.data)
    part = next(p for p in msg.walk() if p.get_content_type() == "text/calendar")
    payload = part.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode()


async def test_all_day_invitation_carries_dates(
    people: dict[str, Any], smtp: SmtpServer, settings: Any
) -> None:
    gql, ann = people["gql"], people["ann"]
    await m.Preference.create(
        key="TIME_ZONE",
        scope=m.PreferenceScope.ASSOCIATE,
        scope_key=f"associate:{ann.id}",
        value="Europe/Oslo",
    )
    fu = await meeting(
        gql, start=None, end=None, allDay=True, startDate="2026-03-02", endDate="2026-03-03"
    )
    fu = await invite(gql, fu, people["kari"])
    await deliver(settings)
    [received] = smtp.sink.messages
    ics = _ics(received)
    assert "DTSTART;VALUE=DATE:20260302\r\n" in ics and "DTEND;VALUE=DATE:20260304\r\n" in ics
    assert "VTIMEZONE" not in ics and "TZID" not in ics
    _, cal = calendar_of(received)
    assert str(cal["METHOD"]) == "REQUEST"
    text = _text(received)
    assert "Monday, 2 March 2026 \u2013 Tuesday, 3 March 2026" in text
    assert "00:00" not in text and "Europe/Oslo" not in text
    [back] = import_calendar(ics, default_tzid="Europe/Oslo")
    row = await m.FollowUp.get(uid=back.uid)
    assert back.all_day and (back.start, back.end) == (row.start_at, row.end_at)

    smtp.sink.messages.clear()
    moved = await gql(
        UPDATE, {"id": fu["id"], "v": fu["version"], "input": {"startDate": "2026-03-05"}}
    )
    assert not moved["updateFollowUp"]["errors"], moved
    await deliver(settings)
    [update] = smtp.sink.messages
    ics = _ics(update)
    assert "DTSTART;VALUE=DATE:20260305\r\n" in ics and "DTEND;VALUE=DATE:20260307\r\n" in ics
    assert "SEQUENCE:1\r\n" in ics
    assert "Thursday, 5 March 2026 \u2013 Friday, 6 March 2026" in _text(update)
