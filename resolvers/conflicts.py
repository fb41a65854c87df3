"""Who on a follow-up is busy elsewhere at its time (the CONFLICT marks), batched."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from orm import models as m
from resolvers.availability import Entity, busy_times, conflicts_with

SpanKey = tuple[int, datetime, datetime]


async def in_conflict(keys: list[SpanKey], limit: int) -> list[list[tuple[Entity, int]]]:
    """For each (follow-up id, start, end): the participants and resources in conflict."""
    ids = sorted({k[0] for k in keys})
    people: dict[int, list[tuple[Entity, int]]] = defaultdict(list)
    for p in await m.Participant.filter(followup_id__in=ids).exclude(
        status=m.ParticipantStatus.DECLINED
    ):
        if p.associate_id is None and p.person_id is None:
            continue  # an address only: no diary of theirs to conflict with
        entity = (
            (Entity.ASSOCIATE, p.associate_id) if p.associate_id else (Entity.PERSON, p.person_id)
        )
        people[p.followup_id].append(entity)  # type: ignore[arg-type]
    for b in await m.ResourceBooking.filter(followup_id__in=ids):
        people[b.followup_id].append((Entity.RESOURCE, b.resource_id))
    rows = await m.FollowUp.filter(id__in=ids).values("id", "owner_id", "busy")
    for row in rows:
        if (Entity.ASSOCIATE, row["owner_id"]) not in people[row["id"]]:
            people[row["id"]].append((Entity.ASSOCIATE, row["owner_id"]))
    if not keys:
        return []
    lo, hi = min(k[1] for k in keys), max(k[2] for k in keys)
    everyone = {e for group in people.values() for e in group}
    busy = await busy_times(
        [i for e, i in everyone if e is Entity.ASSOCIATE],
        [i for e, i in everyone if e is Entity.RESOURCE],
        [i for e, i in everyone if e is Entity.PERSON],
        lo,
        hi,
        limit,
    )
    return [
        [e for e in people[fid] if conflicts_with(busy.get(e, []), start, end, fid)]
        for fid, start, end in keys
    ]
