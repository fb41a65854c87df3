"""Open calendar conflicts: the owner's list, node, and resolving them (real servers)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from icalendar import Calendar

from config.settings import Settings
from orm import models as m
from orm.sync_models import CalendarPull
from tests.helpers import associate, client_for, gid
from tests.sync import synchelp as h
from tests.sync.servers import DavServer
from tests.sync.synchelp import sync_settings
from tests.sync.test_sync_pull import T0, edit_on_server, meeting, pull, set_prop, setup

LIST = """query($a: ID, $first: Int, $after: String) {
  calendarConflicts(associateId: $a, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    nodes { id fields calendarValues { field value } recurrenceId scope resolution
            followUp { id title } account { id } } } }"""
RESOLVE = """mutation($id: ID!, $take: CalendarConflictSide!, $v: Int) {
  resolveCalendarConflict(id: $id, take: $take, version: $v) {
    conflict { id resolution resolvedAt } followUp { title version }
    errors { code message path } } }"""
NODE = """query($id: ID!) { node(id: $id) { ... on CalendarConflict { id fields } } }"""
ON_FOLLOWUP = """query($id: ID!) { node(id: $id) { ... on FollowUp {
  title calendarConflicts { fields } } } }"""


@pytest.fixture
def settings() -> Settings:
    return sync_settings(caldav_timeout=5.0)


async def conflicted(
    http: httpx.AsyncClient, server: DavServer, settings: Settings, calendar_title: str
) -> tuple[m.Associate, Any, str, dict[str, Any]]:
    """Ann's meeting, its title changed in the CRM and (differently) in her calendar."""
    ann, gql, cal = await setup(http, server, settings)
    fu = await meeting(gql)
    await h.drain(settings)
    await pull(settings)
    crm = await gql(h.UPDATE, {"id": fu["id"], "v": fu["version"], "input": {"title": "CRM"}})
    assert not crm["updateFollowUp"]["errors"]

    def both(c: Calendar) -> None:
        set_prop("SUMMARY", calendar_title)(c)
        set_prop("LOCATION", "Cafe")(c)

    edit_on_server(server, cal, fu["uid"], both)
    assert (await pull(settings))[0].applied == {"APPLIED": 1}
    return ann, gql, cal, fu


async def test_owner_lists_and_takes_the_calendars_value(
    http: httpx.AsyncClient, settings: Settings, dav_server: DavServer
) -> None:
    ann, gql, cal, fu = await conflicted(http, dav_server, settings, "Phone")
    listed = (await gql(LIST))["calendarConflicts"]
    assert listed["totalCount"] == 1
    [c] = listed["nodes"]
    assert (c["fields"], c["calendarValues"], c["scope"], c["resolution"]) == (
        ["title"],
        [{"field": "title", "value": "Phone"}],
        "ALL",
        None,
    )
    assert c["followUp"] == {"id": fu["id"], "title": "CRM"} and c["account"]["id"]
    assert (await gql(NODE, {"id": c["id"]}))["node"] == {"id": c["id"], "fields": ["title"]}
    row = await m.FollowUp.get(uid=fu["uid"])
    body = (await gql(RESOLVE, {"id": c["id"], "take": "CALENDAR"}))["resolveCalendarConflict"]
    assert not body["errors"], body
    assert body["conflict"]["resolution"] == "CALENDAR" and body["conflict"]["resolvedAt"]
    assert body["followUp"] == {"title": "Phone", "version": row.version + 1}
    fresh = await m.FollowUp.get(uid=fu["uid"])
    assert (fresh.title, fresh.location, fresh.version) == ("Phone", "Cafe", row.version + 1)
    assert (await gql(LIST))["calendarConflicts"]["totalCount"] == 0
    on = (await gql(ON_FOLLOWUP, {"id": fu["id"]}))["node"]
    assert on == {"title": "Phone", "calendarConflicts": []}
    record = await CalendarPull.get(outcome="CONFLICT")
    assert (record.resolution, record.resolved_by_id) == ("CALENDAR", ann.id)
    again = (await gql(RESOLVE, {"id": c["id"], "take": "CRM"}))["resolveCalendarConflict"]
    assert [e["code"] for e in again["errors"]] == ["VALIDATION"]
    await h.drain(settings)  # the taken value goes out to the calendar like any change
    ev = h.master(h.server_copy(dav_server, cal, fu["uid"]))  # type: ignore[arg-type]
    assert str(ev["SUMMARY"]) == "Phone"
    assert (await pull(settings))[0].changed == 0


async def test_crm_side_only_closes_and_refused_values_keep_it_open(
    http: httpx.AsyncClient, settings: Settings, dav_server: DavServer
) -> None:
    _ann, gql, _cal, fu = await conflicted(http, dav_server, settings, "x" * 600)
    [c] = (await gql(LIST))["calendarConflicts"]["nodes"]
    row = await m.FollowUp.get(uid=fu["uid"])
    refused = (await gql(RESOLVE, {"id": c["id"], "take": "CALENDAR"}))["resolveCalendarConflict"]
    assert [e["code"] for e in refused["errors"]] == ["VALIDATION"], refused
    stale = await gql(RESOLVE, {"id": c["id"], "take": "CALENDAR", "v": row.version - 1})
    assert [e["code"] for e in stale["resolveCalendarConflict"]["errors"]] == ["VERSION_CONFLICT"]
    assert (await gql(LIST))["calendarConflicts"]["totalCount"] == 1  # still open
    assert await CalendarPull.filter(resolved_at__not_isnull=True).count() == 0
    body = (await gql(RESOLVE, {"id": c["id"], "take": "CRM"}))["resolveCalendarConflict"]
    assert not body["errors"] and body["followUp"]["title"] == "CRM"
    after = await m.FollowUp.get(uid=fu["uid"])
    assert (after.title, after.version) == ("CRM", row.version)  # nothing changed
    assert (await gql(LIST))["calendarConflicts"]["totalCount"] == 0


async def test_occurrence_conflict_is_resolved_on_that_occurrence(
    http: httpx.AsyncClient, settings: Settings, dav_server: DavServer
) -> None:
    _ann, gql, cal = await setup(http, dav_server, settings)
    fu = await meeting(gql, "Weekly", recurrence={"rrule": "FREQ=WEEKLY;COUNT=5"})
    await h.drain(settings)
    await pull(settings)
    crm = await gql(
        h.UPDATE,
        {"id": fu["id"], "v": fu["version"], "input": {"title": "CRM"}, "scope": "ALL"},
    )
    assert not crm["updateFollowUp"]["errors"], crm
    second = T0 + timedelta(days=7)

    def override(c: Calendar) -> None:
        copy = Calendar.from_ical(h.master(c).to_ical())
        for name in ("RRULE", "DTSTART", "DTEND", "SUMMARY"):
            copy.pop(name, None)
        copy.add("RECURRENCE-ID", second)
        copy.add("DTSTART", second)
        copy.add("DTEND", second + timedelta(hours=1))
        copy.add("SUMMARY", "Weekly (calendar)")
        c.add_component(copy)

    edit_on_server(dav_server, cal, fu["uid"], override)
    await pull(settings)
    [c] = (await gql(LIST))["calendarConflicts"]["nodes"]
    assert (c["scope"], c["recurrenceId"]) == ("THIS", second.isoformat())
    body = (await gql(RESOLVE, {"id": c["id"], "take": "CALENDAR"}))["resolveCalendarConflict"]
    assert not body["errors"] and body["followUp"]["title"] == "Weekly (calendar)", body
    series = await m.FollowUp.get(uid=fu["uid"])
    occ = await m.Occurrence.get(series_id=series.id)
    assert (series.title, occ.recurrence_id, occ.title) == ("CRM", second, "Weekly (calendar)")


async def test_others_see_nothing_admins_list_by_associate(
    http: httpx.AsyncClient, settings: Settings, dav_server: DavServer
) -> None:
    ann, _gql, _cal, _fu = await conflicted(http, dav_server, settings, "Phone")
    key = (await CalendarPull.get(outcome="CONFLICT")).id
    conflict_id = gid("CalendarConflict", key)
    bob = await client_for(http, await associate("Bob"))
    listed = await bob(LIST, {"a": gid("Associate", ann.id)})
    assert listed["calendarConflicts"] == {
        "totalCount": 0,
        "pageInfo": {"hasNextPage": False, "endCursor": None},
        "nodes": [],
    }
    assert (await bob(LIST))["calendarConflicts"]["totalCount"] == 0
    assert (await bob(NODE, {"id": conflict_id}))["node"] is None
    for take in ("CRM", "CALENDAR"):
        body = (await bob(RESOLVE, {"id": conflict_id, "take": take}))["resolveCalendarConflict"]
        assert [e["code"] for e in body["errors"]] == ["NOT_FOUND"] and "Phone" not in str(body)
    assert await CalendarPull.filter(resolved_at__not_isnull=True).count() == 0
    admin = await client_for(http, await associate("Root", is_admin=True))
    seen = (await admin(LIST, {"a": gid("Associate", ann.id), "first": 1}))["calendarConflicts"]
    assert seen["totalCount"] == 1 and seen["nodes"][0]["id"] == conflict_id
    assert (await admin(LIST))["calendarConflicts"]["totalCount"] == 0  # the admin's own
