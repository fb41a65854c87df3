"""GraphQL types of mail: counter proposals and the outcomes of inbound mail."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any, Self

import strawberry
from strawberry import relay
from strawberry.types.lazy_type import LazyType

from resolvers import inbound_mail, records, visibility
from resolvers.context import Info
from resolvers.enums import InboundOutcomeCode as OutcomeCode
from resolvers.enums import ProposalStatus
from resolvers.records import Table
from schema.enums import InboundOutcomeCode, described
from schema.ids import encode
from schema.node import ModelNode
from schema.participant_types import Participant

if TYPE_CHECKING:
    from orm.models import FollowUp as FollowUpRow
    from orm.outbox_models import Proposal as ProposalRow
    from schema.followup_types import FollowUp
else:  # rows only annotate the private fields; schema loads them through resolvers
    ProposalRow = object

ProposalStatusEnum = described(
    ProposalStatus,
    name="ProposalStatus",
    description="Where a participant's counter-proposal of a new time stands.",
)


#: FollowUp and Proposal refer to each other: ``followup_types`` imports this module, and
#: this one reaches FollowUp through the lazy reference only (as its annotations do).
_FOLLOWUP: LazyType[Any, Any] = LazyType("FollowUp", "schema.followup_types")


@strawberry.type(description="A COUNTER: an attendee proposes another time (or place).")
class Proposal(ModelNode):
    id: relay.NodeID[int]
    status: ProposalStatusEnum = strawberry.field(  # type: ignore[valid-type]
        description="Whether the organiser has decided on it."
    )
    start: datetime = strawberry.field(description="Proposed start (UTC, ISO 8601).")
    end: datetime | None = strawberry.field(
        description="Proposed end (UTC, ISO 8601); null: the attendee proposed none."
    )
    location: str | None = strawberry.field(
        description="Proposed location; null: the attendee proposed none."
    )
    comment: str | None = strawberry.field(
        description="The attendee's comment (iCalendar COMMENT); null when none."
    )
    attendee_email: str = strawberry.field(description="E-mail address of the proposer.")
    recurrence_id: datetime | None = strawberry.field(description="For one occurrence only")
    created_at: datetime = strawberry.field(description="When it was received (UTC, ISO 8601).")
    decided_at: datetime | None = strawberry.field(
        description="When it was accepted or declined (UTC, ISO 8601); null while PENDING."
    )
    row: strawberry.Private[ProposalRow]

    @classmethod
    def table(cls) -> Table:
        return records.proposals

    @classmethod
    def from_model(cls, row: ProposalRow) -> Self:
        return cls(
            id=row.id,
            status=row.status,
            start=row.start_at,
            end=row.end_at,
            location=row.location,
            comment=row.comment,
            attendee_email=row.attendee_email,
            recurrence_id=row.recurrence_id,
            created_at=row.created_at,
            decided_at=row.decided_at,
            row=row,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Self | None]:
        """Only those the viewer may see (``visibility.sees_proposals``)."""
        rows = await ModelNode.rows_of(cls, info, node_ids)
        viewer, loaders = info.context.viewer, info.context.loaders
        allowed = await visibility.visible_proposals(viewer, loaders, rows)
        return [cls.from_model(r) if r is not None else None for r in allowed]

    @strawberry.field(
        description="The participant who proposed it; null when they have been removed since."
    )
    async def participant(self, info: Info) -> Participant | None:
        row = await records.participants.one(info, self.row.participant_id)
        return await Participant.build(info, row)

    @strawberry.field(
        name="followUp", description="The meeting it proposes to move; null when deleted since."
    )
    async def follow_up(
        self, info: Info
    ) -> Annotated[FollowUp, strawberry.lazy("schema.followup_types")] | None:
        row = await records.followups.one(info, self.row.followup_id)
        return await _FOLLOWUP.resolve_type().build(info, row) if row else None


async def proposals_of(info: Info, row: FollowUpRow) -> list[Proposal]:
    """Return a follow-up's proposals, newest first, to its organiser and admins only."""
    if not visibility.sees_proposals(info.context.viewer, row):
        return []
    found = await records.followup_proposals.of(info, row.id)
    return [Proposal.from_model(p) for p in reversed(found)][:100]


@strawberry.enum(description="What one part of an inbound mail did.")
class InboundOutcomeKind(Enum):
    APPLIED = strawberry.enum_value(
        inbound_mail.APPLIED,
        description="An answer was recorded: the participant's status (or one occurrence's).",
    )
    IGNORED = strawberry.enum_value(
        inbound_mail.IGNORED,
        description="Nothing to do: e.g. a stale answer (reasonCode says why).",
    )
    REJECTED = strawberry.enum_value(
        inbound_mail.REJECTED, description="Refused (reasonCode and reason say why)."
    )
    PROPOSAL = strawberry.enum_value(
        inbound_mail.PROPOSAL,
        description="A COUNTER was stored as a Proposal for the organiser to decide.",
    )
    BOUNCE = strawberry.enum_value(
        inbound_mail.BOUNCE,
        description="A delivery report: the invitation mail it names is marked FAILED or DELAYED.",
    )


@strawberry.type(description="What one part of an inbound mail did; reason says why.")
class InboundOutcome:
    kind: InboundOutcomeKind = strawberry.field(description="What it did.")
    code: str | None = strawberry.field(
        description="Why it was refused or ignored (a lower-case code such as not-invited).",
        deprecation_reason="Use reasonCode (the InboundOutcomeCode enum).",
    )
    reason_code: InboundOutcomeCode | None = strawberry.field(  # type: ignore[valid-type]
        description="Why it was refused or ignored (null when it was applied)."
    )
    reason: str = strawberry.field(description="What happened or why, in English, for people.")
    follow_up_id: strawberry.ID | None = strawberry.field(
        description="Global ID of the FollowUp it concerned; null when none was matched."
    )
    recurrence_id: datetime | None = strawberry.field(
        description="The occurrence (RECURRENCE-ID, UTC) it was about; null: the whole series."
    )
    proposal_id: strawberry.Private[int | None]

    @classmethod
    def from_outcome(cls, o: inbound_mail.Outcome) -> Self:
        fid = strawberry.ID(encode("FollowUp", o.followup_id)) if o.followup_id else None
        return cls(
            kind=InboundOutcomeKind(o.kind),
            code=o.code,
            reason_code=OutcomeCode(o.code) if o.code is not None else None,
            reason=o.reason,
            follow_up_id=fid,
            recurrence_id=o.recurrence_id,
            proposal_id=o.proposal_id,
        )

    @strawberry.field(
        description="The stored Proposal when kind is PROPOSAL (and you may see it); else null."
    )
    async def proposal(self, info: Info) -> Proposal | None:
        row = await records.proposals.one(info, self.proposal_id)
        viewer, loaders = info.context.viewer, info.context.loaders
        (allowed,) = await visibility.visible_proposals(viewer, loaders, [row])
        return Proposal.from_model(allowed) if allowed else None
