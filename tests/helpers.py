"""Test helpers: seed records, tokens, and a GraphQL client that speaks HTTP."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from orm import models as m
from resolvers.auth import create_token
from schema.ids import encode
from sync.address_policy import AddressPolicy

# the test servers run on loopback: the suite allows it (CALDAV_ALLOWED_HOSTS), nothing else
LOOPBACK_HOSTS = ("127.0.0.1", "localhost")
LOOPBACK = AddressPolicy.parse(LOOPBACK_HOSTS)


@dataclass
class Gql:
    """Posts GraphQL over HTTP as one associate."""

    http: httpx.AsyncClient
    token: str

    async def raw(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        response = await self.http.post(
            "/graphql",
            json={"query": query, "variables": variables or {}},
            headers={"Authorization": f"Bearer {self.token}"},
        )
        assert response.status_code == 200, response.text
        return dict(response.json())

    async def __call__(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        body = await self.raw(query, variables)
        assert not body.get("errors"), body["errors"]
        return dict(body["data"])


async def associate(name: str = "Ann", **fields: Any) -> m.Associate:
    fields.setdefault("email", f"{name.lower()}@example.com")
    return await m.Associate.create(name=name, **fields)


async def client_for(http: httpx.AsyncClient, who: m.Associate) -> Gql:
    return Gql(http, await create_token(who))


def gid(type_name: str, key: int) -> str:
    return encode(type_name, key)


async def snapshot() -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the follow-up and CRM tables, to prove a failure changed nothing."""
    result: dict[str, list[tuple[Any, ...]]] = {}
    crm = (m.Company, m.Person, m.EmailAddress, m.PhoneNumber, m.Project, m.ProjectMember)
    crm += (m.Sale, m.Selection, m.SelectionMember, m.Associate, m.UserGroup, m.Resource)
    crm += (m.ResourceGroup, m.ActivityType)
    for model in (m.FollowUp, m.Participant, m.ResourceBooking, m.Preference, *crm):
        rows = await model.all().order_by("id").values()
        result[model.__name__] = [tuple(sorted(row.items())) for row in rows]
    return result


class QueryCounter:
    """Counts the SQL statements Tortoise sends while it is active (a context manager)."""

    def __init__(self) -> None:
        import logging

        self.count = 0
        self.statements: list[str] = []
        self._logger = logging.getLogger("tortoise.db_client")
        counter = self

        class Handler(logging.Handler):
            def emit(self, record: logging.LogRecord) -> None:
                message = record.getMessage()
                if message.split(None, 1)[0].upper() in {"SELECT", "INSERT", "UPDATE", "DELETE"}:
                    counter.count += 1
                    counter.statements.append(message)

        self._handler = Handler()

    def __enter__(self) -> QueryCounter:
        import logging

        self._level = self._logger.level
        self._logger.setLevel(logging.DEBUG)
        self._logger.addHandler(self._handler)
        return self

    def __exit__(self, *exc: object) -> None:
        self._logger.removeHandler(self._handler)
        self._logger.setLevel(self._level)
