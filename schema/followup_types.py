"""The FollowUp GraphQL type: a meeting, task or call as clients see it.

A private follow-up shows to outsiders only as busy time: its title, agenda, location,
links and participants read as null/empty (``redacted`` says so).
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import Enum
from typing import Any, Self

import strawberry
from strawberry import relay

from orm import models as m
from resolvers.context import Info
from resolvers.visibility import sees_details
from schema.crm_types import (
    ActivityType,
    Associate,
    Company,
    FollowUpKind,
    Person,
    Project,
    Sale,
    load,
)
from schema.node import ModelNode


@strawberry.enum
class Availability(Enum):
    BUSY = "BUSY"
    FREE = "FREE"


@strawberry.type
class FollowUp(ModelNode):
    id: relay.NodeID[int]
    kind: FollowUpKind  # type: ignore[valid-type]
    start: datetime | None
    end: datetime | None
    deadline: datetime | None
    availability: Availability
    alarm_minutes: int | None
    private: bool
    done: bool
    done_at: datetime | None
    uid: str
    sequence: int
    version: int
    created_at: datetime
    updated_at: datetime
    row: strawberry.Private[m.FollowUp]

    @classmethod
    def orm_model(cls) -> type[m.FollowUp]:
        return m.FollowUp

    @classmethod
    def from_model(cls, row: m.FollowUp) -> Self:
        return cls(
            id=row.id,
            kind=row.kind,
            start=row.start_at,
            end=row.end_at,
            deadline=row.deadline,
            availability=Availability.BUSY if row.busy else Availability.FREE,
            alarm_minutes=row.alarm_minutes,
            private=row.private,
            done=row.done,
            done_at=row.done_at,
            uid=row.uid,
            sequence=row.sequence,
            version=row.version,
            created_at=row.created_at,
            updated_at=row.updated_at,
            row=row,
        )

    async def _participants(self, info: Info) -> list[m.Participant]:
        loader = info.context.loaders.by_parent(m.Participant, "followup_id")
        return list(await loader.load(self.row.id))

    async def _sees(self, info: Info) -> bool:
        if not self.row.private:
            return True
        return sees_details(info.context.viewer, self.row, await self._participants(info))

    async def _detail(self, info: Info, value: Any) -> Any:
        return value if await self._sees(info) else None

    @strawberry.field(description="True when the viewer sees this private follow-up as busy only.")
    async def redacted(self, info: Info) -> bool:
        return not await self._sees(info)

    @strawberry.field
    async def title(self, info: Info) -> str | None:
        return await self._detail(info, self.row.title)

    @strawberry.field
    async def agenda(self, info: Info) -> str | None:
        return await self._detail(info, self.row.agenda)

    @strawberry.field
    async def location(self, info: Info) -> str | None:
        return await self._detail(info, self.row.location)

    @strawberry.field
    async def owner(self, info: Info) -> Associate:
        return Associate.from_model(await load(info, m.Associate, self.row.owner_id))

    @strawberry.field
    async def type(self, info: Info) -> ActivityType | None:
        row = await load(info, m.ActivityType, await self._detail(info, self.row.type_id))
        return ActivityType.from_model(row) if row else None

    @strawberry.field
    async def company(self, info: Info) -> Company | None:
        row = await load(info, m.Company, await self._detail(info, self.row.company_id))
        return Company.from_model(row) if row else None

    @strawberry.field
    async def person(self, info: Info) -> Person | None:
        row = await load(info, m.Person, await self._detail(info, self.row.person_id))
        return Person.from_model(row) if row else None

    @strawberry.field
    async def sale(self, info: Info) -> Sale | None:
        row = await load(info, m.Sale, await self._detail(info, self.row.sale_id))
        return Sale.from_model(row) if row else None

    @strawberry.field
    async def project(self, info: Info) -> Project | None:
        row = await load(info, m.Project, await self._detail(info, self.row.project_id))
        return Project.from_model(row) if row else None

    @strawberry.field(description="Minutes between start and end, when timed.")
    def duration_minutes(self) -> int | None:
        if self.start is None or self.end is None:
            return None
        return int((self.end - self.start).total_seconds() // 60)

    @strawberry.field(description="In the diary: it has a start and an end.")
    def in_diary(self) -> bool:
        return self.start is not None

    @strawberry.field(description="Not done and its deadline has passed.")
    def overdue(self) -> bool:
        return bool(not self.done and self.deadline and self.deadline < datetime.now(UTC))
