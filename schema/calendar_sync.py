"""CalDAV sync in GraphQL: calendar accounts, their mutations, and per-calendar sync state.

An account shows to its associate and to administrators only; for anyone else it does
not exist (NOT_FOUND, and ``node(id:)`` answers null).  The password is write-only:
``passwordSource`` says whether one is stored or read from an environment variable.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any, Self, TypeVar

import strawberry
from strawberry import relay

from resolvers import calendar_accounts as accounts
from resolvers import records
from resolvers.context import Info
from resolvers.enums import AccountState, ObjectState
from resolvers.errors import DomainError
from schema import ids
from schema.crm_types import Associate, Resource
from schema.enums import described
from schema.errors import UserError, to_user_error

if TYPE_CHECKING:
    from orm.sync_models import CalendarAccount as AccountRow
    from orm.sync_models import CalendarPull as PullRow
else:  # rows only annotate the private fields; schema loads them through resolvers
    AccountRow = object
    PullRow = object

CalendarAccountState = described(
    AccountState,
    name="CalendarAccountState",
    description="State of a CalDAV account after its last sync; FAILED: e.g. credentials refused.",
)
CalendarSyncState = described(
    ObjectState,
    name="CalendarSyncState",
    description="Whether a follow-up is written to the CalDAV calendar of an account.",
)


@strawberry.enum(description="What the service did with a change found in a calendar")
class CalendarPullOutcome(Enum):
    APPLIED = strawberry.enum_value(
        "APPLIED", description="Applied as the owner's change (the rules of updateFollowUp)"
    )
    REFUSED = strawberry.enum_value(
        "REFUSED", description="Refused (see reason); the calendar object was put back"
    )
    STATUS = strawberry.enum_value(
        "STATUS", description="A participant's answer set their status (history via CALDAV)"
    )
    REVERTED = strawberry.enum_value(
        "REVERTED", description="Not theirs to change (a participant's or room's copy): put back"
    )
    CONFLICT = strawberry.enum_value(
        "CONFLICT",
        description="Changed on both sides: the CRM's value kept, the calendar's kept here",
    )
    IMPORTED = strawberry.enum_value(
        "IMPORTED",
        description="An event made in the calendar app became a meeting (importNewEvents)",
    )


@strawberry.enum(description="What deleting our object in the owner's calendar app does")
class PullDeletePolicy(Enum):
    SAFE = strawberry.enum_value(
        "safe",
        description="Delete the follow-up if it has not started yet, else only unlink it",
    )
    UNLINK = strawberry.enum_value(
        "unlink",
        description="Unlink: the follow-up stays in the CRM and is not put into that calendar "
        "again",
    )
    RESTORE = strawberry.enum_value("restore", description="Put the object back")


@strawberry.type(description="A field value a calendar app wrote, kept because of a conflict.")
class CalendarValue:
    field: str = strawberry.field(description="The follow-up field (start, title, ...)")
    value: str | None = strawberry.field(description="The calendar's value, as text")


@strawberry.type(description="A change found in a calendar by a pull and what became of it.")
class CalendarPull:
    outcome: CalendarPullOutcome = strawberry.field(description="What the service did with it")
    fields: list[str] = strawberry.field(description="The fields changed in the calendar")
    reason: str | None = strawberry.field(description="Why it was refused or put back")
    calendar_values: list[CalendarValue] = strawberry.field(
        description="CONFLICT: the calendar's value of each field the CRM kept"
    )
    object_name: str = strawberry.field(description="The calendar object's name")
    at: datetime = strawberry.field(description="When the pull found it")

    @classmethod
    def from_model(cls, row: PullRow) -> Self:
        values = row.calendar_values or {}
        return cls(
            outcome=CalendarPullOutcome(str(row.outcome.value)),
            fields=list(row.fields_changed or []),
            reason=row.reason,
            calendar_values=[
                CalendarValue(field=k, value=None if v is None else str(v))
                for k, v in values.items()
            ],
            object_name=row.name,
            at=row.created_at,
        )


@strawberry.enum(description="Where a calendar account's password comes from.")
class PasswordSource(Enum):
    STORED = strawberry.enum_value(
        "STORED", description="Stored here, encrypted with SECRET_KEY (never returned)."
    )
    ENVIRONMENT = strawberry.enum_value(
        "ENVIRONMENT", description="Read from the environment variable passwordEnv names."
    )
    NONE = strawberry.enum_value("NONE", description="No password is stored or named.")


@strawberry.type(description="A CalDAV calendar of an associate or a resource.")
class CalendarAccount(relay.Node):
    id: relay.NodeID[int]
    server_url: str = strawberry.field(description="CalDAV server (or principal) URL.")
    username: str = strawberry.field(description="CalDAV login name.")
    calendar_url: str | None = strawberry.field(
        description="URL of the calendar written to; null until one is chosen or discovered."
    )
    calendar_name: str | None = strawberry.field(
        description="Display name of that calendar; null when unknown."
    )
    state: CalendarAccountState = strawberry.field(  # type: ignore[valid-type]
        description="Result of the last sync."
    )
    last_error: str | None = strawberry.field(description="What the server answered")
    failed_at: datetime | None = strawberry.field(
        description="When the last sync failed (UTC, ISO 8601); null while OK."
    )
    supports_tasks: bool | None = strawberry.field(description="VTODO accepted; null: unknown")
    password_source: PasswordSource = strawberry.field(
        description="Whether a password is stored, read from an environment variable, or none."
    )
    password_env: str | None = strawberry.field(description="The variable holding the password")
    reconciled_at: datetime | None = strawberry.field(
        description="When both sides were last compared in full (UTC, ISO 8601); null: never."
    )
    created_at: datetime = strawberry.field(description="When it was added (UTC, ISO 8601).")
    pulls: bool = strawberry.field(
        description="Whether changes made in this calendar come back into the diary"
    )
    last_pull_at: datetime | None = strawberry.field(
        description="The last pull that found a change (quiet pulls refresh it every 10 min)"
    )
    last_pull_error: str | None = strawberry.field(description="Why the last pull failed")
    import_new_events: bool = strawberry.field(
        description="Whether events made in this calendar's app (not ours) become meetings of "
        "the associate (never for a resource's calendar)"
    )
    pull_delete: PullDeletePolicy | None = strawberry.field(
        description="What deleting our object in this calendar does; null: the service's "
        "setting (CALDAV_PULL_DELETE)"
    )
    row: strawberry.Private[AccountRow]

    @classmethod
    def from_model(cls, row: AccountRow) -> Self:
        source = (
            PasswordSource.ENVIRONMENT
            if row.secret_env
            else PasswordSource.STORED
            if row.secret_enc
            else PasswordSource.NONE
        )
        return cls(
            id=row.id,
            server_url=row.server_url,
            username=row.username,
            calendar_url=row.calendar_url,
            calendar_name=row.calendar_name,
            state=row.state,
            last_error=row.last_error,
            failed_at=row.failed_at,
            supports_tasks=row.supports_vtodo,
            password_source=source,
            password_env=row.secret_env,
            reconciled_at=row.reconciled_at,
            created_at=row.created_at,
            pulls=row.pull,
            last_pull_at=row.pulled_at,
            last_pull_error=row.pull_error,
            import_new_events=row.import_new_events,
            pull_delete=PullDeletePolicy(row.pull_delete) if row.pull_delete else None,
            row=row,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Self | None]:
        rows = await accounts.visible(info, node_ids)
        return [cls.from_model(r) if r is not None else None for r in rows]

    @strawberry.field(description="The associate whose diary it mirrors; null for a resource's.")
    async def associate(self, info: Info) -> Associate | None:
        row = await records.associates.one(info, self.row.associate_id)
        return Associate.from_model(row) if row else None

    @strawberry.field(
        description="The resource whose bookings it mirrors; null for an associate's."
    )
    async def resource(self, info: Info) -> Resource | None:
        row = await records.resources.one(info, self.row.resource_id)
        return Resource.from_model(row) if row else None

    @strawberry.field(description="The latest changes pulled from this calendar, newest first")
    async def pulled(
        self,
        first: Annotated[int, strawberry.argument(description="How many (at most 200)")] = 20,
    ) -> list[CalendarPull]:
        rows = await accounts.pulls_of_account(self.row, min(first, 200))
        return [CalendarPull.from_model(r) for r in rows]


async def calendar_pulls_of(
    info: Info, followup_id: int, first: int, conflicts: bool = False
) -> list[CalendarPull]:
    """Return what pulls did to a follow-up in the calendars the viewer manages."""
    rows = await accounts.pulls_of_followup(info, followup_id, min(first, 200), conflicts)
    return [CalendarPull.from_model(r) for r in rows]


@strawberry.type(description="How a follow-up stands in one calendar.")
class CalendarSync:
    account: CalendarAccount = strawberry.field(description="The calendar account.")
    state: CalendarSyncState = strawberry.field(  # type: ignore[valid-type]
        description="Whether the follow-up is written there."
    )
    error: str | None = strawberry.field(
        description="What the server answered to the last failed write; null when none."
    )
    synced_at: datetime | None = strawberry.field(
        description="When it was last written to the calendar (UTC, ISO 8601); null: not yet."
    )


async def calendar_sync_of(info: Info, followup_id: int) -> list[CalendarSync]:
    """Return the sync states of a follow-up in the calendars the viewer manages."""
    return [
        CalendarSync(
            account=CalendarAccount.from_model(s.account),
            state=s.state,
            error=s.error,
            synced_at=s.synced_at,
        )
        for s in await accounts.sync_states(info, followup_id)
    ]


@strawberry.input(
    description="A CalDAV account's settings. Creating one needs serverUrl and username; in "
    "an update, fields left out stay as they are."
)
class CalendarAccountInput:
    server_url: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="http(s) URL of the CalDAV server or principal (VALIDATION otherwise). "
        "It must resolve to a public address (or one CALDAV_ALLOWED_HOSTS opens), else "
        "VALIDATION 'server unreachable'.",
    )
    username: str | None = strawberry.field(
        default=strawberry.UNSET, description="CalDAV login name."
    )
    password: str | None = strawberry.field(
        default=strawberry.UNSET, description="Stored encrypted; never shown again"
    )
    password_env: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="Read the password from this environment variable instead "
        "(administrators only, else FORBIDDEN)",
    )
    calendar_url: str | None = strawberry.field(
        default=strawberry.UNSET, description="The calendar; omitted: found by discovery"
    )
    calendar_name: str | None = strawberry.field(
        default=strawberry.UNSET, description="Pick the discovered calendar with this name"
    )
    pull: bool | None = strawberry.field(
        default=strawberry.UNSET,
        description="Take changes made in this calendar back into the diary (default true)",
    )
    import_new_events: bool | None = strawberry.field(
        default=strawberry.UNSET,
        description="Make events created in this calendar's app meetings of the associate "
        "(default false; an associate's own calendar only)",
    )
    pull_delete: PullDeletePolicy | None = strawberry.field(
        default=strawberry.UNSET,
        description="What deleting our object in this calendar does; null: the service's "
        "setting (CALDAV_PULL_DELETE)",
    )

    def to_domain(self) -> accounts.AccountInput:
        data = accounts.AccountInput()
        for name in (
            "server_url",
            "username",
            "password",
            "password_env",
            "calendar_url",
            "calendar_name",
            "pull",
            "import_new_events",
        ):
            value = getattr(self, name)
            if value is not strawberry.UNSET:
                setattr(data, name, value)
        if self.pull_delete is not strawberry.UNSET:
            data.pull_delete = None if self.pull_delete is None else self.pull_delete.value
        return data


@strawberry.type(
    description="Result of createCalendarAccount or updateCalendarAccount: the account, or errors."
)
class CalendarAccountPayload:
    account: CalendarAccount | None = strawberry.field(
        default=None, description="The account as saved; null when errors is not empty."
    )
    errors: list[UserError] = strawberry.field(
        default_factory=list, description="Why nothing was saved; empty on success."
    )


@strawberry.type(description="Result of deleteCalendarAccount: the deleted ID, or errors.")
class DeleteCalendarAccountPayload:
    deleted_id: strawberry.ID | None = strawberry.field(
        default=None, description="Global ID of the deleted account; null when errors is not empty."
    )
    errors: list[UserError] = strawberry.field(
        default_factory=list, description="Why nothing was deleted; empty on success."
    )


@strawberry.type(description="A calendar the server offered in a connection test.")
class DiscoveredCalendar:
    url: str = strawberry.field(description="The calendar's URL (a calendarUrl to choose).")
    name: str | None = strawberry.field(
        description="Its display name (a calendarName to choose); null when it has none."
    )
    supports_tasks: bool = strawberry.field(description="Whether it accepts tasks (VTODO).")


@strawberry.type(description="What the server answered to a connection test.")
class ConnectionTest:
    ok: bool = strawberry.field(
        description="True when the server accepted the login (and the chosen calendar answered)."
    )
    status: int | None = strawberry.field(
        description="The HTTP status of the server's answer; null when none came (e.g. no "
        "connection, or the password is unavailable)."
    )
    message: str = strawberry.field(description="What happened, in English, for people.")
    principal_url: str | None = strawberry.field(
        description="The principal URL the server named for the login; null when unknown."
    )
    calendars: list[DiscoveredCalendar] = strawberry.field(
        description="The calendars found; empty when the login failed or discovery did."
    )


@strawberry.type(description="Result of testCalendarAccount: what the server said, or errors.")
class ConnectionTestPayload:
    result: ConnectionTest | None = strawberry.field(
        default=None, description="The server's answer; null when errors is not empty."
    )
    errors: list[UserError] = strawberry.field(
        default_factory=list, description="Why no test was made (e.g. NOT_FOUND); empty otherwise."
    )


T = TypeVar("T")


async def guarded(work: Callable[[], Awaitable[T]], fail: Callable[[list[UserError]], T]) -> T:
    """Run ``work`` (which opens its own transactions after any network call)."""
    try:
        return await work()
    except DomainError as exc:
        return fail([to_user_error(exc)])


def _opt(value: Any, type_name: str, path: str) -> int | None:
    return ids.decode(value, type_name, path) if value else None


@strawberry.type
class CalendarSyncQuery:
    @strawberry.field(
        description="Your calendar accounts; administrators may ask for an associate's or a "
        "resource's (others get an empty list)."
    )
    async def calendar_accounts(
        self,
        info: Info,
        associate_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(
                description="An Associate's accounts (administrators only; an empty list "
                "for anyone else); null: your own."
            ),
        ] = None,
        resource_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(
                description="A Resource's accounts instead (administrators only; an empty list for "
                "anyone else)."
            ),
        ] = None,
    ) -> list[CalendarAccount]:
        rows = await accounts.listing(
            info.context.viewer,
            _opt(associate_id, "Associate", "associateId"),
            _opt(resource_id, "Resource", "resourceId"),
        )
        return [CalendarAccount.from_model(r) for r in rows]


@strawberry.type
class CalendarSyncMutation:
    @strawberry.mutation(
        description="Add a CalDAV calendar for yourself (administrators: for an associate or "
        "a resource); the calendar is discovered unless calendarUrl is given."
    )
    async def create_calendar_account(
        self,
        info: Info,
        input: Annotated[
            CalendarAccountInput,
            strawberry.argument(description="The settings; serverUrl and username needed."),
        ],
        associate_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(
                description="The account is for this associate (administrators only; "
                "NOT_FOUND for anyone else); null: for yourself."
            ),
        ] = None,
        resource_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(
                description="For this Resource instead (administrators only; NOT_FOUND for "
                "anyone else)."
            ),
        ] = None,
    ) -> CalendarAccountPayload:
        async def work() -> CalendarAccountPayload:
            row = await accounts.create(
                info.context.viewer,
                input.to_domain(),
                info.context.settings,
                associate_id=_opt(associate_id, "Associate", "associateId"),
                resource_id=_opt(resource_id, "Resource", "resourceId"),
            )
            return CalendarAccountPayload(account=CalendarAccount.from_model(row))

        return await guarded(work, lambda e: CalendarAccountPayload(errors=e))

    @strawberry.mutation(description="Change an account; a FAILED account is retried after it.")
    async def update_calendar_account(
        self,
        info: Info,
        id: Annotated[
            strawberry.ID,
            strawberry.argument(
                description="The CalendarAccount (yours; administrators: any; else NOT_FOUND)."
            ),
        ],
        input: Annotated[
            CalendarAccountInput, strawberry.argument(description="The fields to change.")
        ],
    ) -> CalendarAccountPayload:
        async def work() -> CalendarAccountPayload:
            key = ids.decode(id, "CalendarAccount", "id")
            row = await accounts.update(
                info.context.viewer, key, input.to_domain(), info.context.settings
            )
            return CalendarAccountPayload(account=CalendarAccount.from_model(row))

        return await guarded(work, lambda e: CalendarAccountPayload(errors=e))

    @strawberry.mutation(
        description="Remove an account; our objects are removed from its calendar first "
        "unless keepObjects is true."
    )
    async def delete_calendar_account(
        self,
        info: Info,
        id: Annotated[
            strawberry.ID,
            strawberry.argument(
                description="The CalendarAccount (yours; administrators: any; else NOT_FOUND)."
            ),
        ],
        keep_objects: Annotated[
            bool,
            strawberry.argument(
                description="True: leave our events and tasks in the calendar. False (the "
                "default): remove them first; when the server cannot be reached or refuses, "
                "nothing is deleted (VALIDATION on keepObjects)."
            ),
        ] = False,
    ) -> DeleteCalendarAccountPayload:
        async def work() -> DeleteCalendarAccountPayload:
            key = await accounts.delete(
                info.context.viewer,
                ids.decode(id, "CalendarAccount", "id"),
                info.context.settings,
                keep_objects=keep_objects,
            )
            return DeleteCalendarAccountPayload(
                deleted_id=strawberry.ID(ids.encode("CalendarAccount", key))
            )

        return await guarded(work, lambda e: DeleteCalendarAccountPayload(errors=e))

    @strawberry.mutation(
        description="Log in to the account's server and list its calendars; report what it "
        "answered (a failed login is a result with ok false, not an error). Also refreshes "
        "supportsTasks."
    )
    async def test_calendar_account(
        self,
        info: Info,
        id: Annotated[
            strawberry.ID,
            strawberry.argument(
                description="The CalendarAccount (yours; administrators: any; else NOT_FOUND)."
            ),
        ],
    ) -> ConnectionTestPayload:
        async def work() -> ConnectionTestPayload:
            key = ids.decode(id, "CalendarAccount", "id")
            r = await accounts.test(info.context.viewer, key, info.context.settings)
            found = [
                DiscoveredCalendar(url=c.url, name=c.display_name, supports_tasks=c.supports_vtodo)
                for c in r.calendars
            ]
            return ConnectionTestPayload(
                result=ConnectionTest(
                    ok=r.ok,
                    status=r.status,
                    message=r.message,
                    principal_url=r.principal_url,
                    calendars=found,
                )
            )

        return await guarded(work, lambda e: ConnectionTestPayload(errors=e))
