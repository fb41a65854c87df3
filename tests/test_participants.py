"""The invitation dialog through GraphQL over HTTP: candidates, conflicts, switches, rooms."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from app.web import create_app
from config.settings import Settings
from orm import models as m
from resolvers import followups
from resolvers.auth import create_token
from tests.helpers import Gql, associate, client_for, gid, snapshot
from tests.test_recurrence_api import z

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday
SAVE = """mutation($f: ID!, $v: Int!, $p: [ParticipantInput!]!, $r: [ID!], $all: Boolean) {
  saveParticipants(followUpId: $f, version: $v, participants: $p, resourceIds: $r,
                   emailInvitations: $all) {
    followUp { id version conflict conflicts { kind id }
      participants { id organiser status emailInvitation emailUnavailableReason
                     associate { name } person { fullName } }
      resources { name } }
    errors { code message path } } }"""
CANDIDATES = """query($s: CandidateSource!, $start: DateTime!, $end: DateTime!, $f: ID, $g: ID,
  $c: ID, $p: ID, $pr: ID, $sel: ID, $rg: ID) {
  participantCandidates(source: $s, start: $start, end: $end, followUpId: $f, userGroupId: $g,
    companyId: $c, personId: $p, projectId: $pr, selectionId: $sel, resourceGroupId: $rg) {
    kind name email busy alreadyAdded canReceiveEmail emailUnavailableReason } }"""


@pytest.fixture
def settings() -> Settings:
    """The races below send 20 requests at once as one associate (beyond its usual cap)."""
    return Settings(database_url="unused", debug=False, max_concurrent_per_associate=32)


@pytest.fixture
async def world(db: str) -> dict[str, Any]:
    sales = await m.UserGroup.create(name="Sales")
    ann = await associate("Ann", group=sales)
    bob = await associate("Bob", group=sales)
    cid = await associate("Cid", email=None)
    acme = await m.Company.create(name="Acme")
    kari = await m.Person.create(first_name="Kari", last_name="K", company=acme)
    await m.EmailAddress.create(person=kari, address="kari@acme.example")
    ola = await m.Person.create(first_name="Ola", last_name="O", company=acme)
    await m.EmailAddress.create(person=ola, address="not-an-address")
    lone = await m.Person.create(first_name="Lone", last_name="L")
    project = await m.Project.create(name="P")
    await m.ProjectMember.create(project=project, person=kari)
    await m.ProjectMember.create(project=project, associate=bob)
    selection = await m.Selection.create(name="S")
    await m.SelectionMember.create(selection=selection, person=lone)
    await m.SelectionMember.create(selection=selection, company=acme)
    rooms = await m.ResourceGroup.create(name="Rooms")
    fjord = await m.Resource.create(name="Fjord", group=rooms)
    board = await m.Resource.create(name="Board", group=rooms, allow_double_booking=False)
    beamer = await m.Resource.create(name="Beamer", kind=m.ResourceKind.EQUIPMENT)
    return locals()


def mailing() -> Settings:
    return Settings(database_url="unused", smtp_host="127.0.0.1")


async def gql_for(
    http: httpx.AsyncClient, who: m.Associate, settings: Settings | None = None
) -> Gql:
    if settings is None:
        return await client_for(http, who)
    app = create_app(settings, manage_db=False)
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")
    return Gql(client, await create_token(who))


async def meeting(
    owner: m.Associate, start: datetime = T0, hours: int = 1, **more: Any
) -> m.FollowUp:
    return await followups.create(
        owner, {"title": "M", "start_at": start, "end_at": start + timedelta(hours=hours), **more}
    )


def names(items: list[dict[str, Any]]) -> list[str]:
    return sorted(i["name"] for i in items)


async def test_every_source_lists_its_candidates(http: Any, world: dict[str, Any]) -> None:
    w = world
    gql = await client_for(http, w["ann"])
    await meeting(w["bob"])  # Bob is busy at T0
    base = {"start": z(T0), "end": z(T0 + timedelta(hours=1))}
    got = await gql(CANDIDATES, {**base, "s": "ASSOCIATES", "g": gid("UserGroup", w["sales"].id)})
    assert {c["name"]: c["busy"] for c in got["participantCandidates"]} == {
        "Ann": False,
        "Bob": True,
    }
    everyone = (await gql(CANDIDATES, {**base, "s": "ASSOCIATES"}))["participantCandidates"]
    cid = next(c for c in everyone if c["name"] == "Cid")
    assert (
        cid["canReceiveEmail"] is False and cid["emailUnavailableReason"] == "MAIL_NOT_CONFIGURED"
    )
    contacts = await gql(CANDIDATES, {**base, "s": "CONTACTS", "c": gid("Company", w["acme"].id)})
    assert names(contacts["participantCandidates"]) == ["Kari K", "Ola O"]
    by_person = await gql(CANDIDATES, {**base, "s": "CONTACTS", "p": gid("Person", w["kari"].id)})
    assert names(by_person["participantCandidates"]) == ["Kari K", "Ola O"]
    project = await gql(CANDIDATES, {**base, "s": "PROJECT", "pr": gid("Project", w["project"].id)})
    assert names(project["participantCandidates"]) == ["Bob", "Kari K"]
    selection = await gql(
        CANDIDATES, {**base, "s": "SELECTION", "sel": gid("Selection", w["selection"].id)}
    )
    assert names(selection["participantCandidates"]) == ["Kari K", "Lone L", "Ola O"]
    rooms = await gql(
        CANDIDATES, {**base, "s": "RESOURCES", "rg": gid("ResourceGroup", w["rooms"].id)}
    )
    assert names(rooms["participantCandidates"]) == ["Board", "Fjord"]
    everything = await gql(CANDIDATES, {**base, "s": "RESOURCES"})
    assert names(everything["participantCandidates"]) == ["Beamer", "Board", "Fjord"]


async def test_email_reasons_when_mail_is_configured(http: Any, world: dict[str, Any]) -> None:
    gql = await gql_for(http, world["ann"], mailing())
    base = {"start": z(T0), "end": z(T0 + timedelta(hours=1))}
    contacts = await gql(
        CANDIDATES, {**base, "s": "CONTACTS", "c": gid("Company", world["acme"].id)}
    )
    reasons = {c["name"]: c["emailUnavailableReason"] for c in contacts["participantCandidates"]}
    assert reasons == {"Kari K": None, "Ola O": "INVALID_ADDRESS"}
    await gql.http.aclose()


async def _save(
    gql: Gql,
    row: m.FollowUp,
    participants: list[dict[str, Any]],
    rooms: list[int] = (),
    email: bool | None = None,
    version: int | None = None,
) -> dict[str, Any]:
    fresh = await m.FollowUp.get(id=row.id)
    result = await gql(
        SAVE,
        {
            "f": gid("FollowUp", row.id),
            "v": version or fresh.version,
            "p": participants,
            "r": [gid("Resource", r) for r in rooms],
            "all": email,
        },
    )
    return dict(result["saveParticipants"])


async def test_save_remove_and_cancel(http: Any, world: dict[str, Any]) -> None:
    w = world
    gql = await client_for(http, w["ann"])
    row = await meeting(w["ann"])
    saved = await _save(
        gql,
        row,
        [{"associateId": gid("Associate", w["bob"].id)}, {"personId": gid("Person", w["kari"].id)}],
        [w["fjord"].id],
    )
    people = saved["followUp"]["participants"]
    assert [(p["organiser"], p["status"]) for p in people] == [
        (True, "ACCEPTED"),
        (False, "INVITED"),
        (False, "INVITED"),
    ]
    assert saved["followUp"]["resources"] == [{"name": "Fjord"}]
    # a failing save (unknown person) keeps everything as it was: the dialog's "cancel"
    before = await snapshot()
    failed = await _save(gql, row, [{"personId": gid("Person", 999)}])
    assert failed["errors"][0]["code"] == "NOT_FOUND"
    assert await snapshot() == before
    removed = await _save(gql, row, [{"personId": gid("Person", w["kari"].id)}], [])
    assert [p["person"] for p in removed["followUp"]["participants"]] == [
        None,
        {"fullName": "Kari K"},
    ]
    assert removed["followUp"]["resources"] == []


async def test_conflicts_follow_the_meetings(http: Any, world: dict[str, Any]) -> None:
    w = world
    gql = await client_for(http, w["ann"])
    row = await meeting(w["ann"])
    saved = await _save(gql, row, [{"associateId": gid("Associate", w["bob"].id)}], [w["fjord"].id])
    assert saved["followUp"]["conflict"] is False
    other = await meeting(w["bob"], T0 + timedelta(minutes=30))
    booked = await meeting(w["cid"], T0 - timedelta(hours=2), hours=3)
    await _save(await client_for(http, w["cid"]), booked, [], [w["fjord"].id])
    query = (
        "query($id: ID!) { node(id: $id) { ... on FollowUp { conflict conflicts { kind id } } } }"
    )
    node = (await gql(query, {"id": gid("FollowUp", row.id)}))["node"]
    assert sorted((c["kind"], c["id"]) for c in node["conflicts"]) == sorted(
        [("ASSOCIATE", gid("Associate", w["bob"].id)), ("RESOURCE", gid("Resource", w["fjord"].id))]
    )
    bob = await client_for(http, w["bob"])
    await bob(
        'mutation($id: ID!) { updateFollowUp(id: $id, version: 1, input: {start: "2026-03-02T15:00:00Z"}) { errors { code } } }',
        {"id": gid("FollowUp", other.id)},
    )
    await followups.update(
        w["cid"],
        booked.id,
        (await m.FollowUp.get(id=booked.id)).version,
        {"availability_free": None} and {"busy": False},
    )
    node = (await gql(query, {"id": gid("FollowUp", row.id)}))["node"]
    assert node == {"conflict": False, "conflicts": []}


async def test_free_and_declined_do_not_block_but_occurrences_do(
    http: Any, world: dict[str, Any]
) -> None:
    w = world
    gql = await client_for(http, w["ann"])
    await meeting(w["bob"], busy=False)  # a "free" follow-up
    invite = await meeting(w["cid"])
    await _save(
        await client_for(http, w["cid"]), invite, [{"associateId": gid("Associate", w["bob"].id)}]
    )
    bob_part = await m.Participant.get(followup_id=invite.id, associate_id=w["bob"].id)
    bob_gql = await client_for(http, w["bob"])
    answer = await bob_gql(
        "mutation($p: ID!) { setParticipantStatus(participantId: $p, status: DECLINED) { participant { status } errors { code } } }",
        {"p": gid("Participant", bob_part.id)},
    )
    assert answer["setParticipantStatus"]["participant"]["status"] == "DECLINED"
    fb = """query($a: [ID!], $from: DateTime!, $to: DateTime!) {
      freeBusy(associateIds: $a, from: $from, to: $to) { kind id busy tentative } }"""
    window = {
        "a": [gid("Associate", w["bob"].id)],
        "from": z(T0 - timedelta(days=1)),
        "to": z(T0 + timedelta(days=8)),
    }
    assert (await gql(fb, window))["freeBusy"][0]["busy"] == []
    await followups.create(
        w["bob"],
        {
            "title": "Weekly",
            "start_at": T0 + timedelta(days=1),
            "end_at": T0 + timedelta(days=1, hours=1),
            "recurrence": __import__("resolvers.series", fromlist=["x"]).parse_spec(
                "FREQ=DAILY;COUNT=3", None, [], []
            ),
        },
    )
    busy = (await gql(fb, window))["freeBusy"][0]
    assert busy["busy"] == [
        "2026-03-03T09:00:00Z/2026-03-03T10:00:00Z",
        "2026-03-04T09:00:00Z/2026-03-04T10:00:00Z",
        "2026-03-05T09:00:00Z/2026-03-05T10:00:00Z",
    ]
    row = await meeting(w["ann"], T0 + timedelta(days=2))
    saved = await _save(gql, row, [{"associateId": gid("Associate", w["bob"].id)}])
    assert saved["followUp"]["conflict"] is True


async def test_tentative_is_told_apart(http: Any, world: dict[str, Any]) -> None:
    w = world
    gql = await client_for(http, w["ann"])
    row = await meeting(w["ann"])
    await _save(gql, row, [{"associateId": gid("Associate", w["bob"].id)}])
    await meeting(w["bob"], T0 + timedelta(minutes=30))
    fb = """query($a: [ID!], $from: DateTime!, $to: DateTime!) {
      freeBusy(associateIds: $a, from: $from, to: $to) { busy tentative } }"""
    got = await gql(
        fb, {"a": [gid("Associate", w["bob"].id)], "from": z(T0), "to": z(T0 + timedelta(days=1))}
    )
    assert got["freeBusy"] == [
        {
            "busy": ["2026-03-02T09:30:00Z/2026-03-02T10:30:00Z"],
            "tentative": ["2026-03-02T09:00:00Z/2026-03-02T09:30:00Z"],
        }
    ]


async def test_status_on_behalf_toggle_and_history(http: Any, world: dict[str, Any]) -> None:
    w = world
    gql = await client_for(http, w["ann"])
    row = await meeting(w["ann"])
    await _save(gql, row, [{"personId": gid("Person", w["kari"].id)}])
    pid = gid(
        "Participant", (await m.Participant.get(followup_id=row.id, person_id=w["kari"].id)).id
    )
    toggle = """mutation($p: ID!) { toggleParticipantStatus(participantId: $p) {
      participant { status statusSetBy { name } statusHistory { status via setBy { name } } }
      errors { code } } }"""
    seen = [
        (await gql(toggle, {"p": pid}))["toggleParticipantStatus"]["participant"] for _ in range(3)
    ]
    assert [s["status"] for s in seen] == ["ACCEPTED", "DECLINED", "INVITED"]
    assert seen[-1]["statusSetBy"] == {"name": "Ann"}
    assert [h["status"] for h in seen[-1]["statusHistory"]] == ["ACCEPTED", "DECLINED", "INVITED"]
    outsider = await client_for(http, w["cid"])
    refused = await outsider(toggle, {"p": pid})
    assert refused["toggleParticipantStatus"]["errors"] == [{"code": "FORBIDDEN"}]


async def test_email_switch_rules(http: Any, world: dict[str, Any]) -> None:
    w = world
    plain = await client_for(http, w["ann"])
    row = await meeting(w["ann"])
    off = await _save(plain, row, [{"personId": gid("Person", w["kari"].id)}], email=True)
    assert off["errors"][0]["code"] == "MAIL_NOT_CONFIGURED"
    gql = await gql_for(http, w["ann"], mailing())
    people = [
        {"personId": gid("Person", w["kari"].id)},
        {"personId": gid("Person", w["ola"].id)},
        {"associateId": gid("Associate", w["cid"].id)},
        {"associateId": gid("Associate", w["bob"].id)},
    ]
    saved = await _save(gql, row, people, email=True)
    flags = {
        (p["person"] or p["associate"] or {}).get("fullName") or p["associate"]["name"]: (
            p["emailInvitation"],
            p["emailUnavailableReason"],
        )
        for p in saved["followUp"]["participants"]
    }
    assert flags == {
        "Ann": (False, "ORGANISER"),
        "Kari K": (True, None),
        "Ola O": (False, "INVALID_ADDRESS"),
        "Cid": (False, "NO_ADDRESS"),
        "Bob": (True, None),
    }
    before = await snapshot()
    forced = await _save(
        gql, row, [{"personId": gid("Person", w["ola"].id), "emailInvitation": True}]
    )
    assert forced["errors"][0]["code"] == "VALIDATION"
    assert forced["errors"][0]["path"] == ["participants", "0", "emailInvitation"]
    assert await snapshot() == before
    ola = await m.Participant.get(followup_id=row.id, person_id=w["ola"].id)
    one = await gql(
        "mutation($p: ID!) { setEmailInvitation(participantId: $p, enabled: true) { errors { code } } }",
        {"p": gid("Participant", ola.id)},
    )
    assert one["setEmailInvitation"]["errors"] == [{"code": "VALIDATION"}]
    await gql(
        "mutation($f: ID!) { setEmailInvitations(followUpId: $f, enabled: false) { errors { code } } }",
        {"f": gid("FollowUp", row.id)},
    )
    assert not await m.Participant.filter(followup_id=row.id, email_invitation=True).exists()
    await gql.http.aclose()


async def test_refusing_room_race_has_exactly_one_winner(http: Any, world: dict[str, Any]) -> None:
    w = world
    rows = [await meeting(w["ann"], T0 + timedelta(minutes=2 * i)) for i in range(20)]
    gql = await client_for(http, w["ann"])

    async def book(row: m.FollowUp) -> dict[str, Any]:
        return await gql(
            SAVE,
            {"f": gid("FollowUp", row.id), "v": 1, "p": [], "r": [gid("Resource", w["board"].id)]},
        )

    results = await asyncio.gather(*(book(r) for r in rows))
    wins = [r for r in results if not r["saveParticipants"]["errors"]]
    losses = [
        r["saveParticipants"]["errors"][0]["code"]
        for r in results
        if r["saveParticipants"]["errors"]
    ]
    assert len(wins) == 1 and losses == ["CONFLICT"] * 19
    assert await m.ResourceBooking.filter(resource_id=w["board"].id).count() == 1
    # a double-booking room only flags it
    versions = [(await m.FollowUp.get(id=r.id)).version for r in rows[:3]]
    results = await asyncio.gather(
        *(
            gql(
                SAVE,
                {
                    "f": gid("FollowUp", r.id),
                    "v": v,
                    "p": [],
                    "r": [gid("Resource", w["fjord"].id)],
                },
            )
            for r, v in zip(rows[:3], versions, strict=True)
        )
    )
    assert all(not r["saveParticipants"]["errors"] for r in results)
    assert all(r["saveParticipants"]["followUp"]["conflict"] for r in results)


async def test_moving_into_a_refusing_room_is_refused(http: Any, world: dict[str, Any]) -> None:
    w = world
    gql = await client_for(http, w["ann"])
    first, second = await meeting(w["ann"]), await meeting(w["ann"], T0 + timedelta(hours=3))
    await _save(gql, first, [], [w["board"].id])
    await _save(gql, second, [], [w["board"].id])
    moved = await gql(
        'mutation($id: ID!, $v: Int!) { updateFollowUp(id: $id, version: $v, input: {start: "2026-03-02T09:30:00Z"}) { errors { code } } }',
        {"id": gid("FollowUp", second.id), "v": (await m.FollowUp.get(id=second.id)).version},
    )
    assert moved["updateFollowUp"]["errors"] == [{"code": "CONFLICT"}]


async def test_first_free_slots_across_two_time_zones(http: Any, world: dict[str, Any]) -> None:
    w = world
    for who, zone in ((w["ann"], "Europe/Oslo"), (w["bob"], "America/New_York")):
        await m.Preference.create(
            key="TIME_ZONE",
            scope=m.PreferenceScope.ASSOCIATE,
            scope_key=f"associate:{who.id}",
            value=zone,
        )
    # Oslo 08-16 = 07-15Z; New York 08-16 = 13-21Z (March 2: both on standard time) -> 13-15Z
    await meeting(w["ann"], datetime(2026, 3, 2, 13, 0, tzinfo=UTC), hours=1)
    gql = await client_for(http, w["ann"])
    query = """query($a: [ID!], $r: [ID!], $from: DateTime!, $to: DateTime!) {
      firstFreeSlots(associateIds: $a, resourceIds: $r, durationMinutes: 30, from: $from, to: $to,
                     limit: 3, stepMinutes: 30) { start end } }"""
    got = await gql(
        query,
        {
            "a": [gid("Associate", w["ann"].id), gid("Associate", w["bob"].id)],
            "r": [gid("Resource", w["fjord"].id)],
            "from": "2026-03-02T00:00:00Z",
            "to": "2026-03-04T00:00:00Z",
        },
    )
    assert [s["start"] for s in got["firstFreeSlots"]] == [
        "2026-03-02T14:00:00+00:00",
        "2026-03-02T14:30:00+00:00",
        "2026-03-03T13:00:00+00:00",
    ]


async def test_duplicates_are_one_validation_error_with_a_path(
    http: Any, world: dict[str, Any]
) -> None:
    gql = await client_for(http, world["ann"])
    fid = gid("FollowUp", (await meeting(world["ann"])).id)
    bob, kari = gid("Associate", world["bob"].id), gid("Person", world["kari"].id)
    fjord = gid("Resource", world["fjord"].id)
    before = await snapshot()
    cases = [
        ([{"associateId": bob}, {"personId": kari}, {"associateId": bob}], [],
         ["participants", "2", "associateId"]),
        ([{"personId": kari}, {"associateId": bob}, {"personId": kari}], [],
         ["participants", "2", "personId"]),
        ([{"associateId": bob}], [fjord, fjord], ["resourceIds", "1"]),
    ]  # fmt: skip
    for people, rooms, path in cases:
        result = (await gql(SAVE, {"f": fid, "v": 1, "p": people, "r": rooms}))["saveParticipants"]
        assert [(e["code"], e["path"]) for e in result["errors"]] == [("VALIDATION", path)]
        assert result["followUp"] is None
    assert await snapshot() == before


async def test_concurrent_saves_with_one_version_one_wins(http: Any, world: dict[str, Any]) -> None:
    gql = await client_for(http, world["ann"])
    row = await meeting(world["ann"])
    fid = gid("FollowUp", row.id)
    people = [{"associateId": gid("Associate", world["bob"].id)},
              {"personId": gid("Person", world["kari"].id)}]  # fmt: skip
    rooms = [gid("Resource", world["board"].id)]

    async def save() -> dict[str, Any]:
        body = await gql.raw(SAVE, {"f": fid, "v": 1, "p": people, "r": rooms})
        assert "errors" not in body, body  # never INTERNAL
        return dict(body["data"]["saveParticipants"])

    results = await asyncio.gather(*(save() for _ in range(10)))
    won = [r for r in results if not r["errors"]]
    lost = [r["errors"] for r in results if r["errors"]]
    assert len(won) == 1 and won[0]["followUp"]["version"] == 2
    assert all(e == [{"code": "VERSION_CONFLICT", "message": e[0]["message"], "path": []}]
               for e in lost), lost  # fmt: skip
    assert await m.Participant.filter(followup_id=row.id).count() == 3
    assert await m.ResourceBooking.filter(followup_id=row.id).count() == 1
    assert (await m.FollowUp.get(id=row.id)).version == 2


async def test_participants_by_address_only_kept_matched_and_validated(
    http: Any, world: dict[str, Any]
) -> None:
    """``email``: someone who is neither associate nor contact (an imported attendee)."""
    w = world
    gql = await client_for(http, w["ann"])
    row = await meeting(w["ann"])
    f = gid("FollowUp", row.id)
    first = await gql(SAVE, {"f": f, "v": row.version, "p": [{"email": "zoe@out.example"}]})
    assert not first["saveParticipants"]["errors"], first
    made = await m.Participant.get(followup_id=row.id, organiser=False)
    assert (made.associate_id, made.person_id, made.email) == (None, None, "zoe@out.example")
    shown = first["saveParticipants"]["followUp"]["participants"]
    assert [(p["associate"], p["person"]) for p in shown if not p["organiser"]] == [(None, None)]
    version = first["saveParticipants"]["followUp"]["version"]
    again = await gql(
        SAVE,
        {
            "f": f,
            "v": version,
            "p": [{"email": " ZOE@out.example "}, {"personId": gid("Person", w["kari"].id)}],
        },
    )
    assert not again["saveParticipants"]["errors"], again
    kept = await m.Participant.get(followup_id=row.id, email__iexact="zoe@out.example")
    assert kept.id == made.id  # the same participant (status and history stay)
    version = again["saveParticipants"]["followUp"]["version"]
    for bad, path in (
        ([{"email": "not an address"}], "participants.0.email"),
        ([{"email": "a@b.example", "personId": gid("Person", w["kari"].id)}], "participants.0"),
        ([{"email": "a@b.example"}, {"email": "A@b.example"}], "participants.1.email"),
    ):
        refused = await gql(SAVE, {"f": f, "v": version, "p": bad})
        errors = refused["saveParticipants"]["errors"]
        assert [(e["code"], ".".join(e["path"])) for e in errors] == [("VALIDATION", path)], refused
    dropped = await gql(SAVE, {"f": f, "v": version, "p": []})
    assert not dropped["saveParticipants"]["errors"]
    assert not await m.Participant.filter(followup_id=row.id).exists()
