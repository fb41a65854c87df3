from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.indexes import Index
from tortoise.migrations import operations as ops

from orm.models import Kind, ParticipantStatus, PhoneKind, PreferenceScope, ResourceKind


class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name="ActivityType",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                ("name", fields.CharField(max_length=200)),
                ("colour", fields.CharField(default="#3366cc", max_length=7)),
                (
                    "default_kind",
                    fields.CharEnumField(
                        default=Kind.MEETING,
                        description="MEETING: MEETING\nTASK: TASK\nCALL: CALL",
                        enum_type=Kind,
                        max_length=7,
                    ),
                ),
            ],
            options={"table": "activity_type", "app": "models", "pk_attr": "id"},
            bases=["Model"],
        ),
        ops.CreateModel(
            name="Company",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                ("name", fields.CharField(max_length=300)),
                (
                    "country",
                    fields.CharField(null=True, description="ISO 3166 alpha-2", max_length=2),
                ),
            ],
            options={"table": "company", "app": "models", "pk_attr": "id"},
            bases=["Model"],
        ),
        ops.CreateModel(
            name="Person",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                ("first_name", fields.CharField(default="", max_length=200)),
                ("last_name", fields.CharField(default="", max_length=200)),
                (
                    "company",
                    fields.ForeignKeyField(
                        "models.Company",
                        source_field="company_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="persons",
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                (
                    "country",
                    fields.CharField(null=True, description="ISO 3166 alpha-2", max_length=2),
                ),
            ],
            options={"table": "person", "app": "models", "pk_attr": "id"},
            bases=["Model"],
        ),
        ops.CreateModel(
            name="EmailAddress",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                (
                    "person",
                    fields.ForeignKeyField(
                        "models.Person",
                        source_field="person_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="emails",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("address", fields.CharField(max_length=320)),
                ("position", fields.IntField(default=0)),
            ],
            options={
                "table": "email_address",
                "app": "models",
                "pk_attr": "id",
                "table_description": "An e-mail address of a person, position 0 is the preferred one.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="PhoneNumber",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                (
                    "person",
                    fields.ForeignKeyField(
                        "models.Person",
                        source_field="person_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="phones",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "company",
                    fields.ForeignKeyField(
                        "models.Company",
                        source_field="company_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="phones",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("number", fields.CharField(max_length=64)),
                (
                    "kind",
                    fields.CharEnumField(
                        default=PhoneKind.DIRECT,
                        description="DIRECT: DIRECT\nMOBILE: MOBILE\nPRIVATE: PRIVATE\nWORK: WORK\nFAX: FAX\nOTHER: OTHER",
                        enum_type=PhoneKind,
                        max_length=7,
                    ),
                ),
                ("position", fields.IntField(default=0)),
            ],
            options={
                "table": "phone_number",
                "app": "models",
                "pk_attr": "id",
                "table_description": "A phone number of a person or of a company.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="Preference",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                ("key", fields.CharField(max_length=64)),
                (
                    "scope",
                    fields.CharEnumField(
                        description="SYSTEM: SYSTEM\nGROUP: GROUP\nASSOCIATE: ASSOCIATE",
                        enum_type=PreferenceScope,
                        max_length=9,
                    ),
                ),
                ("scope_key", fields.CharField(max_length=64)),
                ("value", fields.TextField(unique=False)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={
                "table": "preference",
                "app": "models",
                "unique_together": (("key", "scope_key"),),
                "pk_attr": "id",
                "table_description": "A preference value at one level, scope_key is system, group:N or associate:N.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="Project",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                ("name", fields.CharField(max_length=300)),
            ],
            options={"table": "project", "app": "models", "pk_attr": "id"},
            bases=["Model"],
        ),
        ops.CreateModel(
            name="ResourceGroup",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                ("name", fields.CharField(unique=True, max_length=200)),
            ],
            options={"table": "resource_group", "app": "models", "pk_attr": "id"},
            bases=["Model"],
        ),
        ops.CreateModel(
            name="Resource",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                ("name", fields.CharField(max_length=200)),
                (
                    "kind",
                    fields.CharEnumField(
                        default=ResourceKind.ROOM,
                        description="ROOM: ROOM\nEQUIPMENT: EQUIPMENT\nLOCATION: LOCATION",
                        enum_type=ResourceKind,
                        max_length=9,
                    ),
                ),
                (
                    "group",
                    fields.ForeignKeyField(
                        "models.ResourceGroup",
                        source_field="group_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="resources",
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                ("email", fields.CharField(null=True, max_length=320)),
                ("allow_double_booking", fields.BooleanField(default=True)),
                ("active", fields.BooleanField(default=True)),
            ],
            options={"table": "resource", "app": "models", "pk_attr": "id"},
            bases=["Model"],
        ),
        ops.CreateModel(
            name="Sale",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                ("title", fields.CharField(max_length=300)),
                (
                    "company",
                    fields.ForeignKeyField(
                        "models.Company",
                        source_field="company_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="sales",
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                (
                    "person",
                    fields.ForeignKeyField(
                        "models.Person",
                        source_field="person_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="sales",
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
            ],
            options={"table": "sale", "app": "models", "pk_attr": "id"},
            bases=["Model"],
        ),
        ops.CreateModel(
            name="Selection",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                ("name", fields.CharField(max_length=300)),
            ],
            options={"table": "selection", "app": "models", "pk_attr": "id"},
            bases=["Model"],
        ),
        ops.CreateModel(
            name="SelectionMember",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                (
                    "selection",
                    fields.ForeignKeyField(
                        "models.Selection",
                        source_field="selection_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="members",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "person",
                    fields.ForeignKeyField(
                        "models.Person",
                        source_field="person_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="selection_memberships",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "company",
                    fields.ForeignKeyField(
                        "models.Company",
                        source_field="company_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="selection_memberships",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
            ],
            options={
                "table": "selection_member",
                "app": "models",
                "pk_attr": "id",
                "table_description": "A selection member: a person, or a company whose persons are the candidates.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="UserGroup",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                ("name", fields.CharField(unique=True, max_length=200)),
            ],
            options={"table": "user_group", "app": "models", "pk_attr": "id"},
            bases=["Model"],
        ),
        ops.CreateModel(
            name="Associate",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                ("name", fields.CharField(max_length=200)),
                ("email", fields.CharField(null=True, max_length=320)),
                (
                    "group",
                    fields.ForeignKeyField(
                        "models.UserGroup",
                        source_field="group_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="associates",
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                ("is_admin", fields.BooleanField(default=False)),
                ("active", fields.BooleanField(default=True)),
            ],
            options={"table": "associate", "app": "models", "pk_attr": "id"},
            bases=["Model"],
        ),
        ops.CreateModel(
            name="ApiToken",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                (
                    "associate",
                    fields.ForeignKeyField(
                        "models.Associate",
                        source_field="associate_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="tokens",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("token_hash", fields.CharField(unique=True, max_length=64)),
                ("name", fields.CharField(default="", max_length=200)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("expires_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("revoked_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                (
                    "last_used_at",
                    fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
                ),
            ],
            options={"table": "api_token", "app": "models", "pk_attr": "id"},
            bases=["Model"],
        ),
        ops.CreateModel(
            name="FollowUp",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                (
                    "kind",
                    fields.CharEnumField(
                        description="MEETING: MEETING\nTASK: TASK\nCALL: CALL",
                        enum_type=Kind,
                        max_length=7,
                    ),
                ),
                (
                    "owner",
                    fields.ForeignKeyField(
                        "models.Associate",
                        source_field="owner_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="followups",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                ("title", fields.CharField(max_length=500)),
                ("agenda", fields.TextField(default="", unique=False)),
                (
                    "type",
                    fields.ForeignKeyField(
                        "models.ActivityType",
                        source_field="type_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="followups",
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                (
                    "company",
                    fields.ForeignKeyField(
                        "models.Company",
                        source_field="company_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="followups",
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                (
                    "person",
                    fields.ForeignKeyField(
                        "models.Person",
                        source_field="person_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="followups",
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                (
                    "sale",
                    fields.ForeignKeyField(
                        "models.Sale",
                        source_field="sale_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="followups",
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                (
                    "project",
                    fields.ForeignKeyField(
                        "models.Project",
                        source_field="project_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="followups",
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                ("location", fields.CharField(default="", max_length=500)),
                ("start_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("end_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("deadline", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                (
                    "sort_at",
                    fields.DatetimeField(
                        description="start, else deadline: the activities order",
                        auto_now=False,
                        auto_now_add=False,
                    ),
                ),
                ("busy", fields.BooleanField(default=True)),
                ("alarm_minutes", fields.IntField(null=True)),
                ("private", fields.BooleanField(default=False)),
                ("done", fields.BooleanField(default=False)),
                ("done_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("uid", fields.CharField(unique=True, max_length=255)),
                ("sequence", fields.IntField(default=0)),
                ("version", fields.IntField(default=1)),
                ("tzid", fields.CharField(default="UTC", max_length=64)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={
                "table": "followup",
                "app": "models",
                "indexes": [
                    Index(fields=["owner_id", "start_at"]),
                    Index(fields=["owner_id", "deadline"]),
                ],
                "pk_attr": "id",
                "table_description": "A meeting, task or call, a recurring series is one row with its rule.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="Participant",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                (
                    "followup",
                    fields.ForeignKeyField(
                        "models.FollowUp",
                        source_field="followup_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="participants",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "associate",
                    fields.ForeignKeyField(
                        "models.Associate",
                        source_field="associate_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="participations",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "person",
                    fields.ForeignKeyField(
                        "models.Person",
                        source_field="person_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="participations",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("email", fields.CharField(null=True, max_length=320)),
                (
                    "status",
                    fields.CharEnumField(
                        default=ParticipantStatus.INVITED,
                        description="INVITED: INVITED\nACCEPTED: ACCEPTED\nTENTATIVE: TENTATIVE\nDECLINED: DECLINED",
                        enum_type=ParticipantStatus,
                        max_length=9,
                    ),
                ),
                (
                    "status_set_by",
                    fields.ForeignKeyField(
                        "models.Associate",
                        source_field="status_set_by_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="statuses_set",
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                (
                    "status_set_at",
                    fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
                ),
                ("email_invitation", fields.BooleanField(default=False)),
            ],
            options={
                "table": "participant",
                "app": "models",
                "unique_together": (("followup", "associate"), ("followup", "person")),
                "pk_attr": "id",
                "table_description": "An associate or contact person on a follow-up, with their answer.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="ProjectMember",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                (
                    "project",
                    fields.ForeignKeyField(
                        "models.Project",
                        source_field="project_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="members",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "person",
                    fields.ForeignKeyField(
                        "models.Person",
                        source_field="person_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="project_memberships",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "associate",
                    fields.ForeignKeyField(
                        "models.Associate",
                        source_field="associate_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="project_memberships",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
            ],
            options={
                "table": "project_member",
                "app": "models",
                "pk_attr": "id",
                "table_description": "A project member: a contact person or an associate.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="ResourceBooking",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                (
                    "followup",
                    fields.ForeignKeyField(
                        "models.FollowUp",
                        source_field="followup_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="bookings",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "resource",
                    fields.ForeignKeyField(
                        "models.Resource",
                        source_field="resource_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="bookings",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("start_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("end_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "resource_booking",
                "app": "models",
                "unique_together": (("followup", "resource"),),
                "indexes": [Index(fields=["resource_id", "start_at"])],
                "pk_attr": "id",
                "table_description": "A resource booked on a follow-up, the span is copied for overlap checks.",
            },
            bases=["Model"],
        ),
    ]
