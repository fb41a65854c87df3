"""A private meeting with every kind of related object, walked through the whole schema.

The test builds a private meeting and a private recurring series (with an overridden
occurrence) that carry unique marker strings in everything linked to them: participants
of each kind (an associate, a contact person with e-mail, an external address), a room,
a counter proposal, status history, mail deliveries, calendar sync states, and the
company, person, sale, project and activity type they are linked to.  Then, as an
outsider associate, it calls every root Query field of the schema (with the arguments
below) and ``node(id:)`` for the global ID of every object, each selecting every field
reachable from its type (queries built from the introspected schema), and asserts that:

- no *secret* marker (title, agenda, location, uid, proposal text, an address only the
  invitation knows, delivery and sync errors) appears anywhere in any answer;
- no *link* marker (names, addresses and IDs of the records the meeting is linked to)
  appears inside the meeting's redacted objects or its participants, proposals, ...
  (those records themselves are ordinary CRM data, listed elsewhere);
- the dialog's candidate lists answer the same with and without the private ID;
- lists by linked record leave the private items out of page and count.

The owner walks the same queries and must see every secret marker (not vacuous).
A root field, node type or field argument the walker has no recipe for fails the test.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from graphql import (
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLUnionType,
    get_named_type,
)
from strawberry import relay

from config.settings import Secret, Settings
from orm import models as m
from orm.outbox_models import MailOutbox
from orm.outbox_models import Proposal as ProposalRow
from orm.sync_models import CalendarAccount, CalendarObject, CalendarPull
from resolvers.live import Cursor
from schema import schema as strawberry_schema
from tests.helpers import Gql, associate, client_for, gid

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
WINDOW = {"from": "2026-02-23T00:00:00Z", "to": "2026-04-06T00:00:00Z"}
DEPTH = 5  # object levels below a root field's type

# strings only the private meetings (and their side objects) hold
SECRET = {
    "title": "Zq-title-single",
    "agenda": "Zq-agenda-single",
    "location": "Zq-location-single",
    "uid": "zq-uid-single@followups",
    "series title": "Zq-title-series",
    "series location": "Zq-location-series",
    "series uid": "zq-uid-series@followups",
    "override title": "Zq-title-override",
    "override agenda": "Zq-agenda-override",
    "override location": "Zq-location-override",
    "proposal location": "Zq-proposal-location",
    "proposal comment": "Zq-proposal-comment",
    "external address": "zq-external@elsewhere.example",
    "delivery error": "Zq-delivery-error",
    "sync error": "Zq-sync-error",
    "conflict value": "Zq-conflict-value",
}
# names and addresses of the records the meetings are linked to (IDs are added at run time)
LINK = {
    "person first name": "Zl-Kari",
    "person last name": "Zl-Nordmann",
    "person address": "zl-kari@acme.example",
    "company": "Zl-Acme",
    "sale": "Zl-sale",
    "project": "Zl-project",
    "activity type": "Zl-type",
    "room": "Zl-room",
    "room address": "zl-room@rooms.example",
    "insider name": "Zl-Insider",
    "insider address": "zl-insider@example.com",
}
# the types of the side objects of a follow-up: inside them no link marker may show
SIDE_TYPES = {
    "Participant",
    "Proposal",
    "StatusChange",
    "MailDelivery",
    "CalendarSync",
    "InboundOutcome",
    "CalendarConflict",
}


@pytest.fixture
def settings() -> Settings:
    return Settings(
        database_url="unused",
        smtp_host="127.0.0.1",
        smtp_port=9,
        smtp_starttls=False,
        secret_key=Secret("privacy-walk"),
        max_query_cost=10**9,
        max_aliases=1000,
        rate_limit_per_minute=100_000,
        rate_limit_burst=100_000,
    )


# ---------------------------------------------------------------- the world


CREATE = """mutation($input: FollowUpInput!) { createFollowUp(input: $input) {
  followUp { id version } errors { code message } } }"""
UPDATE = """mutation($id: ID!, $v: Int!, $input: FollowUpInput!) {
  updateFollowUp(id: $id, version: $v, input: $input, scope: THIS) {
    followUp { id version } errors { code message } } }"""
SAVE = """mutation($f: ID!, $v: Int!, $p: [ParticipantInput!]!, $r: [ID!]) {
  saveParticipants(followUpId: $f, version: $v, participants: $p, resourceIds: $r,
                   emailInvitations: true) {
    followUp { id version participants { id } } errors { code message } } }"""
STATUS = """mutation($p: ID!) { setParticipantStatus(participantId: $p, status: ACCEPTED) {
  participant { id } errors { code message } } }"""
TOGGLE = """mutation($p: ID!) { toggleParticipantStatus(participantId: $p) {
  participant { id } errors { code message } } }"""
OCCURRENCES = """query($a: [ID!]!, $from: DateTime!, $to: DateTime!) {
  diary(associateIds: $a, from: $from, to: $to) { id seriesId recurrenceId } }"""


def _ok(body: dict[str, Any], field: str) -> dict[str, Any]:
    payload = body[field]
    assert not payload["errors"], payload
    return dict(payload)


async def _world(http: httpx.AsyncClient) -> dict[str, Any]:
    group = await m.UserGroup.create(name="Sales")
    owner = await associate("Olav", group=group)
    insider = await associate(LINK["insider name"], email=LINK["insider address"], group=group)
    outsider = await associate("Una")
    acme = await m.Company.create(name=LINK["company"], country="NO")
    kari = await m.Person.create(
        first_name=LINK["person first name"], last_name=LINK["person last name"], company=acme
    )
    await m.EmailAddress.create(person=kari, address=LINK["person address"])
    phone = await m.PhoneNumber.create(person=kari, number="+4722334455")
    external = await m.Person.create(first_name="Ext", last_name="Guest")
    ext_mail = await m.EmailAddress.create(person=external, address=SECRET["external address"])
    sale = await m.Sale.create(title=LINK["sale"], company=acme, person=kari)
    project = await m.Project.create(name=LINK["project"])
    await m.ProjectMember.create(project=project, person=kari)
    await m.ProjectMember.create(project=project, associate=insider)
    selection = await m.Selection.create(name="Newsletter")
    await m.SelectionMember.create(selection=selection, person=kari)
    kind = await m.ActivityType.create(name=LINK["activity type"])
    rooms = await m.ResourceGroup.create(name="Rooms")
    room = await m.Resource.create(name=LINK["room"], email=LINK["room address"], group=rooms)
    gql = await client_for(http, owner)
    links = {
        "companyId": gid("Company", acme.id),
        "personId": gid("Person", kari.id),
        "saleId": gid("Sale", sale.id),
        "projectId": gid("Project", project.id),
        "typeId": gid("ActivityType", kind.id),
    }
    people = [
        {"associateId": gid("Associate", insider.id)},
        {"personId": gid("Person", kari.id)},
        {"personId": gid("Person", external.id)},
    ]

    async def private(uid: str, **fields: Any) -> dict[str, Any]:
        made = _ok(
            await gql(CREATE, {"input": {**links, "private": True, **fields}}), "createFollowUp"
        )
        key = await _pk(made["followUp"]["id"])
        await m.FollowUp.filter(id=key).update(uid=uid)
        fu = made["followUp"]
        saved = await gql(
            SAVE, {"f": fu["id"], "v": fu["version"], "p": people, "r": [gid("Resource", room.id)]}
        )
        return _ok(saved, "saveParticipants")["followUp"] | {"pk": key}

    single = await private(
        SECRET["uid"],
        title=SECRET["title"],
        agenda=SECRET["agenda"],
        location=SECRET["location"],
        start=T0.isoformat(),
        end=(T0 + timedelta(hours=1)).isoformat(),
        alarmMinutes=15,
    )
    series = await private(
        SECRET["series uid"],
        title=SECRET["series title"],
        location=SECRET["series location"],
        start=(T0 + timedelta(days=1)).isoformat(),
        end=(T0 + timedelta(days=1, hours=1)).isoformat(),
        recurrence={"freq": "WEEKLY", "count": 4},
    )
    # an overridden occurrence of the series
    found = await gql(OCCURRENCES, {"a": [gid("Associate", owner.id)], **WINDOW})
    occurrences = [d for d in found["diary"] if d["recurrenceId"]]
    assert len(occurrences) == 4, found
    current = await m.FollowUp.get(id=series["pk"])
    _ok(
        await gql(
            UPDATE,
            {
                "id": occurrences[1]["id"],
                "v": current.version,
                "input": {
                    "title": SECRET["override title"],
                    "agenda": SECRET["override agenda"],
                    "location": SECRET["override location"],
                },
            },
        ),
        "updateFollowUp",
    )
    # the external guest's address now lives only on the invitation
    await ext_mail.delete()
    # status history: the insider answers, the organiser toggles the contact
    participants = await m.Participant.filter(followup_id=single["pk"]).order_by("id")
    by_kind = {
        ("a" if p.associate_id == insider.id else "p" if p.person_id == kari.id else "x"): p
        for p in participants
        if not p.organiser
    }
    _ok(
        await (await client_for(http, insider))(STATUS, {"p": gid("Participant", by_kind["a"].id)}),
        "setParticipantStatus",
    )
    _ok(await gql(TOGGLE, {"p": gid("Participant", by_kind["p"].id)}), "toggleParticipantStatus")
    # mail deliveries were queued by saveParticipants; one of them failed
    mails = await MailOutbox.filter(followup_id=single["pk"]).order_by("id")
    assert len(mails) >= 3
    await MailOutbox.filter(id=mails[-1].id).update(last_error=SECRET["delivery error"])
    # calendar accounts of the owner and of the room, and the sync states of the meeting
    own_account = await CalendarAccount.create(
        associate=owner, server_url="https://dav.example.com/", username="olav"
    )
    room_account = await CalendarAccount.create(
        resource=room, server_url="https://dav.example.com/", username="room"
    )
    for pk in (single["pk"], series["pk"]):
        for account in (own_account, room_account):
            await CalendarObject.create(
                account=account,
                followup_id=pk,
                uid=f"x{pk}",
                name=f"x{pk}-{account.id}.ics",
                error=SECRET["sync error"],
            )
    # a conflict the owner's calendar left on the meeting (the calendar's value kept)
    conflict = await CalendarPull.create(
        account=own_account,
        followup_id=single["pk"],
        name=f"x{single['pk']}-{own_account.id}.ics",
        outcome="CONFLICT",
        fields_changed=["location"],
        calendar_values={"location": SECRET["conflict value"]},
    )
    # a counter proposal from the contact
    proposal = await ProposalRow.create(
        followup_id=single["pk"],
        participant_id=by_kind["p"].id,
        attendee_email=LINK["person address"],
        start_at=T0 + timedelta(hours=3),
        end_at=T0 + timedelta(hours=4),
        location=SECRET["proposal location"],
        comment=SECRET["proposal comment"],
    )
    # a public follow-up on the same company, elsewhere in time: listed for everyone
    public = _ok(
        await gql(
            CREATE,
            {
                "input": {
                    "title": "Open day",
                    "companyId": links["companyId"],
                    "start": (T0 - timedelta(days=3)).isoformat(),
                }
            },
        ),
        "createFollowUp",
    )
    # the insider is busy elsewhere at the same time: the private meeting has a conflict
    insider_gql = await client_for(http, insider)
    _ok(
        await insider_gql(
            CREATE,
            {
                "input": {
                    "title": "Dentist",
                    "start": T0.isoformat(),
                    "end": (T0 + timedelta(hours=1)).isoformat(),
                }
            },
        ),
        "createFollowUp",
    )
    conflicts = await gql(
        "query($id: ID!) { node(id: $id) { ... on FollowUp { conflicts { id } } } }",
        {"id": gid("FollowUp", single["pk"])},
    )
    assert conflicts["node"]["conflicts"], conflicts
    token = await m.ApiToken.filter(associate_id=owner.id).first()
    assert token is not None
    all_participants = await m.Participant.all()
    ids: dict[str, list[str]] = {
        "FollowUp": [
            gid("FollowUp", single["pk"]),
            gid("FollowUp", series["pk"]),
            *(o["id"] for o in occurrences),
            public["followUp"]["id"],
        ],
        "Participant": [gid("Participant", p.id) for p in all_participants],
        "Proposal": [gid("Proposal", proposal.id)],
        "Associate": [gid("Associate", a.id) for a in (owner, insider, outsider)],
        "Person": [gid("Person", kari.id), gid("Person", external.id)],
        "Company": [links["companyId"]],
        "Sale": [links["saleId"]],
        "Project": [links["projectId"]],
        "Selection": [gid("Selection", selection.id)],
        "ActivityType": [links["typeId"]],
        "Resource": [gid("Resource", room.id)],
        "ResourceGroup": [gid("ResourceGroup", rooms.id)],
        "UserGroup": [gid("UserGroup", group.id)],
        "PhoneNumber": [gid("PhoneNumber", phone.id)],
        "CalendarAccount": [gid("CalendarAccount", a.id) for a in (own_account, room_account)],
        "ApiToken": [gid("ApiToken", token.id)],
        "CalendarConflict": [gid("CalendarConflict", conflict.id)],
    }
    link_ids = [
        links["companyId"],
        links["personId"],
        links["saleId"],
        links["projectId"],
        links["typeId"],
        gid("Resource", room.id),
        gid("Associate", insider.id),
        gid("Person", external.id),
    ]
    return {
        "owner": owner,
        "insider": insider,
        "outsider": outsider,
        "ids": ids,
        "links": links,
        "link_ids": link_ids,
        "private_series": {gid("FollowUp", single["pk"]), gid("FollowUp", series["pk"])},
        "selection": gid("Selection", selection.id),
        "group": gid("UserGroup", group.id),
        "rooms": gid("ResourceGroup", rooms.id),
        "room": gid("Resource", room.id),
        "persons": [gid("Person", kari.id), gid("Person", external.id)],
    }


async def _pk(global_id: str) -> int:
    from schema.ids import decode_raw

    return int(decode_raw(global_id, "FollowUp", "id"))


# ---------------------------------------------------------------- the walker

# nested fields that need arguments: "Type.field" -> GraphQL argument text
NESTED_ARGS: dict[str, str] = {}


def _object_types(t: Any) -> list[GraphQLObjectType]:
    named = get_named_type(t)
    if isinstance(named, GraphQLObjectType):
        return [named]
    if isinstance(named, GraphQLInterfaceType | GraphQLUnionType):
        return list(strawberry_schema._schema.get_possible_types(named))
    return []


def selection(t: Any, depth: int, path: tuple[str, ...] = ()) -> str:
    """Every field of ``t`` (fragments for each type of an interface), ``depth`` levels."""
    parts = ["__typename"]
    for obj in _object_types(t):
        inner = []
        for name, field in obj.fields.items():
            inner.append(_field(obj, name, field, depth, (*path, obj.name)))
        body = " ".join(x for x in inner if x)
        parts.append(f"... on {obj.name} {{ {body} }}" if body else "")
    return " ".join(p for p in parts if p)


def _field(
    obj: GraphQLObjectType, name: str, field: GraphQLField, depth: int, path: tuple[str, ...]
) -> str:
    required = [
        a
        for a, arg in field.args.items()
        if isinstance(arg.type, GraphQLNonNull) and arg.default_value is None
    ]
    key = f"{obj.name}.{name}"
    args = NESTED_ARGS.get(key, "")
    if required and not args:
        raise AssertionError(f"the walker has no arguments for {key}: add them to NESTED_ARGS")
    call = f"{name}({args})" if args else name
    targets = _object_types(field.type)
    if not targets:
        return call
    if depth <= 0 or any(t.name in path for t in targets):
        return ""  # too deep, or a cycle: that type is walked from elsewhere
    sub = selection(field.type, depth - 1, path)
    return f"{call} {{ {sub} }}"


def root_fields() -> dict[str, GraphQLField]:
    query = strawberry_schema._schema.query_type
    assert query is not None
    return dict(query.fields)


def node_types() -> set[str]:
    node = strawberry_schema._schema.get_type("Node")
    assert isinstance(node, GraphQLInterfaceType)
    return {t.name for t in strawberry_schema._schema.get_possible_types(node)}


def _literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str) and value.isupper() and value.replace("_", "").isalpha():
        return value  # an enum value
    if isinstance(value, list):
        return "[" + ", ".join(_literal(v) for v in value) + "]"
    return json.dumps(value)


def document(field: str, args: dict[str, Any]) -> str:
    """The query of one root field with ``args``, selecting everything ``DEPTH`` deep."""
    f = root_fields()[field]
    known = set(f.args)
    unknown = set(args) - known
    assert not unknown, f"{field} has no arguments {unknown}"
    text = ", ".join(f"{k}: {_literal(v)}" for k, v in args.items())
    if field == "nodes":  # one type per call (kinds of different types would clash)
        (keys,) = args.values()
        type_name = relay.GlobalID.from_id(keys[0]).type_name
        obj = strawberry_schema._schema.get_type(type_name)
        inner = selection(obj, DEPTH)
        return f"{{ nodes({text}) {{ __typename ... on {type_name} {{ {inner} }} }} }}"
    call = f"{field}({text})" if text else field
    if not _object_types(f.type):
        return f"{{ {call} }}"
    return f"{{ {call} {{ {selection(f.type, DEPTH)} }} }}"


def node_document(type_name: str, node_id: str) -> str:
    obj = strawberry_schema._schema.get_type(type_name)
    return f"{{ node(id: {json.dumps(node_id)}) {{ __typename ... on {type_name} {{ {selection(obj, DEPTH)} }} }} }}"


def recipes(w: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Arguments for every root field: each list entry is one call."""
    people = [gid("Associate", a.id) for a in (w["owner"], w["insider"], w["outsider"])]
    who = {"associateIds": people, "resourceIds": [w["room"]], "personIds": w["persons"]}
    followups = w["ids"]["FollowUp"]
    sources = [
        {"source": "ASSOCIATES"},
        {"source": "ASSOCIATES", "userGroupId": w["group"]},
        {"source": "CONTACTS", "companyId": w["links"]["companyId"]},
        {"source": "CONTACTS", "personId": w["links"]["personId"]},
        {"source": "PROJECT", "projectId": w["links"]["projectId"]},
        {"source": "SELECTION", "selectionId": w["selection"]},
        {"source": "RESOURCES"},
        {"source": "RESOURCES", "resourceGroupId": w["rooms"]},
    ]
    slot = {"start": T0.isoformat(), "end": (T0 + timedelta(hours=1)).isoformat()}
    by_record = [{k: v} for k, v in w["links"].items() if k != "typeId"]
    live_after = Cursor(0, datetime.now(UTC)).encode()  # every change of the world
    return {
        "me": [{}],
        "associates": [{}, {"userGroupId": w["group"], "includeInactive": True}, {"search": "Zl"}],
        "userGroups": [{}],
        "companies": [{}, {"search": "Zl"}],
        "persons": [{}, {"companyId": w["links"]["companyId"]}],
        "projects": [{}],
        "sales": [{}],
        "selections": [{}],
        "resourceGroups": [{}],
        "resources": [{}, {"resourceGroupId": w["rooms"]}],
        "activityTypes": [{}],
        "diary": [{"associateIds": [a], **WINDOW} for a in people]
        + [{"associateIds": people, **WINDOW}],
        "todo": [{}, *({"associateId": a, "includeDone": True} for a in people)],
        "todos": [{}, *({"associateId": a, "includeDone": True} for a in people)],
        "nodes": [{"ids": keys[:100]} for keys in w["ids"].values()],
        "activities": [*by_record, *({**r, **WINDOW} for r in by_record)],
        "participantCandidates": [
            {**src, **slot, **({"followUpId": f} if f else {})}
            for src in sources
            for f in (None, *followups[:2], followups[3])  # single, series, the override
        ],
        "candidates": [
            {**src, **slot, **({"followUpId": f} if f else {})}
            for src in sources
            for f in (None, *followups[:2], followups[3])
        ],
        "resourceDiary": [{"resourceIds": [w["room"]], **WINDOW}],
        "followUpChangesSince": [
            {"associateIds": people, "resourceIds": [w["room"]], "after": live_after},
            {"associateIds": people},
        ],
        "freeBusy": [{**who, **WINDOW}],
        "firstFreeSlots": [{**who, **WINDOW, "durationMinutes": 60}],
        "preferences": [{}, *({"associateId": a} for a in people)],
        "apiTokens": [{}, {"associateId": gid("Associate", w["owner"].id)}],
        "calendarAccounts": [
            {},
            {"associateId": gid("Associate", w["owner"].id)},
            {"resourceId": w["room"]},
        ],
        "calendarConflicts": [{}, {"associateId": gid("Associate", w["owner"].id)}],
        "mailboxes": [
            {},
            {"associateId": gid("Associate", w["owner"].id)},
            {"shared": True},
        ],
    }


async def walk(
    gql: Gql, w: dict[str, Any], only: set[str] | None = None
) -> list[tuple[str, dict[str, Any]]]:
    """Every root field with every recipe and ``node`` of every ID: (label, answer).

    ``only``: just these root fields (and ``node``), for a second, quicker look.
    """
    table = {k: v for k, v in recipes(w).items() if only is None or k in only}
    missing = set(root_fields()) - set(recipes(w)) - {"node"}
    assert not missing, f"the walker has no recipe for root fields {sorted(missing)}"
    missing_nodes = node_types() - set(w["ids"])
    assert not missing_nodes, f"the walker has no IDs of node types {sorted(missing_nodes)}"
    out = []
    for field, calls in table.items():
        for args in calls:
            body = await gql.raw(document(field, args))
            assert not body.get("errors"), (field, args, body["errors"])
            out.append((f"{field}({args})", body))
    for type_name, keys in w["ids"].items():
        for key in keys:
            body = await gql.raw(node_document(type_name, key))
            assert not body.get("errors"), (type_name, key, body["errors"])
            out.append((f"node({type_name} {key})", body))
    return out


def _inside_meeting(value: Any, private: set[str], inside: bool = False) -> list[str]:
    """Every string inside a private follow-up's object or one of the side types."""
    found: list[str] = []
    if isinstance(value, dict):
        here = (
            inside
            or value.get("__typename") in SIDE_TYPES
            or (value.get("__typename") == "FollowUp" and value.get("seriesId") in private)
        )
        for v in value.values():
            found += _inside_meeting(v, private, here)
    elif isinstance(value, list):
        for v in value:
            found += _inside_meeting(v, private, inside)
    elif isinstance(value, str) and inside:
        found.append(value)
    return found


def _followups(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, dict):
        own = [value] if value.get("__typename") == "FollowUp" else []
        return own + [x for v in value.values() for x in _followups(v)]
    if isinstance(value, list):
        return [x for v in value for x in _followups(v)]
    return []


async def test_outsider_walks_every_field_and_node_without_seeing_the_private_meeting(
    http: httpx.AsyncClient,
) -> None:
    w = await _world(http)
    answers = await walk(await client_for(http, w["outsider"]), w)
    link = [*LINK.values(), *w["link_ids"]]
    for label, body in answers:
        text = json.dumps(body)
        leaked = [k for k, v in SECRET.items() if v in text]
        assert not leaked, f"{label} shows {leaked}: {text[:2000]}"
        inside = " ".join(_inside_meeting(body, w["private_series"]))
        shown = [v for v in link if v in inside]
        assert not shown, f"{label} links the private meeting to {shown}: {text[:2000]}"
        for fu in _followups(body):
            if fu.get("seriesId") in w["private_series"]:
                assert fu.get("redacted") is True, (label, fu)
    # the dialog answers the same with and without a private follow-up's ID
    by_label = dict(answers)
    for field in ("participantCandidates", "candidates"):
        for src in recipes(w)[field]:
            if "followUpId" in src:
                plain = {k: v for k, v in src.items() if k != "followUpId"}
                assert (
                    by_label[f"{field}({src})"]["data"] == by_label[f"{field}({plain})"]["data"]
                ), src
    # lists by linked record: only the public follow-up, in the page and in the count
    for key, value in w["links"].items():
        if key == "typeId":
            continue
        answer = by_label[f"activities({ {key: value} })"]["data"]["activities"]
        expected = 1 if key == "companyId" else 0
        assert answer["totalCount"] == expected, (key, answer)
        assert len(answer["nodes"]) == expected, (key, answer)
    # linked objects by ID: null, as for anything hidden
    for type_name in ("Participant", "Proposal"):
        for key in w["ids"][type_name]:
            assert by_label[f"node({type_name} {key})"]["data"]["node"] is None, (type_name, key)


async def test_owner_and_insider_see_the_markers(http: httpx.AsyncClient) -> None:
    w = await _world(http)
    answers = await walk(await client_for(http, w["owner"]), w)
    text = " ".join(json.dumps(body) for _, body in answers)
    unseen = [k for k, v in SECRET.items() if v not in text]
    assert not unseen, f"the owner does not see {unseen}: the walk proves nothing"
    by_label = dict(answers)
    counts = {
        key: by_label[f"activities({ {key: value} })"]["data"]["activities"]["totalCount"]
        for key, value in w["links"].items()
        if key != "typeId"
    }
    assert counts == {"companyId": 3, "personId": 2, "saleId": 2, "projectId": 2}
    # an associate participant sees the meeting in full too (not its proposals: organiser only)
    answers = await walk(await client_for(http, w["insider"]), w, only={"diary"})
    text = " ".join(json.dumps(body) for _, body in answers)
    for key in ("title", "agenda", "location", "uid", "override title", "external address"):
        assert SECRET[key] in text, key
