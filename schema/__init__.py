"""The GraphQL contract: per-domain Query/Mutation classes merged into one schema."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Annotated

import strawberry
from graphql import GraphQLError
from strawberry import relay
from strawberry.extensions import SchemaExtension
from strawberry.tools import merge_types
from strawberry.types.base import get_object_definition

from resolvers.context import Info
from resolvers.errors import DomainError, ValidationFailed
from schema import limits
from schema.calendar_conflicts import CalendarConflictMutation, CalendarConflictQuery
from schema.calendar_sync import CalendarSyncMutation, CalendarSyncQuery
from schema.crm import CrmQuery
from schema.crm_admin import CrmAdminMutation
from schema.errors import ALL_ERROR_TYPES
from schema.executor import ExecutionContext
from schema.followups import FollowUpMutation, FollowUpQuery
from schema.live import LiveQuery, LiveSubscription
from schema.mail import MailMutation
from schema.mailboxes import MailboxMutation, MailboxQuery
from schema.participants import ParticipantMutation, ParticipantQuery
from schema.phone import PhoneMutation
from schema.preferences import PreferenceMutation, PreferenceQuery
from schema.text_boundary import guard_mutations
from schema.tokens import TokenMutation, TokenQuery


async def _resolve(info: Info, gid: relay.GlobalID) -> relay.Node | None:
    """The node of a well-formed global ID, null when unknown or hidden (as ``node``)."""
    definition = info.schema.get_type_by_name(gid.type_name)
    origin = getattr(definition, "origin", None)
    if not (isinstance(origin, type) and issubclass(origin, relay.Node)):
        return None
    found = await gid.resolve_node(info, required=False)
    return found if isinstance(found, relay.Node) else None


@strawberry.type
class NodeQuery:
    @strawberry.field(description="Any record by its global ID; null when unknown or hidden.")
    async def node(
        self,
        info: Info,
        id: Annotated[
            strawberry.ID,
            strawberry.argument(
                description="A global ID of any node type (the id of a record, or of one "
                "occurrence of a series); a malformed one answers null too."
            ),
        ],
    ) -> relay.Node | None:
        try:
            gid = relay.GlobalID.from_id(id)
        except (ValueError, TypeError):
            return None
        return await _resolve(info, gid)

    @strawberry.field(
        description="Records by their global IDs, in the order given: null where one is "
        "unknown or hidden from the viewer (the rights of node). At most MAX_IDS_PER_QUERY IDs; "
        "an ID that is not a global ID is a VALIDATION error."
    )
    async def nodes(
        self,
        info: Info,
        ids: Annotated[
            list[strawberry.ID],
            strawberry.argument(description="Global IDs of any node types, as node(id:) takes."),
        ],
    ) -> list[relay.Node | None]:
        cap = info.context.settings.max_ids_per_query
        if len(ids) > cap:
            raise ValidationFailed("ids", f"ids takes at most {cap} IDs")
        parsed = []
        for i, value in enumerate(ids):
            try:
                parsed.append(relay.GlobalID.from_id(value))
            except Exception as exc:  # strawberry raises several kinds for garbage
                raise ValidationFailed(f"ids.{i}", f"ids.{i} is not a valid ID") from exc
        # concurrently, so that the request's loaders batch the lookups per type
        return list(await asyncio.gather(*(_resolve(info, gid) for gid in parsed)))


def code_document_error(error: GraphQLError) -> GraphQLError:
    """Give a syntax or validation error of the document its code (limits keep theirs)."""
    syntax = error.message.startswith("Syntax Error")
    code = "GRAPHQL_PARSE_FAILED" if syntax else "GRAPHQL_VALIDATION_FAILED"
    error.extensions = {"code": code, **(error.extensions or {})}
    return error


class DomainErrors(SchemaExtension):
    """Give expected errors a code; hide unexpected ones unless in debug mode."""

    def on_operation(self) -> Iterator[None]:
        yield
        self._code_document_errors()
        result = self.execution_context.result
        if result is None or not getattr(result, "errors", None):
            return
        debug = getattr(self.execution_context.context, "settings", None)
        show = bool(debug and debug.debug)
        result.errors = [self._format(error, show) for error in result.errors or []]

    def _code_document_errors(self) -> None:
        """Code the validation errors in place (they skip the result's path)."""
        for error in self.execution_context.pre_execution_errors or []:
            self._format(error, False)

    @staticmethod
    def _format(error: GraphQLError, show: bool) -> GraphQLError:
        original = error.original_error
        if original is None:  # the document itself: a syntax or a validation error
            return code_document_error(error)
        if error.path is None:
            # raised while reading the request (e.g. a malformed variable): the client's input
            error.extensions = {"code": "BAD_USER_INPUT"}
            return error
        if isinstance(original, DomainError):
            error.extensions = {"code": original.code, "path": list(original.path)}
            return error
        if show:
            return error
        return GraphQLError(
            "internal error", nodes=error.nodes, path=error.path, extensions={"code": "INTERNAL"}
        )


Query = merge_types(
    "Query",
    (
        NodeQuery,
        CrmQuery,
        FollowUpQuery,
        ParticipantQuery,
        PreferenceQuery,
        TokenQuery,
        CalendarSyncQuery,
        CalendarConflictQuery,
        MailboxQuery,
        LiveQuery,
    ),
)
Mutation = merge_types(
    "Mutation",
    (
        FollowUpMutation,
        ParticipantMutation,
        PreferenceMutation,
        PhoneMutation,
        MailMutation,
        TokenMutation,
        CalendarSyncMutation,
        CalendarConflictMutation,
        MailboxMutation,
        CrmAdminMutation,
    ),
)

get_object_definition(Query, strict=True).description = (
    "The reads: follow-ups (diary, todos, activities), CRM records, participants and "
    "availability, preferences, API tokens, mailboxes and calendar accounts, and any record "
    "by its global ID (node, nodes). What the viewer may not see is null, left out of lists "
    "or busy time only (a redacted follow-up)."
)
get_object_definition(Mutation, strict=True).description = (
    "The changes. Each answers a payload: what was changed, or errors (code, message, path) "
    "saying why nothing was (invalid input, missing rights, a version conflict), as data "
    "rather than as GraphQL errors."
)

get_object_definition(LiveSubscription, strict=True).description = (
    "Live updates over graphql-transport-ws on /graphql (the bearer token in the "
    'connection_init payload: {"Authorization": "Bearer ..."}): the changes of diaries as '
    "they happen, each with a cursor for followUpChangesSince."
)

schema = strawberry.Schema(
    query=Query,
    mutation=Mutation,
    subscription=LiveSubscription,
    types=list(ALL_ERROR_TYPES),
    extensions=[*limits.extensions(), DomainErrors],  # type: ignore[list-item]
    execution_context_class=ExecutionContext,
)
guard_mutations(schema._schema)
