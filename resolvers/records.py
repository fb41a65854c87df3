"""Row reads behind the GraphQL types: by key and by parent, batched per request.

Every read goes through the request's DataLoaders (``resolvers.loaders``): one ``IN (...)``
query per table (or relation) and request. ``schema`` types name the table they read from
here and build themselves from the rows; whether a viewer may see a row is decided by
``resolvers.visibility`` (the node lookups of the types that need it call it).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from tortoise.models import Model

from orm import models as m
from orm.outbox_models import MailOutbox, Proposal
from resolvers.context import Info
from resolvers.loaders import custom_loader, load_now
from resolvers.preferences import effective_for


class Table:
    """The rows of one table by primary key."""

    def __init__(self, model: type[Model]) -> None:
        self.model = model

    async def one(self, info: Info, key: int | None) -> Any:
        """The row of ``key`` (None for no key or an unknown one)."""
        if key is None:
            return None
        return await info.context.loaders.by_id(self.model).load(key)

    async def many(
        self, info: Info, keys: Iterable[int | None], *, whole_list: bool = False
    ) -> list[Any]:
        """The rows of ``keys`` in order, None where unknown or the key is None.

        ``whole_list``: the caller holds every key it will ask for (a list's prefetch), so
        they are loaded now in one statement instead of joining other fields' batch."""
        keys = list(keys)
        wanted = sorted({k for k in keys if k is not None})
        loader = info.context.loaders.by_id(self.model)
        rows = await (load_now(loader, wanted) if whole_list else loader.load_many(wanted))
        found = dict(zip(wanted, rows, strict=True))
        return [found.get(k) if k is not None else None for k in keys]

    async def nodes(self, info: Info, node_ids: Iterable[str]) -> list[Any]:
        """The rows of Relay node keys (None where unknown or not a key)."""
        keys = [int(n) if n.isdigit() and len(n) < 18 else -1 for n in node_ids]
        return await self.many(info, keys)


class Children:
    """The rows of one table that point at a parent, in ``order``."""

    def __init__(self, model: type[Model], column: str, order: str = "id") -> None:
        self.model, self.column, self.order = model, column, order

    async def of(self, info: Info, parent: int) -> list[Any]:
        return (await self.of_many(info, [parent]))[0]

    async def of_many(
        self, info: Info, parents: list[int], *, whole_list: bool = False
    ) -> list[list[Any]]:
        """The children of each parent, in the order of ``parents``: one statement
        (``whole_list`` as in ``Table.many``)."""
        loader = info.context.loaders.by_parent(self.model, self.column, self.order)
        found = await (load_now(loader, parents) if whole_list else loader.load_many(parents))
        return [list(rows) for rows in found]


activity_types = Table(m.ActivityType)
associates = Table(m.Associate)
companies = Table(m.Company)
followups = Table(m.FollowUp)
participants = Table(m.Participant)
persons = Table(m.Person)
phone_numbers = Table(m.PhoneNumber)
projects = Table(m.Project)
proposals = Table(Proposal)
resource_groups = Table(m.ResourceGroup)
resources = Table(m.Resource)
sales = Table(m.Sale)
selections = Table(m.Selection)
user_groups = Table(m.UserGroup)

company_phones = Children(m.PhoneNumber, "company_id", "position")
person_phones = Children(m.PhoneNumber, "person_id", "position")
person_emails = Children(m.EmailAddress, "person_id", "position")
followup_participants = Children(m.Participant, "followup_id")
followup_bookings = Children(m.ResourceBooking, "followup_id")
followup_proposals = Children(Proposal, "followup_id")
participant_status_changes = Children(m.StatusChange, "participant_id")
participant_mails = Children(MailOutbox, "participant_id")


async def effective_prefs(info: Info, associate: m.Associate) -> dict[Any, Any]:
    """The associate's effective preferences, batched per request."""

    async def batch(keys: list[int]) -> list[dict[Any, Any]]:
        people = await associates.many(info, keys)
        found = await effective_for(p for p in people if p is not None)
        return [found.get(k, {}) for k in keys]

    return await custom_loader(info.context.loaders, "prefs", batch).load(associate.id)
