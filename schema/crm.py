"""Lookups and lists of the CRM records: associates, groups, contacts, projects, sales..."""

from __future__ import annotations

from typing import Any

import strawberry
from tortoise.expressions import Q

from orm import models as m
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
from schema.pagination import Connection, connection, keyset_page, page_size


async def _page(
    info: Info, query: Any, make: Any, first: int | None, after: str | None
) -> Connection[Any]:
    rows, more, total = await keyset_page(
        query, first=page_size(first, info.context.settings), after=after
    )
    return connection(rows, more, total, make)


def _search(query: Any, search: str | None, *columns: str) -> Any:
    if not search:
        return query
    term = search.strip()[:100]
    condition = Q()
    for column in columns:
        condition |= Q(**{f"{column}__icontains": term})
    return query.filter(condition)


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
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[Associate]:
        query = m.Associate.all() if include_inactive else m.Associate.filter(active=True)
        if user_group_id is not None:
            query = query.filter(group_id=ids.decode(user_group_id, "UserGroup", "userGroupId"))
        return await _page(
            info, _search(query, search, "name", "email"), Associate.from_model, first, after
        )

    @strawberry.field
    async def user_groups(self) -> list[UserGroup]:
        return [
            UserGroup.from_model(r) for r in await m.UserGroup.all().order_by("name").limit(1000)
        ]

    @strawberry.field
    async def companies(
        self,
        info: Info,
        search: str | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[Company]:
        return await _page(
            info, _search(m.Company.all(), search, "name"), Company.from_model, first, after
        )

    @strawberry.field
    async def persons(
        self,
        info: Info,
        company_id: strawberry.ID | None = None,
        search: str | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[Person]:
        query = m.Person.all()
        if company_id is not None:
            query = query.filter(company_id=ids.decode(company_id, "Company", "companyId"))
        query = _search(query, search, "first_name", "last_name")
        return await _page(info, query, Person.from_model, first, after)

    @strawberry.field
    async def projects(
        self,
        info: Info,
        search: str | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[Project]:
        return await _page(
            info, _search(m.Project.all(), search, "name"), Project.from_model, first, after
        )

    @strawberry.field
    async def sales(
        self,
        info: Info,
        search: str | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[Sale]:
        return await _page(
            info, _search(m.Sale.all(), search, "title"), Sale.from_model, first, after
        )

    @strawberry.field
    async def selections(
        self,
        info: Info,
        search: str | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[Selection]:
        return await _page(
            info, _search(m.Selection.all(), search, "name"), Selection.from_model, first, after
        )

    @strawberry.field
    async def resource_groups(self) -> list[ResourceGroup]:
        rows = await m.ResourceGroup.all().order_by("name").limit(1000)
        return [ResourceGroup.from_model(r) for r in rows]

    @strawberry.field
    async def resources(
        self,
        info: Info,
        resource_group_id: strawberry.ID | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[Resource]:
        query = m.Resource.filter(active=True)
        if resource_group_id is not None:
            query = query.filter(
                group_id=ids.decode(resource_group_id, "ResourceGroup", "resourceGroupId")
            )
        return await _page(info, query, Resource.from_model, first, after)

    @strawberry.field
    async def activity_types(self) -> list[ActivityType]:
        rows = await m.ActivityType.all().order_by("name").limit(1000)
        return [ActivityType.from_model(r) for r in rows]
