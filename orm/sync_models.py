"""Tortoise models of CalDAV sync: calendar accounts, per-calendar object state, sync jobs.

``CalendarAccount`` belongs to an associate or a resource; its password or token is
stored encrypted (``secret_enc``) or by reference to an environment variable
(``secret_env``), never in clear.  ``CalendarObject`` is the state of one follow-up in
one calendar (ETag, last content written, pending/synced/failed).  ``SyncJob`` rows are
the CalDAV outbox: they carry the generic claim columns of ``orm.outbox`` and plain
integer follow-up references, because a DELETE must still run after the row is gone.
"""

from __future__ import annotations

from enum import Enum

from tortoise import fields
from tortoise.models import Model

from orm.models import Associate, Resource
from orm.outbox_models import OutboxStatus


class AccountState(str, Enum):
    OK = "OK"
    FAILED = "FAILED"


class ObjectState(str, Enum):
    PENDING = "PENDING"
    SYNCED = "SYNCED"
    FAILED = "FAILED"


class JobOp(str, Enum):
    PUT = "PUT"
    DELETE = "DELETE"


class CalendarAccount(Model):
    """A CalDAV calendar of an associate or a resource, and the credentials to reach it."""

    id = fields.IntField(primary_key=True)
    associate: fields.ForeignKeyNullableRelation[Associate] = fields.ForeignKeyField(
        "models.Associate", related_name="calendar_accounts", null=True, on_delete=fields.CASCADE
    )
    resource: fields.ForeignKeyNullableRelation[Resource] = fields.ForeignKeyField(
        "models.Resource", related_name="calendar_accounts", null=True, on_delete=fields.CASCADE
    )
    server_url = fields.CharField(max_length=1000)
    username = fields.CharField(max_length=320)
    secret_enc = fields.TextField(null=True, description="encrypted password or token")
    secret_env = fields.CharField(max_length=200, null=True, description="env variable name")
    calendar_url = fields.CharField(max_length=1000, null=True)
    calendar_name = fields.CharField(max_length=300, null=True)
    state = fields.CharEnumField(AccountState, default=AccountState.OK)
    last_error = fields.TextField(null=True)
    failed_at = fields.DatetimeField(null=True)
    supports_vtodo = fields.BooleanField(null=True)
    supports_sync = fields.BooleanField(null=True, description="sync-collection works")
    sync_token = fields.TextField(null=True)
    reconciled_at = fields.DatetimeField(null=True)
    pull = fields.BooleanField(default=True, description="changes made in the calendar come back")
    pulled_at = fields.DatetimeField(null=True, description="last pull pass that found a change")
    pull_error = fields.TextField(null=True, description="why the last pull pass failed")
    import_new_events = fields.BooleanField(
        default=False, description="events made in the calendar app become meetings"
    )
    pull_delete = fields.TextField(
        null=True, description="safe, unlink or restore (null: CALDAV_PULL_DELETE)"
    )
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    associate_id: int | None
    resource_id: int | None

    class Meta:
        table = "calendar_account"


class CalendarObject(Model):
    """One follow-up in one calendar: the object name, its ETag and how the sync went."""

    id = fields.IntField(primary_key=True)
    account: fields.ForeignKeyRelation[CalendarAccount] = fields.ForeignKeyField(
        "models.CalendarAccount", related_name="objects", on_delete=fields.CASCADE
    )
    followup_id = fields.IntField()
    uid = fields.CharField(max_length=255)
    name = fields.CharField(max_length=200)
    wanted = fields.BooleanField(default=True, description="false once queued for removal")
    state = fields.CharEnumField(ObjectState, default=ObjectState.PENDING)
    error = fields.TextField(null=True)
    etag = fields.CharField(max_length=255, null=True)
    pushed_ics = fields.TextField(null=True, description="the content last written")
    content_hash = fields.CharField(max_length=64, null=True, description="last queued content")
    synced_at = fields.DatetimeField(null=True)

    account_id: int

    class Meta:
        table = "calendar_object"
        unique_together = (("account", "name"),)
        indexes = (("followup_id",),)


class PullOutcome(str, Enum):
    APPLIED = "APPLIED"
    REFUSED = "REFUSED"
    STATUS = "STATUS"
    REVERTED = "REVERTED"
    CONFLICT = "CONFLICT"
    IMPORTED = "IMPORTED"


class CalendarPull(Model):
    """One change found in a calendar by a pull, and what the service did with it."""

    id = fields.IntField(primary_key=True)
    account: fields.ForeignKeyRelation[CalendarAccount] = fields.ForeignKeyField(
        "models.CalendarAccount", related_name="pulls", on_delete=fields.CASCADE
    )
    followup_id = fields.IntField(
        null=True, description="the follow-up the object belongs to (null: none was made)"
    )
    name = fields.CharField(max_length=200, description="object name in the calendar")
    outcome = fields.CharEnumField(PullOutcome)
    fields_changed: list[str] = fields.JSONField(  # type: ignore[assignment]
        default=list, description="fields changed in the calendar"
    )
    reason = fields.TextField(null=True, description="why a change was refused or put back")
    calendar_values: dict[str, object] | None = fields.JSONField(  # type: ignore[assignment]
        null=True, description="CONFLICT: the calendar's value of each field the CRM kept"
    )
    created_at = fields.DatetimeField(auto_now_add=True)
    recurrence_id = fields.DatetimeField(
        null=True, description="CONFLICT: the occurrence the calendar changed (null: all)"
    )
    following = fields.BooleanField(
        default=False, description="CONFLICT: the change was to that occurrence and the following"
    )
    resolved_at = fields.DatetimeField(null=True, description="CONFLICT: when it was resolved")
    resolution = fields.CharField(
        max_length=8, null=True, description="CONFLICT: the side taken (CRM or CALENDAR)"
    )
    resolved_by_id = fields.IntField(null=True, description="CONFLICT: the associate who did")

    account_id: int

    class Meta:
        table = "calendar_pull"
        indexes = (("followup_id", "id"), ("account_id", "id"))


class ForeignObject(Model):
    """An object in a calendar that is not ours and was looked at, not imported.

    Remembered by ETag so that a pull does not fetch it again until it changes
    (``CalendarAccount.import_new_events``).
    """

    id = fields.IntField(primary_key=True)
    account: fields.ForeignKeyRelation[CalendarAccount] = fields.ForeignKeyField(
        "models.CalendarAccount", related_name="foreign_objects", on_delete=fields.CASCADE
    )
    name = fields.CharField(max_length=200, description="object name in the calendar")
    etag = fields.CharField(max_length=255, description="the ETag it had when looked at")

    account_id: int

    class Meta:
        table = "calendar_foreign_object"
        unique_together = (("account", "name"),)


class SyncJob(Model):
    """One PUT or DELETE of one object in one calendar, queued in the transaction of the change."""

    id = fields.IntField(primary_key=True)
    status = fields.CharEnumField(OutboxStatus, default=OutboxStatus.QUEUED)
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField()
    last_error = fields.TextField(null=True)
    claimed_by = fields.CharField(max_length=100, null=True)
    claimed_until = fields.DatetimeField(null=True)
    sent_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    account: fields.ForeignKeyRelation[CalendarAccount] = fields.ForeignKeyField(
        "models.CalendarAccount", related_name="jobs", on_delete=fields.CASCADE
    )
    followup_id = fields.IntField(description="the follow-up, kept after it is deleted")
    name = fields.CharField(max_length=200, description="object name in the calendar")
    op = fields.CharEnumField(JobOp)
    ics = fields.TextField(null=True, description="the object to PUT")

    account_id: int

    class Meta:
        table = "sync_job"
        indexes = (("status", "next_attempt_at"), ("account_id", "name", "status"))
