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
from schema.enums import described
from schema.node import ModelNode

if TYPE_CHECKING:
    from orm import models as m

PhoneKind = described(enums.PhoneKind, description="What kind of line a phone number is.")
ResourceKind = described(
    enums.ResourceKind, description="What kind of thing a bookable resource is."
)
FollowUpKind = described(
    enums.Kind, name="FollowUpKind", description="What a follow-up (diary entry) is."
)

EXTERNAL_ID = (
    "Key of the row in the CRM it was imported from (`followups import`); null for rows "
    "created here. Re-imports match on it."
)
ID = "Global ID (relay Node)."


async def members(info: Info, kind: str, name: str, parent: int, table: Table) -> list[Any]:
    """The member rows (persons, associates, companies) of a project or selection."""
    keys = await crm_records.member_keys(crm_records.members_of(kind, name), parent)
    return [r for r in await table.many(info, keys) if r is not None]


@strawberry.type(description="A group of associates; preferences can be set per group.")
class UserGroup(ModelNode):
    id: relay.NodeID[int] = strawberry.field(description=ID)
    external_id: str | None = strawberry.field(description=EXTERNAL_ID)
    name: str = strawberry.field(description="Display name.")

    @classmethod
    def table(cls) -> Table:
        return records.user_groups

    @classmethod
    def from_model(cls, row: m.UserGroup) -> Self:
        return cls(external_id=row.external_id, id=row.id, name=row.name)


@strawberry.type(description="A user of the CRM: owns a diary, takes part in meetings.")
class Associate(ModelNode):
    id: relay.NodeID[int] = strawberry.field(description=ID)
    external_id: str | None = strawberry.field(description=EXTERNAL_ID)
    name: str = strawberry.field(description="Display name.")
    email: str | None = strawberry.field(
        description="E-mail address for invitations; null when none is known."
    )
    is_admin: bool = strawberry.field(
        description="May administer the installation (tokens of others, accounts, imports)."
    )
    active: bool = strawberry.field(
        description="False once deactivated in the CRM: kept for history, hidden from lists."
    )
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

    @strawberry.field(description="The user group; null when the associate has none.")
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


@strawberry.type(description="A customer or other organisation in the CRM.")
class Company(ModelNode):
    id: relay.NodeID[int] = strawberry.field(description=ID)
    external_id: str | None = strawberry.field(description=EXTERNAL_ID)
    name: str = strawberry.field(description="Display name.")
    country: str | None = strawberry.field(
        description="Country code (ISO 3166-1 alpha-2) used to dial numbers; null when unknown."
    )

    @classmethod
    def table(cls) -> Table:
        return records.companies

    @classmethod
    def from_model(cls, row: m.Company) -> Self:
        return cls(external_id=row.external_id, id=row.id, name=row.name, country=row.country)

    @strawberry.field(description="Phone numbers of the company itself (not its persons).")
    async def phones(self, info: Info) -> list[PhoneNumber]:
        rows = await records.company_phones.of(info, self.id)
        return [PhoneNumber.from_model(r) for r in rows]


@strawberry.type(description="A phone number of a person or a company, as stored.")
class PhoneNumber(ModelNode):
    id: relay.NodeID[int] = strawberry.field(description=ID)
    number: str = strawberry.field(description="The number as entered in the CRM.")
    kind: PhoneKind = strawberry.field(description="The kind of line.")  # type: ignore[valid-type]
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


@strawberry.type(description="A contact person, usually of a company.")
class Person(ModelNode):
    id: relay.NodeID[int] = strawberry.field(description=ID)
    external_id: str | None = strawberry.field(description=EXTERNAL_ID)
    first_name: str = strawberry.field(description="Given name; may be empty.")
    last_name: str = strawberry.field(description="Family name; may be empty.")
    country: str | None = strawberry.field(
        description="Country code (ISO 3166-1 alpha-2) used to dial numbers; null when unknown."
    )
    company_id: strawberry.Private[int | None]
    full_name: str = strawberry.field(description="First and last name joined by a space, trimmed.")

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
            full_name=f"{row.first_name} {row.last_name}".strip(),
        )

    @strawberry.field(description="The company; null when none is linked.")
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


@strawberry.type(description="A project of the CRM with member persons and associates.")
class Project(ModelNode):
    id: relay.NodeID[int] = strawberry.field(description=ID)
    external_id: str | None = strawberry.field(description=EXTERNAL_ID)
    name: str = strawberry.field(description="Display name.")

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


@strawberry.type(description="A sale (opportunity) of the CRM.")
class Sale(ModelNode):
    id: relay.NodeID[int] = strawberry.field(description=ID)
    external_id: str | None = strawberry.field(description=EXTERNAL_ID)
    title: str = strawberry.field(description="Title of the sale.")
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

    @strawberry.field(description="The company; null when none is linked.")
    async def company(self, info: Info) -> Company | None:
        row = await records.companies.one(info, self.company_id)
        return Company.from_model(row) if row else None

    @strawberry.field(description="The contact person; null when none is linked.")
    async def person(self, info: Info) -> Person | None:
        row = await records.persons.one(info, self.person_id)
        return Person.from_model(row) if row else None


@strawberry.type(description="A saved selection (list) of persons and companies.")
class Selection(ModelNode):
    id: relay.NodeID[int] = strawberry.field(description=ID)
    external_id: str | None = strawberry.field(description=EXTERNAL_ID)
    name: str = strawberry.field(description="Display name.")

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


@strawberry.type(description="A group of resources, e.g. the rooms of one building.")
class ResourceGroup(ModelNode):
    id: relay.NodeID[int] = strawberry.field(description=ID)
    external_id: str | None = strawberry.field(description=EXTERNAL_ID)
    name: str = strawberry.field(description="Display name.")

    @classmethod
    def table(cls) -> Table:
        return records.resource_groups

    @classmethod
    def from_model(cls, row: m.ResourceGroup) -> Self:
        return cls(external_id=row.external_id, id=row.id, name=row.name)


@strawberry.type(description="A bookable room, piece of equipment or location.")
class Resource(ModelNode):
    id: relay.NodeID[int] = strawberry.field(description=ID)
    external_id: str | None = strawberry.field(description=EXTERNAL_ID)
    name: str = strawberry.field(description="Display name.")
    kind: ResourceKind = strawberry.field(  # type: ignore[valid-type]
        description="What kind of resource it is."
    )
    allow_double_booking: bool = strawberry.field(
        description="True when overlapping bookings are allowed (no conflict is reported)."
    )
    active: bool = strawberry.field(
        description="False once deactivated in the CRM: kept for history, hidden from lists."
    )
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

    @strawberry.field(description="The resource group; null when the resource has none.")
    async def resource_group(self, info: Info) -> ResourceGroup | None:
        row = await records.resource_groups.one(info, self.group_id)
        return ResourceGroup.from_model(row) if row else None


@strawberry.type(description="A category of follow-ups (e.g. Sales meeting) with a colour.")
class ActivityType(ModelNode):
    id: relay.NodeID[int] = strawberry.field(description=ID)
    external_id: str | None = strawberry.field(description=EXTERNAL_ID)
    name: str = strawberry.field(description="Display name.")
    colour: str = strawberry.field(description="Display colour, as #RRGGBB.")
    default_kind: FollowUpKind = strawberry.field(  # type: ignore[valid-type]
        description="The kind a new follow-up of this type gets unless told otherwise."
    )

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
