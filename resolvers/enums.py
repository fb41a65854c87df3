"""The row enums the GraphQL contract exposes, as the tables define them (``orm``).

``schema`` declares them as GraphQL enums from here; the values live once, on the models.
"""

from __future__ import annotations

from enum import Enum
from typing import TypeVar

import strawberry

from orm.intake_models import MailboxState
from orm.models import Kind, ParticipantStatus, PhoneKind, PreferenceScope, ResourceKind
from orm.outbox_models import MailStatus, ProposalStatus
from orm.sync_models import AccountState, ObjectState

__all__ = [
    "AccountState",
    "Kind",
    "MailStatus",
    "MailboxState",
    "ObjectState",
    "ParticipantStatus",
    "PhoneKind",
    "PreferenceScope",
    "ProposalStatus",
    "ResourceKind",
]

E = TypeVar("E", bound=Enum)

#: the GraphQL description of every value of the enums above (strawberry reads
#: ``EnumValue.description``; the models keep plain string values)
VALUE_DESCRIPTIONS: dict[Enum, str] = {
    Kind.MEETING: "A meeting: a time span in the diary, with participants.",
    Kind.TASK: "A task: a to-do with a due time, listed in the todo list until done.",
    Kind.CALL: "A phone call to make or made, with a time.",
    PhoneKind.DIRECT: "A direct line at work.",
    PhoneKind.MOBILE: "A mobile phone.",
    PhoneKind.PRIVATE: "A private (home) number.",
    PhoneKind.WORK: "A work number (switchboard).",
    PhoneKind.FAX: "A fax number.",
    PhoneKind.OTHER: "Any other number.",
    ResourceKind.ROOM: "A meeting room: has a diary and can be booked.",
    ResourceKind.EQUIPMENT: "Equipment (a projector, a car) booked with a meeting.",
    ResourceKind.LOCATION: "A place outside the building.",
    ParticipantStatus.INVITED: "Invited; no answer yet.",
    ParticipantStatus.ACCEPTED: "Accepted the invitation.",
    ParticipantStatus.TENTATIVE: "Tentatively accepted.",
    ParticipantStatus.DECLINED: "Declined the invitation.",
    PreferenceScope.SYSTEM: "The installation-wide default.",
    PreferenceScope.GROUP: "Set for a user group; overrides the system default.",
    PreferenceScope.ASSOCIATE: "Set for one associate; overrides the group and system.",
    MailStatus.QUEUED: "Waiting in the outbox to be sent (or retried).",
    MailStatus.SENT: "Accepted by the SMTP server.",
    MailStatus.FAILED: "Given up: refused permanently, bounced, or out of retries.",
    MailStatus.SUPERSEDED: "Never sent: a newer mail for the same meeting, recipient and "
    "occurrence was queued first.",
    MailStatus.DELAYED: "Sent, and a delivery status notification reported it delayed.",
    MailStatus.CONFIG_ERROR: "The SMTP server refused us for a configuration reason (no "
    "STARTTLS, refused credentials); not retried until a worker starts with new settings.",
    ProposalStatus.PENDING: "Waiting for the organiser to accept or decline.",
    ProposalStatus.ACCEPTED: "The organiser accepted: the meeting moved to the proposed time.",
    ProposalStatus.DECLINED: "The organiser declined: the meeting kept its time.",
    MailboxState.OK: "The last poll succeeded (or none has run yet).",
    MailboxState.FAILED: "The last poll failed; see lastError. Polled again on the next round.",
    AccountState.OK: "The last sync with the CalDAV server succeeded (or none has run yet).",
    AccountState.FAILED: "The last sync failed; see lastError.",
    ObjectState.PENDING: "Changed here, not yet written to the CalDAV server.",
    ObjectState.SYNCED: "The same on both sides as of the last sync.",
    ObjectState.FAILED: "Writing to the CalDAV server failed; retried by the sync worker.",
}


def described(cls: type[E], name: str | None = None, *, description: str) -> type[E]:
    """``cls`` registered as a GraphQL enum, its values described from VALUE_DESCRIPTIONS."""
    registered = strawberry.enum(cls, name=name, description=description)
    for value in registered.__strawberry_definition__.values:  # type: ignore[attr-defined]
        value.description = VALUE_DESCRIPTIONS[cls[value.name]]
    return registered
