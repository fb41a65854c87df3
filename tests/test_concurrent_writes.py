"""Concurrent writes that race for one key end in typed errors, never INTERNAL."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from config.settings import Settings
from orm import models as m
from tests.helpers import associate, client_for


@pytest.fixture
def settings() -> Settings:
    """Ten requests at once as one associate (beyond its usual cap of 8)."""
    return Settings(database_url="unused", debug=False, max_concurrent_per_associate=32)


SET = """mutation($v: String!) { setPreference(key: MEETING_DURATION, scope: ASSOCIATE, value: $v) {
  errors { code message } } }"""


async def test_concurrent_first_preference_writes_are_ok_or_conflict(
    http: httpx.AsyncClient, db: str
) -> None:
    """Ten saves of a preference that does not exist yet: the unique key is raced for."""
    ann = await associate("Ann")
    gql = await client_for(http, ann)
    answers = await asyncio.gather(*(gql.raw(SET, {"v": str(30 + i)}) for i in range(10)))
    codes = []
    for body in answers:
        assert not body.get("errors"), body  # no INTERNAL: every answer is a payload
        codes += [e["code"] for e in body["data"]["setPreference"]["errors"]]
    assert set(codes) <= {"CONFLICT"}
    assert len(codes) < 10  # at least one save won
    rows = await m.Preference.filter(key="MEETING_DURATION").all()
    assert len(rows) == 1 and 30 <= int(rows[0].value) < 40
