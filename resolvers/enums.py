"""The enums the GraphQL contract exposes, where their values are defined.

Row enums come from the tables (``orm``), the recurrence ones from ``calcore``; the rest
are the closed sets of codes the resolvers produce.  ``schema`` declares them as GraphQL
enums from here; the values live once.  ``tests/test_enum_producers.py`` checks that every
place that writes one of these values writes a member.
"""

from __future__ import annotations

from enum import Enum

from calcore.rrule_model import Freq
from orm.intake_models import MailboxState, MessageOutcome
from orm.models import (
    Kind,
    ParticipantStatus,
    PhoneKind,
    PreferenceScope,
    ResourceKind,
    StatusVia,
)
from orm.outbox_models import MailMethod, MailStatus, ProposalStatus
from orm.sync_models import AccountState, ObjectState

__all__ = [
    "AccountState",
    "EmailUnavailableReason",
    "Freq",
    "InboundOutcomeCode",
    "Kind",
    "MailMethod",
    "MailStatus",
    "MailboxState",
    "MessageOutcome",
    "ObjectState",
    "ParticipantStatus",
    "PhoneKind",
    "PreferenceScope",
    "ProposalStatus",
    "ResourceKind",
    "StatusVia",
    "Weekday",
]


class EmailUnavailableReason(str, Enum):
    """Why someone cannot get an e-mail invitation (``participants.email_unavailable``)."""

    ORGANISER = "ORGANISER"
    MAIL_NOT_CONFIGURED = "MAIL_NOT_CONFIGURED"
    NO_ADDRESS = "NO_ADDRESS"
    INVALID_ADDRESS = "INVALID_ADDRESS"
    RESOURCE = "RESOURCE"


class InboundOutcomeCode(str, Enum):
    """Why an inbound mail (or one calendar in it) was refused or ignored.

    The values are the codes ``mail.outcomes.Outcome.code`` carries: every
    ``mail.replies.RejectCode`` and the ones ``resolvers.inbound_mail`` adds.
    """

    UNREADABLE = "unreadable"
    NO_CALENDAR = "no-calendar"
    NOT_ITIP = "not-itip"
    NOT_A_RESPONSE = "not-a-response"
    NO_COMPONENT = "no-component"
    NO_UID = "no-uid"
    SEVERAL_UIDS = "several-uids"
    UNKNOWN_UID = "unknown-uid"
    NO_ORGANIZER = "no-organizer"
    WRONG_ORGANIZER = "wrong-organizer"
    NO_ATTENDEE = "no-attendee"
    SEVERAL_ATTENDEES = "several-attendees"
    NOT_INVITED = "not-invited"
    WRONG_SENDER = "wrong-sender"
    BAD_PARTSTAT = "bad-partstat"
    UNKNOWN_OCCURRENCE = "unknown-occurrence"
    NO_PROPOSED_TIME = "no-proposed-time"
    STALE = "stale"
    UNKNOWN_BOUNCE = "unknown-bounce"
    FORBIDDEN = "FORBIDDEN"
    REFUSED = "refused"


class Weekday(str, Enum):
    """A day of the week as RFC 5545 spells it in BYDAY (section 3.3.10)."""

    MONDAY = "MO"
    TUESDAY = "TU"
    WEDNESDAY = "WE"
    THURSDAY = "TH"
    FRIDAY = "FR"
    SATURDAY = "SA"
    SUNDAY = "SU"
