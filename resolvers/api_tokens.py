"""API tokens as GraphQL manages them: one's own (administrators: anyone's).

The token rules themselves (hashing, lifetime, the cap) are ``resolvers.auth``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from orm import models as m
from resolvers.auth import TooManyTokens, create_token
from resolvers.errors import NotFound, ValidationFailed

MAX_TOKEN_DAYS = 3650
#: the most tokens a listing returns
LIST_LIMIT = 500


def _sees(viewer: m.Associate, row: m.ApiToken) -> bool:
    return viewer.is_admin or row.associate_id == viewer.id


async def visible(viewer: m.Associate, node_ids: Iterable[object]) -> list[m.ApiToken | None]:
    """The tokens of Relay node keys; only their owner (or an admin) finds them."""
    out: list[m.ApiToken | None] = []
    for key in node_ids:
        row = await m.ApiToken.get_or_none(id=int(str(key))) if str(key).isdigit() else None
        out.append(row if row is not None and _sees(viewer, row) else None)
    return out


async def listing(viewer: m.Associate, owner: int | None) -> list[m.ApiToken]:
    """The viewer's tokens, or ``owner``'s for an administrator (others: none)."""
    owner = viewer.id if owner is None else owner
    if owner != viewer.id and not viewer.is_admin:
        return []
    return await m.ApiToken.filter(associate_id=owner).order_by("-id").limit(LIST_LIMIT)


async def create(
    viewer: m.Associate, name: str, expires_in_days: int | None, limit: int
) -> tuple[str, m.ApiToken]:
    """Make a token for the viewer; return its clear text (shown once) and its row."""
    if not name.strip() or len(name) > 200:
        raise ValidationFailed("name", "name must be 1..200 characters")
    if expires_in_days is not None and not 1 <= expires_in_days <= MAX_TOKEN_DAYS:
        raise ValidationFailed("expiresInDays", f"expiresInDays must be 1..{MAX_TOKEN_DAYS}")
    life = timedelta(days=expires_in_days) if expires_in_days is not None else None
    try:
        token = await create_token(viewer, name.strip(), life, limit)
    except TooManyTokens as exc:
        raise ValidationFailed("name", str(exc)) from None
    row = await m.ApiToken.filter(associate_id=viewer.id).order_by("-id").first()
    assert row is not None
    return token, row


async def revoke(viewer: m.Associate, key: int, ident: str) -> m.ApiToken:
    """Revoke one of the viewer's tokens (administrators: anyone's); again is a no-op."""
    row = await m.ApiToken.get_or_none(id=key)
    if row is None or not _sees(viewer, row):
        raise NotFound("ApiToken", ident, "id")
    if row.revoked_at is None:
        await m.ApiToken.filter(id=key).update(revoked_at=datetime.now(UTC))
    return await m.ApiToken.get(id=key)
