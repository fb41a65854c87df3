"""Calendar conflicts in GraphQL: the owner's open ones, and resolving them (issue 14).

A conflict shows to the follow-up's owner and to administrators only (NOT_FOUND, and
``node(id:)`` null, for anyone else); the rules are ``resolvers.calendar_conflicts``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Self

import strawberry
from strawberry import relay

from resolvers import calendar_accounts as accounts
from resolvers import calendar_conflicts as conflicts
from resolvers.context import Info
from schema import ids
from schema.calendar_sync import CalendarAccount, CalendarValue
from schema.errors import UserError, atomically
from schema.followup_types import FollowUp
from schema.followups import EditScope
from schema.pagination import (
    After,
    Before,
    Connection,
    First,
    Last,
    connection,
    keyset_page,
    window,
)

if TYPE_CHECKING:
    from orm.sync_models import CalendarPull as PullRow
else:  # rows only annotate the private fields; schema loads them through resolvers
    PullRow = object


@strawberry.enum(description="Which side's value a resolved calendar conflict keeps")
class CalendarConflictSide(Enum):
    CRM = strawberry.enum_value(
        "CRM", description="Keep the CRM's value (as the pull did); only close the conflict"
    )
    CALENDAR = strawberry.enum_value(
        "CALENDAR",
        description="Take the calendar's values: applied as the owner's updateFollowUp "
        "(validation, version, invitations, the calendars updated)",
    )


@strawberry.type(
    description="A field changed both in the CRM and in the owner's calendar since the last "
    "sync: the pull kept the CRM's value, the calendar's is kept here until resolved."
)
class CalendarConflict(relay.Node):
    id: relay.NodeID[int]
    fields: list[str] = strawberry.field(description="The follow-up fields in conflict")
    calendar_values: list[CalendarValue] = strawberry.field(
        description="The calendar's value of each of those fields"
    )
    recurrence_id: datetime | None = strawberry.field(
        description="The occurrence the calendar changed (its original start); null: the "
        "whole follow-up or series"
    )
    scope: EditScope = strawberry.field(  # type: ignore[valid-type]
        description="What taking the calendar's values changes (THIS occurrence, FOLLOWING "
        "ones from it, ALL)"
    )
    object_name: str = strawberry.field(description="The calendar object's name")
    found_at: datetime = strawberry.field(description="When the pull found it")
    resolution: CalendarConflictSide | None = strawberry.field(
        description="The side taken; null while open"
    )
    resolved_at: datetime | None = strawberry.field(description="When it was resolved")
    row: strawberry.Private[PullRow]

    @classmethod
    def from_model(cls, row: PullRow) -> Self:
        values = row.calendar_values or {}
        return cls(
            id=row.id,
            fields=list(row.fields_changed or []),
            calendar_values=[
                CalendarValue(field=k, value=None if v is None else str(v))
                for k, v in values.items()
            ],
            recurrence_id=row.recurrence_id,
            scope=conflicts.scope_of(row),
            object_name=row.name,
            found_at=row.created_at,
            resolution=CalendarConflictSide(row.resolution) if row.resolution else None,
            resolved_at=row.resolved_at,
            row=row,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Self | None]:
        keys = [int(n) if n.isdigit() and len(n) < 18 else -1 for n in node_ids]
        rows = await conflicts.visible(info.context.viewer, info.context.loaders, keys)
        return [cls.from_model(r) if r is not None else None for r in rows]

    @strawberry.field(
        description="The follow-up (the occurrence, for one of a series) as it is now; null "
        "when it was deleted"
    )
    async def follow_up(self, info: Info) -> FollowUp | None:
        item = await conflicts.followup_of(self.row)
        return await FollowUp.build(info, item) if item is not None else None

    @strawberry.field(description="The calendar the value was found in; null: not yours")
    async def account(self, info: Info) -> CalendarAccount | None:
        rows = await accounts.visible(info, [str(self.row.account_id)])
        return CalendarAccount.from_model(rows[0]) if rows[0] is not None else None


@strawberry.type(description="The result of resolveCalendarConflict.")
class ResolveCalendarConflictPayload:
    conflict: CalendarConflict | None = strawberry.field(
        default=None, description="The conflict, now resolved"
    )
    follow_up: FollowUp | None = strawberry.field(
        default=None, description="The follow-up (or occurrence) as it is now"
    )
    errors: list[UserError] = strawberry.field(
        default_factory=list, description="Why nothing was done (NOT_FOUND, VALIDATION, ...)"
    )


@strawberry.type
class CalendarConflictQuery:
    @strawberry.field(
        description="The open calendar conflicts on your follow-ups, newest first; "
        "administrators may ask for an associate's (others get an empty list)."
    )
    async def calendar_conflicts(
        self,
        info: Info,
        associate_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(description="Whose follow-ups (default: the viewer's)"),
        ] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[CalendarConflict]:
        page = window(first, after, last, before, info.context.settings)
        who = ids.decode(associate_id, "Associate", "associateId") if associate_id else None
        query = conflicts.open_conflicts(info.context.viewer, who)
        found = await keyset_page(query, page, descending=True)
        return connection(found, CalendarConflict.from_model)


@strawberry.type
class CalendarConflictMutation:
    @strawberry.mutation(
        description="Resolve a calendar conflict by taking one side (see CalendarConflictSide); "
        "the owner and administrators only."
    )
    async def resolve_calendar_conflict(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The CalendarConflict")],
        take: Annotated[CalendarConflictSide, strawberry.argument(description="The value to keep")],
        version: Annotated[
            int | None,
            strawberry.argument(
                description="CALENDAR: the follow-up's version you saw (VERSION_CONFLICT when "
                "it changed since); null: the current one"
            ),
        ] = None,
    ) -> ResolveCalendarConflictPayload:
        async def work() -> ResolveCalendarConflictPayload:
            key = ids.decode(id, "CalendarConflict", "id")
            limit = info.context.settings.max_occurrences_per_series
            side = conflicts.Side(take.value)
            row, item = await conflicts.resolve(info.context.viewer, key, side, version, limit)
            return ResolveCalendarConflictPayload(
                conflict=CalendarConflict.from_model(row),
                follow_up=await FollowUp.build(info, item) if item is not None else None,
            )

        return await atomically(work, lambda e: ResolveCalendarConflictPayload(errors=e))
