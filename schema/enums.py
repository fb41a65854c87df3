"""GraphQL enums declared from Python enums, every value with its description.

``described`` is how ``schema`` turns an enum of ``resolvers.enums`` (or of a resolver
module) into a GraphQL enum: it refuses, at import, an enum whose values are not each
described, so a value added to a row enum cannot reach the schema undocumented.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from typing import Any

import strawberry

from resolvers import enums

#: Descriptions of the row enums' values (``described`` without ``values`` reads them).
VALUE_DESCRIPTIONS: dict[Enum, str] = {
    enums.Kind.MEETING: "A meeting: a time span in the diary, with participants.",
    enums.Kind.TASK: "A task: a to-do with a due time, listed in the todo list until done.",
    enums.Kind.CALL: "A phone call to make or made, with a time.",
    enums.PhoneKind.DIRECT: "A direct line at work.",
    enums.PhoneKind.MOBILE: "A mobile phone.",
    enums.PhoneKind.PRIVATE: "A private (home) number.",
    enums.PhoneKind.WORK: "A work number (switchboard).",
    enums.PhoneKind.FAX: "A fax number.",
    enums.PhoneKind.OTHER: "Any other number.",
    enums.ResourceKind.ROOM: "A meeting room: has a diary and can be booked.",
    enums.ResourceKind.EQUIPMENT: "Equipment (a projector, a car) booked with a meeting.",
    enums.ResourceKind.LOCATION: "A place outside the building.",
    enums.ParticipantStatus.INVITED: "Invited; no answer yet.",
    enums.ParticipantStatus.ACCEPTED: "Accepted the invitation.",
    enums.ParticipantStatus.TENTATIVE: "Tentatively accepted.",
    enums.ParticipantStatus.DECLINED: "Declined the invitation.",
    enums.PreferenceScope.SYSTEM: "The installation-wide default.",
    enums.PreferenceScope.GROUP: "Set for a user group; overrides the system default.",
    enums.PreferenceScope.ASSOCIATE: "Set for one associate; overrides the group and system.",
    enums.MailStatus.QUEUED: "Waiting in the outbox to be sent (or retried).",
    enums.MailStatus.SENT: "Accepted by the SMTP server.",
    enums.MailStatus.FAILED: "Given up: refused permanently, bounced, or out of retries.",
    enums.MailStatus.SUPERSEDED: "Never sent: a newer mail for the same meeting, recipient and "
    "occurrence was queued first.",
    enums.MailStatus.DELAYED: "Sent, and a delivery status notification reported it delayed.",
    enums.MailStatus.CONFIG_ERROR: "The SMTP server refused us for a configuration reason (no "
    "STARTTLS, refused credentials); not retried until a worker starts with new settings.",
    enums.ProposalStatus.PENDING: "Waiting for the organiser to accept or decline.",
    enums.ProposalStatus.ACCEPTED: "The organiser accepted: the meeting moved.",
    enums.ProposalStatus.DECLINED: "The organiser declined: the meeting kept its time.",
    enums.MailboxState.OK: "The last poll succeeded (or none has run yet).",
    enums.MailboxState.FAILED: "The last poll failed (see lastError); polled again next round.",
    enums.AccountState.OK: "The last sync with the CalDAV server succeeded (or none has run yet).",
    enums.AccountState.FAILED: "The last sync failed; see lastError.",
    enums.ObjectState.PENDING: "Changed here, not yet written to the CalDAV server.",
    enums.ObjectState.SYNCED: "The same on both sides as of the last sync.",
    enums.ObjectState.FAILED: "Writing to the CalDAV server failed; retried by the sync worker.",
}


def described(
    py_enum: type[Enum],
    description: str,
    values: Mapping[str, str] | None = None,
    *,
    name: str | None = None,
) -> Any:
    """Declare ``py_enum`` as a GraphQL enum; ``values`` describes each member by name.

    Without ``values`` the descriptions come from ``VALUE_DESCRIPTIONS``.
    """
    if values is None:
        values = {m.name: VALUE_DESCRIPTIONS[m] for m in py_enum if m in VALUE_DESCRIPTIONS}
    members = {m.name for m in py_enum}
    if members != set(values):
        raise ValueError(
            f"{py_enum.__name__}: describe exactly its values "
            f"(missing {sorted(members - set(values))}, unknown {sorted(set(values) - members)})"
        )
    declared: Any = strawberry.enum(py_enum, name=name, description=description)
    for value in declared.__strawberry_definition__.values:
        value.description = values[value.name]
    return declared


EmailUnavailableReason = described(
    enums.EmailUnavailableReason,
    "Why someone cannot get an e-mail invitation.",
    {
        "ORGANISER": "The organiser of the meeting: invitations go to the others.",
        "MAIL_NOT_CONFIGURED": "Outgoing mail is off (SMTP_HOST is unset).",
        "NO_ADDRESS": "No e-mail address is known for them.",
        "INVALID_ADDRESS": "Their e-mail address is not a valid address.",
        "RESOURCE": "A room or piece of equipment: it is booked, never invited by mail.",
    },
)

StatusVia = described(
    enums.StatusVia,
    "How a participant status change came in.",
    {
        "API": "Set through this API (setBy says who).",
        "EMAIL": "An iMIP REPLY by e-mail (SMTP pipe, HTTP, IMAP intake or processInboundMail).",
        "LINK": "The invitee followed a signed reply link in an invitation mail.",
        "CALDAV": "The attendee's PARTSTAT read back from a synchronised CalDAV calendar.",
    },
)

ItipMethod = described(
    enums.MailMethod,
    "The iTIP method of an outgoing invitation mail (RFC 5546).",
    {
        "REQUEST": "An invitation or an update of the meeting (section 3.2.2).",
        "CANCEL": "The meeting, one occurrence or this attendee's place in it is cancelled "
        "(section 3.2.5).",
        "DECLINECOUNTER": "The organiser declines the attendee's counter proposal (section 3.2.8).",
    },
    name="ItipMethod",
)

InboundOutcomeCode = described(
    enums.InboundOutcomeCode,
    "Why an inbound mail, or one calendar in it, was refused or ignored.",
    {
        "UNREADABLE": "The message could not be parsed (or is larger than the limit).",
        "NO_CALENDAR": "The message carries no iCalendar part.",
        "NOT_ITIP": "The calendar is not a scheduling message (it has no METHOD).",
        "NOT_A_RESPONSE": "The METHOD is neither REPLY nor COUNTER.",
        "NO_COMPONENT": "The calendar holds no VEVENT or VTODO.",
        "NO_UID": "A component has no UID.",
        "SEVERAL_UIDS": "The calendar mixes components of several UIDs.",
        "UNKNOWN_UID": "No stored meeting has this UID (it may have been deleted).",
        "NO_ORGANIZER": "The reply names no organiser, or the meeting's organiser has no "
        "e-mail address.",
        "WRONG_ORGANIZER": "The reply's ORGANIZER is not the meeting's organiser.",
        "NO_ATTENDEE": "The reply names no attendee.",
        "SEVERAL_ATTENDEES": "The reply has several ATTENDEE lines and none is the sender.",
        "NOT_INVITED": "The attendee is not (or no longer) invited to the meeting.",
        "WRONG_SENDER": "The mail's sender is neither the attendee nor its SENT-BY.",
        "BAD_PARTSTAT": "The PARTSTAT is not one this service records.",
        "UNKNOWN_OCCURRENCE": "The RECURRENCE-ID names no occurrence of the series.",
        "NO_PROPOSED_TIME": "The COUNTER proposes no start time.",
        "STALE": "An answer at least as recent (SEQUENCE, DTSTAMP) was already applied.",
        "UNKNOWN_BOUNCE": "The delivery report is not about a mail this service sent.",
        "FORBIDDEN": "The mailbox's associate neither organises the meeting nor is an "
        "administrator.",
        "REFUSED": "Another rule of the service refused it (reason says which).",
    },
)

Frequency = described(
    enums.Freq,
    "How often a series repeats: the RRULE FREQ (RFC 5545 section 3.3.10).",
    {
        "SECONDLY": "Every second (never accepted: a series repeats at most hourly).",
        "MINUTELY": "Every minute (never accepted: a series repeats at most hourly).",
        "HOURLY": "Every hour, or every interval hours.",
        "DAILY": "Every day, or every interval days.",
        "WEEKLY": "Every week, or every interval weeks.",
        "MONTHLY": "Every month, or every interval months.",
        "YEARLY": "Every year, or every interval years.",
    },
    name="Frequency",
)

Weekday = described(
    enums.Weekday,
    "A day of the week (RRULE BYDAY's MO..SU).",
    {
        "MONDAY": "Monday (MO).",
        "TUESDAY": "Tuesday (TU).",
        "WEDNESDAY": "Wednesday (WE).",
        "THURSDAY": "Thursday (TH).",
        "FRIDAY": "Friday (FR).",
        "SATURDAY": "Saturday (SA).",
        "SUNDAY": "Sunday (SU).",
    },
)
