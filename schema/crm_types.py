"""GraphQL types of the CRM records around the diary (built from models, never models)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Self

import strawberry
from strawberry import relay

from resolvers import crm_records, enums, records
from resolvers.context import Info
from resolvers.phone_links import build_link, dial_number
from resolvers.preference_keys import PreferenceKey
from resolvers.records import Table, effective_prefs
from schema.node import ModelNode

if TYPE_CHECKING:
    from orm import models as m

PhoneKind = strawberry.enum(enums.PhoneKind)
ResourceKind = strawberry.enum(enums.ResourceKind)
FollowUpKind = strawberry.enum(enums.Kind, name="FollowUpKind")

EXTERNAL_ID = "Key of `followups import`."


async def members(info: Info, kind: str, name: str, parent: int, table: Table) -> list[Any]:
    """The member rows (persons, associates, companies) of a project or selection."""
    keys = await crm_records.member_keys(crm_records.members_of(kind, name), parent)
    return [r for r in await table.many(info, keys) if r is not None]


@strawberry.type
class UserGroup(ModelNode):
    id: relay.NodeID[int]
    external_id: str | None = strawberry.field(description=EXTERNAL_ID)
    name: str

    @classmethod
    def table(cls) -> Table:
        return records.user_groups

    @classmethod
    def from_model(cls, row: m.UserGroup) -> Self:
        return cls(external_id=row.external_id, id=row.id, name=row.name)


@strawberry.type
class Associate(ModelNode):
    id: relay.NodeID[int]
    external_id: str | None = strawberry.field(description=EXTERNAL_ID)
    name: str
    email: str | None
    is_admin: bool
    active: bool
    group_id: strawberry.Private[int | None]

    @classmethod
    def table(cls) -> Table:
        return records.associates

    @classmethod
    def from_model(cls, row: m.Associate) -> Self:
        return cls(
            external_id=row.external_id,
            id=row.id,
            name=row.name,
            email=row.email,
            is_admin=row.is_admin,
            active=row.active,
            group_id=row.group_id,
        )

    @strawberry.field
    async def user_group(self, info: Info) -> UserGroup | None:
        row = await records.user_groups.one(info, self.group_id)
        return UserGroup.from_model(row) if row else None

    async def _pref(self, info: Info, key: PreferenceKey) -> str:
        row = await records.associates.one(info, self.id)
        return str((await effective_prefs(info, row))[key].value)

    @strawberry.field(description="Effective time zone preference (IANA).")
    async def time_zone(self, info: Info) -> str:
        return await self._pref(info, PreferenceKey.TIME_ZONE)

    @strawberry.field(description="Effective language preference: en, da or no.")
    async def language(self, info: Info) -> str:
        return await self._pref(info, PreferenceKey.LANGUAGE)


@strawberry.type
class Company(ModelNode):
    id: relay.NodeID[int]
    external_id: str | None = strawberry.field(description=EXTERNAL_ID)
    name: str
    country: str | None

    @classmethod
    def table(cls) -> Table:
        return records.companies

    @classmethod
    def from_model(cls, row: m.Company) -> Self:
        return cls(external_id=row.external_id, id=row.id, name=row.name, country=row.country)

    @strawberry.field
    async def phones(self, info: Info) -> list[PhoneNumber]:
        rows = await records.company_phones.of(info, self.id)
        return [PhoneNumber.from_model(r) for r in rows]


@strawberry.type
class PhoneNumber(ModelNode):
    id: relay.NodeID[int]
    number: str
    kind: PhoneKind  # type: ignore[valid-type]
    person_id: strawberry.Private[int | None]
    company_id: strawberry.Private[int | None]

    @classmethod
    def table(cls) -> Table:
        return records.phone_numbers

    @classmethod
    def from_model(cls, row: m.PhoneNumber) -> Self:
        return cls(
            id=row.id,
            number=row.number,
            kind=row.kind,
            person_id=row.person_id,
            company_id=row.company_id,
        )

    @strawberry.field(description="The number as dialled: E.164 where the country is known.")
    async def dial(self, info: Info) -> str:
        return (await self._link_parts(info))[0]

    @strawberry.field(description="The call link from the viewer's phone link format.")
    async def link(self, info: Info) -> str:
        number, variables = await self._link_parts(info)
        prefs = await effective_prefs(info, info.context.viewer)
        return build_link(prefs[PreferenceKey.PHONE_LINK_FORMAT].value, number, variables)

    async def _link_parts(self, info: Info) -> tuple[str, dict[str, str]]:
        person = await records.persons.one(info, self.person_id)
        company_id = self.company_id or (person.company_id if person else None)
        company = await records.companies.one(info, company_id)
        country = (person.country if person else None) or (company.country if company else None)
        variables = {
            "firstName": person.first_name if person else "",
            "lastName": person.last_name if person else "",
            "fullName": f"{person.first_name} {person.last_name}".strip() if person else "",
            "companyName": company.name if company else "",
            "personId": str(person.id) if person else "",
            "companyId": str(company.id) if company else "",
            "country": country or "",
        }
        return dial_number(self.number, country), variables


@strawberry.type
class Person(ModelNode):
    id: relay.NodeID[int]
    external_id: str | None = strawberry.field(description=EXTERNAL_ID)
    first_name: str
    last_name: str
    country: str | None
    company_id: strawberry.Private[int | None]

    @classmethod
    def table(cls) -> Table:
        return records.persons

    @classmethod
    def from_model(cls, row: m.Person) -> Self:
        return cls(
            external_id=row.external_id,
            id=row.id,
            first_name=row.first_name,
            last_name=row.last_name,
            country=row.country,
            company_id=row.company_id,
        )

    @strawberry.field
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @strawberry.field
    async def company(self, info: Info) -> Company | None:
        row = await records.companies.one(info, self.company_id)
        return Company.from_model(row) if row else None

    @strawberry.field(description="E-mail addresses, the preferred one first.")
    async def emails(self, info: Info) -> list[str]:
        return [row.address for row in await records.person_emails.of(info, self.id)]

    @strawberry.field(description="Phone numbers, each with its dial form and call link.")
    async def phones(self, info: Info) -> list[PhoneNumber]:
        return [
            PhoneNumber.from_model(row) for row in await records.person_phones.of(info, self.id)
        ]


@strawberry.type
class Project(ModelNode):
    id: relay.NodeID[int]
    external_id: str | None = strawberry.field(description=EXTERNAL_ID)
    name: str

    @classmethod
    def table(cls) -> Table:
        return records.projects

    @classmethod
    def from_model(cls, row: m.Project) -> Self:
        return cls(external_id=row.external_id, id=row.id, name=row.name)

    @strawberry.field(description="Contact persons who are members of the project.")
    async def member_persons(self, info: Info) -> list[Person]:
        rows = await members(info, "project", "member_person_ids", self.id, records.persons)
        return [Person.from_model(r) for r in rows]

    @strawberry.field(description="Associates who are members of the project.")
    async def member_associates(self, info: Info) -> list[Associate]:
        rows = await members(info, "project", "member_associate_ids", self.id, records.associates)
        return [Associate.from_model(r) for r in rows]


@strawberry.type
class Sale(ModelNode):
    id: relay.NodeID[int]
    external_id: str | None = strawberry.field(description=EXTERNAL_ID)
    title: str
    company_id: strawberry.Private[int | None]
    person_id: strawberry.Private[int | None]

    @classmethod
    def table(cls) -> Table:
        return records.sales

    @classmethod
    def from_model(cls, row: m.Sale) -> Self:
        return cls(
            external_id=row.external_id,
            id=row.id,
            title=row.title,
            company_id=row.company_id,
            person_id=row.person_id,
        )

    @strawberry.field
    async def company(self, info: Info) -> Company | None:
        row = await records.companies.one(info, self.company_id)
        return Company.from_model(row) if row else None

    @strawberry.field
    async def person(self, info: Info) -> Person | None:
        row = await records.persons.one(info, self.person_id)
        return Person.from_model(row) if row else None


@strawberry.type
class Selection(ModelNode):
    id: relay.NodeID[int]
    external_id: str | None = strawberry.field(description=EXTERNAL_ID)
    name: str

    @classmethod
    def table(cls) -> Table:
        return records.selections

    @classmethod
    def from_model(cls, row: m.Selection) -> Self:
        return cls(external_id=row.external_id, id=row.id, name=row.name)

    @strawberry.field(description="Persons who are members of the selection.")
    async def member_persons(self, info: Info) -> list[Person]:
        rows = await members(info, "selection", "member_person_ids", self.id, records.persons)
        return [Person.from_model(r) for r in rows]

    @strawberry.field(description="Companies whose persons are members of the selection.")
    async def member_companies(self, info: Info) -> list[Company]:
        rows = await members(info, "selection", "member_company_ids", self.id, records.companies)
        return [Company.from_model(r) for r in rows]


@strawberry.type
class ResourceGroup(ModelNode):
    id: relay.NodeID[int]
    external_id: str | None = strawberry.field(description=EXTERNAL_ID)
    name: str

    @classmethod
    def table(cls) -> Table:
        return records.resource_groups

    @classmethod
    def from_model(cls, row: m.ResourceGroup) -> Self:
        return cls(external_id=row.external_id, id=row.id, name=row.name)


@strawberry.type
class Resource(ModelNode):
    id: relay.NodeID[int]
    external_id: str | None = strawberry.field(description=EXTERNAL_ID)
    name: str
    kind: ResourceKind  # type: ignore[valid-type]
    allow_double_booking: bool
    active: bool
    group_id: strawberry.Private[int | None]

    @classmethod
    def table(cls) -> Table:
        return records.resources

    @classmethod
    def from_model(cls, row: m.Resource) -> Self:
        return cls(
            external_id=row.external_id,
            id=row.id,
            name=row.name,
            kind=row.kind,
            allow_double_booking=row.allow_double_booking,
            active=row.active,
            group_id=row.group_id,
        )

    @strawberry.field
    async def resource_group(self, info: Info) -> ResourceGroup | None:
        row = await records.resource_groups.one(info, self.group_id)
        return ResourceGroup.from_model(row) if row else None


@strawberry.type
class ActivityType(ModelNode):
    id: relay.NodeID[int]
    external_id: str | None = strawberry.field(description=EXTERNAL_ID)
    name: str
    colour: str
    default_kind: FollowUpKind  # type: ignore[valid-type]

    @classmethod
    def table(cls) -> Table:
        return records.activity_types

    @classmethod
    def from_model(cls, row: m.ActivityType) -> Self:
        return cls(
            external_id=row.external_id,
            id=row.id,
            name=row.name,
            colour=row.colour,
            default_kind=row.default_kind,
        )
