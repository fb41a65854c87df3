"""API tokens: random, stored only as a SHA-256 hash, checked on every request."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from tortoise.expressions import Q

from orm.models import ApiToken, Associate

PREFIX = "fu_"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class TooManyTokens(Exception):
    """The associate already holds the most active tokens allowed."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"an associate may hold at most {limit} active tokens; revoke one first")


async def create_token(
    associate: Associate,
    name: str = "",
    lifetime: timedelta | None = None,
    limit: int | None = None,
) -> str:
    """Create a token for ``associate``; the clear text is returned once, never stored.

    ``lifetime`` None: the token never expires; otherwise it must be positive.  With
    ``limit`` (MAX_TOKENS_PER_ASSOCIATE) a token beyond that many active ones raises
    ``TooManyTokens`` (call inside a transaction: the associate's row is locked).
    """
    now = datetime.now(UTC)
    if lifetime is not None and lifetime <= timedelta(0):
        raise ValueError("a token's lifetime must be positive")
    if limit is not None:
        await Associate.select_for_update().filter(id=associate.id).first()
        active = ApiToken.filter(associate_id=associate.id, revoked_at=None).filter(
            Q(expires_at=None) | Q(expires_at__gt=now)
        )
        if await active.count() >= limit:
            raise TooManyTokens(limit)
    token = PREFIX + secrets.token_urlsafe(32)
    expires = now + lifetime if lifetime is not None else None
    await ApiToken.create(
        associate=associate, token_hash=hash_token(token), name=name, expires_at=expires
    )
    return token


#: last_used_at is written at most this often per token, not on every request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


async def authenticate(header: str | None) -> Associate | None:
    """The active associate a ``Bearer`` header belongs to, or None."""
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token.startswith(PREFIX) or len(token) > 200:
        return None
    row = await ApiToken.get_or_none(token_hash=hash_token(token)).select_related("associate")
    now = datetime.now(UTC)
    if row is None or row.revoked_at is not None or (row.expires_at and row.expires_at <= now):
        return None
    associate: Associate = row.associate
    if not associate.active:
        return None
    if row.last_used_at is None or now - row.last_used_at > LAST_USED_RESOLUTION:
        await ApiToken.filter(id=row.id).update(last_used_at=now)
    return associate
