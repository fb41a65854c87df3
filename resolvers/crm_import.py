"""``followups import``: CRM records from CSV or JSON, upserted by their ``external_id``.

A file holds one kind (``COLUMNS`` lists each kind's columns).  Every row is applied in
its own transaction through ``resolvers.crm_records`` (the rules of the admin mutations):
a bad row is reported with its line number and rolls back alone, the others go on.  A
row whose ``external_id`` exists updates that record (or leaves it ``unchanged``), else
it creates one.  References to other kinds name their external IDs
(``company_external_id``); lists are ``;``-separated in CSV (phones as ``KIND:number``)
and arrays in JSON.  A column left out changes nothing; an empty cell (JSON ``null``)
clears the value.  A dry run does every step and rolls each row back.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from tortoise.transactions import in_transaction

from resolvers import crm_records as records
from resolvers.errors import DomainError, NotFound, ValidationFailed

#: kind -> its columns besides external_id (always first, always required)
COLUMNS: dict[str, tuple[str, ...]] = {
    "company": ("name", "country", "phones"),
    "person": (
        "first_name",
        "last_name",
        "company_external_id",
        "country",
        "emails",
        "phones",
    ),
    "project": ("name", "member_person_external_ids", "member_associate_external_ids"),
    "sale": ("title", "company_external_id", "person_external_id"),
    "selection": ("name", "member_person_external_ids", "member_company_external_ids"),
    "associate": ("name", "email", "user_group_external_id", "is_admin", "active"),
    "user_group": ("name",),
    "resource_group": ("name",),
    "resource": (
        "name",
        "kind",
        "resource_group_external_id",
        "email",
        "allow_double_booking",
        "active",
    ),
    "activity_type": ("name", "colour", "default_kind"),
}

#: what the command line accepts for a kind (plural, with - or _)
ALIASES = {
    **{k: k for k in COLUMNS},
    **{f"{k}s": k for k in COLUMNS},
    **{f"{k.replace('_', '-')}s": k for k in COLUMNS},
    **{k.replace("_", "-"): k for k in COLUMNS},
    "companies": "company",
}

LIST_COLUMNS = frozenset({"emails", "phones"}) | {
    c for cols in COLUMNS.values() for c in cols if c.endswith("_external_ids")
}


#: columns that cannot be null: an empty cell leaves them as they are (or at the default)
DEFAULTED = frozenset(
    {"is_admin", "active", "allow_double_booking", "kind", "default_kind", "colour"}
)


class FileRefused(Exception):
    """The file cannot be imported at all (format, header); nothing was read into the db."""


@dataclass
class RowError:
    line: int
    column: str
    message: str


@dataclass
class Summary:
    kind: str
    dry_run: bool
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return self.created + self.updated + self.unchanged + self.failed


class _DryRun(Exception):
    """Raised inside a row's transaction to roll a dry run back."""


def plural(kind: str) -> str:
    """The command line name of a kind: companies, persons, user-groups ..."""
    return "companies" if kind == "company" else kind.replace("_", "-") + "s"


def kind_of(name: str) -> str:
    kind = ALIASES.get(name.strip().lower())
    if kind is None:
        known = ", ".join(sorted(plural(k) for k in COLUMNS))
        raise FileRefused(f"unknown kind {name!r}; one of: {known}")
    return kind


def read_rows(kind: str, content: str, fmt: str) -> list[tuple[int, dict[str, Any]]]:
    """The rows of a file with the line each starts on; unknown columns refuse the file."""
    rows = _read_csv(content) if fmt == "csv" else _read_json(content)
    allowed = {"external_id", *COLUMNS[kind]}
    for line, row in rows:
        unknown = sorted(set(row) - allowed)
        if unknown:
            raise FileRefused(
                f"line {line}: unknown column(s) {', '.join(unknown)} for {kind}; "
                f"columns: {', '.join(['external_id', *COLUMNS[kind]])}"
            )
    return rows


def _read_csv(content: str) -> list[tuple[int, dict[str, Any]]]:
    reader = csv.reader(io.StringIO(content))
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        return []
    except csv.Error as exc:
        raise FileRefused(f"line 1: {exc}") from None
    if "external_id" not in header:
        raise FileRefused("line 1: the header has no external_id column")
    if len(set(header)) != len(header):
        raise FileRefused("line 1: a column appears twice in the header")
    rows: list[tuple[int, dict[str, Any]]] = []
    start = reader.line_num + 1
    try:
        for cells in reader:
            if any(c.strip() for c in cells):
                if len(cells) != len(header):
                    cells = [*cells, *[""] * len(header)][: max(len(header), len(cells))]
                values: dict[str, Any] = dict(zip(header, cells, strict=False))
                if len(cells) > len(header):
                    values["(extra cells)"] = cells[len(header) :]
                rows.append((start, {k: _csv_value(k, v) for k, v in values.items()}))
            start = reader.line_num + 1
    except csv.Error as exc:
        raise FileRefused(f"line {reader.line_num}: {exc}") from None
    return rows


def _csv_value(column: str, cell: Any) -> Any:
    if not isinstance(cell, str):
        return cell
    cell = cell.strip()
    if column in LIST_COLUMNS:
        return [part.strip() for part in cell.split(";") if part.strip()]
    return cell or None


def _read_json(content: str) -> list[tuple[int, dict[str, Any]]]:
    """A JSON array of objects, each with the line it starts on."""
    decoder = json.JSONDecoder()
    position = len(content) - len(content.lstrip())
    if not content[position:].startswith("["):
        raise FileRefused("line 1: a JSON import file is an array of objects")
    position += 1
    rows: list[tuple[int, dict[str, Any]]] = []
    while True:
        while position < len(content) and content[position] in " \t\r\n,":
            position += 1
        if position >= len(content):
            raise FileRefused("the JSON array is not closed")
        if content[position] == "]":
            return rows
        line = content.count("\n", 0, position) + 1
        try:
            value, position = decoder.raw_decode(content, position)
        except json.JSONDecodeError as exc:
            raise FileRefused(f"line {exc.lineno}: {exc.msg}") from None
        if not isinstance(value, dict):
            raise FileRefused(f"line {line}: each element must be an object")
        rows.append((line, value))


async def _key(kind: str, external_id: Any, column: str) -> int:
    spec = records.SPECS[kind]
    if not isinstance(external_id, str | int) or isinstance(external_id, bool):
        raise ValidationFailed(column, f"{column} must be an external ID")
    row = await spec.model.get_or_none(external_id=str(external_id).strip())
    if row is None:
        raise ValidationFailed(
            column, f"no {kind.replace('_', ' ')} with external_id {external_id!r}"
        )
    return int(row.pk)


def _phone(value: Any, column: str) -> Any:
    if isinstance(value, str):
        kind, sep, number = value.partition(":")
        if sep and kind.strip().upper() in records.m.PhoneKind.__members__:
            return {"number": number.strip(), "kind": kind.strip().upper()}
        return {"number": value.strip(), "kind": "DIRECT"}
    return value


async def to_data(kind: str, raw: dict[str, Any]) -> dict[str, Any]:
    """The domain's dict of one row: external IDs resolved to keys, scalars as text."""
    spec = records.SPECS[kind]
    data: dict[str, Any] = {}
    for column, value in raw.items():
        if column.endswith("_external_ids"):
            target = _member_target(kind, column)
            data[target.name] = [
                await _key(target.ref, v, f"{column}.{i}") for i, v in enumerate(value or [])
            ]
        elif column.endswith("_external_id") and column != "external_id":
            name = column.removesuffix("_external_id")
            ref_column = next(c for c in spec.columns if c.ref == name)
            data[ref_column.name] = None if value is None else await _key(name, value, column)
        elif column == "phones":
            data["phones"] = [_phone(v, column) for v in value or []] if value else []
        elif column == "emails":
            data["emails"] = value or []
        elif value is None and column in DEFAULTED:
            continue
        elif isinstance(value, int | float) and not isinstance(value, bool):
            data[column] = str(value)
        else:
            data[column] = value
    return data


def _member_target(kind: str, column: str) -> records.Members:
    name = column.replace("_external_ids", "_ids")
    return records.members_of(kind, name)


def _column_of(kind: str, path: list[str]) -> str:
    """The file's column for a domain error path (``companyId`` -> company_external_id)."""
    if not path:
        return ""
    head = path[0]
    spec = records.SPECS[kind]
    for column in spec.columns:
        if column.path == head:
            name = f"{column.ref}_external_id" if column.ref else column.name
            return ".".join([name, *path[1:]])
    return ".".join(path)


async def _apply_row(kind: str, raw: dict[str, Any], dry_run: bool) -> str:
    """Upsert one row in its own transaction; return created, updated or unchanged."""
    if "(extra cells)" in raw:
        raise ValidationFailed("(extra cells)", "the row has more cells than the header")
    external_id = raw.get("external_id")
    if external_id is None or str(external_id).strip() == "":
        raise ValidationFailed("external_id", "external_id must not be empty")
    outcome = "created"
    try:
        async with in_transaction():
            data = await to_data(kind, raw)
            data["external_id"] = str(external_id).strip()
            spec = records.SPECS[kind]
            row = await spec.model.get_or_none(external_id=data["external_id"])
            if row is None:
                await records.create(None, kind, data)
            else:
                before = await records.state(kind, row)
                row = await records.update(None, kind, row.pk, data)
                same = await records.state(kind, row) == before
                outcome = "unchanged" if same else "updated"
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass
    return outcome


async def run_import(
    kind: str,
    rows: list[tuple[int, dict[str, Any]]],
    dry_run: bool = False,
    progress: Callable[[int], None] | None = None,
) -> Summary:
    """Import ``rows`` of ``kind``; each row succeeds or fails alone."""
    summary = Summary(kind=kind, dry_run=dry_run)
    for done, (line, raw) in enumerate(rows, 1):
        try:
            outcome = await _apply_row(kind, raw, dry_run)
        except DomainError as exc:
            summary.failed += 1
            column = _column_of(kind, list(exc.path)) if not isinstance(exc, NotFound) else ""
            summary.errors.append(RowError(line, column, exc.message))
        else:
            setattr(summary, outcome, getattr(summary, outcome) + 1)
        if progress is not None:
            progress(done)
    return summary


def describe(summary: Summary) -> Iterator[str]:
    """The summary as printed lines: the counts, then each failed row."""
    note = " (dry run: nothing written)" if summary.dry_run else ""
    yield (
        f"{summary.kind}: {summary.rows} rows: {summary.created} created, "
        f"{summary.updated} updated, {summary.unchanged} unchanged, {summary.failed} failed{note}"
    )
    for error in summary.errors:
        where = f" {error.column}:" if error.column else ""
        yield f"  line {error.line}:{where} {error.message}"
