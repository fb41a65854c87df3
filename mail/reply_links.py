"""Signed, expiring accept/tentative/decline links: the fallback to iMIP replies.

Owns the token format only (pure functions, the secret is passed in): a base64url JSON
claim set (UID, attendee, PARTSTAT, optional RECURRENCE-ID, expiry) and an HMAC-SHA256
over it (RFC 2104), compared in constant time.  Several secrets may be given to verify,
so a secret can be rotated without breaking links already sent.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote

from calcore.itip import normalize_address
from calcore.model import PartStat

#: The answers a link can give (RFC 5546 section 3.2.3 REPLY PARTSTAT values).
LINK_PARTSTATS = (PartStat.ACCEPTED, PartStat.TENTATIVE, PartStat.DECLINED)
MAX_TOKEN_LENGTH = 2048


class ReplyLinkError(Exception):
    """The token is malformed, forged or expired; ``reason`` says which."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class ReplyClaims:
    """What a verified token says: who answers what to which meeting."""

    uid: str
    attendee_email: str
    partstat: PartStat
    expires_at: datetime
    recurrence_id: datetime | None = None


def sign_token(secret: bytes, claims: ReplyClaims) -> str:
    """Return ``payload.signature`` for the claims, both base64url without padding."""
    if not secret:
        raise ValueError("the signing secret is empty")
    if claims.partstat not in LINK_PARTSTATS:
        raise ValueError(f"a link cannot answer {claims.partstat.value}")
    body = {
        "u": claims.uid,
        "a": normalize_address(claims.attendee_email),
        "p": claims.partstat.value,
        "e": int(claims.expires_at.timestamp()),
    }
    if claims.recurrence_id is not None:
        body["r"] = int(claims.recurrence_id.timestamp())
    payload = _b64(json.dumps(body, separators=(",", ":"), sort_keys=True).encode())
    return f"{payload}.{_b64(_mac(secret, payload))}"


def verify_token(
    secrets: bytes | Sequence[bytes], token: str, *, now: datetime | None = None
) -> ReplyClaims:
    """Return the claims of a genuine, unexpired token; else raise ``ReplyLinkError``."""
    keys = [secrets] if isinstance(secrets, bytes) else list(secrets)
    if not keys or not all(keys):
        raise ValueError("no verification secret")
    if not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH or token.count(".") != 1:
        raise ReplyLinkError("the link is malformed")
    payload, signature = token.split(".")
    try:
        given = _unb64(signature)
    except ValueError as exc:
        raise ReplyLinkError("the link is malformed") from exc
    if not any(hmac.compare_digest(given, _mac(key, payload)) for key in keys):
        raise ReplyLinkError("the link signature is not valid")
    claims = _claims(payload)
    moment = now if now is not None else datetime.now(UTC)
    if moment >= claims.expires_at:
        raise ReplyLinkError("the link has expired")
    return claims


def reply_links(
    base_url: str,
    secret: bytes,
    uid: str,
    attendee_email: str,
    expires_at: datetime,
    recurrence_id: datetime | None = None,
) -> dict[PartStat, str]:
    """Return one signed URL per answer, ``base_url`` followed by the token."""
    links: dict[PartStat, str] = {}
    for partstat in LINK_PARTSTATS:
        claims = ReplyClaims(uid, attendee_email, partstat, expires_at, recurrence_id)
        links[partstat] = base_url + quote(sign_token(secret, claims), safe=".-_")
    return links


def _claims(payload: str) -> ReplyClaims:
    """Decode the claim set of a token whose signature is already checked."""
    try:
        body = json.loads(_unb64(payload))
        partstat = PartStat(body["p"])
        rid = body.get("r")
        claims = ReplyClaims(
            uid=str(body["u"]),
            attendee_email=str(body["a"]),
            partstat=partstat,
            expires_at=datetime.fromtimestamp(int(body["e"]), UTC),
            recurrence_id=datetime.fromtimestamp(int(rid), UTC) if rid is not None else None,
        )
    except (ValueError, KeyError, TypeError, OverflowError) as exc:
        raise ReplyLinkError("the link is malformed") from exc
    if partstat not in LINK_PARTSTATS:
        raise ReplyLinkError("the link is malformed")
    return claims


def _mac(secret: bytes, payload: str) -> bytes:
    """Return the HMAC-SHA256 of the payload text."""
    return hmac.new(secret, payload.encode("ascii", "replace"), hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    """Return base64url text without padding."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    """Decode base64url text without padding; raise ``ValueError`` when invalid."""
    if not text or not all(c.isalnum() or c in "-_" for c in text) or not text.isascii():
        raise ValueError("not base64url")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise ValueError("not base64url") from exc
