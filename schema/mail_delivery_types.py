"""The GraphQL type of an invitation mail to a participant and how its delivery went."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Self

import strawberry

from resolvers import records
from resolvers.context import Info
from resolvers.enums import MailStatus, described

if TYPE_CHECKING:
    from orm.outbox_models import MailOutbox

MailDeliveryStatus = described(
    MailStatus,
    name="MailDeliveryStatus",
    description=(
        "QUEUED (also while retrying), SENT, FAILED, SUPERSEDED (a newer mail replaced it "
        "before it went out), DELAYED (sent; a DSN reported it delayed), CONFIG_ERROR (the "
        "SMTP server refused the configuration: STARTTLS or credentials)"
    ),
)


@strawberry.type(description="The last invitation mail to a participant and how it went.")
class MailDelivery:
    status: MailDeliveryStatus  # type: ignore[valid-type]
    method: str = strawberry.field(description="REQUEST, CANCEL or DECLINECOUNTER")
    sequence: int
    recipient: str
    attempts: int
    last_error: str | None
    queued_at: datetime
    sent_at: datetime | None
    next_attempt_at: datetime | None = strawberry.field(description="While queued: next try")
    recurrence_id: datetime | None

    @classmethod
    def from_model(cls, row: MailOutbox) -> Self:
        return cls(
            status=row.status,
            method=row.method,
            sequence=row.sequence,
            recipient=row.recipient,
            attempts=row.attempts,
            last_error=row.last_error,
            queued_at=row.created_at,
            sent_at=row.sent_at,
            next_attempt_at=row.next_attempt_at if row.status is MailStatus.QUEUED else None,
            recurrence_id=row.recurrence_id,
        )


async def delivery_of(info: Info, participant_id: int) -> MailDelivery | None:
    """Return the participant's latest outbox row (one batched query per request)."""
    rows = await records.participant_mails.of(info, participant_id)
    return MailDelivery.from_model(rows[-1]) if rows else None


async def deliveries_of(info: Info, participant_id: int) -> list[MailDelivery]:
    """Return every outbox row of the participant, oldest first (the same batched query)."""
    rows = await records.participant_mails.of(info, participant_id)
    return [MailDelivery.from_model(r) for r in rows]
