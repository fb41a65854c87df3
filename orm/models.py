"""Tortoise models: the CRM records a follow-up links to, and the follow-ups themselves.

No GraphQL here.  Times are stored in UTC; recurring series keep the owner's IANA zone
beside them (``FollowUp.tzid``) so their wall-clock times survive DST.
"""

from __future__ import annotations

from enum import Enum

from tortoise import fields
from tortoise.models import Model


class Kind(str, Enum):
    MEETING = "MEETING"
    TASK = "TASK"
    CALL = "CALL"


class PhoneKind(str, Enum):
    DIRECT = "DIRECT"
    MOBILE = "MOBILE"
    PRIVATE = "PRIVATE"
    WORK = "WORK"
    FAX = "FAX"
    OTHER = "OTHER"


class ResourceKind(str, Enum):
    ROOM = "ROOM"
    EQUIPMENT = "EQUIPMENT"
    LOCATION = "LOCATION"


class ParticipantStatus(str, Enum):
    INVITED = "INVITED"
    ACCEPTED = "ACCEPTED"
    TENTATIVE = "TENTATIVE"
    DECLINED = "DECLINED"


class PreferenceScope(str, Enum):
    SYSTEM = "SYSTEM"
    GROUP = "GROUP"
    ASSOCIATE = "ASSOCIATE"


EXTERNAL_ID = "upsert key of `followups import` (unique, unset for records made otherwise)"


class UserGroup(Model):
    id = fields.IntField(primary_key=True)
    external_id = fields.CharField(max_length=200, null=True, unique=True, description=EXTERNAL_ID)
    name = fields.CharField(max_length=200, unique=True)

    class Meta:
        table = "user_group"


class Associate(Model):
    id = fields.IntField(primary_key=True)
    external_id = fields.CharField(max_length=200, null=True, unique=True, description=EXTERNAL_ID)
    name = fields.CharField(max_length=200)
    email = fields.CharField(max_length=320, null=True)
    group: fields.ForeignKeyNullableRelation[UserGroup] = fields.ForeignKeyField(
        "models.UserGroup", related_name="associates", null=True, on_delete=fields.SET_NULL
    )
    is_admin = fields.BooleanField(default=False)
    active = fields.BooleanField(default=True)

    group_id: int | None

    class Meta:
        table = "associate"


class ApiToken(Model):
    id = fields.IntField(primary_key=True)
    associate: fields.ForeignKeyRelation[Associate] = fields.ForeignKeyField(
        "models.Associate", related_name="tokens", on_delete=fields.CASCADE
    )
    token_hash = fields.CharField(max_length=64, unique=True)
    name = fields.CharField(max_length=200, default="")
    created_at = fields.DatetimeField(auto_now_add=True)
    expires_at = fields.DatetimeField(null=True)
    revoked_at = fields.DatetimeField(null=True)
    last_used_at = fields.DatetimeField(null=True)

    associate_id: int

    class Meta:
        table = "api_token"


class Company(Model):
    id = fields.IntField(primary_key=True)
    external_id = fields.CharField(max_length=200, null=True, unique=True, description=EXTERNAL_ID)
    name = fields.CharField(max_length=300)
    country = fields.CharField(max_length=2, null=True, description="ISO 3166 alpha-2")

    class Meta:
        table = "company"


class Person(Model):
    id = fields.IntField(primary_key=True)
    external_id = fields.CharField(max_length=200, null=True, unique=True, description=EXTERNAL_ID)
    first_name = fields.CharField(max_length=200, default="")
    last_name = fields.CharField(max_length=200, default="")
    company: fields.ForeignKeyNullableRelation[Company] = fields.ForeignKeyField(
        "models.Company", related_name="persons", null=True, on_delete=fields.SET_NULL
    )
    country = fields.CharField(max_length=2, null=True, description="ISO 3166 alpha-2")

    company_id: int | None

    class Meta:
        table = "person"


class EmailAddress(Model):
    """An e-mail address of a person, position 0 is the preferred one."""

    id = fields.IntField(primary_key=True)
    person: fields.ForeignKeyRelation[Person] = fields.ForeignKeyField(
        "models.Person", related_name="emails", on_delete=fields.CASCADE
    )
    address = fields.CharField(max_length=320)
    position = fields.IntField(default=0)

    person_id: int

    class Meta:
        table = "email_address"


class PhoneNumber(Model):
    """A phone number of a person or of a company."""

    id = fields.IntField(primary_key=True)
    person: fields.ForeignKeyNullableRelation[Person] = fields.ForeignKeyField(
        "models.Person", related_name="phones", null=True, on_delete=fields.CASCADE
    )
    company: fields.ForeignKeyNullableRelation[Company] = fields.ForeignKeyField(
        "models.Company", related_name="phones", null=True, on_delete=fields.CASCADE
    )
    number = fields.CharField(max_length=64)
    kind = fields.CharEnumField(PhoneKind, default=PhoneKind.DIRECT)
    position = fields.IntField(default=0)

    person_id: int | None
    company_id: int | None

    class Meta:
        table = "phone_number"


class Project(Model):
    id = fields.IntField(primary_key=True)
    external_id = fields.CharField(max_length=200, null=True, unique=True, description=EXTERNAL_ID)
    name = fields.CharField(max_length=300)

    class Meta:
        table = "project"


class ProjectMember(Model):
    """A project member: a contact person or an associate."""

    id = fields.IntField(primary_key=True)
    project: fields.ForeignKeyRelation[Project] = fields.ForeignKeyField(
        "models.Project", related_name="members", on_delete=fields.CASCADE
    )
    person: fields.ForeignKeyNullableRelation[Person] = fields.ForeignKeyField(
        "models.Person", related_name="project_memberships", null=True, on_delete=fields.CASCADE
    )
    associate: fields.ForeignKeyNullableRelation[Associate] = fields.ForeignKeyField(
        "models.Associate",
        related_name="project_memberships",
        null=True,
        on_delete=fields.CASCADE,
    )

    project_id: int
    person_id: int | None
    associate_id: int | None

    class Meta:
        table = "project_member"


class Sale(Model):
    id = fields.IntField(primary_key=True)
    external_id = fields.CharField(max_length=200, null=True, unique=True, description=EXTERNAL_ID)
    title = fields.CharField(max_length=300)
    company: fields.ForeignKeyNullableRelation[Company] = fields.ForeignKeyField(
        "models.Company", related_name="sales", null=True, on_delete=fields.SET_NULL
    )
    person: fields.ForeignKeyNullableRelation[Person] = fields.ForeignKeyField(
        "models.Person", related_name="sales", null=True, on_delete=fields.SET_NULL
    )

    company_id: int | None
    person_id: int | None

    class Meta:
        table = "sale"


class Selection(Model):
    id = fields.IntField(primary_key=True)
    external_id = fields.CharField(max_length=200, null=True, unique=True, description=EXTERNAL_ID)
    name = fields.CharField(max_length=300)

    class Meta:
        table = "selection"


class SelectionMember(Model):
    """A selection member: a person, or a company whose persons are the candidates."""

    id = fields.IntField(primary_key=True)
    selection: fields.ForeignKeyRelation[Selection] = fields.ForeignKeyField(
        "models.Selection", related_name="members", on_delete=fields.CASCADE
    )
    person: fields.ForeignKeyNullableRelation[Person] = fields.ForeignKeyField(
        "models.Person", related_name="selection_memberships", null=True, on_delete=fields.CASCADE
    )
    company: fields.ForeignKeyNullableRelation[Company] = fields.ForeignKeyField(
        "models.Company",
        related_name="selection_memberships",
        null=True,
        on_delete=fields.CASCADE,
    )

    selection_id: int
    person_id: int | None
    company_id: int | None

    class Meta:
        table = "selection_member"


class ResourceGroup(Model):
    id = fields.IntField(primary_key=True)
    external_id = fields.CharField(max_length=200, null=True, unique=True, description=EXTERNAL_ID)
    name = fields.CharField(max_length=200, unique=True)

    class Meta:
        table = "resource_group"


class Resource(Model):
    id = fields.IntField(primary_key=True)
    external_id = fields.CharField(max_length=200, null=True, unique=True, description=EXTERNAL_ID)
    name = fields.CharField(max_length=200)
    kind = fields.CharEnumField(ResourceKind, default=ResourceKind.ROOM)
    group: fields.ForeignKeyNullableRelation[ResourceGroup] = fields.ForeignKeyField(
        "models.ResourceGroup", related_name="resources", null=True, on_delete=fields.SET_NULL
    )
    email = fields.CharField(max_length=320, null=True)
    allow_double_booking = fields.BooleanField(default=True)
    active = fields.BooleanField(default=True)

    group_id: int | None

    class Meta:
        table = "resource"


class ActivityType(Model):
    id = fields.IntField(primary_key=True)
    external_id = fields.CharField(max_length=200, null=True, unique=True, description=EXTERNAL_ID)
    name = fields.CharField(max_length=200)
    colour = fields.CharField(max_length=7, default="#3366cc")
    default_kind = fields.CharEnumField(Kind, default=Kind.MEETING)

    class Meta:
        table = "activity_type"


class FollowUp(Model):
    """A meeting, task or call, a recurring series is one row with its rule."""

    id = fields.IntField(primary_key=True)
    kind = fields.CharEnumField(Kind)
    owner: fields.ForeignKeyRelation[Associate] = fields.ForeignKeyField(
        "models.Associate", related_name="followups", on_delete=fields.RESTRICT
    )
    title = fields.CharField(max_length=500)
    agenda = fields.TextField(default="")
    type: fields.ForeignKeyNullableRelation[ActivityType] = fields.ForeignKeyField(
        "models.ActivityType", related_name="followups", null=True, on_delete=fields.SET_NULL
    )
    company: fields.ForeignKeyNullableRelation[Company] = fields.ForeignKeyField(
        "models.Company", related_name="followups", null=True, on_delete=fields.SET_NULL
    )
    person: fields.ForeignKeyNullableRelation[Person] = fields.ForeignKeyField(
        "models.Person", related_name="followups", null=True, on_delete=fields.SET_NULL
    )
    sale: fields.ForeignKeyNullableRelation[Sale] = fields.ForeignKeyField(
        "models.Sale", related_name="followups", null=True, on_delete=fields.SET_NULL
    )
    project: fields.ForeignKeyNullableRelation[Project] = fields.ForeignKeyField(
        "models.Project", related_name="followups", null=True, on_delete=fields.SET_NULL
    )
    location = fields.CharField(max_length=500, default="")
    start_at = fields.DatetimeField(null=True)
    end_at = fields.DatetimeField(null=True)
    deadline = fields.DatetimeField(null=True)
    sort_at = fields.DatetimeField(description="start, else deadline: the activities order")
    busy = fields.BooleanField(default=True)
    all_day = fields.BooleanField(
        default=False,
        description="dates, not times: start/end/deadline are local midnights in tzid, "
        "end exclusive",
    )
    alarm_minutes = fields.IntField(null=True)
    private = fields.BooleanField(default=False)
    done = fields.BooleanField(default=False)
    done_at = fields.DatetimeField(null=True)
    uid = fields.CharField(max_length=255, unique=True)
    sequence = fields.IntField(default=0)
    version = fields.IntField(default=1)
    tzid = fields.CharField(max_length=64, default="UTC")
    rrule = fields.CharField(max_length=1000, null=True, description="RFC 5545 RRULE, series only")
    rdates: list[str] = fields.JSONField(  # type: ignore[assignment]
        default=list, description="extra occurrence starts, ISO UTC"
    )
    exdates: list[str] = fields.JSONField(  # type: ignore[assignment]
        default=list, description="excluded occurrence starts, ISO UTC"
    )
    series_end = fields.DatetimeField(null=True, description="end of the last occurrence")
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    owner_id: int
    type_id: int | None
    company_id: int | None
    person_id: int | None
    sale_id: int | None
    project_id: int | None

    class Meta:
        table = "followup"
        indexes = (
            ("owner_id", "start_at"),
            ("owner_id", "end_at"),
            ("owner_id", "deadline"),
            ("owner_id", "rrule"),
        )


class Occurrence(Model):
    """An override of one occurrence of a series, keyed by its original start."""

    id = fields.IntField(primary_key=True)
    series: fields.ForeignKeyRelation[FollowUp] = fields.ForeignKeyField(
        "models.FollowUp", related_name="occurrences", on_delete=fields.CASCADE
    )
    recurrence_id = fields.DatetimeField(description="original start, UTC")
    start_at = fields.DatetimeField(null=True)
    end_at = fields.DatetimeField(null=True)
    deadline = fields.DatetimeField(null=True)
    title = fields.CharField(max_length=500, null=True)
    agenda = fields.TextField(null=True)
    location = fields.CharField(max_length=500, null=True)
    cancelled = fields.BooleanField(default=False)
    done = fields.BooleanField(default=False)
    done_at = fields.DatetimeField(null=True)
    sequence = fields.IntField(default=0)

    series_id: int

    class Meta:
        table = "occurrence"
        unique_together = (("series", "recurrence_id"),)


class Participant(Model):
    """An associate or contact person on a follow-up, with their answer."""

    id = fields.IntField(primary_key=True)
    followup: fields.ForeignKeyRelation[FollowUp] = fields.ForeignKeyField(
        "models.FollowUp", related_name="participants", on_delete=fields.CASCADE
    )
    associate: fields.ForeignKeyNullableRelation[Associate] = fields.ForeignKeyField(
        "models.Associate", related_name="participations", null=True, on_delete=fields.CASCADE
    )
    person: fields.ForeignKeyNullableRelation[Person] = fields.ForeignKeyField(
        "models.Person", related_name="participations", null=True, on_delete=fields.CASCADE
    )
    email = fields.CharField(max_length=320, null=True)
    status = fields.CharEnumField(ParticipantStatus, default=ParticipantStatus.INVITED)
    status_set_by: fields.ForeignKeyNullableRelation[Associate] = fields.ForeignKeyField(
        "models.Associate", related_name="statuses_set", null=True, on_delete=fields.SET_NULL
    )
    status_set_at = fields.DatetimeField(null=True)
    email_invitation = fields.BooleanField(default=False)
    organiser = fields.BooleanField(default=False)

    followup_id: int
    associate_id: int | None
    person_id: int | None
    status_set_by_id: int | None

    class Meta:
        table = "participant"
        unique_together = (("followup", "associate"), ("followup", "person"))
        indexes = (("associate_id", "followup_id"), ("person_id", "followup_id"))


class StatusVia(str, Enum):
    """How a status change came in: what ``StatusChange.via`` holds.

    API: a GraphQL mutation (``set_by`` says who); EMAIL: an iMIP REPLY by mail (SMTP pipe,
    HTTP, IMAP intake or the GraphQL mail mutation); LINK: a signed reply link; CALDAV: a
    participant's PARTSTAT pulled back from a synchronised calendar.
    """

    API = "API"
    EMAIL = "EMAIL"
    LINK = "LINK"
    CALDAV = "CALDAV"


class StatusChange(Model):
    """One change of a participant status: who set it, when and how."""

    id = fields.IntField(primary_key=True)
    participant: fields.ForeignKeyRelation[Participant] = fields.ForeignKeyField(
        "models.Participant", related_name="status_changes", on_delete=fields.CASCADE
    )
    status = fields.CharEnumField(ParticipantStatus)
    set_by: fields.ForeignKeyNullableRelation[Associate] = fields.ForeignKeyField(
        "models.Associate", related_name="status_changes_made", null=True, on_delete=fields.SET_NULL
    )
    via = fields.CharField(max_length=16, default="API", description="API, EMAIL or LINK")
    recurrence_id = fields.DatetimeField(null=True, description="one occurrence only")
    set_at = fields.DatetimeField(auto_now_add=True)

    participant_id: int
    set_by_id: int | None

    class Meta:
        table = "status_change"


class ResourceBooking(Model):
    """A resource booked on a follow-up, the span is copied for overlap checks."""

    id = fields.IntField(primary_key=True)
    followup: fields.ForeignKeyRelation[FollowUp] = fields.ForeignKeyField(
        "models.FollowUp", related_name="bookings", on_delete=fields.CASCADE
    )
    resource: fields.ForeignKeyRelation[Resource] = fields.ForeignKeyField(
        "models.Resource", related_name="bookings", on_delete=fields.CASCADE
    )
    start_at = fields.DatetimeField(null=True)
    end_at = fields.DatetimeField(null=True)

    followup_id: int
    resource_id: int

    class Meta:
        table = "resource_booking"
        unique_together = (("followup", "resource"),)
        indexes = (("resource_id", "start_at"),)


class Preference(Model):
    """A preference value at one level, scope_key is system, group:N or associate:N."""

    id = fields.IntField(primary_key=True)
    key = fields.CharField(max_length=64)
    scope = fields.CharEnumField(PreferenceScope)
    scope_key = fields.CharField(max_length=64)
    value = fields.TextField()
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "preference"
        unique_together = (("key", "scope_key"),)
