"""Model-based test of two-way sync: a hypothesis state machine over both sides and pulls.

Each run is one meeting with an account on the real Radicale.  The rules interleave, in
random order: an edit in the CRM (through GraphQL), an edit in the calendar (on the server,
as an app does), a pull followed by delivery, and resolving the oldest open conflict by
taking the calendar's value (``resolveCalendarConflict``).  The model merges field by field
against the last synced state: a field changed on one side is taken, a field changed on
both keeps the CRM's value and records the calendar's as a conflict.  Invariants: after
every pull the follow-up and the calendar's copy match the model's merge, and every
calendar value that lost is a recorded conflict (nothing lost silently); the recorded
conflicts are always exactly the model's; at the end quiet pulls write nothing.

Hypothesis drives the machine synchronously in a worker thread; each step's database and
GraphQL work runs on the test's event loop (``run_coroutine_threadsafe``), the server
edits (plain HTTP) in the thread itself.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

import httpx
import pytest
from hypothesis import HealthCheck
from hypothesis import settings as examples
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from config.settings import Settings
from orm import models as m
from orm.sync_models import CalendarAccount, CalendarObject, CalendarPull, SyncJob
from tests.helpers import Gql, associate, client_for, gid
from tests.sync import synchelp as h
from tests.sync.servers import DavServer
from tests.sync.synchelp import sync_settings
from tests.sync.test_sync_pull import T0, edit_on_server, pull, set_prop, z

FIELDS = {"title": "SUMMARY", "location": "LOCATION"}
NAMES = st.sampled_from(sorted(FIELDS))
VALUES = st.sampled_from(["a", "b", "c"])
RUNS = examples(
    max_examples=6,
    stateful_step_count=8,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
RESOLVE = """mutation($id: ID!) { resolveCalendarConflict(id: $id, take: CALENDAR) {
  followUp { title location } errors { code message } } }"""
T = TypeVar("T")


class TwoWay(RuleBasedStateMachine):
    """Both sides of one meeting and the model of what a pull makes of them."""

    loop: asyncio.AbstractEventLoop
    http: httpx.AsyncClient
    server: DavServer
    conf: Settings

    #: a step is under way (teardown's final checks run only after clean steps)
    busy = False

    def run(self, work: Coroutine[Any, Any, T]) -> T:
        self.busy = True
        result = asyncio.run_coroutine_threadsafe(work, self.loop).result(timeout=120)
        self.busy = False
        return result

    @initialize()
    def meeting(self) -> None:
        self.run(self._meeting())
        self.base = {"title": "x", "location": "x"}
        self.crm, self.side = dict(self.base), dict(self.base)
        #: the calendar values that lost, in the order pulls recorded them
        self.conflicts: list[tuple[str, str]] = []
        #: the model's open conflicts: (CalendarPull id, field, value), oldest first
        self.open: list[tuple[int, dict[str, str]]] = []  # one per conflict: its fields

    async def _meeting(self) -> None:
        await CalendarAccount.all().delete()  # one account pulls: this run's
        ann = await associate(f"Ann{id(self)}")
        self.gql: Gql = await client_for(self.http, ann)
        self.cal = self.server.make_calendar(f"model-{ann.id}-{id(self)}")
        await h.add_account(self.gql, self.server, self.cal)
        made = await self.gql(h.CREATE, {"input": {"title": "x", "location": "x", "start": z(T0)}})
        self.fu = made["createFollowUp"]["followUp"]
        self.key = (await m.FollowUp.get(uid=self.fu["uid"])).id
        await h.drain(self.conf)
        await pull(self.conf)

    @rule(name=NAMES, value=VALUES)
    def crm_edit(self, name: str, value: str) -> None:
        async def edit() -> None:
            row = await m.FollowUp.get(id=self.key)
            body = await self.gql(
                h.UPDATE, {"id": self.fu["id"], "v": row.version, "input": {name: value}}
            )
            assert not body["updateFollowUp"]["errors"], body

        self.run(edit())
        self.crm[name] = value

    @rule(name=NAMES, value=VALUES)
    def calendar_edit(self, name: str, value: str) -> None:
        self.busy = True
        edit_on_server(self.server, self.cal, self.fu["uid"], set_prop(FIELDS[name], value))
        self.side[name] = value
        self.busy = False

    @rule()
    def pull_and_deliver(self) -> None:
        before, side = dict(self.crm), dict(self.side)
        lost: list[tuple[str, str]] = []
        for f in FIELDS:  # the model's merge
            if side[f] == self.base[f] or side[f] == before[f]:
                continue
            if before[f] == self.base[f]:
                self.crm[f] = side[f]
            else:
                lost.append((f, side[f]))
        row, copy, recorded = self.run(self._pull())
        self.busy = True  # until every check passed
        assert {"title": row.title, "location": row.location} == self.crm
        assert copy == self.crm  # the calendar now shows the merge
        new = recorded[len(self.conflicts) :]
        assert [(f, v) for _, f, v in new] == lost
        for f in FIELDS:  # no calendar value lost without a recorded conflict
            assert side[f] in (self.crm[f], self.base[f]) or (f, side[f]) in lost, f
        self.conflicts += lost
        for key, f, v in new:  # a pull records one conflict per component, several fields
            if self.open and self.open[-1][0] == key:
                self.open[-1][1][f] = v
            else:
                self.open.append((key, {f: v}))
        self.base, self.side = dict(self.crm), dict(self.crm)
        self.busy = False

    async def _pull(self) -> tuple[m.FollowUp, dict[str, str], list[tuple[int, str, str]]]:
        await pull(self.conf)
        await h.drain(self.conf)
        row = await m.FollowUp.get(id=self.key)
        ev = h.master(h.server_copy(self.server, self.cal, self.fu["uid"]))  # type: ignore[arg-type]
        return row, {f: str(ev[p]) for f, p in FIELDS.items()}, await self._recorded()

    async def _recorded(self) -> list[tuple[int, str, str]]:
        rows = await CalendarPull.filter(followup_id=self.key, outcome="CONFLICT").order_by("id")
        return [(r.id, f, str(v)) for r in rows for f, v in (r.calendar_values or {}).items()]

    async def _open(self) -> list[int]:
        query = CalendarPull.filter(followup_id=self.key, resolved_at=None, outcome="CONFLICT")
        return list(await query.order_by("id").values_list("id", flat=True))

    @precondition(lambda self: bool(self.open))
    @rule()
    def take_the_calendars_value(self) -> None:
        key, values = self.open.pop(0)
        body = self.run(self.gql(RESOLVE, {"id": gid("CalendarConflict", key)}))
        self.busy = True
        payload = body["resolveCalendarConflict"]
        assert not payload["errors"], payload
        for name, value in values.items():  # every field of that conflict
            assert payload["followUp"][name] == value
            self.crm[name] = value  # a CRM change like any other, to be synced
        self.busy = False

    @invariant()
    def recorded_conflicts_are_the_models(self) -> None:
        recorded = self.run(self._recorded())
        self.busy = True
        assert [(f, v) for _, f, v in recorded] == self.conflicts
        still = self.run(self._open())
        assert list(still) == [k for k, _ in self.open]
        self.busy = False

    def teardown(self) -> None:
        if not hasattr(self, "fu") or self.busy:
            return  # a step failed: its error is the one to report
        self.pull_and_deliver()
        self.run(self._quiet())

    async def _quiet(self) -> None:
        await pull(self.conf)  # our last write comes back once (skipped, the token moves on)
        before = await _state()
        for _ in range(5):
            quiet = await pull(self.conf)
            assert [(r.requests, r.changed) for r in quiet] == [(1, 0)]
        assert await _state() == before


@pytest.fixture
def settings() -> Settings:
    return sync_settings(caldav_timeout=5.0)


async def test_random_edits_on_both_sides_match_the_model(
    http: httpx.AsyncClient, radicale_server: DavServer
) -> None:
    loop = asyncio.get_running_loop()

    class Machine(TwoWay):
        pass

    Machine.loop, Machine.http, Machine.server = loop, http, radicale_server
    Machine.conf = sync_settings(caldav_timeout=5.0)
    await loop.run_in_executor(None, lambda: run_state_machine_as_test(Machine, settings=RUNS))


async def _state() -> Any:
    return (
        await CalendarPull.all().count(),
        await SyncJob.all().count(),
        [(f.version, f.updated_at) for f in await m.FollowUp.all().order_by("id")],
        [(o.etag, o.pushed_ics) for o in await CalendarObject.all().order_by("id")],
        [(a.sync_token, a.pulled_at) for a in await CalendarAccount.all().order_by("id")],
    )
