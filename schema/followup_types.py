"""The FollowUp GraphQL type: a meeting, task or call as clients see it.

A private follow-up shows to outsiders only as busy time: its title, agenda, location,
links and participants read as null/empty (``redacted`` says so).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import UTC, date, datetime
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any, NamedTuple, Self

import strawberry
from strawberry import relay

from resolvers import all_day, followup_fields, records, visibility
from resolvers.availability import Entity
from resolvers.conflicts import SpanKey, in_conflict
from resolvers.context import Info
from resolvers.followup_fields import Span
from resolvers.loaders import custom_loader
from resolvers.preference_keys import PreferenceKey
from resolvers.records import effective_prefs
from schema.calendar_sync import CalendarPull, CalendarSync, calendar_pulls_of, calendar_sync_of
from schema.crm_types import (
    ActivityType,
    Associate,
    Company,
    FollowUpKind,
    Person,
    Project,
    Resource,
    Sale,
)
from schema.enums import Frequency, Weekday
from schema.executor import LOADABLE
from schema.ids import encode
from schema.mail_types import Proposal, proposals_of
from schema.participant_types import EntityKind, Participant
from schema.selection import selects

if TYPE_CHECKING:
    from orm.models import FollowUp as FollowUpRow
    from orm.models import Occurrence as OccurrenceRow
else:  # rows only annotate the private fields; schema loads them through resolvers
    FollowUpRow = OccurrenceRow = object


async def visible_ids(info: Info, rows: Iterable[FollowUpRow]) -> set[int]:
    """The ids of ``rows`` the viewer sees in full (``resolvers.visibility``)."""
    return await visibility.visible_ids(info.context.viewer, info.context.loaders, rows)


@strawberry.enum(
    description="Whether a follow-up blocks its time (iCalendar TRANSP): what freeBusy, "
    "firstFreeSlots and conflicts count."
)
class Availability(Enum):
    BUSY = strawberry.enum_value(
        "BUSY",
        description="Blocks the time (OPAQUE): counts as busy in freeBusy, firstFreeSlots "
        "and conflicts. The default of timed items.",
    )
    FREE = strawberry.enum_value(
        "FREE",
        description="Shown, but leaves the time free (TRANSPARENT): never counts as busy. "
        "The default of all-day items unless ALL_DAY_BUSY_DEFAULT is set.",
    )


def _reference_field(name: str, kind: Any, description: str) -> Any:
    """The field of a record a follow-up refers to (``_REFERENCES``): what the list's
    prefetch loaded, else loaded through the request's loaders."""

    def resolve(self: FollowUp, info: Info) -> Any:
        return self._loaded_or(name, lambda: self._reference(info, name))

    return strawberry.field(
        resolver=resolve, graphql_type=kind, description=description, metadata=LOADABLE
    )


#: where a list field's items are in its selection (``FollowUp.prefetch``)
LIST: tuple[tuple[str, ...], ...] = ((),)
CONNECTION: tuple[tuple[str, ...], ...] = (("nodes",), ("edges", "node"))


@strawberry.type(description="One BYDAY entry of a recurrence rule: a weekday, maybe numbered.")
class RecurrenceDay:
    weekday: Weekday = strawberry.field(description="The day of the week.")  # type: ignore[valid-type]
    ordinal: int | None = strawberry.field(
        description="Which such day of the month (MONTHLY) or year (YEARLY): 1 the first, "
        "2 the second, -1 the last; null: every such day."
    )


@strawberry.type(
    description="How a series repeats: its RFC 5545 rule as text and as fields, evaluated "
    "on the wall clock of timeZone (a weekly 09:00 meeting stays at 09:00 across DST)."
)
class Recurrence:
    rrule: str = strawberry.field(
        description="The rule as RRULE text without the RRULE: prefix, e.g. "
        "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,WE."
    )
    freq: str = strawberry.field(
        description="The FREQ as text (HOURLY, DAILY, WEEKLY, MONTHLY, YEARLY).",
        deprecation_reason="Use frequency (the Frequency enum).",
    )
    frequency: Frequency = strawberry.field(  # type: ignore[valid-type]
        description="How often the series repeats (FREQ)."
    )
    interval: int = strawberry.field(
        description="Every how many frequency units it repeats (INTERVAL; 1: every one)."
    )
    by_day: list[str] = strawberry.field(
        description="The BYDAY entries as RRULE text (MO, 1MO, -1FR).",
        deprecation_reason="Use weekdays (Weekday enum values with their ordinal).",
    )
    weekdays: list[RecurrenceDay] = strawberry.field(
        description="The days of the week it falls on (BYDAY), in the rule's order."
    )
    by_month_day: list[int] = strawberry.field(
        description="Days of the month it falls on (BYMONTHDAY: 1..31, -1 the last); empty: "
        "not restricted."
    )
    by_month: list[int] = strawberry.field(
        description="Months it falls in (BYMONTH: 1 January .. 12 December); empty: every month."
    )
    by_set_pos: list[int] = strawberry.field(
        description="Which of the days the other BY fields give in each period it keeps "
        "(BYSETPOS: 1 the first, -1 the last); empty: all of them."
    )
    count: int | None = strawberry.field(
        description="How many occurrences the series has in all (COUNT); null when it ends "
        "at until or never."
    )
    until: datetime | None = strawberry.field(
        description="The last instant an occurrence may start, inclusive (UNTIL): in UTC, "
        "or without an offset (the owner's wall clock) when the rule text gave it so; null "
        "when the series never ends, ends by count, or its UNTIL is a date (see rrule)."
    )
    rdates: list[datetime] = strawberry.field(
        description="Extra occurrence starts outside the rule (RDATE), in UTC."
    )
    exdates: list[datetime] = strawberry.field(
        description="Excluded occurrence starts (EXDATE), in UTC: deleted occurrences "
        "(deleteFollowUp with scope THIS) are listed here."
    )
    time_zone: str = strawberry.field(description="The zone whose wall clock the rule follows.")
    summary: str = strawberry.field(
        description="The rule in words, in the viewer's LANGUAGE preference (en, da or no), "
        'e.g. "Every 2 weeks on Monday and Wednesday".'
    )


@strawberry.type(
    description="Someone or something on a follow-up that is busy with another follow-up "
    "at the same time."
)
class ConflictEntry:
    kind: EntityKind = strawberry.field(  # type: ignore[valid-type]
        description="What id names: an associate, a person or a resource."
    )
    id: strawberry.ID = strawberry.field(
        description="The global ID of the busy associate, person or resource."
    )


@strawberry.type(
    description="A meeting, task or call in the CRM, or one occurrence of a recurring series "
    "(then its id names the series and the occurrence's original start). All times are "
    "answered in UTC (ISO 8601 with offset +00:00). A private follow-up the viewer may not "
    "read is busy time only: redacted is true and its details are null or empty."
)
class FollowUp(relay.Node):
    id: relay.NodeID[str]
    kind: FollowUpKind = strawberry.field(  # type: ignore[valid-type]
        description="Meeting, task or call; decides which of start, end and deadline are set."
    )
    start: datetime | None = strawberry.field(
        description="When it starts, in UTC. Always set for a meeting and a made call; null "
        "for a planned call and for a task without a time."
    )
    end: datetime | None = strawberry.field(
        description="When it ends, exclusive, in UTC; set whenever start is (the default "
        "length is the owner's MEETING_DURATION or CALL_DURATION preference)."
    )
    deadline: datetime | None = strawberry.field(
        description="When a task or a planned call is due, in UTC; null for a meeting."
    )
    all_day: bool = strawberry.field(
        description="Dates, not times: start/end are midnights in the owner's zone, end "
        "exclusive; startDate/endDate (inclusive)/deadlineDate are the owner's dates."
    )
    start_date: date | None = strawberry.field(
        description="All-day items: the first day, in the owner's time zone; null otherwise."
    )
    end_date: date | None = strawberry.field(
        description="All-day items: the last day (inclusive), in the owner's time zone; "
        "null otherwise."
    )
    deadline_date: date | None = strawberry.field(
        description="All-day tasks: the due day, in the owner's time zone; null otherwise."
    )
    availability: Availability = strawberry.field(
        description="Whether it blocks its time (BUSY) or leaves it free (FREE)."
    )
    alarm_minutes: int | None = strawberry.field(description="Null when redacted.")
    private: bool = strawberry.field(
        description="Only its owner, its associate participants and administrators see the "
        "details; everyone else sees busy time (redacted)."
    )
    done: bool = strawberry.field(
        description="Completed (completeFollowUp); for an occurrence, that occurrence only."
    )
    done_at: datetime | None = strawberry.field(
        description="When it was marked done, in UTC; null while not done."
    )
    uid: str = strawberry.field(
        description="The iCalendar UID; an empty string when redacted (no link to calendars)."
    )
    sequence: int = strawberry.field(
        description="The iCalendar SEQUENCE: raised when the kind, times, all-day flag, "
        "location or recurrence change, so that calendars take the new invitation."
    )
    version: int = strawberry.field(
        description="Optimistic lock: raised by every change. Pass the version you read to "
        "updateFollowUp (and optionally to completeFollowUp, makeCall, deleteFollowUp); "
        "if it changed meanwhile the answer is a VERSION_CONFLICT error. An occurrence "
        "carries its series' version."
    )
    created_at: datetime = strawberry.field(description="When it was created, in UTC.")
    updated_at: datetime = strawberry.field(description="When it was last changed, in UTC.")
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
    title: str | None = strawberry.field(
        description="One line, at most 500 characters; null when redacted."
    )
    agenda: str | None = strawberry.field(
        description="Free text, several lines, at most 20,000 characters; null when redacted."
    )
    location: str | None = strawberry.field(
        description="Where it takes place, one line, at most 500 characters; null when redacted."
    )
    row: strawberry.Private[FollowUpRow]
    override: strawberry.Private[OccurrenceRow | None]
    visible: strawberry.Private[bool]
    #: values of ``LOADABLE`` fields by name, when the list it is in loaded them for all
    #: its items (``prefetch``): then those fields are read, not resolved
    loaded: strawberry.Private[dict[str, Any]] = dataclasses.field(default_factory=dict)
    columns: list[strawberry.ID] = strawberry.field(
        default_factory=list,
        description="In diary and resourceDiary: the global IDs of the requested associates "
        "(resources) whose column this item belongs to, in the order asked; an item owned or "
        "attended (not declined) by two requested associates is listed once and names both. "
        "A redacted item names only its owner's column (who attends or what is booked is "
        "a detail), so it may name none. Empty elsewhere.",
    )

    @classmethod
    async def build(cls, info: Info, item: Span | FollowUpRow) -> Self:
        """The follow-up (or occurrence) as the viewer may see it."""
        span = followup_fields.span_of(item)
        return cls.from_span(span, span.row.id in await visible_ids(info, [span.row]))

    @classmethod
    async def build_many(cls, info: Info, items: Sequence[Span | FollowUpRow]) -> list[Self]:
        """``build`` for many items, the privacy check batched."""
        spans = [followup_fields.span_of(x) for x in items]
        seen = await visible_ids(info, (s.row for s in spans))
        return [cls.from_span(s, s.row.id in seen) for s in spans]

    @classmethod
    async def prefetch(
        cls, info: Info, items: Sequence[FollowUp], shapes: tuple[tuple[str, ...], ...] = LIST
    ) -> None:
        """Load the participants and owners of a list, when the query reads them, in one
        batch each: an awaited field costs the executor a task per item, a loaded one is
        read (``loaded_from``). ``shapes``: where the items are in the field's selection
        (``LIST``, ``CONNECTION``). Participants first: their associates include most
        owners (the organiser), so the owners' batch then mostly hits the loader's cache."""

        def asked(name: str) -> bool:
            return any(selects(info, *shape, name) for shape in shapes)

        if asked("participants"):
            shown = sorted({i.row.id for i in items if i.visible})
            found = await followup_fields.participants_of(info, shown, whole_list=True)
            for item in items:
                rows = found.get(item.row.id, []) if item.visible else []
                item.loaded["participants"] = [Participant.from_rows(*row) for row in rows]
        for name, reference in _REFERENCES.items():
            if not asked(name):
                continue
            keys = [reference.key(i) for i in items]
            records_of = await reference.table.many(info, keys, whole_list=True)
            built: dict[int, Any] = {}
            for item, record in zip(items, records_of, strict=True):
                if record is not None and record.id not in built:
                    built[record.id] = reference.kind.from_model(record)
                item.loaded[name] = built[record.id] if record is not None else None

    @classmethod
    def from_model(cls, row: FollowUpRow, visible: bool) -> Self:
        return cls.from_span(followup_fields.span_of(row), visible)

    @classmethod
    def from_span(cls, span: Span, visible: bool) -> Self:
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
        out: list[FollowUp | None] = []
        for key in node_ids:
            span = await followup_fields.node(info, key)
            out.append(await FollowUp.build(info, span) if span is not None else None)
        return out

    @strawberry.field(description="Counter proposals from attendees (organiser and admins).")
    async def proposals(self, info: Info) -> list[Proposal]:
        return await proposals_of(info, self.row)

    @strawberry.field(description="Its state in each CalDAV calendar you manage.")
    async def calendar_sync(self, info: Info) -> list[CalendarSync]:
        if not self.visible:
            return []
        return await calendar_sync_of(info, self.row.id)

    @strawberry.field(
        description="What pulls from the calendars you manage did to it (applied, refused "
        "with the reason, put back, conflicts), newest first."
    )
    async def calendar_pulls(
        self,
        info: Info,
        first: Annotated[int, strawberry.argument(description="How many (at most 200)")] = 20,
    ) -> list[CalendarPull]:
        if not self.visible:
            return []
        return await calendar_pulls_of(info, self.row.id, first)

    @strawberry.field(
        description="Open conflicts: fields changed both in the CRM and in a calendar since "
        "the last sync; the CRM's value was kept, the calendar's is recorded here until "
        "resolveCalendarConflict closes it."
    )
    async def calendar_conflicts(
        self,
        info: Info,
        first: Annotated[int, strawberry.argument(description="How many (at most 200)")] = 20,
    ) -> list[CalendarPull]:
        if not self.visible:
            return []
        return await calendar_pulls_of(info, self.row.id, first, conflicts=True)

    @strawberry.field(description="How the series repeats; null for a single follow-up.")
    async def recurrence(self, info: Info) -> Recurrence | None:
        language = (await effective_prefs(info, info.context.viewer))[PreferenceKey.LANGUAGE]
        fields = followup_fields.recurrence(self.row, language.value)
        if fields is None:
            return None
        days = [RecurrenceDay(weekday=w, ordinal=n) for n, w in fields.pop("weekdays")]
        return Recurrence(**fields, weekdays=days)

    def _loaded_or(self, name: str, load: Callable[[], Awaitable[Any]]) -> Any:
        """What the list's prefetch loaded for field ``name``, else ``load()`` (a coroutine
        the executor awaits: an item built alone loads through the request's loaders)."""
        if name in self.loaded:
            return self.loaded[name]
        return load()

    async def _reference(self, info: Info, name: str) -> Any:
        reference = _REFERENCES[name]
        row = await reference.table.one(info, reference.key(self))
        return reference.kind.from_model(row) if row else None

    owner = _reference_field(
        "owner",
        Associate,
        "Whose follow-up it is: the associate whose diary and to-do list it is in, whose "
        "time zone and durations it follows. Shown also when redacted.",
    )
    type = _reference_field(
        "type", ActivityType | None, "Its activity type; null when none or redacted."
    )
    company = _reference_field(
        "company", Company | None, "The company it is about; null when none or redacted."
    )
    person = _reference_field(
        "person", Person | None, "The person it is about; null when none or redacted."
    )
    sale = _reference_field(
        "sale", Sale | None, "The sale it is about; null when none or redacted."
    )
    project = _reference_field(
        "project", Project | None, "The project it is about; null when none or redacted."
    )

    @strawberry.field(
        graphql_type=list[Participant],
        description="The people on it, the organiser first (empty if redacted).",
        metadata=LOADABLE,
    )
    def participants(self, info: Info) -> Any:
        if not self.visible:
            return []
        return self._loaded_or("participants", lambda: self._participants(info))

    async def _participants(self, info: Info) -> list[Participant]:
        found = await followup_fields.participants(info, self.row.id)
        return [Participant.from_rows(p, a, x) for p, a, x in found]

    @strawberry.field(description="Booked rooms and equipment (empty if redacted).")
    async def resources(self, info: Info) -> list[Resource]:
        if not self.visible:
            return []
        return [Resource.from_model(r) for r in await followup_fields.resources(info, self.row.id)]

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


class _Reference(NamedTuple):
    """A record a follow-up refers to: its table, the row's column and its type."""

    table: records.Table
    column: str
    kind: Any
    redacted_too: bool = False  # shown also when the follow-up is redacted

    def key(self, item: FollowUp) -> int | None:
        """The record's key on ``item``, None when the viewer may not see it."""
        return getattr(item.row, self.column) if self.redacted_too or item.visible else None  # type: ignore[no-any-return]


#: the records a follow-up refers to, by field name (``_reference_field``)
_REFERENCES: dict[str, _Reference] = {
    "owner": _Reference(records.associates, "owner_id", Associate, redacted_too=True),
    "type": _Reference(records.activity_types, "type_id", ActivityType),
    "company": _Reference(records.companies, "company_id", Company),
    "person": _Reference(records.persons, "person_id", Person),
    "sale": _Reference(records.sales, "sale_id", Sale),
    "project": _Reference(records.projects, "project_id", Project),
}
