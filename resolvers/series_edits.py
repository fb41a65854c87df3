"""Changing one occurrence, this and all following, or the whole series.

- THIS: an override (``Occurrence``) keyed by the original start; deleting adds an EXDATE.
- FOLLOWING: the series is split; the old one ends before the occurrence, a new series
  (new UID) starts there with the change, and later overrides and dates move with it.
- ALL: the master changes; overrides that no longer match an occurrence are dropped.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from calcore.recurrence import format_rrule, is_occurrence, parse_rrule, split_rule
from orm import models as m
from orm import occurrences
from resolvers import all_day, followups
from resolvers import followup_rules as rules
from resolvers.errors import NotFound, ValidationFailed, VersionConflict

THIS_ONLY_FIELDS = {"title", "agenda", "location", "start_at", "end_at", "deadline"}


def _local_anchor(row: m.FollowUp) -> datetime:
    return occurrences.anchor(row).astimezone(ZoneInfo(row.tzid))


def _dates(values: list[str]) -> list[datetime]:
    return [datetime.fromisoformat(v) for v in values]


async def occurrence_of(row: m.FollowUp, recurrence_id: datetime) -> m.Occurrence | None:
    """The override at ``recurrence_id``; NotFound unless it is an occurrence of ``row``."""
    override = await m.Occurrence.get_or_none(series_id=row.id, recurrence_id=recurrence_id)
    if override is None and (
        row.rrule is None
        or not is_occurrence(
            _local_anchor(row), row.rrule, _dates(row.rdates), _dates(row.exdates), recurrence_id
        )
    ):
        raise NotFound("FollowUp", occurrences.occurrence_key(row.id, recurrence_id), "id")
    return override


async def _touch(row: m.FollowUp, version: int | None) -> None:
    """Bump the series version (optimistic lock) for a change to one of its occurrences."""
    expected = row.version if version is None else version
    if not await m.FollowUp.filter(id=row.id, version=expected).update(
        version=expected + 1, updated_at=followups.now()
    ):
        raise VersionConflict((await m.FollowUp.get(id=row.id)).version)


async def update_this(
    row: m.FollowUp, rid: datetime, version: int | None, data: dict[str, Any]
) -> m.Occurrence:
    """Override one occurrence with the given fields (an all-day one: by whole days)."""
    if data.get("all_day", row.all_day) == row.all_day:
        data.pop("all_day", None)
    given = all_day.take(data, row.all_day)
    extra = set(data) - THIS_ONLY_FIELDS
    if extra:
        name = sorted(extra)[0]
        raise ValidationFailed(name, f"{name} can only be changed for the whole series")
    override = await occurrence_of(row, rid)
    current = occurrences.one(row, override, rid)
    old = rules.Timing(row.kind, current.start, current.end, current.deadline)
    if "start_at" in data and "end_at" not in data:
        data["end_at"] = rules.move(old, data["start_at"])
    meeting, call, _ = await followups.owner_defaults(await m.Associate.get(id=row.owner_id))
    if row.all_day:
        old = all_day.timing(row.kind, given, row.tzid, old, True)
    timing = rules.normalise(
        rules.Timing(
            row.kind,
            data.get("start_at", old.start),
            data.get("end_at", old.end),
            data.get("deadline", old.deadline),
        ),
        meeting_minutes=meeting,
        call_minutes=call,
    )
    fields = {k: v for k, v in data.items() if k in ("title", "agenda", "location")}
    fields.update(start_at=timing.start, end_at=timing.end, deadline=timing.deadline)
    await _touch(row, version)
    if override is None:
        return await m.Occurrence.create(series_id=row.id, recurrence_id=rid, **fields)
    await m.Occurrence.filter(id=override.id).update(sequence=override.sequence + 1, **fields)
    return await m.Occurrence.get(id=override.id)


async def set_done_this(row: m.FollowUp, rid: datetime, done: bool) -> m.Occurrence:
    """Complete (or reopen) one occurrence only."""
    override = await occurrence_of(row, rid)
    fields: dict[str, Any] = {"done": done, "done_at": followups.now() if done else None}
    await _touch(row, None)
    if override is None:
        return await m.Occurrence.create(series_id=row.id, recurrence_id=rid, **fields)
    await m.Occurrence.filter(id=override.id).update(**fields)
    return await m.Occurrence.get(id=override.id)


async def delete_this(row: m.FollowUp, rid: datetime, version: int | None) -> None:
    """Remove one occurrence: an EXDATE, and its override if any."""
    await occurrence_of(row, rid)
    await m.Occurrence.filter(series_id=row.id, recurrence_id=rid).delete()
    exdates = sorted({*row.exdates, rid.isoformat()})
    expected = row.version if version is None else version
    if not await m.FollowUp.filter(id=row.id, version=expected).update(
        exdates=exdates,
        version=expected + 1,
        sequence=row.sequence + 1,
        updated_at=followups.now(),
    ):
        raise VersionConflict((await m.FollowUp.get(id=row.id)).version)


async def split(row: m.FollowUp, rid: datetime, version: int | None) -> m.FollowUp | None:
    """End ``row`` before ``rid``; return the new series from ``rid`` (None: rid is first)."""
    assert row.rrule is not None
    await occurrence_of(row, rid)
    before, after = split_rule(_local_anchor(row), parse_rrule(row.rrule), rid)
    if before is None:
        return None
    offset = rid - occurrences.anchor(row)
    moved: dict[str, Any] = {
        "start_at": row.start_at + offset if row.start_at else None,
        "end_at": row.end_at + offset if row.end_at else None,
        "deadline": row.deadline + offset if row.deadline else None,
    }
    later = [d for d in row.rdates if datetime.fromisoformat(d) >= rid]
    later_ex = [d for d in row.exdates if datetime.fromisoformat(d) >= rid]
    expected = row.version if version is None else version
    if not await m.FollowUp.filter(id=row.id, version=expected).update(
        rrule=format_rrule(before),
        rdates=[d for d in row.rdates if d not in later],
        exdates=[d for d in row.exdates if d not in later_ex],
        series_end=rid,
        version=expected + 1,
        sequence=row.sequence + 1,
        updated_at=followups.now(),
    ):
        raise VersionConflict((await m.FollowUp.get(id=row.id)).version)
    copy = {
        f: getattr(row, f)
        for f in (
            "kind",
            "owner_id",
            "title",
            "agenda",
            "type_id",
            "company_id",
            "person_id",
            "sale_id",
            "project_id",
            "location",
            "busy",
            "alarm_minutes",
            "private",
            "tzid",
            "series_end",
        )
    }
    new = await m.FollowUp.create(
        **copy,
        **moved,
        sort_at=moved["start_at"] or moved["deadline"],
        rrule=format_rrule(after),
        rdates=later,
        exdates=later_ex,
        uid=f"{uuid.uuid4()}@followups",
    )
    await m.Occurrence.filter(series_id=row.id, recurrence_id__gte=rid).update(series_id=new.id)
    await _copy_people(row.id, new.id)
    return new


async def _copy_people(source: int, target: int) -> None:
    """Participants and resource bookings go with the new half of a split series."""
    for p in await m.Participant.filter(followup_id=source):
        await m.Participant.create(
            followup_id=target,
            associate_id=p.associate_id,
            person_id=p.person_id,
            email=p.email,
            status=p.status,
            status_set_by_id=p.status_set_by_id,
            status_set_at=p.status_set_at,
            email_invitation=p.email_invitation,
            organiser=p.organiser,
        )
    for b in await m.ResourceBooking.filter(followup_id=source):
        new_row = await m.FollowUp.get(id=target)
        await m.ResourceBooking.create(
            followup_id=target,
            resource_id=b.resource_id,
            start_at=new_row.start_at,
            end_at=new_row.series_end or new_row.end_at,
        )


async def delete_following(row: m.FollowUp, rid: datetime, version: int | None) -> None:
    """Delete this and all following occurrences."""
    new = await split(row, rid, version)
    if new is None:
        await row.delete()
    else:
        await new.delete()
