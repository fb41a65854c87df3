"""The read side of follow-ups: diary windows, to-do lists and activities lists."""

from __future__ import annotations

from datetime import datetime, timedelta

from tortoise.expressions import Q, Subquery

from app.settings import Settings
from orm import models as m
from resolvers.errors import ValidationFailed
from resolvers.followup_rules import aware


def check_window(start: datetime, end: datetime, settings: Settings) -> tuple[datetime, datetime]:
    """Validate a time window (bounded by MAX_WINDOW_DAYS) and return it in UTC."""
    lo, hi = aware(start, "from"), aware(end, "to")
    assert lo is not None and hi is not None
    if hi <= lo:
        raise ValidationFailed("to", "to must be after from")
    if hi - lo > timedelta(days=settings.max_window_days):
        raise ValidationFailed("to", f"a window may span at most {settings.max_window_days} days")
    return lo, hi


async def diary(associate_ids: list[int], start: datetime, end: datetime) -> list[m.FollowUp]:
    """Timed follow-ups (meetings, made calls, timed tasks) owned or attended in the window."""
    attending = Subquery(
        m.Participant.filter(associate_id__in=associate_ids)
        .exclude(status=m.ParticipantStatus.DECLINED)
        .values("followup_id")
    )
    return (
        await m.FollowUp.filter(Q(owner_id__in=associate_ids) | Q(id__in=attending))
        .filter(start_at__lt=end, end_at__gt=start)
        .order_by("start_at", "id")
    )


async def todo(associate_id: int, include_done: bool, limit: int) -> list[m.FollowUp]:
    """Tasks and planned calls by deadline."""
    query = m.FollowUp.filter(owner_id=associate_id).filter(
        Q(kind=m.Kind.TASK) | Q(kind=m.Kind.CALL, start_at__isnull=True)
    )
    if not include_done:
        query = query.filter(done=False)
    return await query.order_by("deadline", "id").limit(limit)
