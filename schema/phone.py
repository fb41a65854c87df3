"""Placing a call from a phone number: the call link plus the CALL follow-up, in one go."""

from __future__ import annotations

import strawberry

from resolvers import phone_calls
from resolvers.context import Info
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
            phone, row = await phone_calls.call(info.context.viewer, key, phone_id, title)
            link = await PhoneNumber.from_model(phone).link(info)
            return CallPayload(link=link, follow_up=await FollowUp.build(info, row))

        return await atomically(job, lambda errors: CallPayload(errors=errors))
