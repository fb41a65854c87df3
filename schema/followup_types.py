"""The FollowUp GraphQL type: a meeting, task or call as clients see it.

A private follow-up shows to outsiders only as busy time: its title, agenda, location,
links and participants read as null/empty (``redacted`` says so).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any, Self
from zoneinfo import ZoneInfo

import strawberry
from strawberry import relay

from calcore.recurrence import is_occurrence, parse_rrule, summarize
from orm import models as m
from orm import occurrences
from resolvers import all_day, visibility
from resolvers.availability import Entity
from resolvers.conflicts import SpanKey, in_conflict
from resolvers.context import Info
from resolvers.loaders import custom_loader
from resolvers.preference_keys import PreferenceKey
from schema.crm_types import (
    ActivityType,
    Associate,
    Company,
    FollowUpKind,
    Person,
    Project,
    Resource,
    Sale,
    effective_prefs,
    load,
)
from schema.ids import encode
from schema.participant_types import EntityKind, Participant

if TYPE_CHECKING:
    from schema.calendar_sync import CalendarSync
    from schema.mail_types import Proposal


async def _resolve_one(info: Info, key: str) -> FollowUp | None:
    try:
        series_id, recurrence_id = occurrences.parse_key(key)
    except ValueError:
        return None
    row = await info.context.loaders.by_id(m.FollowUp).load(series_id)
    if row is None:
        return None
    if recurrence_id is None:
        return await FollowUp.build(info, row)
    override = await m.Occurrence.get_or_none(series_id=row.id, recurrence_id=recurrence_id)
    if override is None and (
        row.rrule is None
        or not is_occurrence(
            occurrences.anchor(row).astimezone(ZoneInfo(row.tzid)),
            row.rrule,
            [datetime.fromisoformat(v) for v in row.rdates],
            [datetime.fromisoformat(v) for v in row.exdates],
            recurrence_id,
        )
    ):
        return None
    if override is not None and override.cancelled:
        return None
    return await FollowUp.build(info, occurrences.one(row, override, recurrence_id))


async def visible_ids(info: Info, rows: Iterable[m.FollowUp]) -> set[int]:
    """The ids of ``rows`` the viewer sees in full (``resolvers.visibility``)."""
    return await visibility.visible_ids(info.context.viewer, info.context.loaders, rows)


@strawberry.enum
class Availability(Enum):
    BUSY = "BUSY"
    FREE = "FREE"


@strawberry.type
class Recurrence:
    rrule: str
    freq: str
    interval: int
    by_day: list[str]
    by_month_day: list[int]
    by_month: list[int]
    by_set_pos: list[int]
    count: int | None
    until: datetime | None
    rdates: list[datetime]
    exdates: list[datetime]
    time_zone: str = strawberry.field(description="The zone whose wall clock the rule follows.")
    summary: str


_DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


def _recurrence(row: m.FollowUp, language: str) -> Recurrence | None:
    if row.rrule is None:
        return None
    rule = parse_rrule(row.rrule)
    anchor = occurrences.anchor(row).astimezone(ZoneInfo(row.tzid))
    until = rule.until
    return Recurrence(
        rrule=row.rrule,
        freq=rule.freq.value,
        interval=rule.interval,
        by_day=[f"{n or ''}{_DAYS[d]}" for n, d in rule.byday],
        by_month_day=list(rule.bymonthday),
        by_month=list(rule.bymonth),
        by_set_pos=list(rule.bysetpos),
        count=rule.count,
        until=until if isinstance(until, datetime) else None,
        rdates=[datetime.fromisoformat(v) for v in row.rdates],
        exdates=[datetime.fromisoformat(v) for v in row.exdates],
        time_zone=row.tzid,
        summary=summarize(rule, anchor, language),
    )


@strawberry.type
class ConflictEntry:
    kind: EntityKind  # type: ignore[valid-type]
    id: strawberry.ID


@strawberry.type
class FollowUp(relay.Node):
    id: relay.NodeID[str]
    kind: FollowUpKind  # type: ignore[valid-type]
    start: datetime | None
    end: datetime | None
    deadline: datetime | None
    all_day: bool = strawberry.field(
        description="Dates, not times: start/end are midnights in the owner's zone, end "
        "exclusive; startDate/endDate (inclusive)/deadlineDate are the owner's dates."
    )
    start_date: date | None
    end_date: date | None
    deadline_date: date | None
    availability: Availability
    alarm_minutes: int | None = strawberry.field(description="Null when redacted.")
    private: bool
    done: bool
    done_at: datetime | None
    uid: str = strawberry.field(
        description="The iCalendar UID; an empty string when redacted (no link to calendars)."
    )
    sequence: int
    version: int
    created_at: datetime
    updated_at: datetime
    series_id: strawberry.ID = strawberry.field(
        description="The global ID of the single follow-up or of the whole series."
    )
    recurrence_id: datetime | None = strawberry.field(
        description="For an occurrence of a series: its original start."
    )
    redacted: bool = strawberry.field(
        description="True when the viewer sees this private follow-up as busy only."
    )
    truncated: bool = strawberry.field(
        description=(
            "True on the occurrences of a series that has more occurrences in the asked "
            "window than MAX_OCCURRENCES_PER_SERIES: only the earliest are listed (and "
            "count as busy). Its owner should shorten or delete the series."
        )
    )
    # plain fields, not resolvers: the privacy check is made once per item, when built
    title: str | None
    agenda: str | None
    location: str | None
    row: strawberry.Private[m.FollowUp]
    override: strawberry.Private[m.Occurrence | None]
    visible: strawberry.Private[bool]
    #: the owner's row when whoever built this loaded it already (the diary)
    owner_row: strawberry.Private[m.Associate | None] = None

    @classmethod
    async def build(cls, info: Info, item: occurrences.Span | m.FollowUp) -> Self:
        """The follow-up (or occurrence) as the viewer may see it."""
        span = item if isinstance(item, occurrences.Span) else occurrences.Span.single(item)
        return cls.from_span(span, span.row.id in await visible_ids(info, [span.row]))

    @classmethod
    async def build_many(
        cls, info: Info, items: Sequence[occurrences.Span | m.FollowUp]
    ) -> list[Self]:
        """``build`` for many items, the privacy check batched."""
        spans = [
            x if isinstance(x, occurrences.Span) else occurrences.Span.single(x) for x in items
        ]
        seen = await visible_ids(info, (s.row for s in spans))
        return [cls.from_span(s, s.row.id in seen) for s in spans]

    @classmethod
    def from_model(cls, row: m.FollowUp, visible: bool) -> Self:
        return cls.from_span(occurrences.Span.single(row), visible)

    @classmethod
    def from_span(cls, span: occurrences.Span, visible: bool) -> Self:
        """``visible``: whether the viewer sees the details (``visible_ids``)."""
        row, over = span.row, span.override

        def text(name: str) -> str | None:
            if not visible:
                return None
            value = getattr(over, name, None) if over else None
            return value if value is not None else getattr(row, name)  # type: ignore[no-any-return]

        dates = all_day.output(row, span.start, span.end, span.deadline)
        return cls(
            id=span.key,
            kind=row.kind,
            start=span.start,
            end=span.end,
            deadline=span.deadline,
            all_day=row.all_day,
            start_date=dates["start_date"],
            end_date=dates["end_date"],
            deadline_date=dates["deadline_date"],
            availability=Availability.BUSY if row.busy else Availability.FREE,
            alarm_minutes=row.alarm_minutes if visible else None,
            private=row.private,
            done=over.done if over else row.done,
            done_at=over.done_at if over else row.done_at,
            uid=row.uid if visible else "",
            sequence=max(row.sequence, over.sequence if over else 0),
            version=row.version,
            created_at=row.created_at,
            updated_at=row.updated_at,
            series_id=strawberry.ID(encode("FollowUp", row.id)),
            recurrence_id=span.recurrence_id,
            redacted=not visible,
            truncated=span.truncated,
            title=text("title"),
            agenda=text("agenda"),
            location=text("location"),
            row=row,
            override=over,
            visible=visible,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[FollowUp | None]:
        return [await _resolve_one(info, key) for key in node_ids]

    @strawberry.field(description="Counter proposals from attendees (organiser and admins).")
    async def proposals(
        self, info: Info
    ) -> list[Annotated[Proposal, strawberry.lazy("schema.mail_types")]]:
        from schema.mail_types import proposals_of

        return await proposals_of(info, self.row)

    @strawberry.field(description="Its state in each CalDAV calendar you manage.")
    async def calendar_sync(
        self, info: Info
    ) -> list[Annotated[CalendarSync, strawberry.lazy("schema.calendar_sync")]]:
        from schema.calendar_sync import calendar_sync_of

        if not self.visible:
            return []
        return await calendar_sync_of(info, self.row)

    @strawberry.field(description="How the series repeats; null for a single follow-up.")
    async def recurrence(self, info: Info) -> Recurrence | None:
        language = (await effective_prefs(info, info.context.viewer))[PreferenceKey.LANGUAGE]
        return _recurrence(self.row, language.value)

    async def _participants(self, info: Info) -> list[m.Participant]:
        loader = info.context.loaders.by_parent(m.Participant, "followup_id")
        return list(await loader.load(self.row.id))

    def _detail(self, value: Any) -> Any:
        return value if self.visible else None

    # sync when the owner was prefetched, else a coroutine the executor awaits (see
    # ``Participant.associate``)
    @strawberry.field(graphql_type=Associate)
    def owner(self, info: Info) -> Any:
        if self.owner_row is not None:
            return Associate.from_model(self.owner_row)
        return self._owner(info)

    async def _owner(self, info: Info) -> Associate:
        return Associate.from_model(await load(info, m.Associate, self.row.owner_id))

    @strawberry.field
    async def type(self, info: Info) -> ActivityType | None:
        row = await load(info, m.ActivityType, self._detail(self.row.type_id))
        return ActivityType.from_model(row) if row else None

    @strawberry.field
    async def company(self, info: Info) -> Company | None:
        row = await load(info, m.Company, self._detail(self.row.company_id))
        return Company.from_model(row) if row else None

    @strawberry.field
    async def person(self, info: Info) -> Person | None:
        row = await load(info, m.Person, self._detail(self.row.person_id))
        return Person.from_model(row) if row else None

    @strawberry.field
    async def sale(self, info: Info) -> Sale | None:
        row = await load(info, m.Sale, self._detail(self.row.sale_id))
        return Sale.from_model(row) if row else None

    @strawberry.field
    async def project(self, info: Info) -> Project | None:
        row = await load(info, m.Project, self._detail(self.row.project_id))
        return Project.from_model(row) if row else None

    @strawberry.field(description="The people on it, the organiser first (empty if redacted).")
    async def participants(self, info: Info) -> list[Participant]:
        if not self.visible:
            return []
        rows = sorted(await self._participants(info), key=lambda p: (not p.organiser, p.id))
        # their associates and persons now, batched across the items by the loaders, so
        # that ``Participant.associate`` and ``person`` await nothing
        loaders = info.context.loaders
        people = await loaders.by_id(m.Associate).load_many(
            [p.associate_id for p in rows if p.associate_id is not None]
        )
        persons = await loaders.by_id(m.Person).load_many(
            [p.person_id for p in rows if p.person_id is not None]
        )
        a_by = {a.id: a for a in people if a is not None}
        p_by = {x.id: x for x in persons if x is not None}
        return [
            Participant.from_model(p, (a_by.get(p.associate_id), p_by.get(p.person_id)))  # type: ignore[arg-type]
            for p in rows
        ]

    @strawberry.field(description="Booked rooms and equipment (empty if redacted).")
    async def resources(self, info: Info) -> list[Resource]:
        if not self.visible:
            return []
        bookings = await info.context.loaders.by_parent(m.ResourceBooking, "followup_id").load(
            self.row.id
        )
        rows = await info.context.loaders.by_id(m.Resource).load_many(
            [b.resource_id for b in bookings]
        )
        return [Resource.from_model(r) for r in rows if r is not None]

    @strawberry.field(
        description="Participants and resources busy with another follow-up at this time "
        "(empty if redacted)."
    )
    async def conflicts(self, info: Info) -> list[ConflictEntry]:
        if not self.visible or self.start is None or self.end is None or not self.row.busy:
            return []
        limit = info.context.settings.max_occurrences_per_series

        async def batch(keys: list[SpanKey]) -> list[list[tuple[Entity, int]]]:
            return await in_conflict(keys, limit)

        found = await custom_loader(info.context.loaders, "conflicts", batch).load(
            (self.row.id, self.start, self.end)
        )
        return [
            ConflictEntry(kind=e, id=strawberry.ID(encode(e.value.title(), i))) for e, i in found
        ]

    @strawberry.field(description="CONFLICT: someone on it is busy elsewhere at this time.")
    async def conflict(self, info: Info) -> bool:
        return bool(await self.conflicts(info))

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
        due = self.deadline and all_day.overdue_after(self.row, self.deadline)
        return bool(not self.done and due and due < datetime.now(UTC))
