"""Model-based test of two-way sync: random edits on both sides and pulls, against a model.

Each example is a random sequence of operations on one meeting: an edit in the CRM (through
GraphQL), an edit in the calendar (on the real Radicale, as an app does), and a pull followed
by delivery.  The model merges field by field against the last synced state: a field changed
on one side is taken, a field changed on both keeps the CRM's value and records the
calendar's as a conflict.  After every pull the follow-up matches the model and every
calendar value that lost is a recorded conflict (nothing lost silently); at the end 100
quiet pulls write nothing.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as examples
from hypothesis import strategies as st

from config.settings import Settings
from orm import models as m
from orm.sync_models import CalendarAccount, CalendarObject, CalendarPull, SyncJob
from tests.helpers import associate, client_for
from tests.sync import synchelp as h
from tests.sync.servers import DavServer
from tests.sync.synchelp import sync_settings
from tests.sync.test_sync_pull import T0, edit_on_server, pull, set_prop, z

FIELDS = {"title": "SUMMARY", "location": "LOCATION"}
VALUES = st.sampled_from(["a", "b", "c"])
OPS = st.lists(
    st.one_of(
        st.tuples(st.just("crm"), st.sampled_from(sorted(FIELDS)), VALUES),
        st.tuples(st.just("cal"), st.sampled_from(sorted(FIELDS)), VALUES),
        st.tuples(st.just("pull"), st.just(""), st.just("")),
    ),
    min_size=1,
    max_size=8,
)
MODEL = examples(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
def settings() -> Settings:
    return sync_settings(caldav_timeout=5.0)


@MODEL
@given(ops=OPS)
async def test_random_edits_on_both_sides_match_the_model(
    http: httpx.AsyncClient, radicale_server: DavServer, ops: list[tuple[str, str, str]]
) -> None:
    conf = sync_settings(caldav_timeout=5.0)
    await CalendarAccount.all().delete()
    ann = await associate(f"Ann{id(ops)}")
    gql = await client_for(http, ann)
    cal = radicale_server.make_calendar(f"model-{ann.id}-{id(ops)}")
    await h.add_account(gql, radicale_server, cal)
    made = await gql(h.CREATE, {"input": {"title": "x", "location": "x", "start": z(T0)}})
    fu = made["createFollowUp"]["followUp"]
    await h.drain(conf)
    await pull(conf)
    base = {"title": "x", "location": "x"}
    crm, side = dict(base), dict(base)
    conflicts: list[tuple[str, str]] = []
    for kind, name, value in [*ops, ("pull", "", "")]:
        if kind == "crm":
            row = await m.FollowUp.get(uid=fu["uid"])
            body = await gql(h.UPDATE, {"id": fu["id"], "v": row.version, "input": {name: value}})
            assert not body["updateFollowUp"]["errors"]
            crm[name] = value
        elif kind == "cal":
            edit_on_server(radicale_server, cal, fu["uid"], set_prop(FIELDS[name], value))
            side[name] = value
        else:
            await pull(conf)
            for f in FIELDS:
                if side[f] == base[f] or side[f] == crm[f]:
                    continue
                if crm[f] == base[f]:
                    crm[f] = side[f]
                else:
                    conflicts.append((f, side[f]))
            await h.drain(conf)
            row = await m.FollowUp.get(uid=fu["uid"])
            assert {"title": row.title, "location": row.location} == crm
            base, side = dict(crm), dict(crm)
            ev = h.master(h.server_copy(radicale_server, cal, fu["uid"]))  # type: ignore[arg-type]
            assert {f: str(ev[p]) for f, p in FIELDS.items()} == crm
    recorded = [
        (f, str(v))
        for r in await CalendarPull.filter(outcome="CONFLICT").order_by("id")
        for f, v in (r.calendar_values or {}).items()
    ]
    assert recorded == conflicts
    await pull(conf)  # our last write comes back once (skipped, the token moves on)
    before = await _state()
    for _ in range(100):
        quiet = await pull(conf)
        assert [(r.requests, r.changed) for r in quiet] == [(1, 0)]
    assert await _state() == before


async def _state() -> Any:
    return (
        await CalendarPull.all().count(),
        await SyncJob.all().count(),
        [(f.version, f.updated_at) for f in await m.FollowUp.all().order_by("id")],
        [(o.etag, o.pushed_ics) for o in await CalendarObject.all().order_by("id")],
        [(a.sync_token, a.pulled_at) for a in await CalendarAccount.all().order_by("id")],
    )
