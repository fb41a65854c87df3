"""Who sees what of a follow-up: private ones show only as busy time to outsiders."""

from __future__ import annotations

from orm.models import Associate, FollowUp, Participant


def sees_details(viewer: Associate, row: FollowUp, participants: list[Participant]) -> bool:
    """Owner, associate participants and admins see a private follow-up in full."""
    if not row.private or viewer.is_admin or row.owner_id == viewer.id:
        return True
    return any(p.associate_id == viewer.id for p in participants)


def may_edit(viewer: Associate, row: FollowUp) -> bool:
    """The owner and administrators may change or delete a follow-up."""
    return viewer.is_admin or row.owner_id == viewer.id
