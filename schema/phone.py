"""Placing a call from a phone number: the call link plus the CALL follow-up, in one go."""

from __future__ import annotations

from typing import Annotated

import strawberry

from resolvers import phone_calls
from resolvers.context import Info
from schema import ids
from schema.crm_types import PhoneNumber
from schema.errors import UserError, atomically
from schema.followup_types import FollowUp


@strawberry.type(
    description="The answer of callPhone: the link to dial and the call made, or errors."
)
class CallPayload:
    link: str | None = strawberry.field(
        default=None,
        description="The call link of the number from the viewer's PHONE_LINK_FORMAT "
        "preference (e.g. tel:+4722334455): open it to dial. Null when errors is not empty.",
    )
    follow_up: FollowUp | None = strawberry.field(
        default=None,
        description="The CALL follow-up made, owned by the viewer; null when errors is not empty.",
    )
    errors: list[UserError] = strawberry.field(
        default_factory=list,
        description="Why nothing was done (NOT_FOUND for an unknown phoneId, VALIDATION for "
        "a bad title); empty on success.",
    )


@strawberry.type
class PhoneMutation:
    @strawberry.mutation(
        description="Call a phone number now: returns the call link and the made CALL "
        "follow-up (start now, the owner's call duration) linked to its person/company."
    )
    async def call_phone(
        self,
        info: Info,
        phone_id: Annotated[
            strawberry.ID,
            strawberry.argument(
                description="Global ID of the PhoneNumber (of a person or a company) to call."
            ),
        ],
        title: Annotated[
            str | None,
            strawberry.argument(
                description="Title of the call follow-up, one line, at most 500 characters; "
                'default: "Call" and the person\'s name, else the number.'
            ),
        ] = None,
    ) -> CallPayload:
        async def job() -> CallPayload:
            key = ids.decode(phone_id, "PhoneNumber", "phoneId")
            phone, row = await phone_calls.call(info.context.viewer, key, phone_id, title)
            link = await PhoneNumber.from_model(phone).link(info)
            return CallPayload(link=link, follow_up=await FollowUp.build(info, row))

        return await atomically(job, lambda errors: CallPayload(errors=errors))
