"""Administrators' CRM mutations: create, update, delete; typed errors that change nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from orm import models as m
from resolvers import followups
from tests.helpers import associate, client_for, gid

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


async def _admin(http: Any) -> Any:
    return await client_for(http, await associate("Ada", is_admin=True))


async def _counts() -> dict[str, int]:
    models = (m.Company, m.Person, m.EmailAddress, m.PhoneNumber, m.Project, m.ProjectMember,
              m.Sale, m.Selection, m.SelectionMember, m.Associate, m.UserGroup, m.Resource,
              m.ResourceGroup, m.ActivityType, m.FollowUp)
    return {model.__name__: await model.all().count() for model in models}


async def test_admin_builds_a_crm(http: Any) -> None:
    gql = await _admin(http)
    company = (await gql('mutation { createCompany(input: {name: "Acme AS", country: "no", externalId: "C1", phones: [{number: "22 00 00 00", kind: WORK}]}) { company { id name country externalId phones { number kind } } errors { code } } }'))["createCompany"]
    assert company["errors"] == []
    assert company["company"]["country"] == "NO" and company["company"]["externalId"] == "C1"
    assert company["company"]["phones"] == [{"number": "22 00 00 00", "kind": "WORK"}]
    cid = company["company"]["id"]
    person = (await gql('mutation($c: ID) { createPerson(input: {firstName: "Kari", lastName: "Nordmann", companyId: $c, emails: ["kari@acme.example", "k@acme.example"], phones: [{number: "+47 912 34 567", kind: MOBILE}]}) { person { id fullName emails company { name } phones { dial kind } } errors { code } } }', {"c": cid}))["createPerson"]
    assert person["errors"] == [] and person["person"]["company"] == {"name": "Acme AS"}
    assert person["person"]["emails"] == ["kari@acme.example", "k@acme.example"]
    assert person["person"]["phones"] == [{"dial": "+4791234567", "kind": "MOBILE"}]
    pid = person["person"]["id"]
    group = (await gql('mutation { createUserGroup(input: {name: "Sales"}) { userGroup { id } } }'))["createUserGroup"]["userGroup"]["id"]
    bob = (await gql('mutation($g: ID) { createAssociate(input: {name: "Bob", email: "bob@example.com", userGroupId: $g}) { associate { id userGroup { name } active isAdmin } errors { code } } }', {"g": group}))["createAssociate"]
    assert bob["associate"]["userGroup"] == {"name": "Sales"} and bob["associate"]["active"]
    bid = bob["associate"]["id"]
    project = (await gql('mutation($p: [ID!], $a: [ID!]) { createProject(input: {name: "Relaunch", memberPersonIds: $p, memberAssociateIds: $a}) { project { id memberPersons { fullName } memberAssociates { name } } } }', {"p": [pid], "a": [bid]}))["createProject"]["project"]
    assert project["memberPersons"] == [{"fullName": "Kari Nordmann"}]
    assert project["memberAssociates"] == [{"name": "Bob"}]
    changed = (await gql('mutation($id: ID!) { updateProject(id: $id, input: {memberAssociateIds: []}) { project { name memberPersons { fullName } memberAssociates { name } } } }', {"id": project["id"]}))["updateProject"]["project"]
    assert changed == {"name": "Relaunch", "memberPersons": [{"fullName": "Kari Nordmann"}], "memberAssociates": []}
    selection = (await gql('mutation($p: [ID!], $c: [ID!]) { createSelection(input: {name: "Q1", memberPersonIds: $p, memberCompanyIds: $c}) { selection { memberPersons { fullName } memberCompanies { name } } } }', {"p": [pid], "c": [cid]}))["createSelection"]["selection"]
    assert selection == {"memberPersons": [{"fullName": "Kari Nordmann"}], "memberCompanies": [{"name": "Acme AS"}]}
    sale = (await gql('mutation($c: ID, $p: ID) { createSale(input: {title: "Licence", companyId: $c, personId: $p}) { sale { title company { name } person { fullName } } } }', {"c": cid, "p": pid}))["createSale"]["sale"]
    assert sale == {"title": "Licence", "company": {"name": "Acme AS"}, "person": {"fullName": "Kari Nordmann"}}
    rooms = (await gql('mutation { createResourceGroup(input: {name: "Rooms"}) { resourceGroup { id } } }'))["createResourceGroup"]["resourceGroup"]["id"]
    room = (await gql('mutation($g: ID) { createResource(input: {name: "Fjord", kind: ROOM, resourceGroupId: $g, allowDoubleBooking: false}) { resource { id resourceGroup { name } allowDoubleBooking } } }', {"g": rooms}))["createResource"]["resource"]
    assert room["resourceGroup"] == {"name": "Rooms"} and room["allowDoubleBooking"] is False
    retired = (await gql('mutation($id: ID!) { updateResource(id: $id, input: {active: false}) { resource { active } } }', {"id": room["id"]}))["updateResource"]["resource"]
    assert retired == {"active": False}
    kind = (await gql('mutation { createActivityType(input: {name: "Call", colour: "#5CB85C", defaultKind: CALL}) { activityType { colour defaultKind } } }'))["createActivityType"]["activityType"]
    assert kind == {"colour": "#5cb85c", "defaultKind": "CALL"}
    update = (await gql('mutation($id: ID!) { updatePerson(id: $id, input: {country: "se", emails: ["new@acme.example"], companyId: null}) { person { country emails company { name } } } }', {"id": pid}))["updatePerson"]["person"]
    assert update == {"country": "SE", "emails": ["new@acme.example"], "company": None}


async def test_errors_are_typed_and_change_nothing(http: Any) -> None:
    gql = await _admin(http)
    await gql('mutation { createCompany(input: {name: "Acme", externalId: "C1"}) { errors { code } } }')
    before = await _counts()
    cases = [
        ('mutation { createPerson(input: {firstName: "K", emails: ["kari@acme.example", "nope"]}) { errors { code path } } }', "VALIDATION", ["emails", "1"]),
        ('mutation { createPerson(input: {emails: ["k@a.example"]}) { errors { code path } } }', "VALIDATION", ["lastName"]),
        ('mutation { createPerson(input: {lastName: "K", companyId: "Q29tcGFueTo5OTk="}) { errors { code path } } }', "NOT_FOUND", ["companyId"]),
        ('mutation { createPerson(input: {lastName: "K", companyId: "UGVyc29uOjE="}) { errors { code path } } }', "VALIDATION", ["companyId"]),
        ('mutation { createCompany(input: {name: "Other", externalId: "C1"}) { errors { code path } } }', "VALIDATION", ["externalId"]),
        ('mutation { createCompany(input: {name: "  "}) { errors { code path } } }', "VALIDATION", ["name"]),
        ('mutation { createCompany(input: {country: "NO"}) { errors { code path } } }', "VALIDATION", ["name"]),
        ('mutation { createCompany(input: {name: "X", country: "Norway"}) { errors { code path } } }', "VALIDATION", ["country"]),
        ('mutation { createCompany(input: {name: "X", phones: [{number: "abc"}]}) { errors { code path } } }', "VALIDATION", ["phones", "0", "number"]),
        ('mutation { updateCompany(id: "Q29tcGFueTo5OTk=", input: {name: "X"}) { errors { code path } } }', "NOT_FOUND", ["id"]),
        ('mutation { deleteSale(id: "U2FsZTo5OTk=") { errors { code path } } }', "NOT_FOUND", ["id"]),
        ('mutation { createActivityType(input: {name: "X", colour: "red"}) { errors { code path } } }', "VALIDATION", ["colour"]),
        ('mutation { createUserGroup(input: {name: "G"}) { errors { code } } }', None, None),
    ]
    for document, code, path in cases:
        body = await gql.raw(document)
        assert not body.get("errors"), body
        errors = next(iter(body["data"].values()))["errors"]
        if code is None:
            continue
        assert [(e["code"], e["path"]) for e in errors] == [(code, path)], (document, errors)
        assert await _counts() == before, document
    body = await gql.raw('mutation { createUserGroup(input: {name: "g"}) { errors { code path } } }')
    assert body["data"]["createUserGroup"]["errors"] == [{"code": "VALIDATION", "path": ["name"]}]


async def test_deactivated_associate_keeps_followups_and_cannot_sign_in(http: Any) -> None:
    gql = await _admin(http)
    bob = await associate("Bob")
    meeting = await followups.create(bob, {"title": "Bob's meeting", "start_at": T0})
    bob_gql = await client_for(http, bob)
    assert (await bob_gql("{ me { name } }"))["me"] == {"name": "Bob"}
    done = await gql('mutation($id: ID!) { updateAssociate(id: $id, input: {active: false}) { associate { active } errors { code } } }', {"id": gid("Associate", bob.id)})
    assert done["updateAssociate"] == {"associate": {"active": False}, "errors": []}
    response = await http.post("/graphql", json={"query": "{ me { name } }"}, headers={"Authorization": f"Bearer {bob_gql.token}"})
    assert response.status_code == 401
    assert await m.FollowUp.filter(id=meeting.id, owner_id=bob.id).exists()
    diary = await gql('query($a: [ID!]!) { diary(associateIds: $a, from: "2026-03-02T00:00:00Z", to: "2026-03-03T00:00:00Z") { title } }', {"a": [gid("Associate", bob.id)]})
    assert diary["diary"] == [{"title": "Bob's meeting"}]
    me = await m.Associate.get(name="Ada")
    self_off = await gql('mutation($id: ID!) { updateAssociate(id: $id, input: {active: false}) { errors { code path } } }', {"id": gid("Associate", me.id)})
    assert self_off["updateAssociate"]["errors"] == [{"code": "VALIDATION", "path": ["active"]}]
    assert (await m.Associate.get(id=me.id)).active


async def test_deletes_keep_followups_and_refuse_participants(http: Any) -> None:
    gql = await _admin(http)
    ada = await m.Associate.get(name="Ada")
    company = await m.Company.create(name="Acme")
    kari = await m.Person.create(first_name="Kari", company=company)
    meeting = await followups.create(ada, {"title": "Visit", "start_at": T0, "company_id": company.id})
    await m.Participant.create(followup_id=meeting.id, person=kari, email="kari@acme.example")
    refused = await gql('mutation($id: ID!) { deletePerson(id: $id) { deletedId errors { code } } }', {"id": gid("Person", kari.id)})
    assert refused["deletePerson"] == {"deletedId": None, "errors": [{"code": "CONFLICT"}]}
    gone = await gql('mutation($id: ID!) { deleteCompany(id: $id) { deletedId errors { code } } }', {"id": gid("Company", company.id)})
    assert gone["deleteCompany"] == {"deletedId": gid("Company", company.id), "errors": []}
    row = await m.FollowUp.get(id=meeting.id)
    assert row.company_id is None and row.title == "Visit"
    assert (await m.Person.get(id=kari.id)).company_id is None
