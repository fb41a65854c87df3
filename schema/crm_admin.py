"""Administrators' mutations of the CRM records: inputs, payloads and field bindings only.

Each ``createX``/``updateX``/``deleteX`` field is bound to ``resolvers.crm_records``
(one rule set with ``followups import``) through the same three generic resolvers, run
in one transaction by ``atomically``: a failure answers typed ``errors`` and changes
nothing.  In an update, a field left out stays as it is, ``null`` clears it, and a list
(``emails``, ``phones``, members) replaces the whole list.  Associates and resources have
no delete: ``active: false`` deactivates them (their follow-ups and bookings stay).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import strawberry

from resolvers import crm_records as records
from resolvers.context import Info
from schema import crm_types as t
from schema import ids
from schema.errors import UserError, atomically

UNSET: Any = strawberry.UNSET


@strawberry.input(description="A phone number; kind DIRECT unless given.")
class PhoneInput:
    number: str
    kind: t.PhoneKind = t.PhoneKind.DIRECT  # type: ignore[valid-type]


@strawberry.input(description="A company; for an update, only the fields given change.")
class CompanyInput:
    external_id: str | None = UNSET
    name: str | None = UNSET
    country: str | None = strawberry.field(default=UNSET, description="ISO 3166 alpha-2")
    phones: list[PhoneInput] | None = strawberry.field(
        default=UNSET, description="Replaces the company's numbers, in this order"
    )


@strawberry.input(description="A contact person; a first or a last name is needed.")
class PersonInput:
    external_id: str | None = UNSET
    first_name: str | None = UNSET
    last_name: str | None = UNSET
    company_id: strawberry.ID | None = UNSET
    country: str | None = strawberry.field(default=UNSET, description="ISO 3166 alpha-2")
    emails: list[str] | None = strawberry.field(
        default=UNSET, description="Replaces the addresses; the first is the preferred one"
    )
    phones: list[PhoneInput] | None = strawberry.field(
        default=UNSET, description="Replaces the person's numbers, in this order"
    )


@strawberry.input
class ProjectInput:
    external_id: str | None = UNSET
    name: str | None = UNSET
    member_person_ids: list[strawberry.ID] | None = strawberry.field(
        default=UNSET, description="Replaces the contact person members"
    )
    member_associate_ids: list[strawberry.ID] | None = strawberry.field(
        default=UNSET, description="Replaces the associate members"
    )


@strawberry.input
class SaleInput:
    external_id: str | None = UNSET
    title: str | None = UNSET
    company_id: strawberry.ID | None = UNSET
    person_id: strawberry.ID | None = UNSET


@strawberry.input
class SelectionInput:
    external_id: str | None = UNSET
    name: str | None = UNSET
    member_person_ids: list[strawberry.ID] | None = strawberry.field(
        default=UNSET, description="Replaces the person members"
    )
    member_company_ids: list[strawberry.ID] | None = strawberry.field(
        default=UNSET, description="Replaces the company members"
    )


@strawberry.input(description="An associate; active: false deactivates (no more sign-in).")
class AssociateInput:
    external_id: str | None = UNSET
    name: str | None = UNSET
    email: str | None = UNSET
    user_group_id: strawberry.ID | None = UNSET
    is_admin: bool | None = UNSET
    active: bool | None = UNSET


@strawberry.input
class UserGroupInput:
    external_id: str | None = UNSET
    name: str | None = UNSET


@strawberry.input
class ResourceGroupInput:
    external_id: str | None = UNSET
    name: str | None = UNSET


@strawberry.input(description="A room, equipment or location; active: false retires it.")
class ResourceInput:
    external_id: str | None = UNSET
    name: str | None = UNSET
    kind: t.ResourceKind | None = UNSET  # type: ignore[valid-type]
    resource_group_id: strawberry.ID | None = UNSET
    email: str | None = UNSET
    allow_double_booking: bool | None = UNSET
    active: bool | None = UNSET


@strawberry.input
class ActivityTypeInput:
    external_id: str | None = UNSET
    name: str | None = UNSET
    colour: str | None = strawberry.field(default=UNSET, description="#rrggbb")
    default_kind: t.FollowUpKind | None = UNSET  # type: ignore[valid-type]


def _payload(name: str, node: type[Any]) -> type[Any]:
    """A ``<Name>Payload`` type: the record (null on failure) and ``errors``."""
    field = name[0].lower() + name[1:]
    cls = type(
        f"{name}Payload",
        (),
        {
            "__annotations__": {field: node | None, "errors": list[UserError]},
            field: None,
            "errors": strawberry.field(default_factory=list),
        },
    )
    return strawberry.type(cls)


@strawberry.type
class DeleteRecordPayload:
    deleted_id: strawberry.ID | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


def _data(kind: str, value: Any) -> dict[str, Any]:
    """The input object as the domain's dict: global IDs decoded, UNSET fields left out."""
    spec = records.SPECS[kind]
    data: dict[str, Any] = {}
    for item in dataclasses.fields(value):
        given = getattr(value, item.name)
        if given is UNSET:
            continue
        column = next((c for c in spec.columns if c.path == records.camel(item.name)), None)
        members = next((mb for mb in spec.members if mb.name == item.name), None)
        path = records.camel(item.name)
        if column is not None and column.ref is not None:
            type_name = records.SPECS[column.ref].type_name
            given = None if given is None else ids.decode(given, type_name, path)
            data[column.name] = given
        elif members is not None:
            type_name = records.SPECS[members.ref].type_name
            data[item.name] = [
                ids.decode(v, type_name, f"{path}.{i}") for i, v in enumerate(given or [])
            ]
        elif item.name == "phones":
            data["phones"] = [{"number": p.number, "kind": p.kind} for p in given or []]
        else:
            data[column.name if column else item.name] = given
    return data


def _bind(kind: str, op: str, input_type: type[Any] | None, payload: type[Any]) -> Any:
    """One mutation field: create, update or delete a record of ``kind``."""
    spec = records.SPECS[kind]
    node: Callable[[Any], Any] = getattr(t, spec.type_name).from_model
    field = spec.type_name[0].lower() + spec.type_name[1:]

    async def create(info: Info, input: Any) -> Any:
        async def work() -> Any:
            row = await records.create(info.context.viewer, kind, _data(kind, input))
            return payload(**{field: node(row)})

        return await atomically(work, lambda errors: payload(errors=errors))

    async def update(info: Info, id: strawberry.ID, input: Any) -> Any:
        async def work() -> Any:
            records.require_admin(info.context.viewer)
            key = ids.decode(id, spec.type_name, "id")
            row = await records.update(info.context.viewer, kind, key, _data(kind, input))
            return payload(**{field: node(row)})

        return await atomically(work, lambda errors: payload(errors=errors))

    async def delete(info: Info, id: strawberry.ID) -> Any:
        async def work() -> Any:
            records.require_admin(info.context.viewer)
            key = await records.delete(
                info.context.viewer, kind, ids.decode(id, spec.type_name, "id")
            )
            return payload(deleted_id=strawberry.ID(ids.encode(spec.type_name, key)))

        return await atomically(work, lambda errors: payload(errors=errors))

    resolver: Any = {"create": create, "update": update, "delete": delete}[op]
    hints: dict[str, Any] = {"info": Info, "return": payload}
    if op != "create":
        hints["id"] = strawberry.ID
    if input_type is not None:
        hints["input"] = input_type
    resolver.__annotations__ = hints
    resolver.__name__ = f"{op}_{kind}"
    words = spec.kind.replace("_", " ")
    text = {
        "create": f"Create a {words} (administrators).",
        "update": f"Change a {words} (administrators); fields left out stay as they are.",
        "delete": f"Delete a {words} (administrators); follow-ups that named it stay.",
    }[op]
    return strawberry.mutation(resolver=resolver, description=text)


_INPUTS: dict[str, type[Any]] = {
    "company": CompanyInput,
    "person": PersonInput,
    "project": ProjectInput,
    "sale": SaleInput,
    "selection": SelectionInput,
    "associate": AssociateInput,
    "user_group": UserGroupInput,
    "resource_group": ResourceGroupInput,
    "resource": ResourceInput,
    "activity_type": ActivityTypeInput,
}


def _fields() -> dict[str, Any]:
    found: dict[str, Any] = {}
    for kind, input_type in _INPUTS.items():
        spec = records.SPECS[kind]
        payload = _payload(spec.type_name, getattr(t, spec.type_name))
        found[f"create_{kind}"] = _bind(kind, "create", input_type, payload)
        found[f"update_{kind}"] = _bind(kind, "update", input_type, payload)
        if spec.deletable:
            found[f"delete_{kind}"] = _bind(kind, "delete", None, DeleteRecordPayload)
    return found


CrmAdminMutation = strawberry.type(type("CrmAdminMutation", (), _fields()))
