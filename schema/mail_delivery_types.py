"""The GraphQL type of an invitation mail to a participant and how its delivery went."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Self

import strawberry

from resolvers import records
from resolvers.context import Info
from resolvers.enums import MailMethod, MailStatus
from schema.enums import ItipMethod, described

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
    status: MailDeliveryStatus = strawberry.field(  # type: ignore[valid-type]
        description="Where the mail stands in the outbox."
    )
    method: str = strawberry.field(
        description="iTIP method of the mail: REQUEST, CANCEL or DECLINECOUNTER.",
        deprecation_reason="Use itipMethod (the ItipMethod enum).",
    )
    itip_method: ItipMethod = strawberry.field(  # type: ignore[valid-type]
        description="What the mail does: an invitation or update, a cancellation, or a "
        "declined counter proposal."
    )
    sequence: int = strawberry.field(
        description="iCalendar SEQUENCE of the meeting the mail carried."
    )
    recipient: str = strawberry.field(description="E-mail address the mail went (goes) to.")
    attempts: int = strawberry.field(description="SMTP attempts made so far (0 before the first).")
    last_error: str | None = strawberry.field(
        description="The SMTP or bounce error of the last failed attempt; null when none."
    )
    queued_at: datetime = strawberry.field(description="When it was queued (UTC, ISO 8601).")
    sent_at: datetime | None = strawberry.field(
        description="When the SMTP server accepted it (UTC, ISO 8601); null: not sent."
    )
    next_attempt_at: datetime | None = strawberry.field(
        description="While QUEUED: when the next attempt is due (UTC, ISO 8601); otherwise null."
    )
    recurrence_id: datetime | None = strawberry.field(
        description="The occurrence (RECURRENCE-ID, UTC) the mail was about; null: whole series."
    )

    @classmethod
    def from_model(cls, row: MailOutbox) -> Self:
        return cls(
            status=row.status,
            method=row.method,
            itip_method=MailMethod(row.method),
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
