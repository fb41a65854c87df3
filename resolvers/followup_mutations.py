"""The follow-up and participant mutations, one call each, inside the change-tracking hook.

Each function finds the series an ID names, runs the edit in ``orm.changes.track`` (so the
mail and CalDAV handlers see the before and after) and returns what the payload shows: the
row, or the span of the occurrence that changed.  The rules themselves are
``resolvers.followups``, ``resolvers.series_edits`` and ``resolvers.participants``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from enum import Enum
from typing import Any, TypeVar

from orm import changes, occurrences
from orm import models as m
from orm.occurrences import Span
from resolvers import all_day
from resolvers import followups as writes
from resolvers import series_edits as edits
from resolvers.errors import NotFound, VersionConflict

T = TypeVar("T")


class EditScope(Enum):
    """Which occurrences of a series a change or deletion affects."""

    THIS = "THIS"
    FOLLOWING = "FOLLOWING"
    ALL = "ALL"


def split_key(raw: str, ident: str, path: str = "id") -> tuple[int, datetime | None]:
    """The series and original start (None: not an occurrence) of a follow-up node key."""
    try:
        return occurrences.parse_key(raw)
    except ValueError:
        raise NotFound("FollowUp", ident, path) from None


async def in_series_change(series_id: int, work: Callable[[], Awaitable[T]]) -> T:
    """Run ``work`` as a tracked change of the series."""
    async with changes.track(series_id):
        return await work()


async def in_participant_change(participant_id: int, work: Callable[[], Awaitable[T]]) -> T:
    """Run ``work`` as a tracked change of the participant's follow-up (if it exists)."""
    row = await m.Participant.get_or_none(id=participant_id)
    if row is None:
        return await work()
    async with changes.track(row.followup_id):
        return await work()


async def update(
    viewer: m.Associate,
    key: tuple[int, datetime | None],
    version: int,
    data: dict[str, Any],
    scope: EditScope,
    limit: int,
    all_day_busy: bool = False,
) -> Span | m.FollowUp:
    """Change a follow-up, or occurrences of a series by ``scope``."""
    async with changes.track(key[0], key[1] if scope is EditScope.THIS else None):
        return await _update_tracked(viewer, key, version, data, scope, limit, all_day_busy)


async def _update_tracked(
    viewer: m.Associate,
    key: tuple[int, datetime | None],
    version: int,
    data: dict[str, Any],
    scope: EditScope,
    limit: int,
    busy: bool,
) -> Span | m.FollowUp:
    series_id, rid = key
    row = await writes.editable(viewer, series_id)
    if rid is None:
        return await writes.update(viewer, row.id, version, data, limit, all_day_busy=busy)
    if row.version != version:
        raise VersionConflict(row.version)
    if scope is EditScope.THIS:
        override = await edits.update_this(row, rid, version, data)
        fresh = await m.FollowUp.get(id=row.id)
        return occurrences.one(fresh, override, rid)
    current = occurrences.one(row, await edits.occurrence_of(row, rid), rid)
    if scope is EditScope.FOLLOWING:
        new = await edits.split(row, rid, version)
        if new is not None:
            updated = await writes.update(
                viewer, new.id, new.version, data, limit, all_day_busy=busy
            )
            await changes.created(new.id)
            return updated
    for column, now_value in (
        ("start_at", current.start),
        ("end_at", current.end),
        ("deadline", current.deadline),
    ):
        master_value = getattr(row, column)
        if data.get(column) is not None and now_value is not None and master_value is not None:
            data[column] = master_value + (data[column] - now_value)
    all_day.shift_to_master(data, row, current)
    return await writes.update(viewer, row.id, version, data, limit, all_day_busy=busy)


async def delete(
    viewer: m.Associate, key: tuple[int, datetime | None], version: int | None, scope: EditScope
) -> None:
    """Delete a follow-up, or occurrences of a series by ``scope``."""
    series_id, rid = key
    async with changes.track(series_id, rid if scope is EditScope.THIS else None):
        row = await writes.editable(viewer, series_id)
        if rid is None or scope is EditScope.ALL:
            await writes.delete(viewer, row.id, version)
        elif scope is EditScope.THIS:
            await edits.delete_this(row, rid, version)
        else:
            await edits.delete_following(row, rid, version)


async def complete(
    viewer: m.Associate, key: tuple[int, datetime | None], done: bool, version: int | None
) -> Span | m.FollowUp:
    """Mark a follow-up (or one occurrence) done; ``done=False`` reopens it."""
    series_id, rid = key
    async with changes.track(series_id, rid):
        if rid is None:
            return await writes.set_done(viewer, series_id, done, version)
        row = await writes.editable(viewer, series_id)
        override = await edits.set_done_this(row, rid, done)
        fresh = await m.FollowUp.get(id=row.id)
        return occurrences.one(fresh, override, rid)


async def make_call(viewer: m.Associate, key: int, version: int | None) -> m.FollowUp:
    """Make a planned call: it starts now."""
    async with changes.track(key):
        return await writes.make_call(viewer, key, version)
