"""Live updates: the change events of diaries, as a catch-up query and as subscriptions."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import datetime
from enum import Enum
from typing import Annotated

import strawberry
from graphql import GraphQLError

from resolvers import followup_fields, live_feed
from resolvers import live as reads
from resolvers.context import Info
from resolvers.errors import DomainError, ValidationFailed
from resolvers.live import Cursor, LiveEvent
from resolvers.live_feed import Resync
from resolvers.loaders import Loaders
from schema import ids
from schema.followup_types import FollowUp


@strawberry.enum(description="What happened to a follow-up, a mail delivery or a calendar.")
class FollowUpChangeKind(Enum):
    CREATED = strawberry.enum_value("CREATED", description="A follow-up was made.")
    UPDATED = strawberry.enum_value(
        "UPDATED",
        description="A follow-up (or one occurrence: occurrenceStart) changed: an edit, a "
        "participant or room, an answer by mail or from a calendar, a calendar pull.",
    )
    DELETED = strawberry.enum_value(
        "DELETED", description="A follow-up (or one occurrence) was deleted; followUp is null."
    )
    DELIVERY_FAILED = strawberry.enum_value(
        "DELIVERY_FAILED",
        description="An invitation mail of the follow-up failed for good (see mailDelivery); "
        "only to its owner and administrators.",
    )
    SYNC_FAILED = strawberry.enum_value(
        "SYNC_FAILED",
        description="Writing to or reading from a calendar account failed (see "
        "calendarAccounts); only to the account's associate and administrators.",
    )
    RESYNC = strawberry.enum_value(
        "RESYNC",
        description="Subscriptions only: this subscriber fell behind by LIVE_QUEUE_SIZE "
        "events and its queue was dropped; catch up with followUpChangesSince(after: "
        "cursor) or reload. The subscription ends after it.",
    )


@strawberry.type(description="One change of a diary, in the order they happened.")
class FollowUpChange:
    cursor: str = strawberry.field(
        description="Opaque: pass it as followUpChangesSince(after:) to get what came after."
    )
    change: FollowUpChangeKind = strawberry.field(description="What happened.")
    follow_up_id: strawberry.ID | None = strawberry.field(
        description="The global ID of the follow-up (the series for an occurrence); null for a "
        "calendar account's failure that concerns no follow-up."
    )
    occurrence_start: datetime | None = strawberry.field(
        description="The original start of the one occurrence of a series that changed; null "
        "when the follow-up (or the whole series) did."
    )
    calendar_account_id: strawberry.ID | None = strawberry.field(
        description="SYNC_FAILED: the global ID of the calendar account; null otherwise."
    )
    event: strawberry.Private[LiveEvent | None]

    @strawberry.field(
        description="The follow-up (or occurrence) as it is now, as the diary shows it to "
        "the viewer: redacted (busy time only) when private and not theirs to read; null "
        "when deleted (and for RESYNC)."
    )
    async def follow_up(self, info: Info) -> FollowUp | None:
        if self.event is None or not self.event.shows_followup:
            return None
        for key in self.event.node_keys():
            span = await followup_fields.node(info, key)
            if span is not None:
                return await FollowUp.build(info, span)
        return None

    @classmethod
    def of(cls, event: LiveEvent) -> FollowUpChange:
        return cls(
            cursor=event.cursor.encode(),
            change=FollowUpChangeKind(event.kind.value),
            follow_up_id=strawberry.ID(ids.encode("FollowUp", event.followup_id))
            if event.followup_id is not None
            else None,
            occurrence_start=event.occurrence,
            calendar_account_id=strawberry.ID(ids.encode("CalendarAccount", event.account_id))
            if event.account_id is not None
            else None,
            event=event,
        )

    @classmethod
    def resync(cls, cursor: Cursor) -> FollowUpChange:
        return cls(
            cursor=cursor.encode(),
            change=FollowUpChangeKind.RESYNC,
            follow_up_id=None,
            occurrence_start=None,
            calendar_account_id=None,
            event=None,
        )


@strawberry.type(description="A page of diary changes after a cursor.")
class FollowUpChangesPage:
    changes: list[FollowUpChange] = strawberry.field(
        description="The changes after the cursor the viewer hears of, oldest first."
    )
    end_cursor: str = strawberry.field(
        description="Where to continue: the next followUpChangesSince(after:), or nothing "
        "missed when subscribing right after."
    )
    has_more: bool = strawberry.field(
        description="More changes follow: ask again with endCursor at once."
    )


IdList = list[strawberry.ID]


@strawberry.type
class LiveQuery:
    @strawberry.field(
        description="The changes of these diaries after a cursor (a subscription event's or a "
        "page's endCursor), for a client that was offline: the rights and redaction of diary. "
        "Changes are kept LIVE_RETENTION_HOURS (default 24); an older cursor is the error "
        "CURSOR_EXPIRED (reload, then continue from after: null's endCursor)."
    )
    async def follow_up_changes_since(
        self,
        info: Info,
        associate_ids: Annotated[
            IdList,
            strawberry.argument(
                description="Global IDs of the associates whose diaries (owned or attended) "
                "to follow, at most MAX_IDS_PER_QUERY."
            ),
        ],
        after: Annotated[
            str | None,
            strawberry.argument(
                description="A cursor; null answers no changes and the cursor of now."
            ),
        ] = None,
        resource_ids: Annotated[
            IdList | None,
            strawberry.argument(description="Global IDs of resources whose diaries to follow."),
        ] = None,
        first: Annotated[
            int | None,
            strawberry.argument(
                description="At most this many changes (1..MAX_PAGE_SIZE; default "
                "DEFAULT_PAGE_SIZE)."
            ),
        ] = None,
    ) -> FollowUpChangesPage:
        settings = info.context.settings
        cap = settings.max_ids_per_query
        people = ids.decode_many(associate_ids, "Associate", "associateIds", cap)
        rooms = ids.decode_many(resource_ids or [], "Resource", "resourceIds", cap)
        size = first if first is not None else settings.default_page_size
        if not 1 <= size <= settings.max_page_size:
            raise ValidationFailed("first", f"first must be 1..{settings.max_page_size}")
        cursor = Cursor.decode(after) if after is not None else None
        page = await reads.changes_since(
            info.context.viewer, cursor, people, rooms, size, settings.live_retention_hours
        )
        return FollowUpChangesPage(
            changes=[FollowUpChange.of(e) for e in page.events],
            end_cursor=page.end.encode(),
            has_more=page.has_more,
        )


class LiveUnavailable(DomainError):
    """The process serves no subscriptions (no feed running), or is at its limits."""

    code = "LIVE_UNAVAILABLE"


def _coded(exc: DomainError) -> GraphQLError:
    """A subscription's error with its code (the schema's DomainErrors formats only
    queries and mutations)."""
    return GraphQLError(exc.message, extensions={"code": exc.code, "path": list(exc.path)})


async def _events(
    info: Info, associate_ids: list[int], resource_ids: list[int]
) -> AsyncGenerator[FollowUpChange, None]:
    feed = live_feed.feed()
    if feed is None:
        raise LiveUnavailable("this process does not serve subscriptions")
    try:
        subscriber = feed.subscribe(
            info.context.viewer, info.context.token, associate_ids, resource_ids
        )
    except live_feed.TooManySubscriptions as exc:
        raise LiveUnavailable(str(exc)) from None
    try:
        while True:
            item = await subscriber.next()
            info.context.loaders = Loaders()  # each event reads the follow-up as it is now
            if isinstance(item, LiveEvent) and item.row is not None:
                info.context.loaders.prime([item.row])  # read once by the feed for everyone
            if isinstance(item, Resync):
                yield FollowUpChange.resync(item.cursor)
                return
            yield FollowUpChange.of(item)
    finally:
        feed.unsubscribe(subscriber)


@strawberry.type(name="Subscription")
class LiveSubscription:
    @strawberry.subscription(
        description="Every change to a follow-up in the diaries of these associates (owned or "
        "attended, before or after the change: a removed attendee hears of it), made through "
        "any process of the service, by a reply mail, a calendar pull or a worker; and the "
        "failures of the viewer's own mail deliveries and calendar accounts. followUp shows as "
        "the diary shows it. A subscriber LIVE_QUEUE_SIZE events behind gets RESYNC and the "
        "subscription ends; LIVE_MAX_SUBSCRIPTIONS_PER_TOKEN and LIVE_MAX_SUBSCRIPTIONS bound "
        "them (beyond: the error LIVE_UNAVAILABLE)."
    )
    async def follow_up_changed(
        self,
        info: Info,
        associate_ids: Annotated[
            IdList,
            strawberry.argument(
                description="Global IDs of the associates whose diaries to follow, at most "
                "MAX_IDS_PER_QUERY."
            ),
        ],
    ) -> AsyncGenerator[FollowUpChange, None]:
        cap = info.context.settings.max_ids_per_query
        try:
            people = ids.decode_many(associate_ids, "Associate", "associateIds", cap)
            async for change in _events(info, people, []):
                yield change
        except DomainError as exc:
            raise _coded(exc) from None

    @strawberry.subscription(
        description="Every change to a follow-up booking these rooms or equipment (before or "
        "after the change), as followUpChanged; failures of their calendar accounts to "
        "administrators."
    )
    async def resource_changed(
        self,
        info: Info,
        resource_ids: Annotated[
            IdList,
            strawberry.argument(
                description="Global IDs of the resources whose diaries to follow, at most "
                "MAX_IDS_PER_QUERY."
            ),
        ],
    ) -> AsyncGenerator[FollowUpChange, None]:
        cap = info.context.settings.max_ids_per_query
        try:
            rooms = ids.decode_many(resource_ids, "Resource", "resourceIds", cap)
            async for change in _events(info, [], rooms):
                yield change
        except DomainError as exc:
            raise _coded(exc) from None
