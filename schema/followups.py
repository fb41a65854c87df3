"""Follow-up queries (diary, to-do, activities) and mutations."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

import strawberry

from resolvers import diary as reads
from resolvers import followup_mutations as mutations
from resolvers import followups as writes
from resolvers.context import Info
from resolvers.errors import ValidationFailed
from resolvers.series import RecurrenceSpec, parse_spec
from schema import ids
from schema.crm_types import FollowUpKind
from schema.enums import Frequency, Weekday, described
from schema.errors import UserError, atomically
from schema.followup_types import CONNECTION, Availability, FollowUp, visible_ids
from schema.pagination import (
    After,
    Before,
    Connection,
    First,
    Last,
    connection,
    keyset_page,
    list_page,
    list_window,
    page_size,
    window,
)

_REFS = {
    "type_id": "ActivityType",
    "company_id": "Company",
    "person_id": "Person",
    "sale_id": "Sale",
    "project_id": "Project",
    "owner_id": "Associate",
}


EditScope = described(
    mutations.EditScope,
    "Which occurrences of a series a change or deletion given an occurrence ID affects.",
    {
        "THIS": "This occurrence only (an override of it; deleting it adds an EXDATE).",
        "FOLLOWING": "This occurrence and all later ones: the series is split here and "
        "the later part changed (or, on delete, the series ends before it).",
        "ALL": "The whole series; a change of times moves every occurrence by the same amount.",
    },
)


@strawberry.input(description="One BYDAY entry: a weekday, maybe numbered.")
class RecurrenceDayInput:
    weekday: Weekday = strawberry.field(description="The day of the week.")  # type: ignore[valid-type]
    ordinal: int | None = strawberry.field(
        default=None,
        description="Which such day of the month (MONTHLY) or year (YEARLY): 1 the first, "
        "-1 the last; null: every such day.",
    )


@strawberry.input(
    description="A recurrence rule, as RRULE text (rrule) or as fields (frequency, interval, ...)."
)
class RecurrenceInput:
    rrule: str | None = strawberry.field(
        default=None,
        description="The rule as RRULE text without the RRULE: prefix (at most 1000 "
        "characters), e.g. FREQ=MONTHLY;BYDAY=-1FR; not with frequency. FREQ=SECONDLY, "
        "FREQ=MINUTELY and rules giving more than 24 occurrences a day are refused "
        "(VALIDATION on recurrence.rrule).",
    )
    freq: str | None = strawberry.field(
        default=None,
        description="FREQ as text (HOURLY, DAILY, WEEKLY, MONTHLY, YEARLY).",
        deprecation_reason="Use frequency (the Frequency enum).",
    )
    frequency: Frequency | None = strawberry.field(  # type: ignore[valid-type]
        default=None,
        description="How often the series repeats (FREQ); with it, the fields below "
        "make the rule (not with rrule).",
    )
    interval: int = strawberry.field(
        default=1,
        description="Every how many frequency units it repeats (INTERVAL, 1 or more; "
        "default 1). With frequency only.",
    )
    by_day: list[str] = strawberry.field(
        default_factory=list,
        description="BYDAY entries as RRULE text (MO, 1MO, -1FR).",
        deprecation_reason="Use weekdays (Weekday enum values with their ordinal).",
    )
    weekdays: list[RecurrenceDayInput] = strawberry.field(
        default_factory=list, description="The days of the week it falls on (BYDAY)."
    )
    by_month_day: list[int] = strawberry.field(
        default_factory=list,
        description="Days of the month (BYMONTHDAY: 1..31, -1 the last). With frequency only.",
    )
    by_month: list[int] = strawberry.field(
        default_factory=list,
        description="Months (BYMONTH: 1 January .. 12 December). With frequency only.",
    )
    by_set_pos: list[int] = strawberry.field(
        default_factory=list,
        description="Which of the days the other BY fields give in each period to keep "
        "(BYSETPOS: 1 the first, -1 the last); needs another BY field. With frequency only.",
    )
    count: int | None = strawberry.field(
        default=None,
        description="How many occurrences in all (COUNT, 1..MAX_OCCURRENCES_PER_SERIES); not "
        "with until; null with until null: the series never ends.",
    )
    until: datetime | None = strawberry.field(
        default=None,
        description="The last instant an occurrence may start, inclusive (UNTIL); give it "
        "with an offset (it is stored in UTC); not before the first occurrence; not with count.",
    )
    rdates: list[datetime] = strawberry.field(
        default_factory=list,
        description="Extra occurrence starts outside the rule (RDATE), each with a UTC "
        "offset; at most 1000 together with exdates. In an all-day series each counts by "
        "its date in the owner's zone.",
    )
    exdates: list[datetime] = strawberry.field(
        default_factory=list,
        description="Original starts of occurrences to leave out (EXDATE), each with a UTC "
        "offset; at most 1000 together with rdates.",
    )


def to_spec(data: RecurrenceInput) -> RecurrenceSpec:
    if data.freq is not None and data.frequency is not None:
        raise ValidationFailed("recurrence.freq", "give frequency or freq (deprecated), not both")
    if data.by_day and data.weekdays:
        raise ValidationFailed("recurrence.byDay", "give weekdays or byDay (deprecated), not both")
    freq = data.frequency.value if data.frequency is not None else data.freq
    days = [f"{'' if d.ordinal is None else d.ordinal}{d.weekday.value}" for d in data.weekdays]
    fields = None
    if freq is not None:
        fields = {
            "freq": freq,
            "interval": data.interval,
            "byday": days or data.by_day,
            "bymonthday": data.by_month_day,
            "bymonth": data.by_month,
            "bysetpos": data.by_set_pos,
            "count": data.count,
            "until": data.until,
        }
    elif not data.rrule:
        raise ValidationFailed("recurrence", "give rrule text or frequency")
    return parse_spec(data.rrule, fields, data.rdates, data.exdates)


@strawberry.input(description="Fields of a follow-up; leave a field out to keep it.")
class FollowUpInput:
    kind: FollowUpKind | None = strawberry.field(  # type: ignore[valid-type]
        default=strawberry.UNSET,
        description="MEETING, TASK or CALL; not null. On create the default is the default "
        "kind of the activity type (typeId), else MEETING. A change carries the times "
        "over: a meeting becomes a task due at its end, a planned call a meeting at its "
        "deadline.",
    )
    title: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="One line, 1..500 characters after trimming; required on create, not null.",
    )
    agenda: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="Free text, several lines, at most 20,000 characters; null clears it.",
    )
    type_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET,
        description="Global ID of its ActivityType; null removes the link; "
        "an unknown ID is a NOT_FOUND error.",
    )
    company_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET,
        description="Global ID of the Company it is about; null removes the link; "
        "an unknown ID is a NOT_FOUND error.",
    )
    person_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET,
        description="Global ID of the Person it is about; null removes the link; "
        "an unknown ID is a NOT_FOUND error.",
    )
    sale_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET,
        description="Global ID of the Sale it is about; null removes the link; "
        "an unknown ID is a NOT_FOUND error.",
    )
    project_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET,
        description="Global ID of the Project it is about; null removes the link; "
        "an unknown ID is a NOT_FOUND error.",
    )
    owner_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET,
        description="Global ID of the active Associate who owns it (default on create: the "
        "viewer); the owner's preferences give the default durations and the time zone. "
        "Unknown or inactive: NOT_FOUND.",
    )
    location: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="Where, one line, at most 500 characters; null clears it.",
    )
    start: datetime | None = strawberry.field(
        default=strawberry.UNSET,
        description="When it starts: ISO 8601 with a UTC offset (one without is a VALIDATION "
        "error), 1900..2200; stored and answered in UTC. A meeting needs one; a task may have "
        "one (it is then in the diary too); a call with a start is a made call. Changing only "
        "the start keeps the length.",
    )
    end: datetime | None = strawberry.field(
        default=strawberry.UNSET,
        description="When it ends, exclusive, with a UTC offset; needs a start and must be "
        "after it. Left out: start plus the owner's MEETING_DURATION (for a call "
        "CALL_DURATION) minutes.",
    )
    deadline: datetime | None = strawberry.field(
        default=strawberry.UNSET,
        description="When a task or a planned call is due, with a UTC offset; a task needs "
        "one, a meeting must not have one.",
    )
    all_day: bool | None = strawberry.field(
        default=strawberry.UNSET,
        description="Dates, not times, in the owner's zone (free unless availability: BUSY)",
    )
    start_date: date | None = strawberry.field(
        default=strawberry.UNSET, description="First day of an all-day item"
    )
    end_date: date | None = strawberry.field(
        default=strawberry.UNSET, description="Last day of an all-day item (inclusive)"
    )
    deadline_date: date | None = strawberry.field(
        default=strawberry.UNSET, description="Due day of an all-day task"
    )
    availability: Availability | None = strawberry.field(
        default=strawberry.UNSET,
        description="BUSY blocks the time, FREE does not. Default: BUSY for timed items; FREE "
        "for all-day ones (BUSY when ALL_DAY_BUSY_DEFAULT is set); null counts as BUSY.",
    )
    alarm_minutes: int | None = strawberry.field(
        default=strawberry.UNSET,
        description="A reminder this many minutes before the start (a task: before it is "
        "due), 0..40320 (four weeks), sent to calendars as a VALARM; null: none.",
    )
    private: bool | None = strawberry.field(
        default=strawberry.UNSET,
        description="Details only for the owner, associate participants and administrators; "
        "others see busy time (redacted). Not null.",
    )
    done: bool | None = strawberry.field(
        default=strawberry.UNSET,
        description="Completed; not null. true sets doneAt to now (when it was not done), "
        "false clears it (completeFollowUp does the same).",
    )
    recurrence: RecurrenceInput | None = strawberry.field(
        default=strawberry.UNSET, description="null makes a series a single follow-up again"
    )


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
        elif name == "recurrence":
            fields["recurrence"] = RecurrenceSpec(None) if value is None else to_spec(value)
        elif value is None and name in ("kind", "title", "private", "done", "all_day"):
            raise ValidationFailed(camel(name), f"{camel(name)} cannot be null")
        else:
            fields[renames.get(name, name)] = value
    return fields


@strawberry.type(description="The answer of a follow-up mutation: the follow-up, or errors.")
class FollowUpPayload:
    follow_up: FollowUp | None = strawberry.field(
        default=None,
        description="The follow-up (or occurrence) as it is now; null when errors is not empty.",
    )
    errors: list[UserError] = strawberry.field(
        default_factory=list,
        description="Why nothing was changed (VALIDATION, NOT_FOUND, FORBIDDEN, "
        "VERSION_CONFLICT, ...; path names the input field); empty on success.",
    )


@strawberry.type(description="The answer of deleteFollowUp: the deleted ID, or errors.")
class DeletePayload:
    deleted_id: strawberry.ID | None = strawberry.field(
        default=None, description="The ID given, once deleted; null when errors is not empty."
    )
    errors: list[UserError] = strawberry.field(
        default_factory=list, description="Why nothing was deleted; empty on success."
    )


def _failed(errors: list[UserError]) -> FollowUpPayload:
    return FollowUpPayload(errors=errors)


async def run_followup(info: Info, work: Any) -> FollowUpPayload:
    async def job() -> FollowUpPayload:
        return FollowUpPayload(follow_up=await FollowUp.build(info, await work()))

    return await atomically(job, _failed)


async def _present(work: Any) -> FollowUpPayload:
    async def job() -> FollowUpPayload:
        return FollowUpPayload(follow_up=await work())

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
        associate_ids: Annotated[
            list[strawberry.ID],
            strawberry.argument(
                description="Global IDs of the associates (the columns), at most "
                "MAX_IDS_PER_QUERY (default 100)."
            ),
        ],
        from_: Annotated[
            datetime,
            strawberry.argument(
                name="from",
                description="Window start, inclusive: ISO 8601 with a UTC offset (one "
                "without is a VALIDATION error).",
            ),
        ],
        to: Annotated[
            datetime,
            strawberry.argument(
                description="Window end, exclusive, with a UTC offset: after from and at "
                "most MAX_WINDOW_DAYS (default 400) days later."
            ),
        ],
    ) -> list[FollowUp]:
        settings = info.context.settings
        keys = ids.decode_many(
            associate_ids, "Associate", "associateIds", settings.max_ids_per_query
        )
        lo, hi = reads.check_window(from_, to, settings)
        found = await reads.diary(keys, lo, hi, settings.max_occurrences_per_series)
        info.context.loaders.prime([s.row for s in found])
        items = await FollowUp.build_many(info, found)
        columns = await reads.diary_columns(keys, found)
        _set_columns(items, columns, keys, "Associate")
        await FollowUp.prefetch(info, items)
        return items

    @strawberry.field(
        description="Timed follow-ups booking these rooms or equipment in [from, to), "
        "earliest first; a private one shows redacted to whoever may not read it."
    )
    async def resource_diary(
        self,
        info: Info,
        resource_ids: Annotated[
            list[strawberry.ID],
            strawberry.argument(description="Global IDs of the resources (columns)."),
        ],
        from_: Annotated[
            datetime,
            strawberry.argument(name="from", description="Window start (inclusive)."),
        ],
        to: Annotated[datetime, strawberry.argument(description="Window end (exclusive).")],
    ) -> list[FollowUp]:
        settings = info.context.settings
        keys = ids.decode_many(resource_ids, "Resource", "resourceIds", settings.max_ids_per_query)
        lo, hi = reads.check_window(from_, to, settings)
        found = await reads.resource_diary(keys, lo, hi, settings.max_occurrences_per_series)
        info.context.loaders.prime([s.row for s in found])
        items = await FollowUp.build_many(info, found)
        _set_columns(items, await reads.resource_columns(keys, found), keys, "Resource")
        await FollowUp.prefetch(info, items)
        return items

    @strawberry.field(
        description="Open tasks and planned calls by deadline.",
        deprecation_reason="Use todos: a cursor connection with totalCount that pages past "
        "the first page.",
    )
    async def todo(
        self,
        info: Info,
        associate_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(description="Whose to-do list (default: the viewer's)."),
        ] = None,
        include_done: Annotated[
            bool, strawberry.argument(description="Also list tasks and calls already done.")
        ] = False,
        first: Annotated[
            int | None,
            strawberry.argument(
                description="How many, from the earliest deadline (1..MAX_PAGE_SIZE; "
                "default DEFAULT_PAGE_SIZE)."
            ),
        ] = None,
    ) -> list[FollowUp]:
        key = (
            info.context.viewer.id
            if associate_id is None
            else ids.decode(associate_id, "Associate", "associateId")
        )
        settings = info.context.settings
        found = await reads.todo(
            key,
            include_done,
            page_size(first, settings),
            writes.now(),
            settings.max_occurrences_per_series,
        )
        items = await FollowUp.build_many(info, found)
        await FollowUp.prefetch(info, items)
        return items

    @strawberry.field(
        description="Open tasks and planned calls of one associate by deadline (earliest "
        "first; recurring ones within 31 days of now), as a connection: cursors are positions "
        "in the list, totalCount counts the whole list."
    )
    async def todos(
        self,
        info: Info,
        associate_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(description="Whose to-do list (default: the viewer's)."),
        ] = None,
        include_done: Annotated[
            bool, strawberry.argument(description="Also list tasks already done.")
        ] = False,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[FollowUp]:
        key = (
            info.context.viewer.id
            if associate_id is None
            else ids.decode(associate_id, "Associate", "associateId")
        )
        settings = info.context.settings
        page = window(first, after, last, before, settings)
        found = await reads.todo(
            key, include_done, None, writes.now(), settings.max_occurrences_per_series
        )
        start, end = list_window(len(found), page)
        seen = await visible_ids(info, (s.row for s in found[start:end]))
        listed = list_page(found, page, lambda s: FollowUp.from_span(s, s.row.id in seen))
        return await _prefetched(info, listed)

    @strawberry.field(description="All follow-ups of one record, newest first.")
    async def activities(
        self,
        info: Info,
        company_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(
                description="Global ID of the Company whose follow-ups to list. Give exactly one "
                "of companyId, personId, saleId, projectId (else a VALIDATION error)."
            ),
        ] = None,
        person_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(
                description="Global ID of the Person whose follow-ups to list. Give exactly one "
                "of companyId, personId, saleId, projectId (else a VALIDATION error)."
            ),
        ] = None,
        sale_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(
                description="Global ID of the Sale whose follow-ups to list. Give exactly one "
                "of companyId, personId, saleId, projectId (else a VALIDATION error)."
            ),
        ] = None,
        project_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(
                description="Global ID of the Project whose follow-ups to list. Give exactly one "
                "of companyId, personId, saleId, projectId (else a VALIDATION error)."
            ),
        ] = None,
        kinds: Annotated[
            list[FollowUpKind] | None,  # type: ignore[valid-type]
            strawberry.argument(description="Only these kinds; null or empty: all kinds."),
        ] = None,
        include_done: Annotated[
            bool, strawberry.argument(description="Also list done ones (default true).")
        ] = True,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
        from_: Annotated[
            datetime | None,
            strawberry.argument(
                name="from", description="With to: list occurrences of series in [from, to)"
            ),
        ] = None,
        to: Annotated[
            datetime | None,
            strawberry.argument(
                description="With from: the window end, exclusive, with a UTC offset; at most "
                "MAX_WINDOW_DAYS (default 400) days after from."
            ),
        ] = None,
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
        # a private item the viewer may not see in full is not listed under the record
        # at all (the listing would tell the link): out of the page and the count
        query = reads.activities_query(info.context.viewer, given, kinds, include_done)
        settings = info.context.settings
        page = window(first, after, last, before, settings)
        if from_ is not None or to is not None:
            if from_ is None or to is None:
                raise ValidationFailed("to", "give both from and to, or neither")
            lo, hi = reads.check_window(from_, to, settings)
            found = await reads.activities_in(
                query, lo, hi, include_done, settings.max_occurrences_per_series
            )
            seen = await visible_ids(info, (s.row for s in found))
            listed = list_page(found, page, lambda s: FollowUp.from_span(s, s.row.id in seen))
            return await _prefetched(info, listed)
        found_page = await keyset_page(query, page, sort="sort_at", descending=True)
        seen = await visible_ids(info, found_page.rows)
        made = connection(
            found_page, lambda r: FollowUp.from_model(r, r.id in seen), sort="sort_at"
        )
        return await _prefetched(info, made)


async def _prefetched(info: Info, page: Connection[FollowUp]) -> Connection[FollowUp]:
    """A page of follow-ups with what the query reads of them loaded for the whole page."""
    await FollowUp.prefetch(info, [edge.node for edge in page.edges], CONNECTION)
    return page


def _set_columns(
    items: list[FollowUp], columns: dict[int, list[int]], asked: list[int], type_name: str
) -> None:
    """Give each diary item the requested columns it belongs to, in the order asked."""
    order = {key: i for i, key in enumerate(asked)}
    for item in items:
        found = sorted(columns.get(item.row.id, ()), key=lambda k: order.get(k, len(order)))
        if not item.visible:  # who attends is a detail: a redacted item names its owner only
            found = [k for k in found if type_name == "Associate" and k == item.row.owner_id]
        item.columns = [strawberry.ID(ids.encode(type_name, k)) for k in found]


def occurrence_id(value: str, path: str = "id") -> tuple[int, datetime | None]:
    """The series and original start (None: not an occurrence) of a follow-up ID."""
    return mutations.split_key(ids.decode_raw(value, "FollowUp", path), value, path)


@strawberry.type
class FollowUpMutation:
    @strawberry.mutation(
        description="Create a meeting, task or call, owned by the viewer unless ownerId is "
        "given. What is left out comes from the owner's preferences (the length from "
        "MEETING_DURATION or CALL_DURATION); the owner's TIME_ZONE is kept as the zone of "
        "its recurrence and all-day dates. Errors come in errors, not as GraphQL errors."
    )
    async def create_follow_up(
        self,
        info: Info,
        input: Annotated[
            FollowUpInput,
            strawberry.argument(
                description="Its fields: title, and the times its kind needs (a meeting: "
                "start; a task: deadline; a call: deadline when planned, start when made)."
            ),
        ],
    ) -> FollowUpPayload:
        settings = info.context.settings
        limit, busy = settings.max_occurrences_per_series, settings.all_day_busy_default
        return await run_followup(
            info,
            lambda: writes.create(info.context.viewer, to_fields(input), limit, all_day_busy=busy),
        )

    @strawberry.mutation(
        description="Change the given fields; version must be the one read. For an "
        "occurrence ID, scope says whether this one, this and the following, or all change."
    )
    async def update_follow_up(
        self,
        info: Info,
        id: Annotated[
            strawberry.ID,
            strawberry.argument(
                description="Global ID of a follow-up, of a whole series, or of one occurrence "
                "(as diary, todos and activities with from/to list them)."
            ),
        ],
        version: Annotated[
            int,
            strawberry.argument(
                description="The version read (of the series, for an occurrence); if it "
                "changed since, nothing is done and the answer is a VERSION_CONFLICT error: "
                "read it again."
            ),
        ],
        input: Annotated[
            FollowUpInput,
            strawberry.argument(
                description="Only the fields to change; a field left out is kept, null "
                "clears it where it may be null."
            ),
        ],
        scope: Annotated[
            EditScope,  # type: ignore[valid-type]
            strawberry.argument(
                description="For an occurrence ID: THIS (default), FOLLOWING or ALL. "
                "Ignored for any other ID."
            ),
        ] = EditScope.THIS,  # type: ignore[valid-type]
    ) -> FollowUpPayload:
        async def work() -> FollowUp:
            settings = info.context.settings
            limit, busy = settings.max_occurrences_per_series, settings.all_day_busy_default
            key, data = occurrence_id(id), to_fields(input)
            changed = await mutations.update(
                info.context.viewer, key, version, data, scope, limit, all_day_busy=busy
            )
            return await FollowUp.build(info, changed)

        return await _present(work)

    @strawberry.mutation(description="Mark done (done: false reopens); one occurrence only.")
    async def complete_follow_up(
        self,
        info: Info,
        id: Annotated[
            strawberry.ID,
            strawberry.argument(
                description="Global ID of a follow-up, of a whole series, or of one occurrence "
                "(as diary, todos and activities with from/to list them)."
            ),
        ],
        done: Annotated[
            bool,
            strawberry.argument(
                description="true (default): done, doneAt now; false: open again, doneAt null."
            ),
        ] = True,
        version: Annotated[
            int | None,
            strawberry.argument(
                description="Optional: the version read; if the follow-up changed since, "
                "nothing is done and the answer is a VERSION_CONFLICT error. Not checked "
                "for an occurrence."
            ),
        ] = None,
    ) -> FollowUpPayload:
        async def work() -> FollowUp:
            key = occurrence_id(id)
            changed = await mutations.complete(info.context.viewer, key, done, version)
            return await FollowUp.build(info, changed)

        return await _present(work)

    @strawberry.mutation(
        description="Make a planned call: it starts now and lasts the owner's CALL_DURATION "
        "minutes."
    )
    async def make_call(
        self,
        info: Info,
        id: Annotated[
            strawberry.ID,
            strawberry.argument(
                description="Global ID of a planned call (kind CALL, no start yet); another "
                "kind or a made call is a VALIDATION error."
            ),
        ],
        version: Annotated[
            int | None,
            strawberry.argument(
                description="Optional: the version read; if the follow-up changed since, "
                "nothing is done and the answer is a VERSION_CONFLICT error."
            ),
        ] = None,
    ) -> FollowUpPayload:
        async def work() -> Any:
            key = ids.decode(id, "FollowUp", "id")
            return await mutations.make_call(info.context.viewer, key, version)

        return await run_followup(info, work)

    @strawberry.mutation(description="Delete a follow-up, or occurrences of a series by scope.")
    async def delete_follow_up(
        self,
        info: Info,
        id: Annotated[
            strawberry.ID,
            strawberry.argument(
                description="Global ID of a follow-up, of a whole series, or of one occurrence "
                "(as diary, todos and activities with from/to list them)."
            ),
        ],
        version: Annotated[
            int | None,
            strawberry.argument(
                description="Optional: the version read; if the follow-up changed since, "
                "nothing is done and the answer is a VERSION_CONFLICT error. For an "
                "occurrence: the series' version."
            ),
        ] = None,
        scope: Annotated[
            EditScope,  # type: ignore[valid-type]
            strawberry.argument(
                description="For an occurrence ID: THIS (default: that occurrence), "
                "FOLLOWING (it and the later ones) or ALL (the whole series). Ignored for "
                "any other ID."
            ),
        ] = EditScope.THIS,  # type: ignore[valid-type]
    ) -> DeletePayload:
        async def job() -> DeletePayload:
            await mutations.delete(info.context.viewer, occurrence_id(id), version, scope)
            return DeletePayload(deleted_id=id)

        return await atomically(job, lambda errors: DeletePayload(errors=errors))
