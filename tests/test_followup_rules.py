"""Meetings, tasks and calls through GraphQL over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from orm import models as m
from tests.helpers import associate, client_for, gid, snapshot

CREATE = """
mutation($input: FollowUpInput!) {
  createFollowUp(input: $input) {
    followUp { id kind title start end deadline durationMinutes version done inDiary }
    errors { code message path ... on VersionConflictError { currentVersion } }
  }
}"""
UPDATE = """
mutation($id: ID!, $version: Int!, $input: FollowUpInput!) {
  updateFollowUp(id: $id, version: $version, input: $input) {
    followUp { id kind start end deadline version sequence }
    errors { code message path ... on VersionConflictError { currentVersion } }
  }
}"""
SET_PREF = """
mutation($key: PreferenceKey!, $scope: PreferenceScope!, $value: String, $target: ID) {
  setPreference(key: $key, scope: $scope, value: $value, targetId: $target) {
    preferences { key value source }
    errors { code message path }
  }
}"""
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def parse(value: str) -> datetime:
    return datetime.fromisoformat(value)


async def create(gql: Any, **fields: Any) -> dict[str, Any]:
    data = await gql(CREATE, {"input": fields})
    return dict(data["createFollowUp"])


@pytest.fixture
async def ann(db: str) -> m.Associate:
    group = await m.UserGroup.create(name="Sales")
    return await associate("Ann", group=group)


@pytest.fixture
async def gql(http: Any, ann: m.Associate) -> Any:
    return await client_for(http, ann)


async def test_meeting_duration_follows_associate_then_group_preference(
    gql: Any, ann: m.Associate
) -> None:
    first = (await create(gql, title="Kick-off", start=iso(T0)))["followUp"]
    assert first["kind"] == "MEETING" and first["durationMinutes"] == 60
    assert parse(first["end"]) == T0 + timedelta(minutes=60)

    group_id = gid("UserGroup", ann.group_id or 0)
    ann.is_admin = True
    await ann.save()
    result = await gql(
        SET_PREF,
        {"key": "MEETING_DURATION", "scope": "GROUP", "value": "30", "target": group_id},
    )
    sources = {p["key"]: p for p in result["setPreference"]["preferences"]}
    assert sources["MEETING_DURATION"] == {
        "key": "MEETING_DURATION",
        "value": "30",
        "source": "GROUP",
    }
    assert (await create(gql, title="Group", start=iso(T0)))["followUp"]["durationMinutes"] == 30

    await gql(SET_PREF, {"key": "MEETING_DURATION", "scope": "ASSOCIATE", "value": "45"})
    assert (await create(gql, title="Mine", start=iso(T0)))["followUp"]["durationMinutes"] == 45

    await gql(SET_PREF, {"key": "MEETING_DURATION", "scope": "ASSOCIATE", "value": None})
    assert (await create(gql, title="Back", start=iso(T0)))["followUp"]["durationMinutes"] == 30


async def test_task_needs_deadline_and_changes_nothing(gql: Any) -> None:
    before = await snapshot()
    result = await create(gql, kind="TASK", title="Quote")
    assert result["followUp"] is None
    assert result["errors"][0]["code"] == "VALIDATION"
    assert result["errors"][0]["path"] == ["deadline"]
    assert await snapshot() == before


TODO = """query { todo(includeDone: %s) { id kind title overdue deadline } }"""
DIARY = """query($ids: [ID!]!, $from: DateTime!, $to: DateTime!) {
  diary(associateIds: $ids, from: $from, to: $to) { id kind start end title }
}"""


async def test_planned_call_moves_from_todo_to_diary_when_made(gql: Any, ann: m.Associate) -> None:
    deadline = datetime.now(UTC) + timedelta(days=1)
    call = (await create(gql, kind="CALL", title="Call Kari", deadline=iso(deadline)))["followUp"]
    assert call["inDiary"] is False
    todo = (await gql(TODO % "false"))["todo"]
    assert [t["id"] for t in todo] == [call["id"]]

    before = datetime.now(UTC)
    made = await gql(
        "mutation($id: ID!) { makeCall(id: $id) { followUp { start end durationMinutes } "
        "errors { code message } } }",
        {"id": call["id"]},
    )
    after = datetime.now(UTC)
    span = made["makeCall"]["followUp"]
    start = parse(span["start"])
    assert before - timedelta(seconds=1) <= start <= after
    assert span["durationMinutes"] == 15
    assert (await gql(TODO % "false"))["todo"] == []
    window = {
        "ids": [gid("Associate", ann.id)],
        "from": iso(before - timedelta(hours=1)),
        "to": iso(after + timedelta(hours=1)),
    }
    diary = (await gql(DIARY, window))["diary"]
    assert [(d["id"], d["kind"]) for d in diary] == [(call["id"], "CALL")]

    again = await gql(
        "mutation($id: ID!) { makeCall(id: $id) { errors { code message } } }", {"id": call["id"]}
    )
    assert again["makeCall"]["errors"][0]["code"] == "VALIDATION"


async def test_done_tasks_leave_todo_and_reopen(gql: Any) -> None:
    past = datetime.now(UTC) - timedelta(days=1)
    task = (await create(gql, kind="TASK", title="Send quote", deadline=iso(past)))["followUp"]
    todo = (await gql(TODO % "false"))["todo"]
    assert todo[0]["overdue"] is True
    done = (
        "mutation($id: ID!, $d: Boolean!) "
        "{ completeFollowUp(id: $id, done: $d) { followUp { done doneAt } } }"
    )
    result = await gql(done, {"id": task["id"], "d": True})
    assert result["completeFollowUp"]["followUp"]["done"] is True
    assert result["completeFollowUp"]["followUp"]["doneAt"] is not None
    assert (await gql(TODO % "false"))["todo"] == []
    assert [t["id"] for t in (await gql(TODO % "true"))["todo"]] == [task["id"]]
    await gql(done, {"id": task["id"], "d": False})
    assert [t["id"] for t in (await gql(TODO % "false"))["todo"]] == [task["id"]]


async def test_task_with_time_is_also_in_diary(gql: Any, ann: m.Associate) -> None:
    task = (
        await create(
            gql, kind="TASK", title="Prepare", deadline=iso(T0 + timedelta(days=1)), start=iso(T0)
        )
    )["followUp"]
    assert task["inDiary"] and task["durationMinutes"] == 60
    window = {"ids": [gid("Associate", ann.id)], "from": iso(T0), "to": iso(T0 + timedelta(days=1))}
    assert [d["id"] for d in (await gql(DIARY, window))["diary"]] == [task["id"]]


async def test_logged_call_after_the_fact(gql: Any) -> None:
    start = T0 - timedelta(hours=2)
    call = (await create(gql, kind="CALL", title="Incoming", start=iso(start)))["followUp"]
    assert call["durationMinutes"] == 15 and call["deadline"] is None


async def test_kind_conversions_keep_the_times(gql: Any) -> None:
    meeting = (await create(gql, title="Review", start=iso(T0)))["followUp"]
    as_task = await gql(UPDATE, {"id": meeting["id"], "version": 1, "input": {"kind": "TASK"}})
    task = as_task["updateFollowUp"]["followUp"]
    assert task["kind"] == "TASK" and parse(task["deadline"]) == T0 + timedelta(hours=1)
    assert parse(task["start"]) == T0 and task["version"] == 2

    call = (await create(gql, kind="CALL", title="Ring", deadline=iso(T0)))["followUp"]
    as_meeting = await gql(UPDATE, {"id": call["id"], "version": 1, "input": {"kind": "MEETING"}})
    moved = as_meeting["updateFollowUp"]["followUp"]
    assert parse(moved["start"]) == T0 and parse(moved["end"]) == T0 + timedelta(hours=1)
    assert moved["deadline"] is None


async def test_moving_a_meeting_keeps_its_duration_and_bumps_sequence(gql: Any) -> None:
    meeting = await create(gql, title="Review", start=iso(T0), end=iso(T0 + timedelta(hours=2)))
    fid = meeting["followUp"]["id"]
    moved = await gql(
        UPDATE, {"id": fid, "version": 1, "input": {"start": iso(T0 + timedelta(days=1))}}
    )
    row = moved["updateFollowUp"]["followUp"]
    assert parse(row["end"]) - parse(row["start"]) == timedelta(hours=2)
    assert row["sequence"] == 1
    typo = await gql(UPDATE, {"id": fid, "version": 2, "input": {"agenda": "typo fixed"}})
    assert typo["updateFollowUp"]["followUp"]["sequence"] == 1


@pytest.mark.parametrize(
    ("fields", "code", "path"),
    [
        (
            {"title": "x", "start": "2026-03-02T10:00:00Z", "end": "2026-03-02T09:00:00Z"},
            "VALIDATION",
            ["end"],
        ),
        (
            {"title": "x", "start": "2026-03-02T10:00:00Z", "deadline": "2026-03-03T10:00:00Z"},
            "VALIDATION",
            ["deadline"],
        ),
        ({"title": "x", "kind": "CALL"}, "VALIDATION", ["deadline"]),
        ({"title": "   ", "start": "2026-03-02T10:00:00Z"}, "VALIDATION", ["title"]),
        ({"title": "x", "start": "2026-03-02T10:00:00"}, "VALIDATION", ["start"]),
        (
            {"title": "x", "start": "2026-03-02T10:00:00Z", "alarmMinutes": -5},
            "VALIDATION",
            ["alarmMinutes"],
        ),
        (
            {"title": "x", "start": "2026-03-02T10:00:00Z", "companyId": gid("Company", 999)},
            "NOT_FOUND",
            ["companyId"],
        ),
        (
            {"title": "x", "start": "2026-03-02T10:00:00Z", "companyId": gid("Person", 1)},
            "VALIDATION",
            ["companyId"],
        ),
        (
            {"title": "x", "start": "2026-03-02T10:00:00Z", "companyId": "garbage"},
            "VALIDATION",
            ["companyId"],
        ),
        (
            {"title": "x", "start": "2026-03-02T10:00:00Z", "ownerId": gid("Associate", 999)},
            "NOT_FOUND",
            ["ownerId"],
        ),
    ],
)
async def test_bad_input_gets_typed_error_and_changes_nothing(
    gql: Any, fields: dict[str, Any], code: str, path: list[str]
) -> None:
    before = await snapshot()
    result = await create(gql, **fields)
    assert result["followUp"] is None
    assert [(e["code"], e["path"]) for e in result["errors"]] == [(code, path)]
    assert result["errors"][0]["message"]
    assert await snapshot() == before


async def test_stale_version_is_a_conflict_and_changes_nothing(gql: Any) -> None:
    fid = (await create(gql, title="Review", start=iso(T0)))["followUp"]["id"]
    await gql(UPDATE, {"id": fid, "version": 1, "input": {"title": "Review v2"}})
    before = await snapshot()
    stale = await gql(UPDATE, {"id": fid, "version": 1, "input": {"title": "lost update"}})
    error = stale["updateFollowUp"]["errors"][0]
    assert error["code"] == "VERSION_CONFLICT" and error["currentVersion"] == 2
    assert await snapshot() == before


async def test_unknown_follow_up_is_not_found(gql: Any) -> None:
    result = await gql(UPDATE, {"id": gid("FollowUp", 4242), "version": 1, "input": {"title": "x"}})
    assert result["updateFollowUp"]["errors"][0]["code"] == "NOT_FOUND"


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("MEETING_DURATION", "0"),
        ("MEETING_DURATION", "1441"),
        ("CALL_DURATION", "ten"),
        ("PHONE_LINK_FORMAT", "tel:"),
        ("PHONE_LINK_FORMAT", "%p"),
        ("PHONE_LINK_FORMAT", "tel:%p{unknown}"),
        ("TIME_ZONE", "Mars/Olympus"),
        ("LANGUAGE", "xx"),
        ("WORKING_HOURS", "MO-FR 16:00-08:00"),
    ],
)
async def test_invalid_preference_values_are_rejected(gql: Any, key: str, value: str) -> None:
    before = await snapshot()
    result = await gql(SET_PREF, {"key": key, "scope": "ASSOCIATE", "value": value})
    errors = result["setPreference"]["errors"]
    assert [(e["code"], e["path"]) for e in errors] == [("VALIDATION", ["value"])]
    assert await snapshot() == before


async def test_only_admins_set_system_and_group_preferences(gql: Any, ann: m.Associate) -> None:
    before = await snapshot()
    system = await gql(SET_PREF, {"key": "CALL_DURATION", "scope": "SYSTEM", "value": "20"})
    assert system["setPreference"]["errors"][0]["code"] == "FORBIDDEN"
    group = await gql(
        SET_PREF,
        {
            "key": "CALL_DURATION",
            "scope": "GROUP",
            "value": "20",
            "target": gid("UserGroup", ann.group_id or 0),
        },
    )
    assert group["setPreference"]["errors"][0]["code"] == "FORBIDDEN"
    assert await snapshot() == before


async def test_missing_or_wrong_token_is_401(http: Any, ann: m.Associate) -> None:
    for headers in ({}, {"Authorization": "Bearer fu_wrong"}, {"Authorization": "Basic abc"}):
        response = await http.post("/graphql", json={"query": "{ me { name } }"}, headers=headers)
        assert response.status_code == 401
        assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    page = await http.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200 and "graphiql" in page.text.lower()


async def test_update_done_sets_and_clears_done_at(gql: Any) -> None:
    task = (await create(gql, kind="TASK", title="Call back", deadline=iso(T0)))["followUp"]
    update = (
        "mutation($id: ID!, $v: Int!, $d: Boolean!) { updateFollowUp(id: $id, version: $v,"
        " input: {done: $d}) { followUp { done doneAt version } errors { code } } }"
    )
    done = (await gql(update, {"id": task["id"], "v": 1, "d": True}))["updateFollowUp"]
    assert done["errors"] == [] and done["followUp"]["done"] is True
    assert done["followUp"]["doneAt"] is not None
    again = await gql(update, {"id": task["id"], "v": done["followUp"]["version"], "d": False})
    assert again["updateFollowUp"]["followUp"]["doneAt"] is None
