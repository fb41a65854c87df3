"""GraphQL types of participants (people on a follow-up) and their status history."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Self

import strawberry
from strawberry import relay

from resolvers import enums, participants, records, visibility
from resolvers.availability import Entity
from resolvers.context import Info
from resolvers.records import Table
from schema.crm_types import Associate, Person
from schema.enums import EmailUnavailableReason, StatusVia, described
from schema.mail_delivery_types import MailDelivery, deliveries_of, delivery_of
from schema.node import ModelNode

if TYPE_CHECKING:
    from orm.models import Associate as AssociateRow
    from orm.models import Participant as ParticipantRow
    from orm.models import Person as PersonRow
else:  # rows only annotate the private fields; schema loads them through resolvers
    AssociateRow = ParticipantRow = PersonRow = object

ParticipantStatus = described(
    enums.ParticipantStatus, "A participant's answer to a meeting invitation (iCalendar PARTSTAT)."
)
EntityKind = described(
    Entity,
    "What an ID in the invitation dialog names: an associate, a contact person or a resource.",
    {
        "ASSOCIATE": "An associate (user of the CRM): the ID is an Associate's.",
        "PERSON": "A contact person: the ID is a Person's.",
        "RESOURCE": "A room, piece of equipment or location: the ID is a Resource's.",
    },
    name="EntityKind",
)


@strawberry.type(description="One change of a participant's status, as recorded.")
class StatusChange:
    status: ParticipantStatus = strawberry.field(  # type: ignore[valid-type]
        description="The status it was set to."
    )
    set_at: datetime = strawberry.field(description="When it was set (UTC, ISO 8601).")
    via: str = strawberry.field(
        description="How it came in: API, EMAIL, LINK or CALDAV.",
        deprecation_reason="Use setVia (the StatusVia enum).",
    )
    set_via: StatusVia = strawberry.field(  # type: ignore[valid-type]
        description="How it came in."
    )
    recurrence_id: datetime | None = strawberry.field(
        description="Set when the answer was for one occurrence of a series only."
    )
    set_by_id: strawberry.Private[int | None]

    @strawberry.field(
        description="The associate who set it through the API; null when it came by e-mail, "
        "reply link or CalDAV (the attendee answered)."
    )
    async def set_by(self, info: Info) -> Associate | None:
        row = await records.associates.one(info, self.set_by_id)
        return Associate.from_model(row) if row else None


@strawberry.type(
    description="Someone on a follow-up: an associate, a contact person or an address only "
    "(an attendee of an event imported from a calendar app), with their answer. "
    "Visible to those who see the follow-up in full."
)
class Participant(ModelNode):
    id: relay.NodeID[int]
    status: ParticipantStatus = strawberry.field(  # type: ignore[valid-type]
        description="Their answer; INVITED until they answer (the organiser: ACCEPTED)."
    )
    status_set_at: datetime | None = strawberry.field(
        description="When the status was last set (UTC, ISO 8601); null: never answered."
    )
    organiser: bool = strawberry.field(
        description="True for the organiser (the follow-up's owner), added implicitly; their "
        "status cannot be changed and they get no invitation mail."
    )
    email: str | None = strawberry.field(
        description="The address invitations go to: the associate's, or the person's "
        "preferred one, as of the last saveParticipants; null when none is known."
    )
    email_invitation: bool = strawberry.field(
        description="Whether invitation mails (REQUEST, CANCEL) are sent to them."
    )
    # plain fields, filled when built (``build_many`` loads the rows in one batch): an
    # awaited field costs the executor a task, and a diary has hundreds of participants
    associate: Associate | None = strawberry.field(
        description="The associate; null for a contact person or an address only."
    )
    person: Person | None = strawberry.field(
        description="The contact person; null for an associate or an address only."
    )
    row: strawberry.Private[ParticipantRow]

    @classmethod
    def table(cls) -> Table:
        return records.participants

    @classmethod
    def from_rows(
        cls, row: ParticipantRow, associate: AssociateRow | None, person: PersonRow | None
    ) -> Self:
        """``associate`` and ``person``: the rows the participant names (or None)."""
        return cls(
            id=row.id,
            status=row.status,
            status_set_at=row.status_set_at,
            organiser=row.organiser,
            email=row.email,
            email_invitation=row.email_invitation,
            associate=Associate.from_model(associate) if associate else None,
            person=Person.from_model(person) if person else None,
            row=row,
        )

    @classmethod
    async def build_many(cls, info: Info, rows: Sequence[ParticipantRow]) -> list[Self]:
        """The participants of ``rows``, their associates and persons loaded in one batch each."""
        people = await records.associates.many(info, [r.associate_id for r in rows])
        persons = await records.persons.many(info, [r.person_id for r in rows])
        return [cls.from_rows(r, a, x) for r, a, x in zip(rows, people, persons, strict=True)]

    @classmethod
    async def build(cls, info: Info, row: ParticipantRow | None) -> Self | None:
        """``build_many`` of one row; None for None."""
        return (await cls.build_many(info, [row]))[0] if row is not None else None

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Self | None]:
        """Only participants of follow-ups the viewer sees in full (``visibility``)."""
        rows = await ModelNode.rows_of(cls, info, node_ids)
        viewer, loaders = info.context.viewer, info.context.loaders
        allowed = await visibility.visible_participants(viewer, loaders, rows)
        built = iter(await cls.build_many(info, [r for r in allowed if r is not None]))
        return [next(built) if r is not None else None for r in allowed]

    @strawberry.field(
        description="Who last set the status through the API (the participant or the "
        "organiser); null when it came by e-mail or was never set."
    )
    async def status_set_by(self, info: Info) -> Associate | None:
        row = await records.associates.one(info, self.row.status_set_by_id)
        return Associate.from_model(row) if row else None

    @strawberry.field(description="Every status change: who set it, when and how.")
    async def status_history(self, info: Info) -> list[StatusChange]:
        return [
            StatusChange(
                status=c.status,
                set_at=c.set_at,
                via=c.via,
                set_via=enums.StatusVia(c.via),
                recurrence_id=c.recurrence_id,
                set_by_id=c.set_by_id,
            )
            for c in await records.participant_status_changes.of(info, self.row.id)
        ]

    @strawberry.field(description="The last invitation mail to this participant and how it went.")
    async def mail_delivery(self, info: Info) -> MailDelivery | None:
        return await delivery_of(info, self.row.id)

    @strawberry.field(
        description="Every invitation mail to this participant, oldest first (SUPERSEDED ones too)."
    )
    async def mail_deliveries(self, info: Info) -> list[MailDelivery]:
        return await deliveries_of(info, self.row.id)

    @strawberry.field(
        description="Why no e-mail invitation is possible (null: it is).",
        deprecation_reason="Use emailUnavailable (the EmailUnavailableReason enum).",
    )
    def email_unavailable_reason(self, info: Info) -> str | None:
        found = participants.email_unavailable(self.email, self.organiser, info.context.settings)
        return found.value if found else None

    @strawberry.field(
        graphql_type=EmailUnavailableReason | None,
        description="Why no e-mail invitation is possible (null: it is).",
    )
    def email_unavailable(self, info: Info) -> enums.EmailUnavailableReason | None:
        return participants.email_unavailable(self.email, self.organiser, info.context.settings)
