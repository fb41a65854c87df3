"""freeBusy: SQL statements per request do not grow with the items; busy spans follow edits.

Invitations and bookings carry a trigger-kept copy of their follow-up's busy span
(migration 0004, read by ``resolvers.busy_sql``); the second part changes follow-ups the
ways the application does (ORM update, save, new links) and checks free/busy follows.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from orm import models as m
from resolvers.availability import Entity, busy_times
from tests.helpers import QueryCounter, associate, client_for, gid

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
LO, HI = T0 - timedelta(days=1), T0 + timedelta(days=200)
FREEBUSY = """query($a: [ID!], $r: [ID!], $from: DateTime!, $to: DateTime!) {
  freeBusy(associateIds: $a, resourceIds: $r, from: $from, to: $to) { kind id busy tentative }
}"""


async def _seed(count: int) -> tuple[m.Associate, m.Associate, m.Resource]:
    owner = await associate(f"Owner{count}")
    guest = await associate(f"Guest{count}")
    room = await m.Resource.create(name=f"Room{count}")
    rows = []
    for i in range(count):
        series = i % 10 == 0  # a weekly series falls between the singles, never on one
        start = T0 + timedelta(hours=3 * i, minutes=90 if series else 0)
        rows.append(
            m.FollowUp(
                kind=m.Kind.MEETING,
                owner=owner,
                title=f"M{i}",
                start_at=start,
                end_at=start + timedelta(hours=1),
                sort_at=start,
                uid=f"fb-{count}-{i}",
                tzid="UTC",  # no DST shift onto a single
                rrule="FREQ=WEEKLY;COUNT=3" if series else None,
                series_end=start + timedelta(weeks=2, hours=1) if series else None,
            )
        )
    await m.FollowUp.bulk_create(rows)
    made = await m.FollowUp.filter(owner=owner).order_by("id")
    await m.Participant.bulk_create(
        [m.Participant(followup_id=f.id, associate_id=guest.id) for f in made]
    )
    await m.ResourceBooking.bulk_create(
        [m.ResourceBooking(followup_id=f.id, resource_id=room.id) for f in made]
    )
    return owner, guest, room


async def _freebusy_queries(http: Any, count: int) -> int:
    owner, guest, room = await _seed(count)
    gql = await client_for(http, owner)
    variables = {
        "a": [gid("Associate", owner.id), gid("Associate", guest.id)],
        "r": [gid("Resource", room.id)],
        "from": LO.isoformat(),
        "to": HI.isoformat(),
    }
    with QueryCounter() as counter:
        data = await gql(FREEBUSY, variables)
    owner_busy, guest_busy, room_busy = data["freeBusy"]
    assert len(owner_busy["busy"]) == count + 2 * len(range(0, count, 10))
    assert guest_busy["busy"] == [] and guest_busy["tentative"] == owner_busy["busy"]
    assert room_busy["busy"] == owner_busy["busy"]
    return counter.count


async def test_freebusy_sql_queries_do_not_grow_with_items(http: Any) -> None:
    counts = [await _freebusy_queries(http, n) for n in (10, 100, 1000)]
    assert len(set(counts)) == 1, f"SQL statements for 10, 100, 1000 items: {counts}"


async def _spans(who: m.Associate, room: m.Resource) -> tuple[list[Any], list[Any]]:
    found = await busy_times([who.id], [room.id], [], LO, HI, 100)
    return (
        sorted((b.start, b.end) for b in found.get((Entity.ASSOCIATE, who.id), [])),
        sorted((b.start, b.end) for b in found.get((Entity.RESOURCE, room.id), [])),
    )


async def test_busy_spans_follow_changes(db: str) -> None:
    owner, guest = await associate("Owner"), await associate("Guest")
    room = await m.Resource.create(name="Room")
    end = T0 + timedelta(hours=1)
    row = await m.FollowUp.create(
        kind=m.Kind.MEETING, owner=owner, title="x", start_at=T0, end_at=end, sort_at=T0,
        uid="spans-1",
    )  # fmt: skip
    await m.Participant.create(followup=row, associate=guest, status=m.ParticipantStatus.ACCEPTED)
    await m.ResourceBooking.create(followup=row, resource=room)
    assert await _spans(guest, room) == ([(T0, end)], [(T0, end)])

    later, later_end = T0 + timedelta(days=1), end + timedelta(days=1)
    await m.FollowUp.filter(id=row.id).update(start_at=later, end_at=later_end, sort_at=later)
    assert await _spans(guest, room) == ([(later, later_end)], [(later, later_end)])

    row = await m.FollowUp.get(id=row.id)
    row.busy = False
    await row.save()
    assert await _spans(guest, room) == ([], [])

    row.busy = True
    row.rrule = "FREQ=DAILY;COUNT=2"
    row.series_end = later_end + timedelta(days=1)
    await row.save()
    day = timedelta(days=1)
    both = [(later, later_end), (later + day, later_end + day)]
    assert await _spans(guest, room) == (both, both)

    other = await m.FollowUp.create(
        kind=m.Kind.MEETING, owner=owner, title="y", start_at=T0, end_at=end, sort_at=T0,
        uid="spans-2",
    )  # fmt: skip
    await m.Participant.filter(followup_id=row.id, associate_id=guest.id).update(
        followup_id=other.id
    )
    await m.ResourceBooking.filter(followup_id=row.id).update(followup_id=other.id)
    assert await _spans(guest, room) == ([(T0, end)], [(T0, end)])

    await m.Participant.filter(followup_id=other.id).update(status=m.ParticipantStatus.DECLINED)
    await other.delete()
    assert await _spans(guest, room) == ([], [])
