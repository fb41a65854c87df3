"""Open calendar conflicts of an owner, and resolving them (issue 14).

A conflict is a ``CalendarPull`` with outcome CONFLICT: a field changed both in the CRM and
in the owner's calendar since the last sync; the pull kept the CRM's value and recorded
the calendar's.  It shows to the follow-up's owner and to administrators (the rights of
changing the follow-up, ``visibility.may_edit``); for anyone else it does not exist
(NOT_FOUND, ``node`` null).  Resolving it takes one side:

- ``CALENDAR``: the calendar's recorded values are applied as the owner's change through
  ``followup_mutations.update`` (validation, version bump, SEQUENCE, invitations, the
  calendars updated) - on the occurrence the calendar changed (THIS), from it on
  (FOLLOWING, a ``RANGE=THISANDFUTURE`` override) or the whole follow-up (ALL);
- ``CRM``: the CRM's value stays; the conflict is only closed.

Either way it is marked resolved (when, by whom, which side), compare-and-set, so two
resolutions never both apply.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import Enum
from typing import Any

from tortoise.expressions import Subquery
from tortoise.queryset import QuerySet

from orm import models as m
from orm import occurrences
from orm.occurrences import Span
from orm.sync_models import CalendarPull, PullOutcome
from resolvers import followup_mutations as mutations
from resolvers import followups
from resolvers.calendar_pull import API_NAME
from resolvers.errors import ConcurrentChange, NotFound, ValidationFailed
from resolvers.loaders import Loaders
from resolvers.visibility import may_edit

COLUMN = {api: column for column, api in API_NAME.items()}


class Side(Enum):
    """Which value a resolved conflict keeps."""

    CRM = "CRM"
    CALENDAR = "CALENDAR"


def open_conflicts(viewer: m.Associate, associate_id: int | None) -> QuerySet[CalendarPull]:
    """The open conflicts on the follow-ups of the viewer (administrators: of anyone's);
    none when the viewer asks for someone else's without being an administrator."""
    who = viewer.id if associate_id is None else associate_id
    if who != viewer.id and not viewer.is_admin:
        return CalendarPull.filter(id__in=[])
    owned = m.FollowUp.filter(owner_id=who).values("id")
    return CalendarPull.filter(
        outcome=PullOutcome.CONFLICT, resolved_at=None, followup_id__in=Subquery(owned)
    )


async def visible(
    viewer: m.Associate, loaders: Loaders, keys: Sequence[int]
) -> list[CalendarPull | None]:
    """The conflicts of these keys the viewer may see (None for the others)."""
    rows = await loaders.by_id(CalendarPull).load_many(list(keys))
    found = await loaders.by_id(m.FollowUp).load_many(
        [r.followup_id if r is not None else -1 for r in rows]
    )
    return [
        r
        if r is not None
        and r.outcome is PullOutcome.CONFLICT
        and f is not None
        and may_edit(viewer, f)
        else None
        for r, f in zip(rows, found, strict=True)
    ]


async def followup_of(row: CalendarPull) -> Span | m.FollowUp | None:
    """The follow-up, or the occurrence of the series, the conflict is about (None: gone)."""
    fu = await m.FollowUp.get_or_none(id=row.followup_id)
    if fu is None or row.recurrence_id is None or fu.rrule is None:
        return fu
    override = await m.Occurrence.get_or_none(series_id=fu.id, recurrence_id=row.recurrence_id)
    return occurrences.one(fu, override, row.recurrence_id)


def scope_of(row: CalendarPull) -> mutations.EditScope:
    """What taking the calendar's values changes."""
    if row.recurrence_id is None:
        return mutations.EditScope.ALL
    return mutations.EditScope.FOLLOWING if row.following else mutations.EditScope.THIS


def _value(api: str, value: Any) -> Any:
    if api in ("start", "end") and isinstance(value, str):
        return datetime.fromisoformat(value)
    return value


async def resolve(
    viewer: m.Associate, key: int, take: Side, version: int | None, limit: int
) -> tuple[CalendarPull, Span | m.FollowUp | None]:
    """Resolve one conflict (module doc); returns it and the follow-up as it is now.

    Runs inside the caller's transaction: a refused change rolls the resolution back.
    """
    row = await CalendarPull.get_or_none(id=key, outcome=PullOutcome.CONFLICT)
    fu = await m.FollowUp.get_or_none(id=row.followup_id) if row is not None else None
    if row is None or fu is None or not may_edit(viewer, fu):
        raise NotFound("CalendarConflict", key, "id")
    if row.resolved_at is not None:
        raise ValidationFailed("id", "this conflict is already resolved")
    changed: Span | m.FollowUp | None = None
    if take is Side.CALENDAR:
        data = {
            COLUMN[k]: _value(k, v) for k, v in (row.calendar_values or {}).items() if k in COLUMN
        }
        current = fu.version if version is None else version
        changed = await mutations.update(
            viewer, (fu.id, row.recurrence_id), current, data, scope_of(row), limit
        )
    now = followups.now()
    if not await CalendarPull.filter(id=row.id, resolved_at=None).update(
        resolved_at=now, resolution=take.value, resolved_by_id=viewer.id
    ):
        raise ConcurrentChange()
    row.resolved_at, row.resolution, row.resolved_by_id = now, take.value, viewer.id
    return row, changed if changed is not None else await followup_of(row)
