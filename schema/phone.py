"""Placing a call from a phone number: the call link plus the CALL follow-up, in one go."""

from __future__ import annotations

import strawberry

from orm import models as m
from resolvers import followups as writes
from resolvers.context import Info
from resolvers.errors import NotFound
from schema import ids
from schema.crm_types import PhoneNumber
from schema.errors import UserError, atomically
from schema.followup_types import FollowUp


@strawberry.type
class CallPayload:
    link: str | None = None
    follow_up: FollowUp | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class PhoneMutation:
    @strawberry.mutation(
        description="Call a phone number now: returns the call link and the made CALL "
        "follow-up (start now, the owner's call duration) linked to its person/company."
    )
    async def call_phone(
        self, info: Info, phone_id: strawberry.ID, title: str | None = None
    ) -> CallPayload:
        async def job() -> CallPayload:
            key = ids.decode(phone_id, "PhoneNumber", "phoneId")
            phone = await m.PhoneNumber.get_or_none(id=key)
            if phone is None:
                raise NotFound("PhoneNumber", phone_id, "phoneId")
            person = await m.Person.get_or_none(id=phone.person_id) if phone.person_id else None
            company_id = phone.company_id or (person.company_id if person else None)
            who = person and f"{person.first_name} {person.last_name}".strip()
            row = await writes.create(
                info.context.viewer,
                {
                    "kind": m.Kind.CALL,
                    "title": title or f"Call {who or phone.number}",
                    "person_id": person.id if person else None,
                    "company_id": company_id,
                    "start_at": writes.now(),
                },
            )
            link = await PhoneNumber.from_model(phone).link(info)
            return CallPayload(link=link, follow_up=await FollowUp.build(info, row))

        return await atomically(job, lambda errors: CallPayload(errors=errors))
