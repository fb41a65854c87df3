"""Resource bookings of a follow-up: replacing them and refusing double bookings.

Shared by ``resolvers.participants`` (which books) and ``resolvers.followups`` (which
re-checks after a move), so neither imports the other for it.
"""

from __future__ import annotations

from datetime import timedelta

from orm import models as m
from resolvers import availability
from resolvers.availability import Entity
from resolvers.diary import expand_rows
from resolvers.errors import BookingConflict, NotFound

#: How far ahead an unbounded series is checked against resources that refuse double booking.
SERIES_CHECK_HORIZON = timedelta(days=366)


async def book(row: m.FollowUp, resource_ids: list[int]) -> None:
    """Replace the resource bookings, refusing overlaps where a resource says so."""
    wanted = sorted(set(resource_ids))
    resources = await m.Resource.filter(id__in=wanted, active=True).select_for_update()
    found = {r.id for r in resources}
    for i, rid in enumerate(resource_ids):
        if rid not in found:
            raise NotFound("Resource", rid, f"resourceIds.{i}")
    await (
        m.ResourceBooking.filter(followup_id=row.id).exclude(resource_id__in=wanted or [0]).delete()
    )
    have = {b.resource_id for b in await m.ResourceBooking.filter(followup_id=row.id)}
    for rid in wanted:
        if rid not in have:
            await m.ResourceBooking.create(followup_id=row.id, resource_id=rid)
    await check_refusals(row, [r for r in resources if not r.allow_double_booking])


async def check_refusals(row: m.FollowUp, resources: list[m.Resource]) -> None:
    """Raise BookingConflict if a refusing resource is busy during any span of ``row``."""
    if not resources or not row.busy or row.start_at is None:
        return
    lo = row.start_at
    hi = row.series_end or (row.end_at if row.rrule is None else lo + SERIES_CHECK_HORIZON)
    assert hi is not None
    mine = [
        (s.start, s.end) for s in await expand_rows([row], lo, hi, 100_000) if s.start and s.end
    ]
    busy = await availability.busy_times([], [r.id for r in resources], [], lo, hi, 100_000)
    for resource in resources:
        for start, end in mine:
            if availability.conflicts_with(
                busy.get((Entity.RESOURCE, resource.id), []), start, end, row.id
            ):
                raise BookingConflict(f"{resource.name} is already booked at that time")


async def recheck_bookings(row: m.FollowUp) -> None:
    """After a follow-up moved: its refusing resources must still be free."""
    ids = [b.resource_id for b in await m.ResourceBooking.filter(followup_id=row.id)]
    if ids:
        refusing = await m.Resource.filter(
            id__in=ids, allow_double_booking=False
        ).select_for_update()
        await check_refusals(row, list(refusing))
