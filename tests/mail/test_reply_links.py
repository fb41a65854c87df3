"""mail.reply_links: signed, expiring reply tokens."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import unquote

import pytest

from calcore.model import PartStat
from mail.reply_links import (
    ReplyClaims,
    ReplyLinkError,
    reply_links,
    sign_token,
    verify_token,
)

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
SECRET = b"s3cret-key-of-enough-length"
CLAIMS = ReplyClaims("m-1", "Anne@Kunde.no", PartStat.ACCEPTED, NOW + timedelta(days=7))


def test_round_trip() -> None:
    claims = verify_token(SECRET, sign_token(SECRET, CLAIMS), now=NOW)
    assert claims == ReplyClaims("m-1", "anne@kunde.no", PartStat.ACCEPTED, CLAIMS.expires_at)


def test_occurrence_in_claims() -> None:
    rid = datetime(2025, 3, 10, 8, 0, tzinfo=UTC)
    token = sign_token(
        SECRET, ReplyClaims("m-1", "a@b.c", PartStat.DECLINED, CLAIMS.expires_at, rid)
    )
    assert verify_token(SECRET, token, now=NOW).recurrence_id == rid


def test_expired() -> None:
    token = sign_token(SECRET, CLAIMS)
    with pytest.raises(ReplyLinkError, match="expired"):
        verify_token(SECRET, token, now=CLAIMS.expires_at)


def test_tampered_or_wrong_secret() -> None:
    token = sign_token(SECRET, CLAIMS)
    other = sign_token(SECRET, ReplyClaims("m-1", "anne@kunde.no", PartStat.DECLINED,
                                           CLAIMS.expires_at))  # fmt: skip
    forged = other.split(".")[0] + "." + token.split(".")[1]
    with pytest.raises(ReplyLinkError, match="signature"):
        verify_token(SECRET, forged, now=NOW)
    with pytest.raises(ReplyLinkError, match="signature"):
        verify_token(b"another-secret", token, now=NOW)


def test_rotation_accepts_old_secret() -> None:
    token = sign_token(b"old", CLAIMS)
    assert verify_token([b"new", b"old"], token, now=NOW).uid == "m-1"


@pytest.mark.parametrize("token", ["", ".", "a.b.c", "abc", "x" * 5000, "é.é", "e30.!!"])
def test_malformed(token: str) -> None:
    with pytest.raises(ReplyLinkError):
        verify_token(SECRET, token, now=NOW)


def test_cannot_sign_other_answers_or_with_empty_secret() -> None:
    with pytest.raises(ValueError):
        sign_token(SECRET, ReplyClaims("m", "a@b.c", PartStat.DELEGATED, NOW))
    with pytest.raises(ValueError):
        sign_token(b"", CLAIMS)


def test_links_for_each_answer() -> None:
    links = reply_links("https://crm.example/reply/", SECRET, "m-1", "a@b.c", CLAIMS.expires_at)
    assert set(links) == {PartStat.ACCEPTED, PartStat.TENTATIVE, PartStat.DECLINED}
    for partstat, url in links.items():
        token = unquote(url.removeprefix("https://crm.example/reply/"))
        assert verify_token(SECRET, token, now=NOW).partstat is partstat
