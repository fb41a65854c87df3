"""Tortoise models of the IMAP intake: configured mailboxes and per-message outcomes.

A ``Mailbox`` belongs to an associate (the organiser's own mailbox) or is the one shared
mailbox of the settings (``shared``, no stored password: it comes from IMAP_PASSWORD).
It keeps the IMAP state that must survive restarts: UIDVALIDITY and the last UID looked
at.  A ``MailboxMessage`` records what one handled message did (applied, ignored or
rejected, with the reason), written in the same transaction as the status change it
caused, so a message is applied once even when the intake dies right after.
"""

from __future__ import annotations

from enum import Enum

from tortoise import fields
from tortoise.models import Model


class MailboxState(str, Enum):
    OK = "OK"
    FAILED = "FAILED"


class MessageOutcome(str, Enum):
    """What one handled message did, as ``MailboxMessage.outcome`` stores it."""

    APPLIED = "APPLIED"
    IGNORED = "IGNORED"
    REJECTED = "REJECTED"


class Mailbox(Model):
    """An IMAP mailbox whose calendar mails (replies, counters, bounces) the service reads."""

    id = fields.IntField(primary_key=True)
    associate_id = fields.IntField(null=True, description="the owner, null for the shared mailbox")
    shared = fields.BooleanField(default=False)
    host = fields.CharField(max_length=255)
    port = fields.IntField(default=993)
    tls = fields.BooleanField(default=True, description="implicit TLS (IMAPS)")
    username = fields.CharField(max_length=320)
    secret_enc = fields.TextField(null=True, description="Fernet-encrypted password")
    folder = fields.CharField(max_length=255, default="INBOX")
    uidvalidity = fields.BigIntField(null=True)
    last_uid = fields.BigIntField(default=0)
    state = fields.CharEnumField(MailboxState, default=MailboxState.OK, max_length=8)
    last_error = fields.TextField(null=True)
    checked_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "mailbox"
        indexes = (("associate_id",),)


class MailboxMessage(Model):
    """What one calendar mail found in a mailbox did."""

    id = fields.IntField(primary_key=True)
    mailbox_id = fields.IntField()
    uidvalidity = fields.BigIntField()
    uid = fields.BigIntField()
    message_id = fields.CharField(max_length=998, null=True)
    outcome = fields.CharField(max_length=16, description="APPLIED, IGNORED or REJECTED")
    reason = fields.TextField()
    followup_id = fields.IntField(null=True)
    processed_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "mailbox_message"
        unique_together = (("mailbox_id", "uidvalidity", "uid"),)
        indexes = (("mailbox_id", "message_id"),)
