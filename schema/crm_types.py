"""GraphQL types of the CRM records around the diary (built from models, never models)."""

from __future__ import annotations

from typing import Any, Self

import strawberry
from strawberry import relay

from orm import models as m
from resolvers import crm_records
from resolvers.context import Info
from resolvers.phone_links import build_link, dial_number
from resolvers.preference_keys import PreferenceKey
from resolvers.preferences import effective_for
from schema.node import ModelNode

PhoneKind = strawberry.enum(m.PhoneKind)
ResourceKind = strawberry.enum(m.ResourceKind)
FollowUpKind = strawberry.enum(m.Kind, name="FollowUpKind")


async def load(info: Info, model: type[Any], key: int | None) -> Any:
    if key is None:
        return None
    return await info.context.loaders.by_id(model).load(key)


async def effective_prefs(info: Info, associate: m.Associate) -> dict[PreferenceKey, Any]:
    async def batch(keys: list[int]) -> list[dict[PreferenceKey, Any]]:
        people = await info.context.loaders.by_id(m.Associate).load_many(keys)
        found = await effective_for(p for p in people if p is not None)
        return [found.get(k, {}) for k in keys]

    from resolvers.loaders import custom_loader

    return await custom_loader(info.context.loaders, "prefs", batch).load(associate.id)


async def members(info: Info, kind: str, name: str, parent: int, model: type[Any]) -> list[Any]:
    """The member rows (persons, associates, companies) of a project or selection."""
    keys = await crm_records.member_keys(crm_records.members_of(kind, name), parent)
    return [r for r in await info.context.loaders.by_id(model).load_many(keys) if r is not None]


@strawberry.type
class UserGroup(ModelNode):
    id: relay.NodeID[int]
    external_id: str | None = strawberry.field(description="Key of `followups import`.")
    name: str

    @classmethod
    def orm_model(cls) -> type[m.UserGroup]:
        return m.UserGroup

    @classmethod
    def from_model(cls, row: m.UserGroup) -> Self:
        return cls(external_id=row.external_id, id=row.id, name=row.name)


@strawberry.type
class Associate(ModelNode):
    id: relay.NodeID[int]
    external_id: str | None = strawberry.field(description="Key of `followups import`.")
    name: str
    email: str | None
    is_admin: bool
    active: bool
    group_id: strawberry.Private[int | None]

    @classmethod
    def orm_model(cls) -> type[m.Associate]:
        return m.Associate

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
        row = await load(info, m.UserGroup, self.group_id)
        return UserGroup.from_model(row) if row else None

    async def _pref(self, info: Info, key: PreferenceKey) -> str:
        row = await load(info, m.Associate, self.id)
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
    external_id: str | None = strawberry.field(description="Key of `followups import`.")
    name: str
    country: str | None

    @classmethod
    def orm_model(cls) -> type[m.Company]:
        return m.Company

    @classmethod
    def from_model(cls, row: m.Company) -> Self:
        return cls(external_id=row.external_id, id=row.id, name=row.name, country=row.country)

    @strawberry.field
    async def phones(self, info: Info) -> list[PhoneNumber]:
        rows = await info.context.loaders.by_parent(m.PhoneNumber, "company_id", "position").load(
            self.id
        )
        return [PhoneNumber.from_model(r) for r in rows]


@strawberry.type
class PhoneNumber(ModelNode):
    id: relay.NodeID[int]
    number: str
    kind: PhoneKind  # type: ignore[valid-type]
    person_id: strawberry.Private[int | None]
    company_id: strawberry.Private[int | None]

    @classmethod
    def orm_model(cls) -> type[m.PhoneNumber]:
        return m.PhoneNumber

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
        person = await load(info, m.Person, self.person_id)
        company_id = self.company_id or (person.company_id if person else None)
        company = await load(info, m.Company, company_id)
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
    external_id: str | None = strawberry.field(description="Key of `followups import`.")
    first_name: str
    last_name: str
    country: str | None
    company_id: strawberry.Private[int | None]

    @classmethod
    def orm_model(cls) -> type[m.Person]:
        return m.Person

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
        row = await load(info, m.Company, self.company_id)
        return Company.from_model(row) if row else None

    @strawberry.field(description="E-mail addresses, the preferred one first.")
    async def emails(self, info: Info) -> list[str]:
        loader = info.context.loaders.by_parent(m.EmailAddress, "person_id", "position")
        return [row.address for row in await loader.load(self.id)]

    @strawberry.field(description="Phone numbers, each with its dial form and call link.")
    async def phones(self, info: Info) -> list[PhoneNumber]:
        loader = info.context.loaders.by_parent(m.PhoneNumber, "person_id", "position")
        return [PhoneNumber.from_model(row) for row in await loader.load(self.id)]


@strawberry.type
class Project(ModelNode):
    id: relay.NodeID[int]
    external_id: str | None = strawberry.field(description="Key of `followups import`.")
    name: str

    @classmethod
    def orm_model(cls) -> type[m.Project]:
        return m.Project

    @classmethod
    def from_model(cls, row: m.Project) -> Self:
        return cls(external_id=row.external_id, id=row.id, name=row.name)

    @strawberry.field(description="Contact persons who are members of the project.")
    async def member_persons(self, info: Info) -> list[Person]:
        rows = await members(info, "project", "member_person_ids", self.id, m.Person)
        return [Person.from_model(r) for r in rows]

    @strawberry.field(description="Associates who are members of the project.")
    async def member_associates(self, info: Info) -> list[Associate]:
        rows = await members(info, "project", "member_associate_ids", self.id, m.Associate)
        return [Associate.from_model(r) for r in rows]


@strawberry.type
class Sale(ModelNode):
    id: relay.NodeID[int]
    external_id: str | None = strawberry.field(description="Key of `followups import`.")
    title: str
    company_id: strawberry.Private[int | None]
    person_id: strawberry.Private[int | None]

    @classmethod
    def orm_model(cls) -> type[m.Sale]:
        return m.Sale

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
        row = await load(info, m.Company, self.company_id)
        return Company.from_model(row) if row else None

    @strawberry.field
    async def person(self, info: Info) -> Person | None:
        row = await load(info, m.Person, self.person_id)
        return Person.from_model(row) if row else None


@strawberry.type
class Selection(ModelNode):
    id: relay.NodeID[int]
    external_id: str | None = strawberry.field(description="Key of `followups import`.")
    name: str

    @classmethod
    def orm_model(cls) -> type[m.Selection]:
        return m.Selection

    @classmethod
    def from_model(cls, row: m.Selection) -> Self:
        return cls(external_id=row.external_id, id=row.id, name=row.name)

    @strawberry.field(description="Persons who are members of the selection.")
    async def member_persons(self, info: Info) -> list[Person]:
        rows = await members(info, "selection", "member_person_ids", self.id, m.Person)
        return [Person.from_model(r) for r in rows]

    @strawberry.field(description="Companies whose persons are members of the selection.")
    async def member_companies(self, info: Info) -> list[Company]:
        rows = await members(info, "selection", "member_company_ids", self.id, m.Company)
        return [Company.from_model(r) for r in rows]


@strawberry.type
class ResourceGroup(ModelNode):
    id: relay.NodeID[int]
    external_id: str | None = strawberry.field(description="Key of `followups import`.")
    name: str

    @classmethod
    def orm_model(cls) -> type[m.ResourceGroup]:
        return m.ResourceGroup

    @classmethod
    def from_model(cls, row: m.ResourceGroup) -> Self:
        return cls(external_id=row.external_id, id=row.id, name=row.name)


@strawberry.type
class Resource(ModelNode):
    id: relay.NodeID[int]
    external_id: str | None = strawberry.field(description="Key of `followups import`.")
    name: str
    kind: ResourceKind  # type: ignore[valid-type]
    allow_double_booking: bool
    active: bool
    group_id: strawberry.Private[int | None]

    @classmethod
    def orm_model(cls) -> type[m.Resource]:
        return m.Resource

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
        row = await load(info, m.ResourceGroup, self.group_id)
        return ResourceGroup.from_model(row) if row else None


@strawberry.type
class ActivityType(ModelNode):
    id: relay.NodeID[int]
    external_id: str | None = strawberry.field(description="Key of `followups import`.")
    name: str
    colour: str
    default_kind: FollowUpKind  # type: ignore[valid-type]

    @classmethod
    def orm_model(cls) -> type[m.ActivityType]:
        return m.ActivityType

    @classmethod
    def from_model(cls, row: m.ActivityType) -> Self:
        return cls(
            external_id=row.external_id,
            id=row.id,
            name=row.name,
            colour=row.colour,
            default_kind=row.default_kind,
        )
