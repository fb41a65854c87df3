"""Lookups and lists of the CRM records: associates, groups, contacts, projects, sales..."""

from __future__ import annotations

from typing import Any

import strawberry

from resolvers import crm
from resolvers.context import Info
from schema import ids
from schema.crm_types import (
    ActivityType,
    Associate,
    Company,
    Person,
    Project,
    Resource,
    ResourceGroup,
    Sale,
    Selection,
    UserGroup,
)
from schema.pagination import (
    After,
    Before,
    Connection,
    First,
    Last,
    connection,
    keyset_page,
    window,
)


async def _page(
    info: Info,
    query: Any,
    make: Any,
    first: int | None,
    after: str | None,
    last: int | None,
    before: str | None,
) -> Connection[Any]:
    page = window(first, after, last, before, info.context.settings)
    return connection(await keyset_page(query, page), make)


@strawberry.type
class CrmQuery:
    @strawberry.field(description="The associate the bearer token belongs to.")
    def me(self, info: Info) -> Associate:
        return Associate.from_model(info.context.viewer)

    @strawberry.field
    async def associates(
        self,
        info: Info,
        user_group_id: strawberry.ID | None = None,
        search: str | None = None,
        include_inactive: bool = False,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Associate]:
        group = (
            ids.decode(user_group_id, "UserGroup", "userGroupId")
            if user_group_id is not None
            else None
        )
        query = crm.associates(group, search, include_inactive)
        return await _page(info, query, Associate.from_model, first, after, last, before)

    @strawberry.field
    async def user_groups(self) -> list[UserGroup]:
        return [UserGroup.from_model(r) for r in await crm.user_groups()]

    @strawberry.field
    async def companies(
        self,
        info: Info,
        search: str | None = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Company]:
        return await _page(
            info, crm.companies(search), Company.from_model, first, after, last, before
        )

    @strawberry.field
    async def persons(
        self,
        info: Info,
        company_id: strawberry.ID | None = None,
        search: str | None = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Person]:
        company = ids.decode(company_id, "Company", "companyId") if company_id is not None else None
        return await _page(
            info, crm.persons(company, search), Person.from_model, first, after, last, before
        )

    @strawberry.field
    async def projects(
        self,
        info: Info,
        search: str | None = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Project]:
        return await _page(
            info, crm.projects(search), Project.from_model, first, after, last, before
        )

    @strawberry.field
    async def sales(
        self,
        info: Info,
        search: str | None = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Sale]:
        return await _page(info, crm.sales(search), Sale.from_model, first, after, last, before)

    @strawberry.field
    async def selections(
        self,
        info: Info,
        search: str | None = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Selection]:
        return await _page(
            info, crm.selections(search), Selection.from_model, first, after, last, before
        )

    @strawberry.field
    async def resource_groups(self) -> list[ResourceGroup]:
        return [ResourceGroup.from_model(r) for r in await crm.resource_groups()]

    @strawberry.field
    async def resources(
        self,
        info: Info,
        resource_group_id: strawberry.ID | None = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Resource]:
        group = (
            ids.decode(resource_group_id, "ResourceGroup", "resourceGroupId")
            if resource_group_id is not None
            else None
        )
        return await _page(
            info, crm.resources(group), Resource.from_model, first, after, last, before
        )

    @strawberry.field
    async def activity_types(self) -> list[ActivityType]:
        return [ActivityType.from_model(r) for r in await crm.activity_types()]
