"""Tortoise models of the mail outbox, applied replies and counter proposals.

The outbox rows carry the generic claim columns that ``orm.outbox`` works on (status,
attempts, next_attempt_at, last_error, claimed_by, claimed_until, sent_at).  Rows keep
plain integer references to the follow-up and participant, not foreign keys, because a
CANCEL must still go out after the meeting or the participant row is deleted.
"""

from __future__ import annotations

from enum import Enum

from tortoise import fields
from tortoise.models import Model


class MailMethod(str, Enum):
    """The iTIP method of an outgoing mail (RFC 5546): what ``MailOutbox.method`` holds."""

    REQUEST = "REQUEST"
    CANCEL = "CANCEL"
    DECLINECOUNTER = "DECLINECOUNTER"


class OutboxStatus(str, Enum):
    QUEUED = "QUEUED"
    SENT = "SENT"
    FAILED = "FAILED"


class MailStatus(str, Enum):
    """A mail's state: the claim states of ``orm.outbox`` plus the mail-only outcomes.

    SUPERSEDED: a newer mail for the same meeting, recipient and occurrence was queued
    before this one went out, so it is never sent; DELAYED: sent, and a DSN reported it
    delayed (``Action: delayed``); CONFIG_ERROR: the SMTP server refused us for a
    configuration reason (no STARTTLS, refused credentials) - not retried until a worker
    starts again with new settings.
    """

    QUEUED = "QUEUED"
    SENT = "SENT"
    FAILED = "FAILED"
    SUPERSEDED = "SUPERSEDED"
    DELAYED = "DELAYED"
    CONFIG_ERROR = "CONFIG_ERROR"


class ProposalStatus(str, Enum):
    PENDING = "PENDING"
    ACCEPTED = "ACCEPTED"
    DECLINED = "DECLINED"


class MailOutbox(Model):
    """One iMIP mail to one recipient, queued in the transaction of the change.

    The mails of one meeting to one recipient go out in queue order (``mail.worker``
    claims per ``(followup_id, recipient)``).
    """

    id = fields.IntField(primary_key=True)
    status = fields.CharEnumField(MailStatus, default=MailStatus.QUEUED, max_length=16)
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField()
    last_error = fields.TextField(null=True)
    claimed_by = fields.CharField(max_length=100, null=True)
    claimed_until = fields.DatetimeField(null=True)
    sent_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    followup_id = fields.IntField(description="the follow-up, kept after it is deleted")
    participant_id = fields.IntField(null=True, description="the participant, kept after removal")
    uid = fields.CharField(max_length=255)
    method = fields.CharField(max_length=16, description="REQUEST, CANCEL or DECLINECOUNTER")
    sequence = fields.IntField(default=0)
    recurrence_id = fields.DatetimeField(null=True)
    sender = fields.CharField(max_length=320, description="envelope sender")
    recipient = fields.CharField(max_length=320)
    message_id = fields.CharField(max_length=255)
    message = fields.TextField(description="the whole RFC 5322 message")

    class Meta:
        table = "mail_outbox"
        indexes = (
            ("status", "next_attempt_at"),
            ("participant_id", "id"),
            ("message_id",),
            ("followup_id", "recipient", "status"),
        )


class MailReply(Model):
    """The SEQUENCE and DTSTAMP of a reply applied for one attendee and occurrence."""

    id = fields.IntField(primary_key=True)
    followup_id = fields.IntField()
    participant_id = fields.IntField()
    recurrence_id = fields.DatetimeField(null=True)
    sequence = fields.IntField(default=0)
    dtstamp = fields.DatetimeField(null=True)
    method = fields.CharField(max_length=16, default="REPLY")
    received_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "mail_reply"
        indexes = (("followup_id", "participant_id"),)


class Proposal(Model):
    """A COUNTER: an attendee proposes a new time or place for a meeting or occurrence."""

    id = fields.IntField(primary_key=True)
    followup_id = fields.IntField()
    participant_id = fields.IntField()
    attendee_email = fields.CharField(max_length=320)
    recurrence_id = fields.DatetimeField(null=True)
    start_at = fields.DatetimeField()
    end_at = fields.DatetimeField(null=True)
    location = fields.CharField(max_length=500, null=True)
    comment = fields.TextField(null=True)
    status = fields.CharEnumField(ProposalStatus, default=ProposalStatus.PENDING)
    sequence = fields.IntField(default=0, description="SEQUENCE the COUNTER answered")
    created_at = fields.DatetimeField(auto_now_add=True)
    decided_at = fields.DatetimeField(null=True)

    class Meta:
        table = "proposal"
        indexes = (("followup_id", "status"),)
