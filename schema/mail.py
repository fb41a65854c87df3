"""Mail in GraphQL: deciding counter proposals and feeding in an inbound mail by hand."""

from __future__ import annotations

from typing import Annotated

import strawberry

from resolvers import inbound_mail, proposals
from resolvers.context import Info
from resolvers.errors import ValidationFailed
from schema import ids
from schema.errors import UserError, atomically
from schema.mail_types import InboundOutcome, Proposal


@strawberry.type(
    description="Result of acceptProposal or declineProposal: the proposal, or errors."
)
class ProposalPayload:
    proposal: Proposal | None = strawberry.field(
        default=None, description="The proposal as decided; null when errors is not empty."
    )
    errors: list[UserError] = strawberry.field(
        default_factory=list, description="Why nothing was changed; empty on success."
    )


@strawberry.type(description="Result of processInboundMail: what each part did, or errors.")
class InboundMailPayload:
    outcomes: list[InboundOutcome] = strawberry.field(
        default_factory=list,
        description="One outcome per calendar component (or one for the whole message), in "
        "order; a refused part is an outcome with kind REJECTED, not an error.",
    )
    errors: list[UserError] = strawberry.field(
        default_factory=list,
        description="Why nothing was processed (e.g. FORBIDDEN, or VALIDATION for a message "
        "too large); empty otherwise.",
    )


@strawberry.type
class MailMutation:
    @strawberry.mutation(
        description="Accept a counter proposal: the meeting (or occurrence) moves to the "
        "proposed time and place, and the participants get the updated REQUEST."
    )
    async def accept_proposal(
        self,
        info: Info,
        id: Annotated[
            strawberry.ID,
            strawberry.argument(
                description="The Proposal; NOT_FOUND unless you may change its meeting (its "
                "owner or an administrator), VALIDATION when it is no longer PENDING."
            ),
        ],
    ) -> ProposalPayload:
        async def work() -> ProposalPayload:
            key = ids.decode(id, "Proposal", "id")
            row = await proposals.accept(info.context.viewer, key, info.context.settings)
            return ProposalPayload(proposal=Proposal.from_model(row))

        return await atomically(work, lambda errors: ProposalPayload(errors=errors))

    @strawberry.mutation(
        description="Decline a counter proposal: the meeting stays, the attendee gets a "
        "DECLINECOUNTER mail."
    )
    async def decline_proposal(
        self,
        info: Info,
        id: Annotated[
            strawberry.ID,
            strawberry.argument(
                description="The Proposal; NOT_FOUND unless you may change its meeting (its "
                "owner or an administrator), VALIDATION when it is no longer PENDING."
            ),
        ],
        comment: Annotated[
            str | None,
            strawberry.argument(
                description="A note to the attendee, sent in the DECLINECOUNTER (at most 2,000 "
                "characters, several lines allowed); null: none."
            ),
        ] = None,
    ) -> ProposalPayload:
        async def work() -> ProposalPayload:
            key = ids.decode(id, "Proposal", "id")
            row = await proposals.decline(info.context.viewer, key, comment, info.context.settings)
            return ProposalPayload(proposal=Proposal.from_model(row))

        return await atomically(work, lambda errors: ProposalPayload(errors=errors))

    @strawberry.mutation(
        description="Process a raw RFC 5322 mail (an iMIP REPLY or COUNTER, or a bounce) as "
        "if it had arrived; administrators, or the organiser of the meeting it answers."
    )
    async def process_inbound_mail(
        self,
        info: Info,
        message: Annotated[
            str,
            strawberry.argument(
                description="The whole message, headers and body, as text (at most "
                "MAX_INBOUND_MAIL_BYTES bytes in UTF-8, else VALIDATION)."
            ),
        ],
    ) -> InboundMailPayload:
        async def work() -> InboundMailPayload:
            limit = info.context.settings.max_inbound_mail_bytes
            raw = message.encode("utf-8", "surrogateescape")
            if len(raw) > limit:
                raise ValidationFailed("message", f"the message is larger than {limit} bytes")
            found = await inbound_mail.receive(raw, max_bytes=limit, viewer=info.context.viewer)
            return InboundMailPayload(outcomes=[InboundOutcome.from_outcome(o) for o in found])

        return await atomically(work, lambda errors: InboundMailPayload(errors=errors))
