"""API tokens in GraphQL: list one's own (admins: anyone's), create, revoke."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Self

import strawberry
from strawberry import relay

from orm import models as m
from resolvers.auth import TooManyTokens, create_token
from resolvers.context import Info
from resolvers.errors import NotFound, ValidationFailed
from schema import ids
from schema.errors import UserError, atomically
from schema.node import ModelNode

MAX_TOKEN_DAYS = 3650


@strawberry.type
class ApiToken(ModelNode):
    id: relay.NodeID[int]
    name: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None

    @classmethod
    def orm_model(cls) -> type[m.ApiToken]:
        return m.ApiToken

    @classmethod
    def from_model(cls, row: m.ApiToken) -> Self:
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
        viewer = info.context.viewer
        out: list[Self | None] = []
        for key in node_ids:  # type: ignore[attr-defined]
            row = await m.ApiToken.get_or_none(id=int(key)) if str(key).isdigit() else None
            visible = row is not None and (viewer.is_admin or row.associate_id == viewer.id)
            out.append(cls.from_model(row) if visible and row else None)
        return out


@strawberry.type
class CreateTokenPayload:
    token: str | None = strawberry.field(default=None, description="Shown once; keep it.")
    api_token: ApiToken | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class TokenPayload:
    api_token: ApiToken | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class TokenQuery:
    @strawberry.field(description="The viewer's tokens (admins: any associate's).")
    async def api_tokens(
        self, info: Info, associate_id: strawberry.ID | None = None
    ) -> list[ApiToken]:
        viewer = info.context.viewer
        owner = viewer.id
        if associate_id is not None:
            owner = ids.decode(associate_id, "Associate", "associateId")
            if owner != viewer.id and not viewer.is_admin:
                return []
        rows = await m.ApiToken.filter(associate_id=owner).order_by("-id").limit(500)
        return [ApiToken.from_model(r) for r in rows]


@strawberry.type
class TokenMutation:
    @strawberry.mutation(description="Create a token for oneself; the clear text is returned once.")
    async def create_api_token(
        self, info: Info, name: str, expires_in_days: int | None = None
    ) -> CreateTokenPayload:
        async def job() -> CreateTokenPayload:
            if not name.strip() or len(name) > 200:
                raise ValidationFailed("name", "name must be 1..200 characters")
            if expires_in_days is not None and not 1 <= expires_in_days <= MAX_TOKEN_DAYS:
                raise ValidationFailed(
                    "expiresInDays", f"expiresInDays must be 1..{MAX_TOKEN_DAYS}"
                )
            life = timedelta(days=expires_in_days) if expires_in_days is not None else None
            limit = info.context.settings.max_tokens_per_associate
            try:
                token = await create_token(info.context.viewer, name.strip(), life, limit)
            except TooManyTokens as exc:
                raise ValidationFailed("name", str(exc)) from None
            row = (
                await m.ApiToken.filter(associate_id=info.context.viewer.id).order_by("-id").first()
            )
            assert row is not None
            return CreateTokenPayload(token=token, api_token=ApiToken.from_model(row))

        return await atomically(job, lambda errors: CreateTokenPayload(errors=errors))

    @strawberry.mutation(description="Revoke one of one's tokens (admins: anyone's).")
    async def revoke_api_token(self, info: Info, id: strawberry.ID) -> TokenPayload:
        async def job() -> TokenPayload:
            key = ids.decode(id, "ApiToken", "id")
            viewer = info.context.viewer
            row = await m.ApiToken.get_or_none(id=key)
            if row is None or (row.associate_id != viewer.id and not viewer.is_admin):
                raise NotFound("ApiToken", id, "id")
            if row.revoked_at is None:
                await m.ApiToken.filter(id=key).update(revoked_at=datetime.now(UTC))
            return TokenPayload(api_token=ApiToken.from_model(await m.ApiToken.get(id=key)))

        return await atomically(job, lambda errors: TokenPayload(errors=errors))
