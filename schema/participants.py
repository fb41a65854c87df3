"""Participants, resources, conflicts and availability in GraphQL (the invitation dialog)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import Annotated, Any, NewType

import strawberry

from resolvers import availability, enums, slots
from resolvers import followup_mutations as mutations
from resolvers import participants as part
from resolvers.availability import Entity
from resolvers.context import Info
from resolvers.diary import check_window
from resolvers.errors import ValidationFailed
from resolvers.text_input import single_line
from schema import ids
from schema.enums import EmailUnavailableReason, described
from schema.errors import UserError, atomically
from schema.followups import FollowUpPayload, occurrence_id, run_followup
from schema.pagination import After, Before, Connection, First, Last, list_page, list_window, window
from schema.participant_types import EntityKind, Participant, ParticipantStatus


class CandidateSource(Enum):
    ASSOCIATES = "ASSOCIATES"
    CONTACTS = "CONTACTS"
    PROJECT = "PROJECT"
    SELECTION = "SELECTION"
    RESOURCES = "RESOURCES"


CandidateSourceEnum = described(
    CandidateSource,
    "Where the invitation dialog's candidates come from.",
    {
        "ASSOCIATES": "Active associates, optionally of one user group (userGroupId).",
        "CONTACTS": "The persons of a company: companyId, or personId's company (a person "
        "without a company alone); VALIDATION without either.",
        "PROJECT": "The members of a project (projectId): its active associates, then its persons.",
        "SELECTION": "The persons of a selection (selectionId), including the persons of its "
        "member companies.",
        "RESOURCES": "Active resources, optionally of one resource group (resourceGroupId).",
    },
    name="CandidateSource",
)


#: The candidate lists' narrowing arguments (participantCandidates and candidates).
EditedMeeting = Annotated[
    strawberry.ID | None,
    strawberry.argument(
        description="The meeting being edited: its own time does not make anyone "
        "busy, and those on it are marked alreadyAdded."
    ),
]
OfUserGroup = Annotated[
    strawberry.ID | None,
    strawberry.argument(description="ASSOCIATES: only this user group."),
]
OfCompany = Annotated[
    strawberry.ID | None,
    strawberry.argument(description="CONTACTS: the persons of this company."),
]
OfPerson = Annotated[
    strawberry.ID | None,
    strawberry.argument(description="CONTACTS: this person's company (or the person)."),
]
OfProject = Annotated[
    strawberry.ID | None,
    strawberry.argument(description="PROJECT: the members of this project."),
]
OfSelection = Annotated[
    strawberry.ID | None,
    strawberry.argument(description="SELECTION: the persons of this selection."),
]
OfResourceGroup = Annotated[
    strawberry.ID | None,
    strawberry.argument(description="RESOURCES: only this resource group."),
]


@strawberry.type(description="Someone or something the invitation dialog offers to add.")
class Candidate:
    kind: EntityKind = strawberry.field(  # type: ignore[valid-type]
        description="Whether id is an Associate's, a Person's or a Resource's."
    )
    id: strawberry.ID = strawberry.field(
        description="Global ID of the associate, person or resource."
    )
    name: str = strawberry.field(
        description="Display name; for a person first and last name joined by a space."
    )
    email: str | None = strawberry.field(
        description="E-mail address (a person's preferred one); null when none is known."
    )
    busy: bool = strawberry.field(
        description="True when another follow-up of theirs (busy or tentative) overlaps the "
        "proposed time; the meeting given as followUpId does not count."
    )
    already_added: bool = strawberry.field(
        description="True when they are already on the follow-up given as followUpId."
    )
    email_unavailable: EmailUnavailableReason | None = strawberry.field(  # type: ignore[valid-type]
        description="Why no e-mail invitation is possible (null: it is)."
    )

    @strawberry.field(
        description="Why no e-mail invitation is possible (null: it is).",
        deprecation_reason="Use emailUnavailable (the EmailUnavailableReason enum).",
    )
    def email_unavailable_reason(self) -> str | None:
        return self.email_unavailable.value if self.email_unavailable else None

    @strawberry.field(
        description="True when an e-mail invitation is possible (emailUnavailable is null)."
    )
    def can_receive_email(self) -> bool:
        return self.email_unavailable is None


def _periods_in(value: object) -> list[str]:
    raise ValueError("Periods is an output type")


Periods = strawberry.scalar(
    NewType("Periods", list[str]),
    description="A list of periods 'start/end' (UTC, RFC 5545 PERIOD): a JSON array of "
    "strings, serialised as one value rather than one list item at a time",
    serialize=list,
    parse_value=_periods_in,
)


@strawberry.type(description="The busy times of one associate, person or resource in a window.")
class EntityBusy:
    kind: EntityKind = strawberry.field(  # type: ignore[valid-type]
        description="Whether id is an Associate's, a Person's or a Resource's."
    )
    id: strawberry.ID = strawberry.field(description="Global ID, as it was asked for.")
    busy: Periods = strawberry.field(description="Merged busy periods")  # type: ignore[valid-type]
    tentative: Periods = strawberry.field(  # type: ignore[valid-type]
        description="Tentative periods not already busy"
    )


@strawberry.type(description="A free time span, durationMinutes long.")
class Slot:
    start: datetime = strawberry.field(description="Start (UTC, ISO 8601).")
    end: datetime = strawberry.field(description="End (UTC, ISO 8601), exclusive.")


@strawberry.input(
    description="One participant of saveParticipants: exactly one of associateId, personId "
    "and email."
)
class ParticipantInput:
    associate_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="An active Associate (NOT_FOUND when unknown or inactive); the "
        "follow-up's owner is skipped (always there as organiser).",
    )
    person_id: strawberry.ID | None = strawberry.field(
        default=None, description="A contact Person (NOT_FOUND when unknown)."
    )
    email: str | None = strawberry.field(
        default=None,
        description="Someone known by address only, neither associate nor contact person "
        "(as attendees of events imported from calendar apps are); matched with the "
        "participants there by address, case-insensitively. VALIDATION when not an address.",
    )
    email_invitation: bool | None = strawberry.field(
        default=None, description="null: follow emailInvitations (or keep)"
    )


@strawberry.type(description="Result of a participant mutation: the participant, or errors.")
class ParticipantPayload:
    participant: Participant | None = strawberry.field(
        default=None, description="The participant as saved; null when errors is not empty."
    )
    errors: list[UserError] = strawberry.field(
        default_factory=list, description="Why nothing was changed; empty on success."
    )


def _period(pair: tuple[datetime, datetime]) -> str:
    # what strftime("%Y-%m-%dT%H:%M:%SZ") gives, at a fifth of its cost (free/busy is hot)
    start, end = pair
    return f"{start.isoformat(timespec='seconds')[:19]}Z/{end.isoformat(timespec='seconds')[:19]}Z"


_TYPE = {Entity.ASSOCIATE: "Associate", Entity.PERSON: "Person", Entity.RESOURCE: "Resource"}


def _decode_entities(
    info: Info,
    associate_ids: list[strawberry.ID] | None,
    resource_ids: list[strawberry.ID] | None,
    person_ids: list[strawberry.ID] | None,
) -> tuple[list[int], list[int], list[int]]:
    cap = info.context.settings.max_ids_per_query
    return (
        ids.decode_many(associate_ids or [], "Associate", "associateIds", cap),
        ids.decode_many(resource_ids or [], "Resource", "resourceIds", cap),
        ids.decode_many(person_ids or [], "Person", "personIds", cap),
    )


@dataclass(frozen=True)
class _CandidateAsk:
    """The candidate filters as the client gave them (IDs still encoded)."""

    source: CandidateSource
    start: datetime
    end: datetime
    user_group_id: strawberry.ID | None
    company_id: strawberry.ID | None
    person_id: strawberry.ID | None
    project_id: strawberry.ID | None
    selection_id: strawberry.ID | None
    resource_group_id: strawberry.ID | None

    def filters(self) -> dict[str, int]:
        """The decoded record filters (a typed error for an ID of the wrong kind)."""
        refs = {
            "user_group_id": (self.user_group_id, "UserGroup"),
            "company_id": (self.company_id, "Company"),
            "person_id": (self.person_id, "Person"),
            "project_id": (self.project_id, "Project"),
            "selection_id": (self.selection_id, "Selection"),
            "resource_group_id": (self.resource_group_id, "ResourceGroup"),
        }
        return {
            key: ids.decode(value, type_name, key)
            for key, (value, type_name) in refs.items()
            if value is not None
        }


async def _candidates(
    info: Info,
    found: list[tuple[Entity, Any]],
    lo: datetime,
    hi: datetime,
    follow_up_id: strawberry.ID | None,
) -> list[Candidate]:
    """``found`` as candidates: busy in [lo, hi), already on the follow-up, e-mail usable."""
    settings = info.context.settings
    own, added = -1, set[tuple[Entity, int]]()
    if follow_up_id is not None:
        own, added = await part.already_on(
            info.context.viewer,
            info.context.loaders,
            occurrence_id(follow_up_id, "followUpId")[0],
        )
    busy = await availability.busy_times(
        [r.id for e, r in found if e is Entity.ASSOCIATE],
        [r.id for e, r in found if e is Entity.RESOURCE],
        [r.id for e, r in found if e is Entity.PERSON],
        lo,
        hi,
        settings.max_occurrences_per_series,
    )
    person_emails = await part.preferred_emails([r.id for e, r in found if e is Entity.PERSON])
    out = []
    for entity, record in found:
        email = person_emails.get(record.id) if entity is Entity.PERSON else record.email
        name = (
            record.name
            if entity is not Entity.PERSON
            else f"{record.first_name} {record.last_name}".strip()
        )
        reason = (
            enums.EmailUnavailableReason.RESOURCE
            if entity is Entity.RESOURCE
            else part.email_unavailable(email, False, settings)
        )
        out.append(
            Candidate(
                kind=entity,
                id=strawberry.ID(ids.encode(_TYPE[entity], record.id)),
                name=name,
                email=email,
                busy=availability.conflicts_with(busy.get((entity, record.id), []), lo, hi, own),
                already_added=(entity, record.id) in added,
                email_unavailable=reason,
            )
        )
    return out


@strawberry.type
class ParticipantQuery:
    @strawberry.field(
        description="Candidates of one source for a proposed time span (at most `first`).",
        deprecation_reason="Use candidates: a connection with search, paging in both "
        "directions and totalCount.",
    )
    async def participant_candidates(
        self,
        info: Info,
        source: Annotated[
            CandidateSourceEnum,  # type: ignore[valid-type]
            strawberry.argument(description="Where the candidates come from."),
        ],
        start: Annotated[
            datetime, strawberry.argument(description="Start of the proposed time (UTC).")
        ],
        end: Annotated[
            datetime,
            strawberry.argument(
                description="End of the proposed time (UTC); after start, at most "
                "MAX_WINDOW_DAYS later."
            ),
        ],
        follow_up_id: EditedMeeting = None,
        user_group_id: OfUserGroup = None,
        company_id: OfCompany = None,
        person_id: OfPerson = None,
        project_id: OfProject = None,
        selection_id: OfSelection = None,
        resource_group_id: OfResourceGroup = None,
        first: Annotated[
            int, strawberry.argument(description="How many at most, 1..500 (else VALIDATION).")
        ] = 200,
    ) -> list[Candidate]:
        if not 1 <= first <= 500:
            raise ValidationFailed("first", "first must be 1..500")
        ask = _CandidateAsk(
            source, start, end, user_group_id, company_id, person_id, project_id,
            selection_id, resource_group_id,
        )  # fmt: skip
        lo, hi = check_window(start, end, info.context.settings)
        found = await part.candidates(CandidateSource(source).value, ask.filters(), first)
        return await _candidates(info, found, lo, hi, follow_up_id)

    @strawberry.field(
        description="The invitation dialog's candidates of one source for a proposed time "
        "span, ordered by name: associates and resources by name, persons by last name "
        "(then id). `busy` is computed for the page's rows only; totalCount counts at most "
        f"{part.MAX_CANDIDATES:,} candidates."
    )
    async def candidates(
        self,
        info: Info,
        source: Annotated[
            CandidateSourceEnum,  # type: ignore[valid-type]
            strawberry.argument(description="Where the candidates come from."),
        ],
        start: Annotated[
            datetime, strawberry.argument(description="Start of the proposed time (UTC).")
        ],
        end: Annotated[
            datetime, strawberry.argument(description="End of the proposed time (UTC).")
        ],
        search: Annotated[
            str | None,
            strawberry.argument(
                description="Words that must each appear (case-insensitive) in a candidate's "
                "name or e-mail address."
            ),
        ] = None,
        follow_up_id: EditedMeeting = None,
        user_group_id: OfUserGroup = None,
        company_id: OfCompany = None,
        person_id: OfPerson = None,
        project_id: OfProject = None,
        selection_id: OfSelection = None,
        resource_group_id: OfResourceGroup = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Candidate]:
        settings = info.context.settings
        page = window(first, after, last, before, settings)
        if search is not None:
            if len(search) > 200:
                raise ValidationFailed("search", "search is at most 200 characters")
            search = single_line(search, "search")
        ask = _CandidateAsk(
            source, start, end, user_group_id, company_id, person_id, project_id,
            selection_id, resource_group_id,
        )  # fmt: skip
        lo, hi = check_window(start, end, settings)
        found = await part.candidates(
            CandidateSource(source).value, ask.filters(), part.MAX_CANDIDATES, search
        )
        first_row, last_row = list_window(len(found), page)
        built = await _candidates(info, found[first_row:last_row], lo, hi, follow_up_id)
        shown = dict(zip(range(first_row, last_row), built, strict=True))
        positions = {id(row): i for i, row in enumerate(found)}
        return list_page(found, page, lambda row: shown[positions[id(row)]])

    @strawberry.field(description="Merged busy and tentative periods per entity.")
    async def free_busy(
        self,
        info: Info,
        from_: Annotated[
            datetime,
            strawberry.argument(name="from", description="Start of the window (UTC)."),
        ],
        to: Annotated[
            datetime,
            strawberry.argument(
                description="End of the window (UTC); after from, at most MAX_WINDOW_DAYS later."
            ),
        ],
        associate_ids: Annotated[
            list[strawberry.ID] | None,
            strawberry.argument(description="Associates (at most MAX_IDS_PER_QUERY IDs)."),
        ] = None,
        resource_ids: Annotated[
            list[strawberry.ID] | None,
            strawberry.argument(description="Resources (at most MAX_IDS_PER_QUERY IDs)."),
        ] = None,
        person_ids: Annotated[
            list[strawberry.ID] | None,
            strawberry.argument(
                description="Contact persons, busy with the meetings they take part in (at "
                "most MAX_IDS_PER_QUERY IDs)."
            ),
        ] = None,
    ) -> list[EntityBusy]:
        settings = info.context.settings
        lo, hi = check_window(from_, to, settings)
        a, r, p = _decode_entities(info, associate_ids, resource_ids, person_ids)
        busy = await availability.busy_times(a, r, p, lo, hi, settings.max_occurrences_per_series)
        out = []
        for entity, keys in ((Entity.ASSOCIATE, a), (Entity.RESOURCE, r), (Entity.PERSON, p)):
            for key in keys:
                hard, soft = availability.merge(busy.get((entity, key), []))
                out.append(
                    EntityBusy(
                        kind=entity,
                        id=strawberry.ID(ids.encode(_TYPE[entity], key)),
                        busy=[_period(x) for x in availability.clip(hard, lo, hi)],
                        tentative=[_period(x) for x in availability.clip(soft, lo, hi)],
                    )
                )
        return out

    @strawberry.field(
        description="The first slots where all are free, within each associate's working hours."
    )
    async def first_free_slots(
        self,
        info: Info,
        duration_minutes: Annotated[
            int, strawberry.argument(description="Length of a slot in minutes, 1..1440.")
        ],
        from_: Annotated[
            datetime,
            strawberry.argument(name="from", description="Start of the window (UTC)."),
        ],
        to: Annotated[
            datetime,
            strawberry.argument(
                description="End of the window (UTC); after from, at most MAX_WINDOW_DAYS later."
            ),
        ],
        associate_ids: Annotated[
            list[strawberry.ID] | None,
            strawberry.argument(description="Associates (at most MAX_IDS_PER_QUERY IDs)."),
        ] = None,
        resource_ids: Annotated[
            list[strawberry.ID] | None,
            strawberry.argument(description="Resources (at most MAX_IDS_PER_QUERY IDs)."),
        ] = None,
        person_ids: Annotated[
            list[strawberry.ID] | None,
            strawberry.argument(
                description="Contact persons, busy with the meetings they take part in (at "
                "most MAX_IDS_PER_QUERY IDs)."
            ),
        ] = None,
        limit: Annotated[
            int, strawberry.argument(description="How many slots at most, 1..100.")
        ] = 5,
        step_minutes: Annotated[
            int,
            strawberry.argument(
                description="Slots start on this grid of minutes, 5..240 (else VALIDATION)."
            ),
        ] = 15,
    ) -> list[Slot]:
        settings = info.context.settings
        lo, hi = check_window(from_, to, settings)
        if not 1 <= duration_minutes <= 1440:
            raise ValidationFailed("durationMinutes", "durationMinutes must be 1..1440")
        if not 1 <= limit <= 100 or not 5 <= step_minutes <= 240:
            raise ValidationFailed("limit", "limit must be 1..100 and stepMinutes 5..240")
        a, r, p = _decode_entities(info, associate_ids, resource_ids, person_ids)
        found = await slots.free_slots(
            (a, r, p),
            lo,
            hi,
            timedelta(minutes=duration_minutes),
            timedelta(minutes=step_minutes),
            limit,
            settings.max_occurrences_per_series,
        )
        return [Slot(start=s, end=e) for s, e in found]


def _maybe(value: strawberry.ID | None, type_name: str, path: str) -> int | None:
    return None if value is None else ids.decode(value, type_name, path)


def _participant_payload(info: Info, participant_id: int, work: Any) -> Any:
    async def job() -> ParticipantPayload:
        row = await mutations.in_participant_change(participant_id, work)
        return ParticipantPayload(participant=await Participant.build(info, row))

    return atomically(job, lambda errors: ParticipantPayload(errors=errors))


@strawberry.type
class ParticipantMutation:
    @strawberry.mutation(
        description="Save the invitation dialog: the full list of participants and "
        "resources replaces the old one in one transaction (the organiser is implicit). "
        "emailInvitations is the switch for all; each participant may override it."
    )
    async def save_participants(
        self,
        info: Info,
        follow_up_id: Annotated[
            strawberry.ID,
            strawberry.argument(
                description="The FollowUp (the whole series for an occurrence's ID); only its "
                "owner or an administrator may save (FORBIDDEN)."
            ),
        ],
        version: Annotated[
            int,
            strawberry.argument(
                description="The follow-up's version as last read; VERSION_CONFLICT when it "
                "changed since."
            ),
        ],
        participants: Annotated[
            list[ParticipantInput],
            strawberry.argument(
                description="Everyone to be on it besides the organiser (at most 500); "
                "anyone left out is removed. An empty list (and no resources) removes the "
                "organiser too. VALIDATION for anyone given twice."
            ),
        ],
        resource_ids: Annotated[
            list[strawberry.ID] | None,
            strawberry.argument(
                description="The resources to book (at most MAX_IDS_PER_QUERY); replaces the "
                "bookings, null books none. CONFLICT when one that refuses double booking is "
                "taken."
            ),
        ] = None,
        email_invitations: Annotated[
            bool | None,
            strawberry.argument(
                description="Invitation mails for everyone whose emailInvitation is null: "
                "true sends to those with a valid address (MAIL_NOT_CONFIGURED without SMTP), "
                "false to none; null keeps each one's switch (new ones: off)."
            ),
        ] = None,
    ) -> FollowUpPayload:
        async def work() -> Any:
            settings = info.context.settings
            if len(participants) > 500:
                raise ValidationFailed("participants", "at most 500 participants")
            wanted = [
                part.Wanted(
                    associate_id=ids.decode(
                        x.associate_id, "Associate", f"participants.{i}.associateId"
                    )
                    if x.associate_id
                    else None,
                    person_id=ids.decode(x.person_id, "Person", f"participants.{i}.personId")
                    if x.person_id
                    else None,
                    email_invitation=x.email_invitation,
                    email=x.email.strip() if x.email is not None else None,
                )
                for i, x in enumerate(participants)
            ]
            resources = ids.decode_many(
                resource_ids or [], "Resource", "resourceIds", settings.max_ids_per_query
            )
            series_id, _ = occurrence_id(follow_up_id)
            return await mutations.in_series_change(
                series_id,
                lambda: part.save(
                    info.context.viewer,
                    series_id,
                    version,
                    wanted,
                    resources,
                    email_invitations,
                    settings,
                ),
            )

        return await run_followup(info, work)

    @strawberry.mutation(
        description="Answer for a participant (the organiser or an administrator) or for "
        "oneself; recorded in statusHistory with who and when. FORBIDDEN for anyone else who "
        "sees the meeting; VALIDATION for the organiser's own participant."
    )
    async def set_participant_status(
        self,
        info: Info,
        participant_id: Annotated[
            strawberry.ID,
            strawberry.argument(
                description="The Participant (NOT_FOUND when unknown or not visible to you)."
            ),
        ],
        status: Annotated[
            ParticipantStatus,  # type: ignore[valid-type]
            strawberry.argument(description="The new status."),
        ],
    ) -> ParticipantPayload:
        key = ids.decode(participant_id, "Participant", "participantId")
        return await _participant_payload(
            info, key, lambda: part.set_status(info.context.viewer, key, status)
        )

    @strawberry.mutation(
        description="Cycle the status: INVITED or TENTATIVE to ACCEPTED, ACCEPTED to DECLINED, "
        "DECLINED to INVITED; the same rights and errors as setParticipantStatus."
    )
    async def toggle_participant_status(
        self,
        info: Info,
        participant_id: Annotated[
            strawberry.ID,
            strawberry.argument(
                description="The Participant (NOT_FOUND when unknown or not visible to you)."
            ),
        ],
    ) -> ParticipantPayload:
        key = ids.decode(participant_id, "Participant", "participantId")
        return await _participant_payload(
            info, key, lambda: part.set_status(info.context.viewer, key, None)
        )

    @strawberry.mutation(
        description="One participant's e-mail invitation switch; the organiser or an "
        "administrator only (FORBIDDEN)."
    )
    async def set_email_invitation(
        self,
        info: Info,
        participant_id: Annotated[
            strawberry.ID,
            strawberry.argument(
                description="The Participant (NOT_FOUND when unknown or not visible to you)."
            ),
        ],
        enabled: Annotated[
            bool,
            strawberry.argument(
                description="True: send them invitation mails (MAIL_NOT_CONFIGURED without "
                "SMTP; VALIDATION when they cannot get one, see emailUnavailable); false: "
                "stop."
            ),
        ],
    ) -> ParticipantPayload:
        key = ids.decode(participant_id, "Participant", "participantId")
        return await _participant_payload(
            info,
            key,
            lambda: part.set_email_switch(info.context.viewer, key, enabled, info.context.settings),
        )

    @strawberry.mutation(
        description="The e-mail invitation switch for all but the organiser; the follow-up's "
        "owner or an administrator only (FORBIDDEN)."
    )
    async def set_email_invitations(
        self,
        info: Info,
        follow_up_id: Annotated[
            strawberry.ID,
            strawberry.argument(description="The FollowUp (the whole series for an occurrence)."),
        ],
        enabled: Annotated[
            bool,
            strawberry.argument(
                description="True: on for everyone with a valid address (the others stay "
                "off; MAIL_NOT_CONFIGURED without SMTP); false: off for all."
            ),
        ],
    ) -> FollowUpPayload:
        series_id, _ = occurrence_id(follow_up_id)
        return await run_followup(
            info,
            lambda: part.set_all_email(
                info.context.viewer, series_id, enabled, info.context.settings
            ),
        )
