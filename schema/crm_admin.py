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
from typing import Annotated, Any

import strawberry

from resolvers import crm_records as records
from resolvers.context import Info
from schema import crm_types as t
from schema import ids
from schema.errors import UserError, atomically

UNSET: Any = strawberry.UNSET


def _f(description: str) -> Any:
    """An input field left out by default (UNSET: an update keeps the stored value)."""
    return strawberry.field(default=UNSET, description=description)


EXTERNAL_ID = (
    "Key of the record in the CRM it comes from (what `followups import` matches on): at "
    "most 200 characters, unique among records of this kind (case-insensitive, else "
    "VALIDATION); null or empty clears it."
)
COUNTRY = (
    "Country code, ISO 3166-1 alpha-2 (e.g. NO; stored in upper case), used to dial the "
    "numbers in E.164 form; null or empty clears it."
)
PHONES = (
    "The phone numbers, in this order (at most 100); replaces the whole list, an empty "
    "list removes them all."
)


def _name(limit: int, what: str = "Display name") -> str:
    return f"{what}: one line, at most {limit} characters; required on create, never null."


@strawberry.input(description="A phone number of a person or company.")
class PhoneInput:
    number: str = strawberry.field(
        description="The number as written (at most 64 characters, with at least one digit), "
        "e.g. +47 22 33 44 55; dialled in E.164 form where the country is known."
    )
    kind: t.PhoneKind = strawberry.field(  # type: ignore[valid-type]
        default=t.PhoneKind.DIRECT, description="What kind of line it is; default DIRECT."
    )


@strawberry.input(description="A company; for an update, only the fields given change.")
class CompanyInput:
    external_id: str | None = _f(EXTERNAL_ID)
    name: str | None = _f(_name(300))
    country: str | None = _f(COUNTRY)
    phones: list[PhoneInput] | None = _f(PHONES)


@strawberry.input(
    description="A contact person; a first or a last name is needed. For an update, only "
    "the fields given change."
)
class PersonInput:
    external_id: str | None = _f(EXTERNAL_ID)
    first_name: str | None = _f(
        "Given name: one line, at most 200 characters; null or empty leaves it empty."
    )
    last_name: str | None = _f(
        "Family name: one line, at most 200 characters; null or empty leaves it empty "
        "(VALIDATION when the first name is empty too)."
    )
    company_id: strawberry.ID | None = _f(
        "The Company the person works for (NOT_FOUND when unknown); null: none."
    )
    country: str | None = _f(COUNTRY + " Takes precedence over the company's country.")
    emails: list[str] | None = _f(
        "E-mail addresses (at most 100, each a valid address of at most 320 characters); "
        "replaces the whole list, the first is the preferred one, repeats (case-insensitive) "
        "are dropped."
    )
    phones: list[PhoneInput] | None = _f(PHONES)


MEMBERS = (
    "; replaces the whole member list (at most 1,000 IDs, repeats dropped, NOT_FOUND for an "
    "unknown one); an empty list or null removes them all."
)


@strawberry.input(description="A project; for an update, only the fields given change.")
class ProjectInput:
    external_id: str | None = _f(EXTERNAL_ID)
    name: str | None = _f(_name(300))
    member_person_ids: list[strawberry.ID] | None = _f("The Person members" + MEMBERS)
    member_associate_ids: list[strawberry.ID] | None = _f("The Associate members" + MEMBERS)


@strawberry.input(description="A sale; for an update, only the fields given change.")
class SaleInput:
    external_id: str | None = _f(EXTERNAL_ID)
    title: str | None = _f(_name(300, "Title"))
    company_id: strawberry.ID | None = _f(
        "The Company the sale is with (NOT_FOUND when unknown); null: none."
    )
    person_id: strawberry.ID | None = _f(
        "The contact Person of the sale (NOT_FOUND when unknown); null: none."
    )


@strawberry.input(description="A selection; for an update, only the fields given change.")
class SelectionInput:
    external_id: str | None = _f(EXTERNAL_ID)
    name: str | None = _f(_name(300))
    member_person_ids: list[strawberry.ID] | None = _f("The Person members" + MEMBERS)
    member_company_ids: list[strawberry.ID] | None = _f(
        "The Company members (their persons count as members)" + MEMBERS
    )


@strawberry.input(
    description="An associate; active: false deactivates (their tokens stop working). For an "
    "update, only the fields given change."
)
class AssociateInput:
    external_id: str | None = _f(EXTERNAL_ID)
    name: str | None = _f(_name(200))
    email: str | None = _f(
        "E-mail address for invitations (at most 320 characters), unique among associates "
        "(case-insensitive, else VALIDATION); null or empty clears it."
    )
    user_group_id: strawberry.ID | None = _f("The UserGroup (NOT_FOUND when unknown); null: none.")
    is_admin: bool | None = _f(
        "Administrator right; default false. You cannot take away your own (VALIDATION)."
    )
    active: bool | None = _f(
        "False deactivates the associate: kept for history, their tokens stop working. "
        "Default true; you cannot deactivate yourself (VALIDATION)."
    )


@strawberry.input(description="A user group; for an update, only the fields given change.")
class UserGroupInput:
    external_id: str | None = _f(EXTERNAL_ID)
    name: str | None = _f(_name(200) + " Unique among groups (case-insensitive).")


@strawberry.input(description="A resource group; for an update, only the fields given change.")
class ResourceGroupInput:
    external_id: str | None = _f(EXTERNAL_ID)
    name: str | None = _f(_name(200) + " Unique among resource groups (case-insensitive).")


@strawberry.input(
    description="A room, equipment or location; active: false retires it. For an update, "
    "only the fields given change."
)
class ResourceInput:
    external_id: str | None = _f(EXTERNAL_ID)
    name: str | None = _f(_name(200))
    kind: t.ResourceKind | None = _f(  # type: ignore[valid-type]
        "What kind of resource it is; default ROOM."
    )
    resource_group_id: strawberry.ID | None = _f(
        "The ResourceGroup (NOT_FOUND when unknown); null: none."
    )
    email: str | None = _f(
        "The resource's e-mail address (at most 320 characters); null or empty clears it."
    )
    allow_double_booking: bool | None = _f(
        "True: overlapping bookings are allowed; false: a second booking of the same time "
        "is a CONFLICT. Default true."
    )
    active: bool | None = _f(
        "False retires the resource: kept for history and old bookings, no longer listed "
        "or offered. Default true."
    )


@strawberry.input(description="An activity type; for an update, only the fields given change.")
class ActivityTypeInput:
    external_id: str | None = _f(EXTERNAL_ID)
    name: str | None = _f(_name(200))
    colour: str | None = _f("Display colour as #rrggbb (stored in lower case); default #3366cc.")
    default_kind: t.FollowUpKind | None = _f(  # type: ignore[valid-type]
        "The kind a new follow-up of this type gets unless told otherwise; default MEETING."
    )


def _payload(name: str, node: type[Any]) -> type[Any]:
    """A ``<Name>Payload`` type: the record (null on failure) and ``errors``."""
    field = name[0].lower() + name[1:]
    cls = type(
        f"{name}Payload",
        (),
        {
            "__annotations__": {field: node | None, "errors": list[UserError]},
            field: strawberry.field(
                default=None, description=f"The {name} as saved; null when errors is not empty."
            ),
            "errors": strawberry.field(
                default_factory=list, description="Why nothing was saved; empty on success."
            ),
        },
    )
    return strawberry.type(
        cls, description=f"Result of create{name} or update{name}: the record, or errors."
    )


@strawberry.type(description="Result of a CRM record's delete mutation: its ID, or errors.")
class DeleteRecordPayload:
    deleted_id: strawberry.ID | None = strawberry.field(
        default=None, description="Global ID of the deleted record; null when errors is not empty."
    )
    errors: list[UserError] = strawberry.field(
        default_factory=list, description="Why nothing was deleted; empty on success."
    )


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
    words = spec.kind.replace("_", " ")
    if op != "create":
        hints["id"] = Annotated[
            strawberry.ID,
            strawberry.argument(
                description=f"Global ID of the {spec.type_name} to "
                f"{'change' if op == 'update' else 'delete'} (NOT_FOUND when unknown)."
            ),
        ]
    if input_type is not None:
        hints["input"] = Annotated[
            input_type,
            strawberry.argument(
                description=f"The {words}'s fields"
                + ("; the required ones must be given." if op == "create" else " to change.")
            ),
        ]
    resolver.__annotations__ = hints
    resolver.__name__ = f"{op}_{kind}"
    errors = (
        " Errors: FORBIDDEN for anyone but an administrator; VALIDATION for an invalid or "
        "duplicate value (path names the field); NOT_FOUND for an unknown ID."
    )
    text = {
        "create": f"Create a {words} (administrators only).{errors}",
        "update": f"Change a {words} (administrators only); fields left out stay as they "
        f"are, a list given replaces the whole list.{errors}",
        "delete": f"Delete a {words} (administrators only); follow-ups that named it stay."
        + (
            " A person who takes part in a follow-up is not deleted (CONFLICT)."
            if kind == "person"
            else " The group's preferences are deleted with it."
            if kind == "user_group"
            else ""
        )
        + " Errors: FORBIDDEN for anyone but an administrator; NOT_FOUND for an unknown ID.",
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
