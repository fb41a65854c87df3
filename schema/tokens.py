"""API tokens in GraphQL: list one's own (admins: anyone's), create, revoke."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Self

import strawberry
from strawberry import relay

from resolvers import api_tokens
from resolvers.context import Info
from schema import ids
from schema.errors import UserError, atomically
from schema.node import ModelNode

if TYPE_CHECKING:
    from orm.models import ApiToken as TokenRow


@strawberry.type(description="A bearer token for the API; its clear text is never stored.")
class ApiToken(ModelNode):
    id: relay.NodeID[int]
    name: str = strawberry.field(description="The name its owner gave it.")
    created_at: datetime = strawberry.field(description="When it was created (UTC, ISO 8601).")
    expires_at: datetime | None = strawberry.field(
        description="When it stops working (UTC, ISO 8601); null: never expires."
    )
    revoked_at: datetime | None = strawberry.field(
        description="When it was revoked (UTC, ISO 8601); null: not revoked."
    )
    last_used_at: datetime | None = strawberry.field(
        description="When it last authenticated a request (UTC, ISO 8601); null: never used."
    )

    @classmethod
    def from_model(cls, row: TokenRow) -> Self:
        return cls(
            id=row.id,
            name=row.name,
            created_at=row.created_at,
            expires_at=row.expires_at,
            revoked_at=row.revoked_at,
            last_used_at=row.last_used_at,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: object, required: bool = False
    ) -> list[Self | None]:
        """Tokens are only found by their owner (or an admin)."""
        rows = await api_tokens.visible(info.context.viewer, node_ids)  # type: ignore[arg-type]
        return [cls.from_model(row) if row is not None else None for row in rows]


@strawberry.type(description="Result of createApiToken: the token, or errors.")
class CreateTokenPayload:
    token: str | None = strawberry.field(default=None, description="Shown once; keep it.")
    api_token: ApiToken | None = strawberry.field(
        default=None, description="The token; null when errors is not empty."
    )
    errors: list[UserError] = strawberry.field(
        default_factory=list, description="Why nothing was done; empty on success."
    )


@strawberry.type(description="Result of revokeApiToken: the revoked token, or errors.")
class TokenPayload:
    api_token: ApiToken | None = strawberry.field(
        default=None, description="The token; null when errors is not empty."
    )
    errors: list[UserError] = strawberry.field(
        default_factory=list, description="Why nothing was done; empty on success."
    )


@strawberry.type
class TokenQuery:
    @strawberry.field(
        description="The viewer's tokens (admins: any associate's), newest first, revoked and "
        "expired ones too (at most 500)."
    )
    async def api_tokens(
        self,
        info: Info,
        associate_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(
                description="An Associate whose tokens to list (administrators only; for "
                "anyone else an empty list); null: your own."
            ),
        ] = None,
    ) -> list[ApiToken]:
        owner = None
        if associate_id is not None:
            owner = ids.decode(associate_id, "Associate", "associateId")
        rows = await api_tokens.listing(info.context.viewer, owner)
        return [ApiToken.from_model(r) for r in rows]


@strawberry.type
class TokenMutation:
    @strawberry.mutation(
        description="Create a token for oneself; the clear text is returned once. An "
        "associate holds at most MAX_TOKENS_PER_ASSOCIATE active tokens (VALIDATION beyond: "
        "revoke one first)."
    )
    async def create_api_token(
        self,
        info: Info,
        name: Annotated[
            str,
            strawberry.argument(
                description="A name to recognise it by, 1..200 characters (trimmed)."
            ),
        ],
        expires_in_days: Annotated[
            int | None,
            strawberry.argument(
                description="Lifetime in days from now, 1..3650; null: never expires."
            ),
        ] = None,
    ) -> CreateTokenPayload:
        async def job() -> CreateTokenPayload:
            limit = info.context.settings.max_tokens_per_associate
            token, row = await api_tokens.create(info.context.viewer, name, expires_in_days, limit)
            return CreateTokenPayload(token=token, api_token=ApiToken.from_model(row))

        return await atomically(job, lambda errors: CreateTokenPayload(errors=errors))

    @strawberry.mutation(
        description="Revoke one of one's tokens (admins: anyone's); it stops working at once. "
        "Revoking a revoked token changes nothing."
    )
    async def revoke_api_token(
        self,
        info: Info,
        id: Annotated[
            strawberry.ID,
            strawberry.argument(
                description="The ApiToken (NOT_FOUND when unknown or someone else's)."
            ),
        ],
    ) -> TokenPayload:
        async def job() -> TokenPayload:
            key = ids.decode(id, "ApiToken", "id")
            row = await api_tokens.revoke(info.context.viewer, key, id)
            return TokenPayload(api_token=ApiToken.from_model(row))

        return await atomically(job, lambda errors: TokenPayload(errors=errors))
