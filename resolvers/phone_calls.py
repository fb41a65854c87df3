"""Placing a call from a phone number: the CALL follow-up, linked to its person/company."""

from __future__ import annotations

from orm import models as m
from resolvers import followups as writes
from resolvers.errors import NotFound


async def call(
    viewer: m.Associate, phone_id: int, ident: str, title: str | None
) -> tuple[m.PhoneNumber, m.FollowUp]:
    """Make the CALL follow-up (start now) for a phone number; return both rows."""
    phone = await m.PhoneNumber.get_or_none(id=phone_id)
    if phone is None:
        raise NotFound("PhoneNumber", ident, "phoneId")
    person = await m.Person.get_or_none(id=phone.person_id) if phone.person_id else None
    company_id = phone.company_id or (person.company_id if person else None)
    who = person and f"{person.first_name} {person.last_name}".strip()
    row = await writes.create(
        viewer,
        {
            "kind": m.Kind.CALL,
            "title": title or f"Call {who or phone.number}",
            "person_id": person.id if person else None,
            "company_id": company_id,
            "start_at": writes.now(),
        },
    )
    return phone, row
