"""What the fields of the FollowUp type read: the node behind an ID, its recurrence
description, its participants and booked resources.

``schema.followup_types`` declares the type and builds it from what these return.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from calcore.recurrence import is_occurrence, parse_rrule, summarize
from orm import models as m
from orm import occurrences
from orm.occurrences import Span
from resolvers import records
from resolvers.context import Info
from resolvers.enums import Weekday

__all__ = [
    "ParticipantRows",
    "Span",
    "node",
    "participants",
    "participants_of",
    "recurrence",
    "resources",
    "span_of",
]

_DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


def span_of(item: Span | m.FollowUp) -> Span:
    """The span of a row (a single follow-up) or the span itself."""
    return item if isinstance(item, Span) else Span.single(item)


async def node(info: Info, key: str) -> Span | None:
    """The follow-up or occurrence behind a node key; None when there is none."""
    try:
        series_id, recurrence_id = occurrences.parse_key(key)
    except ValueError:
        return None
    row = await records.followups.one(info, series_id)
    if row is None:
        return None
    if recurrence_id is None:
        return Span.single(row)
    override = await m.Occurrence.get_or_none(series_id=row.id, recurrence_id=recurrence_id)
    if override is None and (
        row.rrule is None
        or not is_occurrence(
            occurrences.anchor(row).astimezone(ZoneInfo(row.tzid)),
            row.rrule,
            [datetime.fromisoformat(v) for v in row.rdates],
            [datetime.fromisoformat(v) for v in row.exdates],
            recurrence_id,
        )
    ):
        return None
    if override is not None and override.cancelled:
        return None
    return occurrences.one(row, override, recurrence_id)


def recurrence(row: m.FollowUp, language: str) -> dict[str, Any] | None:
    """The fields of the ``Recurrence`` type for a series; None for a single follow-up."""
    if row.rrule is None:
        return None
    rule = parse_rrule(row.rrule)
    anchor = occurrences.anchor(row).astimezone(ZoneInfo(row.tzid))
    until = rule.until
    return {
        "rrule": row.rrule,
        "freq": rule.freq.value,
        "frequency": rule.freq,
        "interval": rule.interval,
        "by_day": [f"{n or ''}{_DAYS[d]}" for n, d in rule.byday],
        "weekdays": [(n, Weekday(_DAYS[d])) for n, d in rule.byday],
        "by_month_day": list(rule.bymonthday),
        "by_month": list(rule.bymonth),
        "by_set_pos": list(rule.bysetpos),
        "count": rule.count,
        "until": until if isinstance(until, datetime) else None,
        "rdates": [datetime.fromisoformat(v) for v in row.rdates],
        "exdates": [datetime.fromisoformat(v) for v in row.exdates],
        "time_zone": row.tzid,
        "summary": summarize(rule, anchor, language),
    }


ParticipantRows = list[tuple[m.Participant, m.Associate | None, m.Person | None]]


async def participants(info: Info, followup_id: int) -> ParticipantRows:
    """The participants, the organiser first, each with its associate and person row."""
    return (await participants_of(info, [followup_id]))[followup_id]


async def participants_of(
    info: Info, followup_ids: list[int], *, whole_list: bool = False
) -> dict[int, ParticipantRows]:
    """``participants`` of many follow-ups: three batched statements in all.

    The associate and person rows are loaded now, batched across the items by the
    loaders, so that the ``associate`` and ``person`` fields await nothing.
    ``whole_list``: the ids are a whole list's (``records.Table.many``).
    """
    now = whole_list
    rows_of = await records.followup_participants.of_many(info, followup_ids, whole_list=now)
    found = dict(zip(followup_ids, rows_of, strict=True))
    everyone = [p for rows in found.values() for p in rows]
    people = await records.associates.many(
        info,
        sorted({p.associate_id for p in everyone if p.associate_id is not None}),
        whole_list=now,
    )
    persons = await records.persons.many(
        info, sorted({p.person_id for p in everyone if p.person_id is not None}), whole_list=now
    )
    a_by = {a.id: a for a in people if a is not None}
    p_by = {x.id: x for x in persons if x is not None}
    return {
        key: [
            (p, a_by.get(p.associate_id), p_by.get(p.person_id))  # type: ignore[arg-type]
            for p in sorted(rows, key=lambda p: (not p.organiser, p.id))
        ]
        for key, rows in found.items()
    }


async def resources(info: Info, followup_id: int) -> list[m.Resource]:
    """The rooms and equipment booked for the follow-up."""
    bookings = await records.followup_bookings.of(info, followup_id)
    rows = await records.resources.many(info, [b.resource_id for b in bookings])
    return [r for r in rows if r is not None]
