"""Fan-out of subscription events: one execution per selection and sight, rights unchanged.

Subscribers run through the real schema (``schema.subscribe``) and this process's feed on
each engine; the changes are made by GraphQL mutations through the app.  Subscribers that
see a follow-up alike (editor, reader, redacted: ``visibility.sight``) and ask the same
selection share one execution; each still gets exactly what the same selection answers
them as a query (``node``), and a field that depends on who the viewer is (the summary of
a rule, in the viewer's language) is never shared between viewers.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from config.settings import Settings
from orm import models as m
from resolvers import live_feed
from resolvers.context import Context
from schema import executor, live, schema
from tests.helpers import QueryCounter, associate, client_for, gid

FIELDS = """title redacted agenda location uid private owner { name }
  participants { status associate { name } } resources { name } proposals { id }"""
SUB = f"""subscription($a: [ID!]!) {{ followUpChanged(associateIds: $a) {{
  change followUpId followUp {{ {FIELDS} }} }} }}"""
NODE = f"""query($id: ID!) {{ node(id: $id) {{ ... on FollowUp {{ {FIELDS} }} }} }}"""
CREATE = """mutation($o: ID!, $t: String!, $p: Boolean!) { createFollowUp(input: {title: $t,
  kind: MEETING, private: $p, agenda: "Numbers", location: "Room 2",
  start: "2026-03-02T09:00:00Z", end: "2026-03-02T10:00:00Z", ownerId: $o}) {
  followUp { id version } errors { code } } }"""
SAVE = """mutation($f: ID!, $v: Int!, $p: [ParticipantInput!]!) {
  saveParticipants(followUpId: $f, version: $v, participants: $p) {
    followUp { version } errors { code } } }"""
SERIES = """mutation($o: ID!) { createFollowUp(input: {title: "Weekly", kind: MEETING,
  start: "2026-03-02T09:00:00Z", end: "2026-03-02T10:00:00Z", ownerId: $o,
  recurrence: {rrule: "FREQ=WEEKLY;COUNT=3"}}) { followUp { id } errors { code } } }"""
LANGUAGE = """mutation($v: String!) { setPreference(key: LANGUAGE, scope: ASSOCIATE,
  value: $v) { errors { code } } }"""
SUMMARY = """subscription($a: [ID!]!) { followUpChanged(associateIds: $a) {
  followUp { title recurrence { summary } } } }"""


class Subscriber:
    """One subscription through the schema, as the websocket handler runs it."""

    def __init__(self, who: m.Associate, query: str, variables: dict[str, Any]) -> None:
        self.who, self.query, self.variables = who, query, variables
        self.events: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.task: asyncio.Task[None] | None = None

    async def run(self, settings: Settings) -> None:
        context = Context(viewer=self.who, settings=settings, token=f"t{id(self)}")
        stream = await schema.subscribe(self.query, self.variables, context_value=context)
        async for result in stream:  # type: ignore[union-attr]
            assert not result.errors, result.errors
            await self.events.put(result.data["followUpChanged"])

    async def next(self) -> dict[str, Any]:
        return await asyncio.wait_for(self.events.get(), 10)


@asynccontextmanager
async def subscribed(db: str, subscribers: list[Subscriber]) -> AsyncIterator[live_feed.Feed]:
    settings = Settings(database_url=db, live_poll_seconds=0.05, live_queue_size=50)
    feed = await live_feed.start(settings)
    for sub in subscribers:
        sub.task = asyncio.create_task(sub.run(settings))
    try:
        for _ in range(200):
            if len(feed.subscribers) == len(subscribers):
                break
            await asyncio.sleep(0.01)
        assert len(feed.subscribers) == len(subscribers)
        yield feed
    finally:
        for sub in subscribers:
            assert sub.task is not None
            sub.task.cancel()
        await asyncio.gather(*(s.task for s in subscribers if s.task), return_exceptions=True)
        await live_feed.stop()


def _not_log(statements: list[str]) -> list[str]:
    """The statements outside the change log (the feed's reads of it poll on SQLite)."""
    return [s for s in statements if "live_" not in s]


async def test_subscribers_with_different_rights_each_get_their_own_sight(
    http: httpx.AsyncClient, db: str
) -> None:
    ann, pat = await associate("Ann"), await associate("Pat")
    una, vic = await associate("Una"), await associate("Vic")
    root = await associate("Root", is_admin=True)
    diary = {"a": [gid("Associate", ann.id)]}
    viewers = [ann, pat, una, vic, root, una, pat]
    subs = [Subscriber(v, SUB, diary) for v in viewers]
    gql = await client_for(http, ann)
    async with subscribed(db, subs):
        made = await gql(CREATE, {"o": diary["a"][0], "t": "Secret plan", "p": True})
        fid = made["createFollowUp"]["followUp"]["id"]
        for sub in subs:
            assert (await sub.next())["change"] == "CREATED"
        people = [{"associateId": gid("Associate", pat.id)}]
        before = executor.Counts.shared_executions
        saved = await gql(SAVE, {"f": fid, "v": 1, "p": people})
        assert saved["saveParticipants"]["errors"] == []
        got = [await sub.next() for sub in subs]
        # editors (owner, admin), the attending reader, the redacted outsiders
        assert executor.Counts.shared_executions - before == 3
    for sub, change in zip(subs, got, strict=True):
        assert (change["change"], change["followUpId"]) == ("UPDATED", fid)
        # exactly what the same selection answers this viewer as a query
        as_query = (await (await client_for(http, sub.who))(NODE, {"id": fid}))["node"]
        assert change["followUp"] == as_query, sub.who.name
    full, redacted = got[0]["followUp"], got[2]["followUp"]
    assert full["title"] == "Secret plan" and full["redacted"] is False
    assert [p["associate"]["name"] for p in full["participants"]] == ["Ann", "Pat"]
    assert got[1]["followUp"] == full and got[4]["followUp"] == full
    assert redacted["redacted"] is True and redacted["title"] is None
    assert redacted["participants"] == [] and redacted["uid"] == ""
    assert "Secret" not in json.dumps(got[2:4]) and "Numbers" not in json.dumps(got[2:4])


async def test_identical_subscribers_cost_one_execution_and_the_same_statements(
    http: httpx.AsyncClient, db: str
) -> None:
    """N subscribers of one sight and selection: one execution per event and the SQL of
    one subscriber; N subscribers in three sights: three executions, still that SQL."""
    ann, pat = await associate("Ann"), await associate("Pat")
    outsiders = [await associate(f"Out{i}") for i in range(6)]
    diary = {"a": [gid("Associate", ann.id)]}
    gql = await client_for(http, ann)
    people = [{"associateId": gid("Associate", pat.id)}]

    async def cost(viewers: list[m.Associate], private: bool) -> tuple[int, int]:
        subs = [Subscriber(v, SUB, diary) for v in viewers]
        async with subscribed(db, subs):
            made = await gql(CREATE, {"o": diary["a"][0], "t": "Plan", "p": private})
            fid = made["createFollowUp"]["followUp"]["id"]
            for sub in subs:
                await sub.next()
            before = executor.Counts.shared_executions
            with QueryCounter() as counter:
                await gql(SAVE, {"f": fid, "v": 1, "p": people})
                for sub in subs:
                    assert (await sub.next())["change"] == "UPDATED"
            return executor.Counts.shared_executions - before, len(_not_log(counter.statements))

    alone = await cost([outsiders[0]], private=False)
    many = await cost(outsiders, private=False)
    assert alone[0] == many[0] == 1
    assert many[1] == alone[1]
    owner_alone = await cost([ann], private=True)
    mixed = await cost([ann, pat, *outsiders, ann], private=True)
    assert owner_alone[0] == 1 and mixed[0] == 3
    assert mixed[1] == owner_alone[1]  # the follow-up, its participants: read once per event


async def test_a_field_that_depends_on_the_viewer_is_not_shared_between_viewers(
    http: httpx.AsyncClient, db: str
) -> None:
    ann, una, vic = await associate("Ann"), await associate("Una"), await associate("Vic")
    await (await client_for(http, vic))(LANGUAGE, {"v": "da"})
    diary = {"a": [gid("Associate", ann.id)]}
    subs = [Subscriber(v, SUMMARY, diary) for v in (una, vic, una, vic)]
    async with subscribed(db, subs):
        before = executor.Counts.shared_executions
        made = await (await client_for(http, ann))(SERIES, {"o": diary["a"][0]})
        assert made["createFollowUp"]["errors"] == []
        got = [(await sub.next())["followUp"]["recurrence"]["summary"] for sub in subs]
        assert executor.Counts.shared_executions - before == 2  # one per viewer
    print(got)
    assert got[0] == got[2] and got[1] == got[3] and got[0] != got[1]


def test_every_field_below_a_change_is_classified() -> None:
    """A new field reachable from an event must be declared shared by sight or per viewer."""
    found = live.resolver_fields(schema._schema, "FollowUpChange")
    assert not live.SHARED_FIELDS & live.PER_VIEWER_FIELDS
    assert found == live.SHARED_FIELDS | live.PER_VIEWER_FIELDS, (
        sorted(found - live.SHARED_FIELDS - live.PER_VIEWER_FIELDS),
        sorted(live.SHARED_FIELDS | live.PER_VIEWER_FIELDS - found),
    )


@pytest.mark.parametrize(
    ("selection", "by_sight"),
    [
        ("change followUp { title owner { name } }", True),
        ("change followUp { ...F }", True),
        ("followUp { calendarSync { state } }", False),
        ("followUp { ... on FollowUp { recurrence { summary } } }", False),
        ("followUp { company { phones { link } } }", False),
        ("followUp { company { phones { dial } } }", True),
        ("cursor change", True),
    ],
)
async def test_selections_that_read_per_viewer_fields_are_shared_by_one_viewer_only(
    http: httpx.AsyncClient, db: str, selection: str, by_sight: bool
) -> None:
    ann, una, vic = await associate("Ann"), await associate("Una"), await associate("Vic")
    query = f"subscription($a: [ID!]!) {{ followUpChanged(associateIds: $a) {{ {selection} }} }}"
    if "...F" in selection:
        query += " fragment F on FollowUp { title participants { status } }"
    diary = {"a": [gid("Associate", ann.id)]}
    subs = [Subscriber(v, query, diary) for v in (una, vic, una, vic)]
    async with subscribed(db, subs):
        before = executor.Counts.shared_executions
        await (await client_for(http, ann))(CREATE, {"o": diary["a"][0], "t": "Plan", "p": False})
        got = [await sub.next() for sub in subs]
        assert executor.Counts.shared_executions - before == (1 if by_sight else 2)
    assert got[0] == got[1] == got[2] == got[3]  # alike here: these viewers differ in nothing
