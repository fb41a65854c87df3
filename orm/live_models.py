"""Tortoise models of the live change log (issue 15): what changed, for whom, in order.

``LiveChange.id`` is the cursor of ``followUpChangesSince`` and of the subscriptions;
``LiveParty`` names the associates and resources a change concerns (before and after it,
so a removed attendee hears of it), so that "the changes for these associates after
this cursor" reads one index range per associate.
"""

from __future__ import annotations

from enum import Enum

from tortoise import fields
from tortoise.models import Model


class LiveKind(str, Enum):
    """What happened: to a follow-up, to a mail delivery, to a calendar account."""

    CREATED = "CREATED"
    UPDATED = "UPDATED"
    DELETED = "DELETED"
    DELIVERY_FAILED = "DELIVERY_FAILED"
    SYNC_FAILED = "SYNC_FAILED"


class PartyKind(str, Enum):
    """Who a change concerns: an associate's diary or a resource's."""

    ASSOCIATE = "A"
    RESOURCE = "R"


class LiveChange(Model):
    """One change, written in the transaction that made it (pruned after LIVE_RETENTION_HOURS)."""

    id = fields.IntField(primary_key=True)
    at = fields.DatetimeField(auto_now_add=True)
    kind = fields.CharEnumField(LiveKind, max_length=16)
    followup_id = fields.IntField(null=True, description="the follow-up, kept after it is deleted")
    occurrence_start = fields.DatetimeField(
        null=True, description="the original start of the one occurrence changed"
    )
    account_id = fields.IntField(null=True, description="SYNC_FAILED: the calendar account")

    class Meta:
        table = "live_change"
        table_description = "The live change log: the cursor of subscriptions and catch-up."
        indexes = (("at",),)


class LiveParty(Model):
    """An associate or a resource one change concerns."""

    id = fields.IntField(primary_key=True)
    change_id = fields.IntField(description="the LiveChange")
    party = fields.CharEnumField(PartyKind, max_length=1)
    party_id = fields.IntField(description="the associate or resource id")

    class Meta:
        table = "live_change_party"
        table_description = "Who a live change concerns."
        indexes = (("party", "party_id", "change_id"), ("change_id",))
