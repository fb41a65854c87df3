"""Follow-up rows -> ``calcore.model.EventSnapshot``: the one input of every calendar builder.

CalDAV objects and e-mail invitations are derived from these snapshots only, so both
show the same UID, SEQUENCE, attendees and recurrence.  Participants become ATTENDEEs
(the organiser is the ORGANIZER), booked resources become ATTENDEEs with CUTYPE=ROOM or
RESOURCE, the activity type becomes CATEGORIES and the URL points back to the API node.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from calcore.model import Attendee, CuType, EventSnapshot, Kind, PartStat, Person
from orm import models as m

PARTSTAT = {
    m.ParticipantStatus.INVITED: PartStat.NEEDS_ACTION,
    m.ParticipantStatus.ACCEPTED: PartStat.ACCEPTED,
    m.ParticipantStatus.TENTATIVE: PartStat.TENTATIVE,
    m.ParticipantStatus.DECLINED: PartStat.DECLINED,
}
CUTYPE = {
    m.ResourceKind.ROOM: CuType.ROOM,
    m.ResourceKind.EQUIPMENT: CuType.RESOURCE,
    m.ResourceKind.LOCATION: CuType.ROOM,
}


def _attendee(p: m.Participant, names: dict[tuple[str, int], str]) -> Attendee | None:
    if not p.email:
        return None
    key = ("a", p.associate_id) if p.associate_id else ("p", p.person_id or 0)
    return Attendee(
        email=p.email,
        name=names.get(key),
        partstat=PARTSTAT[p.status],
        role="CHAIR" if p.organiser else "REQ-PARTICIPANT",
        rsvp=not p.organiser,
    )


@dataclass(frozen=True)
class SnapshotRows:
    """The rows a snapshot was built from, for the change handlers to reuse (no re-reads).

    ``participants`` in id order; ``associates`` the owner and every associate
    participant; ``resource_ids`` the booked resources."""

    owner_id: int
    participants: tuple[m.Participant, ...]
    associates: Mapping[int, m.Associate]
    resource_ids: tuple[int, ...]

    @property
    def parties(self) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """(associate ids, resource ids) the follow-up concerns, as ``changes.parties``."""
        people = {p.associate_id for p in self.participants if p.associate_id is not None}
        return tuple(sorted({self.owner_id, *people})), tuple(sorted(set(self.resource_ids)))


async def snapshots(rows: list[m.FollowUp]) -> dict[int, EventSnapshot]:
    """Snapshots of several follow-ups, loaded with a fixed number of queries.

    No ``URL``: the service has no public page per follow-up (a link to one that does not
    exist helps nobody; the reply links in invitation mails are per recipient)."""
    return {k: snap for k, (snap, _) in (await snapshots_with_rows(rows)).items()}


async def snapshots_with_rows(
    rows: list[m.FollowUp],
) -> dict[int, tuple[EventSnapshot, SnapshotRows]]:
    """``snapshots`` with the rows each was built from (same queries)."""
    ids = [r.id for r in rows]
    participants: dict[int, list[m.Participant]] = defaultdict(list)
    for p in await m.Participant.filter(followup_id__in=ids).order_by("-organiser", "id"):
        participants[p.followup_id].append(p)
    bookings: dict[int, list[m.Resource]] = defaultdict(list)
    booked: dict[int, list[int]] = defaultdict(list)
    for b in await m.ResourceBooking.filter(followup_id__in=ids).prefetch_related("resource"):
        bookings[b.followup_id].append(b.resource)
        booked[b.followup_id].append(b.resource_id)
    overrides: dict[int, list[m.Occurrence]] = defaultdict(list)
    series = [r.id for r in rows if r.rrule is not None]  # only a series has overrides
    for o in await _rows(m.Occurrence.filter(series_id__in=series), series, "recurrence_id"):
        overrides[o.series_id].append(o)
    type_ids = {r.type_id for r in rows if r.type_id}
    types = {t.id: t.name for t in await _rows(m.ActivityType.filter(id__in=type_ids), type_ids)}
    a_ids = {p.associate_id for ps in participants.values() for p in ps if p.associate_id}
    a_ids |= {r.owner_id for r in rows}  # owners and attending associates in one query
    associates = {a.id: a for a in await m.Associate.filter(id__in=a_ids)}
    owners = {r.owner_id: associates[r.owner_id] for r in rows}
    names: dict[tuple[str, int], str] = {("a", a.id): a.name for a in associates.values()}
    p_ids = {p.person_id for ps in participants.values() for p in ps if p.person_id}
    for person in await _rows(m.Person.filter(id__in=p_ids), p_ids):
        names[("p", person.id)] = f"{person.first_name} {person.last_name}".strip()
    out: dict[int, tuple[EventSnapshot, SnapshotRows]] = {}
    for row in rows:
        owner = owners[row.owner_id]
        people = [a for p in participants[row.id] if (a := _attendee(p, names))]
        people += [
            Attendee(
                email=r.email,
                name=r.name,
                partstat=PartStat.ACCEPTED,
                rsvp=False,
                cutype=CUTYPE[r.kind],
            )
            for r in bookings[row.id]
            if r.email
        ]
        base = _base(row, owner, tuple(people), types.get(row.type_id or 0))
        snap = EventSnapshot(
            **base,
            overrides=tuple(_override(row, o, base) for o in overrides[row.id] if not o.cancelled),
        )
        found = tuple(sorted(participants[row.id], key=lambda p: p.id))
        concerned = {row.owner_id, *(p.associate_id for p in found if p.associate_id)}
        out[row.id] = (
            snap,
            SnapshotRows(
                owner_id=row.owner_id,
                participants=found,
                associates={a: associates[a] for a in sorted(concerned) if a in associates},
                resource_ids=tuple(booked[row.id]),
            ),
        )
    return out


async def _rows(query: Any, keys: Any, *order: str) -> list[Any]:
    """The rows of ``query``, or none without a query when there are no ``keys``."""
    if not keys:
        return []
    return list(await (query.order_by(*order) if order else query))


def _base(
    row: m.FollowUp,
    owner: m.Associate,
    attendees: tuple[Attendee, ...],
    category: str | None,
) -> dict[str, Any]:
    timed = row.start_at is not None
    return {
        "uid": row.uid,
        "kind": Kind(row.kind.value),
        "title": row.title,
        "start": row.start_at,
        "end": row.end_at,
        "due": row.deadline if row.kind is not m.Kind.MEETING else None,
        "tzid": row.tzid,
        "sequence": row.sequence,
        "description": row.agenda,
        "location": row.location or None,
        "organizer": Person(owner.email, owner.name) if owner.email else None,
        "attendees": attendees if attendees and owner.email else (),
        "transparent": not row.busy,
        "all_day": row.all_day,
        "private": row.private,
        "alarm_minutes": row.alarm_minutes,
        "categories": (category,) if category else (),
        "done": row.done,
        "completed_at": row.done_at,
        "rrule": row.rrule if timed or row.deadline else None,
        "rdates": tuple(datetime.fromisoformat(v) for v in row.rdates),
        "exdates": tuple(datetime.fromisoformat(v) for v in row.exdates),
        "created": row.created_at,
        "last_modified": row.updated_at,
    }


def _override(row: m.FollowUp, o: m.Occurrence, base: dict[str, Any]) -> EventSnapshot:
    from orm.occurrences import one

    span = one(row, o, o.recurrence_id)
    fields = dict(base)
    fields.update(
        title=o.title if o.title is not None else row.title,
        description=o.agenda if o.agenda is not None else row.agenda,
        location=(o.location if o.location is not None else row.location) or None,
        start=span.start,
        end=span.end,
        due=span.deadline if row.kind is not m.Kind.MEETING else None,
        done=o.done,
        completed_at=o.done_at,
        sequence=max(row.sequence, o.sequence),
        rrule=None,
        rdates=(),
        exdates=(),
        recurrence_id=o.recurrence_id,
    )
    return EventSnapshot(**fields)


async def snapshot(row: m.FollowUp) -> EventSnapshot:
    return (await snapshots([row]))[row.id]


async def snapshot_with_rows(row: m.FollowUp) -> tuple[EventSnapshot, SnapshotRows]:
    """One follow-up's snapshot and the rows it was built from."""
    return (await snapshots_with_rows([row]))[row.id]
