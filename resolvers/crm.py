"""The CRM lists GraphQL pages through: associates, groups, contacts, projects, sales...

Each function returns the query (filtered and searched) or the rows; ``schema.crm`` pages
the queries with keyset cursors.
"""

from __future__ import annotations

from typing import Any

from tortoise.expressions import Q

from orm import models as m

#: the most rows a short, unpaged list returns
LIST_LIMIT = 1000


def search(query: Any, term: str | None, *columns: str) -> Any:
    """``query`` narrowed to rows whose ``columns`` contain ``term`` (any of them)."""
    if not term:
        return query
    term = term.strip()[:100]
    condition = Q()
    for column in columns:
        condition |= Q(**{f"{column}__icontains": term})
    return query.filter(condition)


def associates(group_id: int | None, term: str | None, include_inactive: bool) -> Any:
    query = m.Associate.all() if include_inactive else m.Associate.filter(active=True)
    if group_id is not None:
        query = query.filter(group_id=group_id)
    return search(query, term, "name", "email")


def companies(term: str | None) -> Any:
    return search(m.Company.all(), term, "name")


def persons(company_id: int | None, term: str | None) -> Any:
    query = m.Person.all()
    if company_id is not None:
        query = query.filter(company_id=company_id)
    return search(query, term, "first_name", "last_name")


def projects(term: str | None) -> Any:
    return search(m.Project.all(), term, "name")


def sales(term: str | None) -> Any:
    return search(m.Sale.all(), term, "title")


def selections(term: str | None) -> Any:
    return search(m.Selection.all(), term, "name")


def resources(group_id: int | None) -> Any:
    query = m.Resource.filter(active=True)
    if group_id is not None:
        query = query.filter(group_id=group_id)
    return query


async def user_groups() -> list[m.UserGroup]:
    return await m.UserGroup.all().order_by("name").limit(LIST_LIMIT)


async def resource_groups() -> list[m.ResourceGroup]:
    return await m.ResourceGroup.all().order_by("name").limit(LIST_LIMIT)


async def activity_types() -> list[m.ActivityType]:
    return await m.ActivityType.all().order_by("name").limit(LIST_LIMIT)
