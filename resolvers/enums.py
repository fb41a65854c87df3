"""The row enums the GraphQL contract exposes, as the tables define them (``orm``).

``schema`` declares them as GraphQL enums from here; the values live once, on the models.
"""

from __future__ import annotations

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
