"""API tokens: random, stored only as a SHA-256 hash, checked on every request."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from orm.models import ApiToken, Associate

PREFIX = "fu_"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def create_token(
    associate: Associate, name: str = "", lifetime: timedelta | None = None
) -> str:
    """Create a token for ``associate``; the clear text is returned once, never stored."""
    token = PREFIX + secrets.token_urlsafe(32)
    expires = datetime.now(UTC) + lifetime if lifetime else None
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
