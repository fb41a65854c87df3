"""Live updates: the change events of diaries, as a catch-up query and as subscriptions.

Fan-out: the subscribers of one event whose answers are the same share one execution of
their selection (``schema.executor.SharedEvent``).  Two answers are the same when the
selection (operation, fragments and variables: ``Selection.key``) is and the viewers'
sight of the follow-up (``visibility.sight``: editor, reader, redacted) is, provided the
selection reads only fields whose answer depends on the viewer through that sight alone
(``SHARED_FIELDS``; plain attributes always).  A selection that reads a field depending on
who the viewer is (``PER_VIEWER_FIELDS``: their calendar accounts, language, phone link
format) is shared only with subscribers of the same viewer.  The event's reads (the
follow-up, its participants, whatever the answers load) are made once per event in this
process (``EventShare``).
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, Hashable
from dataclasses import dataclass, replace
from datetime import datetime
from enum import Enum
from functools import partial
from typing import Annotated, Any, cast

import strawberry
from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    SelectionSetNode,
    get_named_type,
    print_ast,
)
from strawberry.schema.schema_converter import GraphQLCoreConverter

from resolvers import followup_fields, live_feed
from resolvers import live as reads
from resolvers.context import Context, Info
from resolvers.errors import DomainError, ValidationFailed
from resolvers.live import Cursor, EventShare, LiveEvent
from resolvers.live_feed import Resync
from schema import ids
from schema.executor import SharedEvent
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
        event = self.event
        if event is None or not event.shows_followup:
            return None
        for key in event.node_keys():
            if event.share is not None:  # looked up once for every sight of the event
                span = await event.share.once(
                    ("node", key), partial(followup_fields.node, info, key)
                )
            else:
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


#: The resolver fields below FollowUpChange whose answer is a function of the rows and
#: the viewer's ``visibility.sight`` of the follow-up (plain attribute fields always are).
SHARED_FIELDS = frozenset(
    {
        "FollowUpChange.followUp",
        *(
            f"FollowUp.{name}"
            for name in [
                "id",
                "owner",
                "type",
                "company",
                "person",
                "sale",
                "project",
                "participants",
                "resources",
                "conflicts",
                "conflict",
                "durationMinutes",
                "inDiary",
                "overdue",
                "proposals",
            ]
        ),
        "Participant.id",
        "Participant.statusSetBy",
        "Participant.statusHistory",
        "Participant.mailDelivery",
        "Participant.mailDeliveries",
        "Participant.emailUnavailableReason",
        "Participant.emailUnavailable",
        "StatusChange.setBy",
        "Associate.id",
        "Associate.userGroup",
        "Associate.timeZone",
        "Associate.language",
        "UserGroup.id",
        "Resource.id",
        "Resource.resourceGroup",
        "ResourceGroup.id",
        "Person.id",
        "Person.company",
        "Person.emails",
        "Person.phones",
        "PhoneNumber.id",
        "PhoneNumber.dial",
        "Company.id",
        "Company.phones",
        "Project.id",
        "Project.memberPersons",
        "Project.memberAssociates",
        "Sale.id",
        "Sale.company",
        "Sale.person",
        "ActivityType.id",
        "Proposal.id",
        "Proposal.participant",
        "Proposal.followUp",
    }
)
#: The resolver fields below FollowUpChange whose answer depends on who the viewer is.
PER_VIEWER_FIELDS = frozenset(
    {
        "FollowUp.calendarSync",  # the calendars the viewer manages
        "FollowUp.calendarPulls",
        "FollowUp.calendarConflicts",
        "FollowUp.recurrence",  # summary: the viewer's language
        "PhoneNumber.link",  # the viewer's phone link format
        "CalendarAccount.id",
        "CalendarAccount.associate",
        "CalendarAccount.resource",
        "CalendarAccount.pulled",
    }
)


def resolver_fields(schema: GraphQLSchema, type_name: str) -> set[str]:
    """Every field with a resolver reachable from ``type_name`` (``Type.field``)."""
    found: set[str] = set()
    seen: set[str] = set()
    todo = [type_name]
    while todo:
        name = todo.pop()
        kind = schema.type_map.get(name)
        if name in seen or not isinstance(kind, GraphQLObjectType):
            continue
        seen.add(name)
        for field_name, field in kind.fields.items():
            definition = (field.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
            if getattr(definition, "base_resolver", None) is not None:
                found.add(f"{name}.{field_name}")
            todo.append(get_named_type(field.type).name)
    return found


@dataclass(frozen=True)
class Selection:
    """What a subscription's events execute: the key of its answers and what they need."""

    key: Hashable
    #: The answer depends on the viewer only through their sight of the follow-up.
    by_sight: bool
    #: The selection reads followUp (else every viewer's answer is the same).
    reads_followup: bool

    @classmethod
    def of(cls, info: Info) -> Selection:
        raw = info._raw_info
        schema, fragments = raw.schema, raw.fragments
        variables = json.dumps(raw.variable_values, sort_keys=True, default=str)
        used = sorted(print_ast(f) for f in fragments.values())
        key = (print_ast(raw.operation), tuple(used), variables)
        fields: set[str] = set()
        seen: set[str] = set()
        abstract = False

        def walk(kind: Any, selection_set: SelectionSetNode | None) -> None:
            nonlocal abstract
            if not isinstance(kind, GraphQLObjectType):
                abstract = True  # an interface or union: not classified, not shared
                return
            for node in selection_set.selections if selection_set else ():
                if isinstance(node, FieldNode):
                    name = node.name.value
                    field = kind.fields.get(name)
                    if field is None:
                        continue  # __typename
                    fields.add(f"{kind.name}.{name}")
                    if node.selection_set is not None:
                        walk(get_named_type(field.type), node.selection_set)
                elif isinstance(node, InlineFragmentNode):
                    condition = node.type_condition
                    inner = schema.type_map.get(condition.name.value) if condition else kind
                    walk(inner, node.selection_set)
                elif isinstance(node, FragmentSpreadNode) and node.name.value not in seen:
                    seen.add(node.name.value)
                    fragment = fragments.get(node.name.value)
                    if fragment is not None:
                        inner = schema.type_map.get(fragment.type_condition.name.value)
                        walk(inner, fragment.selection_set)

        root = get_named_type(raw.return_type)
        for node in raw.field_nodes:
            walk(root, node.selection_set)
        resolvers = resolver_fields(schema, root.name)
        by_sight = not abstract and all(f in SHARED_FIELDS for f in fields & resolvers)
        return cls(key, by_sight, f"{root.name}.followUp" in fields)


async def _events(
    info: Info, associate_ids: list[int], resource_ids: list[int]
) -> AsyncGenerator[FollowUpChange, None]:
    """The subscriber's events, each as a ``SharedEvent`` the executor unwraps: its key
    says which other subscribers' answer is this one's."""
    feed = live_feed.feed()
    if feed is None:
        raise LiveUnavailable("this process does not serve subscriptions")
    try:
        subscriber = feed.subscribe(
            info.context.viewer, info.context.token, associate_ids, resource_ids
        )
    except live_feed.TooManySubscriptions as exc:
        raise LiveUnavailable(str(exc)) from None
    viewer = info.context.viewer
    selection = Selection.of(info)
    who = () if selection.by_sight else reads.viewer_key(viewer)
    try:
        while True:
            item = await subscriber.next()
            if isinstance(item, Resync):
                yield FollowUpChange.resync(item.cursor)
                return
            share = item.share or EventShare()
            sight = await item.sight(viewer) if selection.reads_followup else None

            def context(first: Context, share: EventShare = share) -> Context:
                return replace(first, loaders=share.loaders)

            key = (selection.key, sight, who)
            change = share.change
            if change is None:  # built once per event, by its first subscriber
                change = share.change = FollowUpChange.of(item)
            shared = SharedEvent(change, key, share.answers, context)
            yield cast(FollowUpChange, shared)
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
