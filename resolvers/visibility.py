"""Who sees what of a follow-up: the one privacy rule every read path asks.

A private follow-up shows in full to its owner, its associate participants and
administrators; to everyone else it is busy time only (no title, agenda, location, links,
participants, bookings, uid).  Everything linked to a follow-up - participants with their
status history and mail deliveries, counter proposals, calendar sync states, conflicts,
bookings, the "already added" marks of the invitation dialog and the lists of a linked
company, person, sale or project - follows it: it exists for a viewer only when the viewer
sees that follow-up in full.  ``visible_ids`` decides once per follow-up and request
(participants loaded in one batch, only for private rows the viewer neither owns nor
administers); ``listed_for`` is the same rule as SQL for lists that page and count.
``sight`` names the class of a viewer for one follow-up (what the rules above let them see
of it): subscribers of one live event in the same class are shown the same answer.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from enum import Enum

from tortoise.expressions import Q, Subquery

from orm.models import Associate, FollowUp, Participant
from orm.outbox_models import Proposal
from resolvers.loaders import Loaders


def unrestricted(viewer: Associate, row: FollowUp) -> bool:
    """True when the viewer sees ``row`` in full without looking at its participants."""
    return not row.private or viewer.is_admin or row.owner_id == viewer.id


def sees_details(viewer: Associate, row: FollowUp, participants: Sequence[Participant]) -> bool:
    """Owner, associate participants and admins see a private follow-up in full."""
    return unrestricted(viewer, row) or any(p.associate_id == viewer.id for p in participants)


def may_edit(viewer: Associate, row: FollowUp) -> bool:
    """The owner and administrators may change or delete a follow-up."""
    return viewer.is_admin or row.owner_id == viewer.id


def sees_proposals(viewer: Associate, row: FollowUp) -> bool:
    """Counter proposals show to the organiser (owner) and administrators only."""
    return may_edit(viewer, row)


async def visible_ids(viewer: Associate, loaders: Loaders, rows: Iterable[FollowUp]) -> set[int]:
    """The ids of ``rows`` the viewer sees in full (``sees_details``), batched."""
    rows = list(rows)
    unsure = [r for r in rows if not unrestricted(viewer, r)]
    out = {r.id for r in rows} - {r.id for r in unsure}
    if unsure:
        loader = loaders.by_parent(Participant, "followup_id")
        lists = await loader.load_many([r.id for r in unsure])
        out.update(r.id for r, ps in zip(unsure, lists, strict=True) if sees_details(viewer, r, ps))
    return out


class Sight(Enum):
    """How much of one follow-up a viewer sees: every difference the rules above make."""

    #: In full, with its counter proposals (``sees_proposals``): owner, administrators.
    EDITOR = "editor"
    #: In full (``sees_details``): not private, or an associate participant.
    READER = "reader"
    #: Busy time only.
    REDACTED = "redacted"


async def sight(viewer: Associate, loaders: Loaders, row: FollowUp) -> Sight:
    """The viewer's class for ``row`` (participants through ``loaders``, as ``visible_ids``)."""
    if row.id not in await visible_ids(viewer, loaders, [row]):
        return Sight.REDACTED
    return Sight.EDITOR if sees_proposals(viewer, row) else Sight.READER


async def visible_followup_ids(
    viewer: Associate, loaders: Loaders, followup_ids: Iterable[int]
) -> set[int]:
    """Of these follow-up ids, the existing ones the viewer sees in full."""
    keys = sorted(set(followup_ids))
    rows = await loaders.by_id(FollowUp).load_many(keys)
    return await visible_ids(viewer, loaders, [r for r in rows if r is not None])


async def sees_followup(viewer: Associate, loaders: Loaders, followup_id: int) -> bool:
    """True when the follow-up exists and the viewer sees it in full."""
    return followup_id in await visible_followup_ids(viewer, loaders, [followup_id])


async def visible_participants(
    viewer: Associate, loaders: Loaders, rows: Sequence[Participant | None]
) -> list[Participant | None]:
    """``rows`` with those of follow-ups the viewer may not see in full replaced by None."""
    seen = await visible_followup_ids(viewer, loaders, (p.followup_id for p in rows if p))
    return [p if p is not None and p.followup_id in seen else None for p in rows]


async def visible_proposals(
    viewer: Associate, loaders: Loaders, rows: Sequence[Proposal | None]
) -> list[Proposal | None]:
    """``rows`` with those the viewer may not see (``sees_proposals``) replaced by None."""
    keys = sorted({p.followup_id for p in rows if p is not None})
    found = await loaders.by_id(FollowUp).load_many(keys)
    allowed = {f.id for f in found if f is not None and sees_proposals(viewer, f)}
    return [p if p is not None and p.followup_id in allowed else None for p in rows]


def listed_for(viewer: Associate) -> Q:
    """SQL condition: follow-ups the viewer sees in full (for lists under a linked record)."""
    if viewer.is_admin:
        return Q()
    joined = Subquery(Participant.filter(associate_id=viewer.id).values("followup_id"))
    return Q(private=False) | Q(owner_id=viewer.id) | Q(id__in=joined)
