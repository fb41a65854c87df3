"""Follow-up queries (diary, to-do, activities) and mutations."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import strawberry
from tortoise.expressions import Q

from orm import models as m
from resolvers import diary as reads
from resolvers import followups as writes
from resolvers.context import Info
from resolvers.errors import ValidationFailed
from schema import ids
from schema.crm_types import FollowUpKind
from schema.errors import UserError, atomically
from schema.followup_types import Availability, FollowUp
from schema.pagination import Connection, connection, keyset_page, page_size

_REFS = {
    "type_id": "ActivityType",
    "company_id": "Company",
    "person_id": "Person",
    "sale_id": "Sale",
    "project_id": "Project",
    "owner_id": "Associate",
}


@strawberry.input(description="Fields of a follow-up; leave a field out to keep it.")
class FollowUpInput:
    kind: FollowUpKind | None = strawberry.UNSET  # type: ignore[valid-type]
    title: str | None = strawberry.UNSET
    agenda: str | None = strawberry.UNSET
    type_id: strawberry.ID | None = strawberry.UNSET
    company_id: strawberry.ID | None = strawberry.UNSET
    person_id: strawberry.ID | None = strawberry.UNSET
    sale_id: strawberry.ID | None = strawberry.UNSET
    project_id: strawberry.ID | None = strawberry.UNSET
    owner_id: strawberry.ID | None = strawberry.UNSET
    location: str | None = strawberry.UNSET
    start: datetime | None = strawberry.UNSET
    end: datetime | None = strawberry.UNSET
    deadline: datetime | None = strawberry.UNSET
    availability: Availability | None = strawberry.UNSET
    alarm_minutes: int | None = strawberry.UNSET
    private: bool | None = strawberry.UNSET
    done: bool | None = strawberry.UNSET


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def to_fields(data: FollowUpInput) -> dict[str, Any]:
    """The given input fields as model columns, IDs decoded; absent fields left out."""
    fields: dict[str, Any] = {}
    renames = {"start": "start_at", "end": "end_at"}
    for name, value in vars(data).items():
        if value is strawberry.UNSET:
            continue
        if name in _REFS:
            path = camel(name)
            fields[name] = None if value is None else ids.decode(value, _REFS[name], path)
        elif name == "availability":
            fields["busy"] = value is not Availability.FREE
        elif value is None and name in ("kind", "title", "private", "done"):
            raise ValidationFailed(camel(name), f"{camel(name)} cannot be null")
        else:
            fields[renames.get(name, name)] = value
    return fields


@strawberry.type
class FollowUpPayload:
    follow_up: FollowUp | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class DeletePayload:
    deleted_id: strawberry.ID | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


def _failed(errors: list[UserError]) -> FollowUpPayload:
    return FollowUpPayload(errors=errors)


async def _run(work: Any) -> FollowUpPayload:
    async def job() -> FollowUpPayload:
        return FollowUpPayload(follow_up=FollowUp.from_model(await work()))

    return await atomically(job, _failed)


@strawberry.type
class TodoItem:
    follow_up: FollowUp
    overdue: bool


@strawberry.type
class FollowUpQuery:
    @strawberry.field(description="Timed follow-ups of these associates in [from, to).")
    async def diary(
        self,
        info: Info,
        associate_ids: list[strawberry.ID],
        from_: Annotated[datetime, strawberry.argument(name="from")],
        to: datetime,
    ) -> list[FollowUp]:
        settings = info.context.settings
        keys = ids.decode_many(
            associate_ids, "Associate", "associateIds", settings.max_ids_per_query
        )
        lo, hi = reads.check_window(from_, to, settings)
        rows = await reads.diary(keys, lo, hi)
        info.context.loaders.prime(rows)
        return [FollowUp.from_model(row) for row in rows]

    @strawberry.field(description="Open tasks and planned calls by deadline.")
    async def todo(
        self,
        info: Info,
        associate_id: strawberry.ID | None = None,
        include_done: bool = False,
        first: int | None = None,
    ) -> list[FollowUp]:
        key = (
            info.context.viewer.id
            if associate_id is None
            else ids.decode(associate_id, "Associate", "associateId")
        )
        rows = await reads.todo(key, include_done, page_size(first, info.context.settings))
        return [FollowUp.from_model(row) for row in rows]

    @strawberry.field(description="All follow-ups of one record, newest first.")
    async def activities(
        self,
        info: Info,
        company_id: strawberry.ID | None = None,
        person_id: strawberry.ID | None = None,
        sale_id: strawberry.ID | None = None,
        project_id: strawberry.ID | None = None,
        kinds: list[FollowUpKind] | None = None,  # type: ignore[valid-type]
        include_done: bool = True,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[FollowUp]:
        given = {
            key: ids.decode(value, _REFS[key], camel(key))
            for key, value in {
                "company_id": company_id,
                "person_id": person_id,
                "sale_id": sale_id,
                "project_id": project_id,
            }.items()
            if value is not None
        }
        if len(given) != 1:
            raise ValidationFailed(
                "companyId", "give exactly one of companyId, personId, saleId, projectId"
            )
        query = m.FollowUp.filter(**given)
        if kinds:
            query = query.filter(kind__in=list(kinds))
        if not include_done:
            query = query.filter(Q(done=False))
        size = page_size(first, info.context.settings)
        rows, more, total = await keyset_page(
            query, first=size, after=after, sort="sort_at", descending=True
        )
        return connection(rows, more, total, FollowUp.from_model, sort="sort_at")


def _version(value: int | None) -> int | None:
    return value


@strawberry.type
class FollowUpMutation:
    @strawberry.mutation
    async def create_follow_up(self, info: Info, input: FollowUpInput) -> FollowUpPayload:
        return await _run(lambda: writes.create(info.context.viewer, to_fields(input)))

    @strawberry.mutation(description="Change the given fields; version must be the one read.")
    async def update_follow_up(
        self, info: Info, id: strawberry.ID, version: int, input: FollowUpInput
    ) -> FollowUpPayload:
        return await _run(
            lambda: writes.update(
                info.context.viewer, ids.decode(id, "FollowUp", "id"), version, to_fields(input)
            )
        )

    @strawberry.mutation(description="Mark a follow-up done (done: false reopens it).")
    async def complete_follow_up(
        self, info: Info, id: strawberry.ID, done: bool = True, version: int | None = None
    ) -> FollowUpPayload:
        return await _run(
            lambda: writes.set_done(
                info.context.viewer, ids.decode(id, "FollowUp", "id"), done, version
            )
        )

    @strawberry.mutation(description="Make a planned call: it starts now.")
    async def make_call(
        self, info: Info, id: strawberry.ID, version: int | None = None
    ) -> FollowUpPayload:
        return await _run(
            lambda: writes.make_call(info.context.viewer, ids.decode(id, "FollowUp", "id"), version)
        )

    @strawberry.mutation
    async def delete_follow_up(
        self, info: Info, id: strawberry.ID, version: int | None = None
    ) -> DeletePayload:
        async def job() -> DeletePayload:
            await writes.delete(info.context.viewer, ids.decode(id, "FollowUp", "id"), version)
            return DeletePayload(deleted_id=id)

        return await atomically(job, lambda errors: DeletePayload(errors=errors))
