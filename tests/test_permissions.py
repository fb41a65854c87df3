"""Every query and mutation, called by an associate who must not see or change the record.

The table is checked against schema.graphql: a new root field fails this test until it
has a row here, so no field ships without a permission check.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from graphql import GraphQLObjectType, build_schema

from orm import models as m
from resolvers import followups
from tests.helpers import associate, client_for, gid, snapshot

ROOT = Path(__file__).resolve().parent.parent
SECRETS = ("Secret title", "secret agenda", "secret place", "Kari")
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

# root field -> (document, variables builder, expected error code or None for "read: no leak")
READ = None
CASES: dict[str, tuple[str, Any, str | None]] = {
    "node": (
        "query($id: ID!) { node(id: $id) { ... on FollowUp { title agenda location redacted participants { email } } } }",
        lambda w: {"id": w["fid"]},
        READ,
    ),
    "nodes": (
        "query($id: ID!) { nodes(ids: [$id]) { ... on FollowUp { title agenda location redacted participants { email } } } }",
        lambda w: {"id": w["fid"]},
        READ,
    ),
    "me": ("{ me { name } }", lambda w: {}, READ),
    "associates": ("{ associates { nodes { name email } } }", lambda w: {}, READ),
    "userGroups": ("{ userGroups { name } }", lambda w: {}, READ),
    "companies": ("{ companies { nodes { name } } }", lambda w: {}, READ),
    "persons": ("{ persons { nodes { fullName } } }", lambda w: {}, READ),
    "projects": ("{ projects { nodes { name } } }", lambda w: {}, READ),
    "sales": ("{ sales { nodes { title } } }", lambda w: {}, READ),
    "selections": ("{ selections { nodes { name } } }", lambda w: {}, READ),
    "resourceGroups": ("{ resourceGroups { name } }", lambda w: {}, READ),
    "resources": ("{ resources { nodes { name } } }", lambda w: {}, READ),
    "activityTypes": ("{ activityTypes { name } }", lambda w: {}, READ),
    "diary": (
        'query($a: [ID!]!) { diary(associateIds: $a, from: "2026-03-01T00:00:00Z", to: "2026-03-09T00:00:00Z") { title agenda location participants { email } } }',
        lambda w: {"a": [w["ann_id"]]},
        READ,
    ),
    "followUpChangesSince": (
        "query($a: [ID!]!, $r: [ID!], $c: String) { followUpChangesSince(associateIds: $a, resourceIds: $r, after: $c) { changes { change followUpId followUp { title agenda location participants { email } } } } }",
        lambda w: {"a": [w["ann_id"]], "r": [w["crm"]["Resource"]], "c": w["live_after"]},
        READ,
    ),
    "resourceDiary": (
        'query($r: [ID!]!) { resourceDiary(resourceIds: $r, from: "2026-03-01T00:00:00Z", to: "2026-03-09T00:00:00Z") { title agenda location participants { email } } }',
        lambda w: {"r": [w["crm"]["Resource"]]},
        READ,
    ),
    "todo": (
        "query($a: ID!) { todo(associateId: $a) { title agenda } }",
        lambda w: {"a": w["ann_id"]},
        READ,
    ),
    "todos": (
        "query($a: ID!) { todos(associateId: $a) { totalCount nodes { title agenda } } }",
        lambda w: {"a": w["ann_id"]},
        READ,
    ),
    "activities": (
        "query($c: ID!) { activities(companyId: $c) { totalCount nodes { title agenda location } } }",
        lambda w: {"c": w["company_id"]},
        READ,
    ),
    "participantCandidates": (
        'query($f: ID!) { participantCandidates(source: ASSOCIATES, start: "2026-03-02T09:00:00Z", end: "2026-03-02T10:00:00Z", followUpId: $f) { name busy } }',
        lambda w: {"f": w["fid"]},
        READ,
    ),
    "candidates": (
        'query($f: ID!) { candidates(source: ASSOCIATES, start: "2026-03-02T09:00:00Z", end: "2026-03-02T10:00:00Z", followUpId: $f) { nodes { name busy } } }',
        lambda w: {"f": w["fid"]},
        READ,
    ),
    "freeBusy": (
        'query($a: [ID!]) { freeBusy(associateIds: $a, from: "2026-03-01T00:00:00Z", to: "2026-03-09T00:00:00Z") { busy tentative } }',
        lambda w: {"a": [w["ann_id"]]},
        READ,
    ),
    "firstFreeSlots": (
        'query($a: [ID!]) { firstFreeSlots(associateIds: $a, durationMinutes: 30, from: "2026-03-02T00:00:00Z", to: "2026-03-03T00:00:00Z") { start } }',
        lambda w: {"a": [w["ann_id"]]},
        READ,
    ),
    "preferences": (
        "query($a: ID!) { preferences(associateId: $a) { key value } }",
        lambda w: {"a": w["ann_id"]},
        READ,
    ),
    "apiTokens": (
        "query($a: ID!) { apiTokens(associateId: $a) { name } }",
        lambda w: {"a": w["ann_id"]},
        READ,
    ),
    "createFollowUp": (
        'mutation($c: ID!) { createFollowUp(input: {title: "mine", start: "2026-03-02T09:00:00Z", ownerId: $c}) { errors { code } } }',
        lambda w: {"c": w["company_id"]},
        "VALIDATION",
    ),
    "updateFollowUp": (
        'mutation($id: ID!) { updateFollowUp(id: $id, version: 1, input: {title: "x"}) { errors { code } } }',
        lambda w: {"id": w["fid"]},
        "NOT_FOUND",
    ),
    "completeFollowUp": (
        "mutation($id: ID!) { completeFollowUp(id: $id) { errors { code } } }",
        lambda w: {"id": w["fid"]},
        "NOT_FOUND",
    ),
    "makeCall": (
        "mutation($id: ID!) { makeCall(id: $id) { errors { code } } }",
        lambda w: {"id": w["call_id"]},
        "NOT_FOUND",
    ),
    "deleteFollowUp": (
        "mutation($id: ID!) { deleteFollowUp(id: $id) { errors { code } } }",
        lambda w: {"id": w["fid"]},
        "NOT_FOUND",
    ),
    "saveParticipants": (
        "mutation($id: ID!) { saveParticipants(followUpId: $id, version: 1, participants: []) { errors { code } } }",
        lambda w: {"id": w["fid"]},
        "NOT_FOUND",
    ),
    "setParticipantStatus": (
        "mutation($p: ID!) { setParticipantStatus(participantId: $p, status: ACCEPTED) { errors { code } } }",
        lambda w: {"p": w["pid"]},
        "NOT_FOUND",
    ),
    "toggleParticipantStatus": (
        "mutation($p: ID!) { toggleParticipantStatus(participantId: $p) { errors { code } } }",
        lambda w: {"p": w["pid"]},
        "NOT_FOUND",
    ),
    "setEmailInvitation": (
        "mutation($p: ID!) { setEmailInvitation(participantId: $p, enabled: false) { errors { code } } }",
        lambda w: {"p": w["pid"]},
        "NOT_FOUND",
    ),
    "setEmailInvitations": (
        "mutation($id: ID!) { setEmailInvitations(followUpId: $id, enabled: false) { errors { code } } }",
        lambda w: {"id": w["fid"]},
        "NOT_FOUND",
    ),
    "setPreference": (
        'mutation($a: ID!) { setPreference(key: CALL_DURATION, scope: ASSOCIATE, value: "5", targetId: $a) { errors { code } } }',
        lambda w: {"a": w["ann_id"]},
        "FORBIDDEN",
    ),
    "callPhone": (
        "mutation($p: ID!) { callPhone(phoneId: $p) { errors { code } } }",
        lambda w: {"p": gid("PhoneNumber", 999)},
        "NOT_FOUND",
    ),
    "createApiToken": (
        'mutation { createApiToken(name: "") { errors { code } } }',
        lambda w: {},
        "VALIDATION",
    ),
    "acceptProposal": (
        "mutation($id: ID!) { acceptProposal(id: $id) { errors { code } } }",
        lambda w: {"id": w["proposal_id"]},
        "NOT_FOUND",
    ),
    "declineProposal": (
        "mutation($id: ID!) { declineProposal(id: $id) { errors { code } } }",
        lambda w: {"id": w["proposal_id"]},
        "NOT_FOUND",
    ),
    "processInboundMail": (
        "mutation($m: String!) { processInboundMail(message: $m) { errors { code } } }",
        lambda w: {"m": w["reply_mail"]},
        "FORBIDDEN",
    ),
    "calendarAccounts": (
        "query($a: ID) { calendarAccounts(associateId: $a) { id serverUrl } }",
        lambda w: {"a": w["ann_id"]},
        READ,
    ),
    "createCalendarAccount": (
        'mutation($a: ID) { createCalendarAccount(associateId: $a, input: {serverUrl: "http://127.0.0.1:9/", username: "x", calendarUrl: "http://127.0.0.1:9/c/"}) { errors { code } } }',
        lambda w: {"a": w["ann_id"]},
        "NOT_FOUND",
    ),
    "updateCalendarAccount": (
        'mutation($id: ID!) { updateCalendarAccount(id: $id, input: {username: "x"}) { errors { code } } }',
        lambda w: {"id": w["account_id"]},
        "NOT_FOUND",
    ),
    "deleteCalendarAccount": (
        "mutation($id: ID!) { deleteCalendarAccount(id: $id) { errors { code } } }",
        lambda w: {"id": w["account_id"]},
        "NOT_FOUND",
    ),
    "testCalendarAccount": (
        "mutation($id: ID!) { testCalendarAccount(id: $id) { errors { code } } }",
        lambda w: {"id": w["account_id"]},
        "NOT_FOUND",
    ),
    "mailboxes": (
        "query($a: ID) { mailboxes(associateId: $a) { id host username folder messages { reason } } }",
        lambda w: {"a": w["ann_id"]},
        READ,
    ),
    "createMailbox": (
        'mutation($a: ID) { createMailbox(associateId: $a, input: {host: "127.0.0.1", username: "x", password: "p"}) { errors { code } } }',
        lambda w: {"a": w["ann_id"]},
        "NOT_FOUND",
    ),
    "updateMailbox": (
        'mutation($id: ID!) { updateMailbox(id: $id, input: {folder: "x"}) { errors { code } } }',
        lambda w: {"id": w["mailbox_id"]},
        "NOT_FOUND",
    ),
    "deleteMailbox": (
        "mutation($id: ID!) { deleteMailbox(id: $id) { errors { code } } }",
        lambda w: {"id": w["mailbox_id"]},
        "NOT_FOUND",
    ),
    "calendarConflicts": (
        "query($a: ID) { calendarConflicts(associateId: $a) { totalCount nodes { id fields calendarValues { value } followUp { title } } } }",
        lambda w: {"a": w["ann_id"]},
        READ,
    ),
    "resolveCalendarConflict": (
        "mutation($id: ID!) { resolveCalendarConflict(id: $id, take: CALENDAR) { errors { code } } }",
        lambda w: {"id": w["conflict_id"]},
        "NOT_FOUND",
    ),
    "revokeApiToken": (
        "mutation($t: ID!) { revokeApiToken(id: $t) { errors { code } } }",
        lambda w: {"t": w["token_id"]},
        "NOT_FOUND",
    ),
}


# the administrators' CRM mutations: a non-admin is refused before anything is looked at
CRM_KINDS = {
    "Company": "{name: \"x\"}",
    "Person": "{lastName: \"x\"}",
    "Project": "{name: \"x\"}",
    "Sale": "{title: \"x\"}",
    "Selection": "{name: \"x\"}",
    "Associate": "{name: \"x\", active: false}",
    "UserGroup": "{name: \"x\"}",
    "ResourceGroup": "{name: \"x\"}",
    "Resource": "{name: \"x\", active: false}",
    "ActivityType": "{name: \"x\"}",
}
for _type, _input in CRM_KINDS.items():
    CASES[f"create{_type}"] = (
        f"mutation {{ create{_type}(input: {_input}) {{ errors {{ code }} }} }}",
        lambda w: {},
        "FORBIDDEN",
    )
    CASES[f"update{_type}"] = (
        f"mutation($id: ID!) {{ update{_type}(id: $id, input: {_input}) {{ errors {{ code }} }} }}",
        lambda w, t=_type: {"id": w["crm"][t]},
        "FORBIDDEN",
    )
    if _type not in ("Associate", "Resource"):  # deactivated, never deleted
        CASES[f"delete{_type}"] = (
            f"mutation($id: ID!) {{ delete{_type}(id: $id) {{ errors {{ code }} }} }}",
            lambda w, t=_type: {"id": w["crm"][t]},
            "FORBIDDEN",
        )


def root_fields(kind: str) -> set[str]:
    sdl = build_schema((ROOT / "schema.graphql").read_text(encoding="utf-8"))
    root = sdl.get_type(kind)
    assert isinstance(root, GraphQLObjectType), kind
    return set(root.fields)


def test_every_root_field_has_a_permission_case() -> None:
    fields = root_fields("Query") | root_fields("Mutation")
    assert sorted(fields - set(CASES)) == [], "add a permission case for the new field(s)"
    assert sorted(set(CASES) - fields) == [], "a case for a field that no longer exists"


@pytest.fixture
async def world(db: str) -> dict[str, Any]:
    ann = await associate("Ann")
    await associate("Eve")
    company = await m.Company.create(name="Acme")
    kari = await m.Person.create(first_name="Kari", last_name="K", company=company)
    await m.EmailAddress.create(person=kari, address="kari@acme.example")
    room = await m.Resource.create(name="Room")
    private = await followups.create(
        ann,
        {
            "title": "Secret title",
            "agenda": "secret agenda",
            "location": "secret place",
            "private": True,
            "company_id": company.id,
            "start_at": T0,
            "end_at": T0 + timedelta(hours=1),
        },
    )
    call = await followups.create(
        ann, {"title": "Secret title", "private": True, "kind": m.Kind.CALL, "deadline": T0}
    )
    participant = await m.Participant.create(
        followup_id=private.id, person=kari, email="kari@acme.example"
    )
    await m.ResourceBooking.create(followup_id=private.id, resource=room)
    token = await m.ApiToken.create(associate=ann, token_hash="x" * 64, name="ann's")
    from orm.outbox_models import Proposal

    proposal = await Proposal.create(
        followup_id=private.id,
        participant_id=participant.id,
        attendee_email="kari@acme.example",
        start_at=T0 + timedelta(days=1),
        comment="Secret title moved",
    )
    from orm.sync_models import CalendarAccount

    account = await CalendarAccount.create(
        associate_id=ann.id,
        server_url="http://127.0.0.1:9/",
        username="ann",
        calendar_url="http://127.0.0.1:9/ann/Secret title/",
    )
    from orm.sync_models import CalendarPull

    conflict = await CalendarPull.create(
        account_id=account.id,
        followup_id=private.id,
        name="x.ics",
        outcome="CONFLICT",
        fields_changed=["title"],
        calendar_values={"title": "Secret title"},
    )
    from orm.intake_models import Mailbox, MailboxMessage

    mailbox = await Mailbox.create(
        associate_id=ann.id, host="imap.example.com", username="ann", folder="Secret title"
    )
    await MailboxMessage.create(
        mailbox_id=mailbox.id, uidvalidity=1, uid=1, outcome="APPLIED", reason="Kari accepted"
    )
    reply_mail = (
        "From: kari@acme.example\r\nTo: ann@example.com\r\nSubject: Accepted\r\n"
        "Content-Type: text/calendar; method=REPLY; charset=UTF-8\r\n\r\n"
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\nMETHOD:REPLY\r\n"
        f"BEGIN:VEVENT\r\nUID:{private.uid}\r\nDTSTAMP:20260301T000000Z\r\nSEQUENCE:0\r\n"
        "DTSTART:20260302T090000Z\r\nORGANIZER:mailto:ann@example.com\r\n"
        "ATTENDEE;PARTSTAT=ACCEPTED:mailto:kari@acme.example\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    crm = {
        "Company": company.id,
        "Person": kari.id,
        "Project": (await m.Project.create(name="P")).id,
        "Sale": (await m.Sale.create(title="S")).id,
        "Selection": (await m.Selection.create(name="S")).id,
        "Associate": ann.id,
        "UserGroup": (await m.UserGroup.create(name="G")).id,
        "ResourceGroup": (await m.ResourceGroup.create(name="R")).id,
        "Resource": room.id,
        "ActivityType": (await m.ActivityType.create(name="A")).id,
    }
    from orm import live
    from orm.live_models import LiveKind
    from resolvers.live import Cursor

    await live.record(LiveKind.DELIVERY_FAILED, followup_id=private.id, associates=[ann.id])
    return {
        "live_after": Cursor(0, datetime.now(UTC)).encode(),
        "crm": {name: gid(name, key) for name, key in crm.items()},
        "fid": gid("FollowUp", private.id),
        "call_id": gid("FollowUp", call.id),
        "pid": gid("Participant", participant.id),
        "ann_id": gid("Associate", ann.id),
        "company_id": gid("Company", company.id),
        "token_id": gid("ApiToken", token.id),
        "proposal_id": gid("Proposal", proposal.id),
        "account_id": gid("CalendarAccount", account.id),
        "mailbox_id": gid("Mailbox", mailbox.id),
        "conflict_id": gid("CalendarConflict", conflict.id),
        "reply_mail": reply_mail,
    }


@pytest.mark.parametrize("field", sorted(CASES))
async def test_outsider_cannot_see_or_change(http: Any, world: dict[str, Any], field: str) -> None:
    eve = await m.Associate.get(name="Eve")
    gql = await client_for(http, eve)
    document, variables, expected = CASES[field]
    before = await snapshot()
    body = await gql.raw(document, variables(world))
    text = str(body)
    if field not in ("persons", "participantCandidates", "candidates"):  # contacts are shared CRM data
        for secret in SECRETS:
            assert secret not in text, f"{field} leaked {secret!r}: {text}"
    if expected is None:
        assert not body.get("errors"), body
    else:
        payload = next(iter(body["data"].values()))
        assert [e["code"] for e in payload["errors"]] == [expected], body
        if field not in ("createApiToken",):
            assert await snapshot() == before
