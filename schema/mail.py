"""Mail in GraphQL: deciding counter proposals and feeding in an inbound mail by hand."""

from __future__ import annotations

import strawberry

from resolvers import inbound_mail, proposals
from resolvers.context import Info
from resolvers.errors import ValidationFailed
from schema import ids
from schema.errors import UserError, atomically
from schema.mail_types import InboundOutcome, Proposal


@strawberry.type
class ProposalPayload:
    proposal: Proposal | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class InboundMailPayload:
    outcomes: list[InboundOutcome] = strawberry.field(default_factory=list)
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class MailMutation:
    @strawberry.mutation(
        description="Accept a counter proposal: the meeting (or occurrence) moves to the "
        "proposed time and place, and the participants get the updated REQUEST."
    )
    async def accept_proposal(self, info: Info, id: strawberry.ID) -> ProposalPayload:
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
        self, info: Info, id: strawberry.ID, comment: str | None = None
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
    async def process_inbound_mail(self, info: Info, message: str) -> InboundMailPayload:
        async def work() -> InboundMailPayload:
            limit = info.context.settings.max_inbound_mail_bytes
            raw = message.encode("utf-8", "surrogateescape")
            if len(raw) > limit:
                raise ValidationFailed("message", f"the message is larger than {limit} bytes")
            found = await inbound_mail.receive(raw, max_bytes=limit, viewer=info.context.viewer)
            return InboundMailPayload(outcomes=[InboundOutcome.from_outcome(o) for o in found])

        return await atomically(work, lambda errors: InboundMailPayload(errors=errors))
