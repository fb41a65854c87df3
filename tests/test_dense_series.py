"""Dense series: refused on input, and never able to fail anyone's reads.

A series that repeats every second (created before the frequency rule, or written by an
older release) must not make a diary, free/busy, slot search, to-do list, activities
window or candidate list fail: what fits is returned and the series is ``truncated``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from app.web import create_app
from config.settings import Settings
from orm import models as m
from resolvers.auth import create_token
from resolvers.errors import ValidationFailed
from resolvers.ical_series import import_series
from tests.helpers import Gql, associate, gid

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday
LIMIT = 50
CREATE = """mutation($input: FollowUpInput!) { createFollowUp(input: $input) {
  followUp { id recurrence { rrule } } errors { code message path } } }"""
DIARY = """query($ids: [ID!]!, $from: DateTime!, $to: DateTime!) {
  diary(associateIds: $ids, from: $from, to: $to) { id seriesId title start truncated } }"""


def z(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


@pytest.fixture
async def client(db: str) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(database_url="unused", max_occurrences_per_series=LIMIT)
    app = create_app(settings, manage_db=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        yield c


async def _as(client: httpx.AsyncClient, who: m.Associate) -> Gql:
    return Gql(client, await create_token(who))


@pytest.mark.parametrize(
    ("recurrence", "path"),
    [
        ({"rrule": "FREQ=SECONDLY"}, ["recurrence", "rrule"]),
        ({"rrule": "FREQ=MINUTELY;INTERVAL=5"}, ["recurrence", "rrule"]),
        ({"freq": "SECONDLY"}, ["recurrence", "freq"]),
        ({"freq": "MINUTELY", "interval": 30}, ["recurrence", "freq"]),
        ({"rrule": "FREQ=HOURLY;BYMINUTE=0,15,30,45"}, ["recurrence", "rrule"]),
        ({"rrule": "FREQ=DAILY;BYHOUR=8,9,10,11,12;BYMINUTE=0,10,20,30,40,50"},
         ["recurrence", "rrule"]),
    ],
)  # fmt: skip
async def test_frequencies_a_diary_has_no_use_for_are_refused(
    client: httpx.AsyncClient, recurrence: dict[str, Any], path: list[str]
) -> None:
    ann, bob = await associate("Ann"), await associate("Bob")
    gql = await _as(client, ann)
    data = await gql(
        CREATE,
        {"input": {"title": "Spam", "start": z(T0), "ownerId": gid("Associate", bob.id),
                   "recurrence": recurrence}},
    )  # fmt: skip
    (error,) = data["createFollowUp"]["errors"]
    assert error["code"] == "VALIDATION" and error["path"] == path, error
    assert "at most" in error["message"]
    assert await m.FollowUp.all().count() == 0


async def test_hourly_and_up_to_24_a_day_are_allowed(client: httpx.AsyncClient) -> None:
    gql = await _as(client, await associate("Ann"))
    for rule in ("FREQ=HOURLY", "FREQ=HOURLY;INTERVAL=2;BYMINUTE=30",
                 "FREQ=DAILY;BYHOUR=9,17;BYMINUTE=0,30"):  # fmt: skip
        data = await gql(
            CREATE, {"input": {"title": "Ok", "start": z(T0), "recurrence": {"rrule": rule}}}
        )
        assert not data["createFollowUp"]["errors"], (rule, data)


async def test_import_refuses_a_secondly_series(db: str) -> None:
    owner = await associate("Ann")
    ics = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\nBEGIN:VEVENT\r\n"
        "UID:dense@t\r\nDTSTAMP:20260301T000000Z\r\nDTSTART:20260302T090000Z\r\n"
        "DTEND:20260302T090001Z\r\nRRULE:FREQ=SECONDLY\r\nSUMMARY:Dense\r\n"
        "END:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    with pytest.raises(ValidationFailed, match="SECONDLY") as caught:
        await import_series(owner, ics.encode())
    assert caught.value.path == ["data"]
    assert await m.FollowUp.all().count() == 0


async def _dense(owner: m.Associate, uid: str, **fields: Any) -> m.FollowUp:
    """A FREQ=SECONDLY series as an older release could have stored it."""
    fields.setdefault("kind", m.Kind.MEETING)
    fields.setdefault("start_at", T0)
    if fields["kind"] is m.Kind.MEETING:
        fields.setdefault("end_at", fields["start_at"] + timedelta(seconds=1))
    at = fields.get("start_at") or fields["deadline"]
    return await m.FollowUp.create(
        owner=owner, title=f"Dense {uid}", sort_at=at, uid=uid, rrule="FREQ=SECONDLY",
        tzid="Europe/Oslo", **fields,
    )  # fmt: skip


@pytest.mark.parametrize("shape", ["plain", "override", "exdate"])
async def test_a_stored_secondly_series_cannot_break_reads(
    client: httpx.AsyncClient, shape: str
) -> None:
    """The victim's diary, free/busy, slots, candidates and activities all answer."""
    attacker, victim = await associate("Mallory"), await associate("Vic")
    company = await m.Company.create(name="Acme")
    extra: dict[str, Any] = {"company": company}
    if shape == "exdate":  # the general (non-arithmetic) expansion path
        extra["exdates"] = [(T0 + timedelta(seconds=3)).isoformat()]
    dense = await _dense(victim, "dense-1", **extra)
    if shape == "override":
        await m.Occurrence.create(
            series=dense, recurrence_id=T0 + timedelta(seconds=2), cancelled=True
        )
    later = T0 + timedelta(days=3)
    await m.FollowUp.create(
        owner=victim, kind=m.Kind.MEETING, title="Real meeting", start_at=later,
        end_at=later + timedelta(hours=1), sort_at=later, uid="normal-1", company=company,
    )  # fmt: skip
    mine = await _as(client, victim)
    window = {"from": z(T0 - timedelta(days=1)), "to": z(T0 + timedelta(days=30))}
    items = (await mine(DIARY, {"ids": [gid("Associate", victim.id)], **window}))["diary"]
    titled = [i for i in items if i["title"] == "Real meeting"]
    assert len(titled) == 1 and titled[0]["truncated"] is False
    flooded = [i for i in items if i["seriesId"] == gid("FollowUp", dense.id)]
    shown = LIMIT - (shape == "override")  # the cancelled one is one of the earliest
    assert len(flooded) == shown and all(i["truncated"] for i in flooded)
    assert datetime.fromisoformat(flooded[0]["start"]) == T0

    busy = await mine(
        """query($a: [ID!]!, $from: DateTime!, $to: DateTime!) {
          freeBusy(associateIds: $a, from: $from, to: $to) { busy } }""",
        {"a": [gid("Associate", victim.id)], **window},
    )
    periods = busy["freeBusy"][0]["busy"]
    assert f"{z(later)}/{z(later + timedelta(hours=1))}" in periods

    slots = await mine(
        """query($a: [ID!]!, $from: DateTime!, $to: DateTime!) {
          firstFreeSlots(associateIds: $a, durationMinutes: 60, from: $from, to: $to,
                         limit: 3) { start end } }""",
        {"a": [gid("Associate", victim.id)], **window},
    )
    assert len(slots["firstFreeSlots"]) == 3

    other = await _as(client, attacker)
    candidates = await other(
        """query($start: DateTime!, $end: DateTime!) {
          participantCandidates(source: ASSOCIATES, start: $start, end: $end) { name busy } }""",
        {"start": z(later), "end": z(later + timedelta(minutes=30))},
    )
    assert {c["name"]: c["busy"] for c in candidates["participantCandidates"]} == {
        "Mallory": False, "Vic": True,
    }  # fmt: skip

    listed = await mine(
        """query($c: ID!, $from: DateTime, $to: DateTime) {
          activities(companyId: $c, from: $from, to: $to, first: 200) {
            totalCount nodes { title truncated } } }""",
        {"c": gid("Company", company.id), **window},
    )
    nodes = listed["activities"]["nodes"]
    assert [n["title"] for n in nodes].count("Real meeting") == 1
    assert sum(1 for n in nodes if n["truncated"]) == shown


async def test_a_stored_secondly_task_cannot_break_the_todo_list(
    client: httpx.AsyncClient,
) -> None:
    victim = await associate("Vic")
    soon = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)
    await _dense(victim, "dense-task", kind=m.Kind.TASK, start_at=None, deadline=soon)
    await m.FollowUp.create(
        owner=victim, kind=m.Kind.TASK, title="Real task", deadline=soon + timedelta(days=2),
        sort_at=soon + timedelta(days=2), uid="task-1",
    )  # fmt: skip
    todo = (await (await _as(client, victim))("{ todo(first: 100) { title truncated } }"))["todo"]
    assert any(t["title"] == "Real task" and not t["truncated"] for t in todo)
    assert [t["truncated"] for t in todo if t["title"] != "Real task"] == [True] * (
        len(todo) - 1
    )


async def test_a_long_window_marks_instead_of_failing(client: httpx.AsyncClient) -> None:
    """The old VALIDATION for a window holding more than the limit is now a mark."""
    ann = await associate("Ann")
    gql = await _as(client, ann)
    await gql(CREATE, {"input": {"title": "Daily", "start": z(T0),
                                 "recurrence": {"rrule": "FREQ=DAILY"}}})  # fmt: skip
    ids = [gid("Associate", ann.id)]
    week = await gql(DIARY, {"ids": ids, "from": z(T0), "to": z(T0 + timedelta(days=7))})
    assert [i["truncated"] for i in week["diary"]] == [False] * 7
    year = await gql(DIARY, {"ids": ids, "from": z(T0), "to": z(T0 + timedelta(days=365))})
    assert len(year["diary"]) == LIMIT and all(i["truncated"] for i in year["diary"])
