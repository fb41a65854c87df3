"""Writing the CRM records: one rule set for the admin mutations and ``followups import``.

Each kind (company, person, ...) is a ``Spec``: its model, its columns with their checks,
its child lists (e-mail addresses, phone numbers, members) and whether it may be deleted.
``create``/``update``/``delete`` validate everything before they write and raise
``DomainError`` subclasses with the input path (GraphQL names, e.g. ``companyId`` or
``emails.1``); callers run them in one transaction, so a failure writes nothing.
References are primary keys here; the GraphQL layer decodes global IDs and the importer
resolves external IDs before calling in.  ``viewer=None`` is the command line operator.

Associates and resources are deactivated (``active: false``), never deleted: their
follow-ups and bookings stay, and an inactive associate's tokens no longer authenticate.
A person who takes part in a follow-up is not deleted either (``CONFLICT``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

from tortoise.models import Model

from orm import models as m
from resolvers.errors import DomainError, Forbidden, NotFound, ValidationFailed
from resolvers.text_input import single_line

Check = Callable[[Any, str], Any]


class InUse(DomainError):
    """The record is still referred to in a way that forbids the change."""

    code = "CONFLICT"


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def text(limit: int, required: bool = False) -> Check:
    def check(value: Any, path: str) -> Any:
        if value is None:
            if required:
                raise ValidationFailed(path, f"{path} must not be empty")
            return None
        if not isinstance(value, str):
            raise ValidationFailed(path, f"{path} must be text")
        value = single_line(value.strip(), path)
        if required and not value:
            raise ValidationFailed(path, f"{path} must not be empty")
        if len(value) > limit:
            raise ValidationFailed(path, f"{path} must be at most {limit} characters")
        return value

    return check


def optional_text(limit: int) -> Check:
    inner = text(limit)

    def check(value: Any, path: str) -> Any:
        value = inner(value, path)
        return value or None

    return check


def plain_text(limit: int) -> Check:
    """Text that may be empty but is never null (stored as "")."""
    inner = text(limit)

    def check(value: Any, path: str) -> Any:
        return inner(value, path) or ""

    return check


def country(value: Any, path: str) -> Any:
    value = optional_text(200)(value, path)
    if value is None:
        return None
    if not re.fullmatch(r"[A-Za-z]{2}", value):
        raise ValidationFailed(path, f"{path} must be an ISO 3166 alpha-2 code such as NO")
    return value.upper()


_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def email(value: Any, path: str) -> Any:
    value = optional_text(320)(value, path)
    if value is not None and not _EMAIL.fullmatch(value):
        raise ValidationFailed(path, f"{path} is not an e-mail address")
    return value


def boolean(value: Any, path: str) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _BOOLS:
        return _BOOLS[value.strip().lower()]
    raise ValidationFailed(path, f"{path} must be true or false")


_BOOLS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}


def colour(value: Any, path: str) -> Any:
    value = text(7, required=True)(value, path)
    if not re.fullmatch(r"#[0-9A-Fa-f]{6}", value):
        raise ValidationFailed(path, f"{path} must be a colour like #3366cc")
    return value.lower()


def choice(enum: type[Enum]) -> Check:
    def check(value: Any, path: str) -> Any:
        if isinstance(value, enum):
            return value
        try:
            return enum(str(value).strip().upper())
        except ValueError:
            names = ", ".join(e.value for e in enum)
            raise ValidationFailed(path, f"{path} must be one of {names}") from None

    return check


@dataclass(frozen=True)
class Column:
    """A scalar column: its check, and the kind it refers to for a foreign key."""

    name: str
    check: Check | None = None
    required: bool = False
    ref: str | None = None
    label: str | None = None  # the GraphQL input name when it is not camel(name)

    @property
    def path(self) -> str:
        return self.label or camel(self.name)


@dataclass(frozen=True)
class Members:
    """A child list of references (project or selection members)."""

    name: str  # e.g. member_person_ids
    model: type[Model]
    parent: str  # e.g. project_id
    column: str  # e.g. person_id
    ref: str  # the referenced kind


@dataclass(frozen=True)
class Spec:
    kind: str
    model: type[Model]
    type_name: str
    columns: tuple[Column, ...]
    members: tuple[Members, ...] = ()
    emails: bool = False
    phones: str | None = None  # the parent column of PhoneNumber
    deletable: bool = True
    unique: tuple[str, ...] = ()  # columns unique among the kind (case-insensitive)

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)


EXTERNAL = Column("external_id", optional_text(200))

SPECS: dict[str, Spec] = {
    s.kind: s
    for s in (
        Spec(
            "company",
            m.Company,
            "Company",
            (EXTERNAL, Column("name", text(300, True), True), Column("country", country)),
            phones="company_id",
        ),
        Spec(
            "person",
            m.Person,
            "Person",
            (
                EXTERNAL,
                Column("first_name", plain_text(200)),
                Column("last_name", plain_text(200)),
                Column("company_id", ref="company"),
                Column("country", country),
            ),
            emails=True,
            phones="person_id",
        ),
        Spec(
            "project",
            m.Project,
            "Project",
            (EXTERNAL, Column("name", text(300, True), True)),
            members=(
                Members("member_person_ids", m.ProjectMember, "project_id", "person_id", "person"),
                Members(
                    "member_associate_ids",
                    m.ProjectMember,
                    "project_id",
                    "associate_id",
                    "associate",
                ),
            ),
        ),
        Spec(
            "sale",
            m.Sale,
            "Sale",
            (
                EXTERNAL,
                Column("title", text(300, True), True),
                Column("company_id", ref="company"),
                Column("person_id", ref="person"),
            ),
        ),
        Spec(
            "selection",
            m.Selection,
            "Selection",
            (EXTERNAL, Column("name", text(300, True), True)),
            members=(
                Members(
                    "member_person_ids", m.SelectionMember, "selection_id", "person_id", "person"
                ),
                Members(
                    "member_company_ids",
                    m.SelectionMember,
                    "selection_id",
                    "company_id",
                    "company",
                ),
            ),
        ),
        Spec(
            "associate",
            m.Associate,
            "Associate",
            (
                EXTERNAL,
                Column("name", text(200, True), True),
                Column("email", email),
                Column("group_id", ref="user_group", label="userGroupId"),
                Column("is_admin", boolean),
                Column("active", boolean),
            ),
            deletable=False,
            unique=("email",),
        ),
        Spec(
            "user_group",
            m.UserGroup,
            "UserGroup",
            (EXTERNAL, Column("name", text(200, True), True)),
            unique=("name",),
        ),
        Spec(
            "resource_group",
            m.ResourceGroup,
            "ResourceGroup",
            (EXTERNAL, Column("name", text(200, True), True)),
            unique=("name",),
        ),
        Spec(
            "resource",
            m.Resource,
            "Resource",
            (
                EXTERNAL,
                Column("name", text(200, True), True),
                Column("kind", choice(m.ResourceKind)),
                Column("group_id", ref="resource_group", label="resourceGroupId"),
                Column("email", email),
                Column("allow_double_booking", boolean),
                Column("active", boolean),
            ),
            deletable=False,
        ),
        Spec(
            "activity_type",
            m.ActivityType,
            "ActivityType",
            (
                EXTERNAL,
                Column("name", text(200, True), True),
                Column("colour", colour),
                Column("default_kind", choice(m.Kind)),
            ),
        ),
    )
}

MAX_CHILDREN = 100


def require_admin(viewer: m.Associate | None) -> None:
    if viewer is not None and not viewer.is_admin:
        raise Forbidden("only administrators change the CRM records")


async def get(spec: Spec, key: int, path: str = "id") -> Any:
    row = await spec.model.get_or_none(id=key)
    if row is None:
        raise NotFound(spec.type_name, key, path)
    return row


async def _exists(kind: str, key: Any, path: str) -> int:
    spec = SPECS[kind]
    if not isinstance(key, int) or not await spec.model.exists(id=key):
        raise NotFound(spec.type_name, key, path)
    return key


async def _clean(spec: Spec, data: dict[str, Any], row: Any | None) -> dict[str, Any]:
    """Checked and normalised values of ``data`` (unknown keys are refused)."""
    known = {c.name for c in spec.columns} | {mb.name for mb in spec.members}
    if spec.emails:
        known.add("emails")
    if spec.phones:
        known.add("phones")
    unknown = sorted(set(data) - known)
    if unknown:
        raise ValidationFailed(camel(unknown[0]), f"{spec.kind} has no field {unknown[0]}")
    clean: dict[str, Any] = {}
    for column in spec.columns:
        path = column.path
        if column.name not in data:
            if row is None and column.required:
                raise ValidationFailed(path, f"{path} must not be empty")
            continue
        value = data[column.name]
        if column.ref is not None:
            clean[column.name] = None if value is None else await _exists(column.ref, value, path)
        else:
            assert column.check is not None
            clean[column.name] = column.check(value, path)
    await _check_unique(spec, clean, row)
    for members in spec.members:
        if members.name in data:
            clean[members.name] = await _member_keys(members, data[members.name])
    if "emails" in data:
        clean["emails"] = _emails(data["emails"])
    if "phones" in data:
        clean["phones"] = _phones(data["phones"])
    return clean


async def _check_unique(spec: Spec, clean: dict[str, Any], row: Any | None) -> None:
    for name in ("external_id", *spec.unique):
        value = clean.get(name)
        if value is None:
            continue
        query = spec.model.filter(**{f"{name}__iexact": value})
        if row is not None:
            query = query.exclude(id=row.id)
        if await query.exists():
            column = spec.column(name)
            path = column.path if column else camel(name)
            raise ValidationFailed(path, f"another {spec.kind} has {path} {value!r}")


async def _member_keys(members: Members, values: Any) -> list[int]:
    path = camel(members.name)
    if values is None:
        return []
    if not isinstance(values, list) or len(values) > 10 * MAX_CHILDREN:
        raise ValidationFailed(path, f"{path} takes a list of at most {10 * MAX_CHILDREN} IDs")
    keys: list[int] = []
    for i, value in enumerate(values):
        key = await _exists(members.ref, value, f"{path}.{i}")
        if key not in keys:
            keys.append(key)
    return keys


def _emails(values: Any) -> list[str]:
    if values is None:
        return []
    if not isinstance(values, list) or len(values) > MAX_CHILDREN:
        raise ValidationFailed("emails", f"emails takes at most {MAX_CHILDREN} addresses")
    found: list[str] = []
    for i, value in enumerate(values):
        address = email(value, f"emails.{i}")
        if address is None:
            raise ValidationFailed(f"emails.{i}", f"emails.{i} must not be empty")
        if address.lower() not in (a.lower() for a in found):
            found.append(address)
    return found


def _phones(values: Any) -> list[tuple[str, m.PhoneKind]]:
    if values is None:
        return []
    if not isinstance(values, list) or len(values) > MAX_CHILDREN:
        raise ValidationFailed("phones", f"phones takes at most {MAX_CHILDREN} numbers")
    found: list[tuple[str, m.PhoneKind]] = []
    for i, value in enumerate(values):
        path = f"phones.{i}"
        if not isinstance(value, dict):
            raise ValidationFailed(path, f"{path} must give a number and a kind")
        number = text(64, True)(value.get("number"), f"{path}.number")
        if not re.search(r"\d", number):
            raise ValidationFailed(f"{path}.number", f"{path}.number holds no digits")
        kind = choice(m.PhoneKind)(value.get("kind") or "DIRECT", f"{path}.kind")
        found.append((number, kind))
    return found


def _check_whole(spec: Spec, row: Any, viewer: m.Associate | None) -> None:
    """Rules across columns, on the row as it will be written."""
    if spec.kind == "person" and not (row.first_name or row.last_name):
        raise ValidationFailed("lastName", "a person needs a first or a last name")
    if spec.kind == "associate" and viewer is not None and row.id == viewer.id:
        if not row.active:
            raise ValidationFailed("active", "you cannot deactivate yourself")
        if not row.is_admin:
            raise ValidationFailed("isAdmin", "you cannot take your own administrator right")


async def _write_children(spec: Spec, row: Any, clean: dict[str, Any]) -> None:
    if "emails" in clean:
        await m.EmailAddress.filter(person_id=row.id).delete()
        for position, address in enumerate(clean["emails"]):
            await m.EmailAddress.create(person_id=row.id, address=address, position=position)
    if "phones" in clean and spec.phones:
        await m.PhoneNumber.filter(**{spec.phones: row.id}).delete()
        for position, (number, kind) in enumerate(clean["phones"]):
            await m.PhoneNumber.create(
                **{spec.phones: row.id}, number=number, kind=kind, position=position
            )
    for members in spec.members:
        if members.name not in clean:
            continue
        wanted = clean[members.name]
        existing = await members.model.filter(
            **{members.parent: row.id, f"{members.column}__isnull": False}
        ).values_list(members.column, flat=True)
        gone = [k for k in existing if k not in wanted]
        if gone:
            await members.model.filter(
                **{members.parent: row.id, f"{members.column}__in": gone}
            ).delete()
        for key in wanted:
            if key not in existing:
                await members.model.create(**{members.parent: row.id, members.column: key})


async def create(viewer: m.Associate | None, kind: str, data: dict[str, Any]) -> Any:
    """Create one record of ``kind`` from ``data`` (snake_case keys)."""
    require_admin(viewer)
    spec = SPECS[kind]
    clean = await _clean(spec, data, None)
    scalars = {k: v for k, v in clean.items() if spec.column(k) is not None}
    row = spec.model(**scalars)
    _check_whole(spec, row, viewer)
    await row.save()
    await _write_children(spec, row, clean)
    return row


async def update(viewer: m.Associate | None, kind: str, key: int, data: dict[str, Any]) -> Any:
    """Change the given fields of one record (a list given replaces the whole list)."""
    require_admin(viewer)
    spec = SPECS[kind]
    row = await get(spec, key)
    clean = await _clean(spec, data, row)
    scalars = {k: v for k, v in clean.items() if spec.column(k) is not None}
    for name, value in scalars.items():
        setattr(row, name, value)
    _check_whole(spec, row, viewer)
    if scalars:
        await row.save(update_fields=list(scalars))
    await _write_children(spec, row, clean)
    return row


async def delete(viewer: m.Associate | None, kind: str, key: int) -> int:
    """Delete one record; follow-ups that named it keep everything else."""
    require_admin(viewer)
    spec = SPECS[kind]
    row = await get(spec, key)
    if not spec.deletable:
        raise ValidationFailed("id", f"a {spec.kind} is deactivated (active: false), not deleted")
    if kind == "person":
        count = await m.Participant.filter(person_id=key).count()
        if count:
            raise InUse(f"the person takes part in {count} follow-up(s); remove them there first")
    if kind == "user_group":
        await m.Preference.filter(scope_key=f"group:{key}").delete()
    await row.delete()
    return key


async def state(kind: str, row: Any) -> dict[str, Any]:
    """What an import compares: the columns and child lists of one record."""
    spec = SPECS[kind]
    result: dict[str, Any] = {c.name: getattr(row, c.name) for c in spec.columns}
    if spec.emails:
        result["emails"] = await emails_of(row.id)
    if spec.phones:
        rows = await m.PhoneNumber.filter(**{spec.phones: row.id}).order_by("position")
        result["phones"] = [(p.number, p.kind) for p in rows]
    for members in spec.members:
        result[members.name] = await member_keys(members, row.id)
    return result


async def emails_of(person_id: int) -> list[str]:
    rows = await m.EmailAddress.filter(person_id=person_id).order_by("position")
    return [r.address for r in rows]


async def member_keys(members: Members, parent_key: int) -> list[int]:
    keys = await (
        members.model.filter(**{members.parent: parent_key, f"{members.column}__isnull": False})
        .order_by("id")
        .values_list(members.column, flat=True)
    )
    return [int(k) for k in keys]  # type: ignore[call-overload]


def members_of(kind: str, name: str) -> Members:
    return next(mb for mb in SPECS[kind].members if mb.name == name)
