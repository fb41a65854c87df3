"""Lookups and lists of the CRM records: associates, groups, contacts, projects, sales..."""

from __future__ import annotations

from typing import Annotated, Any

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

    @strawberry.field(
        description="Associates, paged (keyset, ordered by ID); "
        "only active ones unless includeInactive."
    )
    async def associates(
        self,
        info: Info,
        user_group_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(description="Only members of this UserGroup; null for all."),
        ] = None,
        search: Annotated[
            str | None,
            strawberry.argument(
                description="Case-insensitive substring of the name (first 100 characters, "
                "trimmed); null or empty lists all."
            ),
        ] = None,
        include_inactive: Annotated[
            bool, strawberry.argument(description="Also list deactivated associates.")
        ] = False,
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

    @strawberry.field(description="All user groups by name (at most 1,000).")
    async def user_groups(self) -> list[UserGroup]:
        return [UserGroup.from_model(r) for r in await crm.user_groups()]

    @strawberry.field(description="Companies, paged (keyset, ordered by ID).")
    async def companies(
        self,
        info: Info,
        search: Annotated[
            str | None,
            strawberry.argument(
                description="Case-insensitive substring of the name (first 100 characters, "
                "trimmed); null or empty lists all."
            ),
        ] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Company]:
        return await _page(
            info, crm.companies(search), Company.from_model, first, after, last, before
        )

    @strawberry.field(description="Contact persons, paged (keyset, ordered by ID).")
    async def persons(
        self,
        info: Info,
        company_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(description="Only persons of this Company; null for all."),
        ] = None,
        search: Annotated[
            str | None,
            strawberry.argument(
                description="Case-insensitive substring of the name (first 100 characters, "
                "trimmed); null or empty lists all."
            ),
        ] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Person]:
        company = ids.decode(company_id, "Company", "companyId") if company_id is not None else None
        return await _page(
            info, crm.persons(company, search), Person.from_model, first, after, last, before
        )

    @strawberry.field(description="Projects, paged (keyset, ordered by ID).")
    async def projects(
        self,
        info: Info,
        search: Annotated[
            str | None,
            strawberry.argument(
                description="Case-insensitive substring of the name (first 100 characters, "
                "trimmed); null or empty lists all."
            ),
        ] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Project]:
        return await _page(
            info, crm.projects(search), Project.from_model, first, after, last, before
        )

    @strawberry.field(description="Sales, paged (keyset, ordered by ID).")
    async def sales(
        self,
        info: Info,
        search: Annotated[
            str | None,
            strawberry.argument(
                description="Case-insensitive substring of the name (first 100 characters, "
                "trimmed); null or empty lists all."
            ),
        ] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Sale]:
        return await _page(info, crm.sales(search), Sale.from_model, first, after, last, before)

    @strawberry.field(description="Selections, paged (keyset, ordered by ID).")
    async def selections(
        self,
        info: Info,
        search: Annotated[
            str | None,
            strawberry.argument(
                description="Case-insensitive substring of the name (first 100 characters, "
                "trimmed); null or empty lists all."
            ),
        ] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Selection]:
        return await _page(
            info, crm.selections(search), Selection.from_model, first, after, last, before
        )

    @strawberry.field(description="All resource groups by name (at most 1,000).")
    async def resource_groups(self) -> list[ResourceGroup]:
        return [ResourceGroup.from_model(r) for r in await crm.resource_groups()]

    @strawberry.field(description="Active resources, paged (keyset, ordered by ID).")
    async def resources(
        self,
        info: Info,
        resource_group_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(description="Only resources of this ResourceGroup; null for all."),
        ] = None,
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

    @strawberry.field(description="All activity types by name (at most 1,000).")
    async def activity_types(self) -> list[ActivityType]:
        return [ActivityType.from_model(r) for r in await crm.activity_types()]
