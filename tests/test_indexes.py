"""The lists the API offers read the follow-up table through an index, never a full scan.

Every SELECT a GraphQL request sends is captured with its parameters and EXPLAINed on
the same connection, over a data set large enough (and ANALYZEd) that each planner
prefers an index wherever one fits; a plan that scans ``followup`` whole fails.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from tortoise.connection import get_connection

from orm import models as m
from tests.helpers import associate, client_for, gid

ROWS = 20_000
RECORDS = 200  # companies, persons, sales and projects each
OWNERS = 50
BASE = datetime(2026, 1, 5, 8, tzinfo=UTC)


async def _fill() -> tuple[m.Associate, dict[str, int]]:
    owners = [await associate(f"Owner{i}") for i in range(OWNERS)]
    await m.Company.bulk_create([m.Company(name=f"C{i}") for i in range(RECORDS)])
    companies = [c.id for c in await m.Company.all()]
    await m.Person.bulk_create([m.Person(first_name=f"P{i}") for i in range(RECORDS)])
    persons = [p.id for p in await m.Person.all()]
    await m.Sale.bulk_create([m.Sale(title=f"S{i}") for i in range(RECORDS)])
    sales = [s.id for s in await m.Sale.all()]
    await m.Project.bulk_create([m.Project(name=f"J{i}") for i in range(RECORDS)])
    projects = [p.id for p in await m.Project.all()]
    rows = []
    for i in range(ROWS):
        start = BASE + timedelta(hours=7 * i)
        task = i % 3 == 0
        rows.append(
            m.FollowUp(
                kind=m.Kind.TASK if task else m.Kind.MEETING,
                owner_id=owners[i % OWNERS].id,
                title=f"row {i}",
                start_at=None if task else start,
                end_at=None if task else start + timedelta(hours=1),
                deadline=start if task else None,
                sort_at=start,
                uid=f"idx-{i}@test",
                done=i % 5 == 0,
                company_id=companies[i % RECORDS] if i % 4 == 0 else None,
                person_id=persons[i % RECORDS] if i % 4 == 1 else None,
                sale_id=sales[i % RECORDS] if i % 4 == 2 else None,
                project_id=projects[i % RECORDS] if i % 4 == 3 else None,
            )
        )
    await m.FollowUp.bulk_create(rows, batch_size=2_000)
    conn = get_connection("default")
    await conn.execute_script("ANALYZE")
    links = {
        "companyId": gid("Company", companies[8]),  # rows i with i % 200 == 8: i % 4 == 0
        "personId": gid("Person", persons[9]),
        "saleId": gid("Sale", sales[10]),
        "projectId": gid("Project", projects[11]),
    }
    return owners[3], links


@contextmanager
def captured() -> Iterator[list[tuple[str, list[Any]]]]:
    """Every SELECT the default connection runs, with its parameters."""
    client = type(get_connection("default"))
    seen: list[tuple[str, list[Any]]] = []
    originals = {name: getattr(client, name) for name in ("execute_query", "execute_query_dict")}

    def wrap(original: Any) -> Any:
        async def spy(self: Any, query: str, values: list[Any] | None = None) -> Any:
            if query.lstrip().upper().startswith("SELECT") and "followup" in query:
                seen.append((query, list(values or [])))
            return await original(self, query, values)

        return spy

    for name, original in originals.items():
        setattr(client, name, wrap(original))
    try:
        yield seen
    finally:
        for name, original in originals.items():
            setattr(client, name, original)


async def _plan(query: str, values: list[Any], postgres: bool) -> str:
    conn = get_connection("default")
    prefix = "EXPLAIN " if postgres else "EXPLAIN QUERY PLAN "
    _, rows = await conn.execute_query(prefix + query, values)
    return "\n".join(" ".join(str(v) for v in dict(row).values()) for row in rows)


def _scans_followup(plan: str, postgres: bool) -> bool:
    if postgres:
        return re.search(r"Seq Scan on followup\b", plan) is not None
    return re.search(r"\bSCAN (followup|\"followup\")( AS \w+)?\s*$", plan, re.M) is not None


async def _assert_indexed(gql: Any, document: str, postgres: bool) -> int:
    with captured() as seen:
        await gql(document)
    assert seen, "the request read no follow-ups"
    for query, values in seen:
        plan = await _plan(query, values, postgres)
        assert not _scans_followup(plan, postgres), f"full scan of followup:\n{query}\n{plan}"
    return len(seen)


async def test_lists_read_followups_through_an_index(http: httpx.AsyncClient, db: str) -> None:
    """Activities of each kind of record (page and count), todo and the diary."""
    viewer, links = await _fill()
    gql = await client_for(http, viewer)
    postgres = db.startswith("postgres")
    for link, record in links.items():
        page = f'{{ activities({link}: "{record}", first: 50) {{ totalCount nodes {{ id }} }} }}'
        assert await _assert_indexed(gql, page, postgres) >= 2  # the page and its count
        body = await gql(page)
        assert body["activities"]["totalCount"] == ROWS // RECORDS
        assert len(body["activities"]["nodes"]) == 50
    todo = "{ todo(first: 50) { id deadline } }"
    await _assert_indexed(gql, todo, postgres)
    assert (await gql(todo))["todo"]
    lo, hi = BASE + timedelta(days=300), BASE + timedelta(days=360)
    diary = (
        f'{{ diary(associateIds: ["{gid("Associate", viewer.id)}"], '
        f'from: "{lo.isoformat()}", to: "{hi.isoformat()}") {{ id start }} }}'
    )
    await _assert_indexed(gql, diary, postgres)
    assert (await gql(diary))["diary"]
