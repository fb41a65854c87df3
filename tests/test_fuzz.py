"""Random and malformed input at the GraphQL inputs: never a 500, never a partial write."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from config.settings import Settings
from orm import models as m
from tests.helpers import Gql, associate, client_for, gid, snapshot

FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
junk = st.one_of(
    st.text(max_size=40),
    st.from_regex(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?(Z|[+-]\d{2}:\d{2})?", fullmatch=True),
    st.sampled_from(
        [
            "2026-02-30T10:00:00Z",
            "0000-01-01T00:00:00Z",
            "9999-12-31T23:59:59+14:00",
            "2026-03-29T02:30:00",
            "",
            "null",
            "\x00",
            "2026-03-02T09:00:00-25:00",
        ]
    ),
)
rrules = st.one_of(
    st.text(max_size=60),
    st.builds(
        lambda f, parts: f"FREQ={f};" + ";".join(parts),
        st.sampled_from(["DAILY", "WEEKLY", "MONTHLY", "YEARLY", "HOURLY", "NOPE", ""]),
        st.lists(
            st.sampled_from(
                [
                    "COUNT=3",
                    "COUNT=0",
                    "COUNT=-1",
                    "UNTIL=20200101T000000Z",
                    "INTERVAL=0",
                    "INTERVAL=99999",
                    "BYDAY=-1FR",
                    "BYDAY=9MO",
                    "BYSETPOS=1",
                    "BYMONTHDAY=31",
                    "BYMONTH=13",
                    "BYWEEKNO=60",
                    "WKST=XX",
                    "BYHOUR=25",
                    "",
                ]
            ),
            max_size=4,
        ),
    ),
)
CREATE = """mutation($input: FollowUpInput!) { createFollowUp(input: $input) {
  followUp { id } errors { code message path } } }"""


async def _post(gql: Gql, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    response = await gql.http.post(
        "/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {gql.token}"},
    )
    assert response.status_code in (200, 400), response.text
    body = dict(response.json())
    for error in body.get("errors") or []:
        assert error.get("extensions", {}).get("code") != "INTERNAL", error
    return body


@pytest.fixture(name="settings")
def unthrottled() -> Settings:
    """Fuzzing sends thousands of requests as one associate (the rate limit has its own tests)."""
    return Settings(database_url="unused", debug=False, rate_limit_burst=1_000_000)


async def _me(http: Any) -> Gql:
    me = await m.Associate.get_or_none(name="Fuzz") or await associate("Fuzz")
    return await client_for(http, me)


@FUZZ
@given(start=junk, end=junk, deadline=junk, kind=st.sampled_from(["MEETING", "TASK", "CALL", "X"]))
async def test_dates_and_kinds(http: Any, start: str, end: str, deadline: str, kind: str) -> None:
    gql = await _me(http)
    before = await snapshot()
    body = await _post(
        gql,
        CREATE,
        {"input": {"title": "t", "kind": kind, "start": start, "end": end, "deadline": deadline}},
    )
    payload = (body.get("data") or {}).get("createFollowUp")
    if not payload or payload["errors"]:
        assert await snapshot() == before


@FUZZ
@given(
    rule=rrules,
    tz=st.one_of(
        st.text(max_size=30), st.sampled_from(["Europe/Oslo", "UTC", "../etc/passwd", "Etc/GMT+14"])
    ),
)
async def test_rules_and_zones(http: Any, rule: str, tz: str) -> None:
    gql = await _me(http)
    before = await snapshot()
    pref = await _post(
        gql,
        "mutation($v: String) { setPreference(key: TIME_ZONE, scope: ASSOCIATE, value: $v) { errors { code } } }",
        {"v": tz},
    )
    body = await _post(
        gql,
        CREATE,
        {"input": {"title": "t", "start": "2026-03-02T09:00:00Z", "recurrence": {"rrule": rule}}},
    )
    payload = (body.get("data") or {}).get("createFollowUp")
    pref_ok = not (pref.get("data") or {}).get("setPreference", {}).get("errors", [1])
    if (not payload or payload["errors"]) and not pref_ok:
        assert await snapshot() == before
    if payload and not payload["errors"]:
        await _post(
            gql,
            'query($a: [ID!]!) { diary(associateIds: $a, from: "2026-01-01T00:00:00Z", to: "2026-12-31T00:00:00Z") { id } }',
            {"a": [gid("Associate", (await m.Associate.get(name="Fuzz")).id)]},
        )


@FUZZ
@given(
    value=st.text(max_size=60),
    key=st.sampled_from(["PHONE_LINK_FORMAT", "WORKING_HOURS", "MEETING_DURATION", "LANGUAGE"]),
)
async def test_preference_values(http: Any, value: str, key: str) -> None:
    gql = await _me(http)
    before = await snapshot()
    body = await _post(
        gql,
        "mutation($k: PreferenceKey!, $v: String) { setPreference(key: $k, scope: ASSOCIATE, value: $v) { errors { code } } }",
        {"k": key, "v": value},
    )
    if (body.get("data") or {}).get("setPreference", {}).get("errors"):
        assert await snapshot() == before


@FUZZ
@given(raw=st.one_of(st.text(max_size=40), st.binary(max_size=30).map(lambda b: b.hex())))
async def test_ids(http: Any, raw: str) -> None:
    gql = await _me(http)
    before = await snapshot()
    for doc in (
        "query($id: ID!) { node(id: $id) { id } }",
        'mutation($id: ID!) { updateFollowUp(id: $id, version: 1, input: {title: "x"}) { errors { code } } }',
        "mutation($id: ID!) { deleteFollowUp(id: $id, scope: FOLLOWING) { errors { code } } }",
        "query($id: ID!) { activities(companyId: $id) { totalCount } }",
    ):
        await _post(gql, doc, {"id": raw})
    assert await snapshot() == before
