"""The timing rules of meetings, tasks and calls (DOMAIN.md), as pure functions.

- a meeting has a start and an end; without an end it lasts the owner's meeting duration;
- a task always has a deadline and no start, unless it is given a time (then it is also
  in the diary);
- a call is planned with a deadline, and once made has a start and an end (default the
  owner's call duration);
- changing the kind converts the fields so nothing the user entered is lost.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from orm.models import Kind
from resolvers.errors import ValidationFailed

EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Timing:
    kind: Kind
    start: datetime | None = None
    end: datetime | None = None
    deadline: datetime | None = None


def aware(value: datetime | None, path: str) -> datetime | None:
    """Reject times without an offset and times outside a sane range; return UTC."""
    if value is None:
        return None
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValidationFailed(path, f"{path} needs a UTC offset, e.g. 2026-03-02T09:00:00Z")
    utc = value.astimezone(UTC)
    if not EARLIEST <= utc < LATEST:
        raise ValidationFailed(path, f"{path} must be between 1900 and 2200")
    return utc


def _end_after_start(start: datetime, end: datetime) -> None:
    if end <= start:
        raise ValidationFailed("end", "end must be after start")


def normalise(timing: Timing, *, meeting_minutes: int, call_minutes: int) -> Timing:
    """Fill defaults and reject field combinations the kind does not allow."""
    start, end, deadline = timing.start, timing.end, timing.deadline
    if end is not None and start is None:
        raise ValidationFailed("end", "an end needs a start")
    if timing.kind is Kind.MEETING:
        if start is None:
            raise ValidationFailed("start", "a meeting needs a start")
        if deadline is not None:
            raise ValidationFailed("deadline", "a meeting has no deadline; give start and end")
        end = end or start + timedelta(minutes=meeting_minutes)
    elif timing.kind is Kind.TASK:
        if deadline is None:
            raise ValidationFailed("deadline", "a task needs a deadline")
        if start is not None:
            end = end or start + timedelta(minutes=meeting_minutes)
    else:
        if start is None and deadline is None:
            raise ValidationFailed(
                "deadline", "a planned call needs a deadline; a made call needs a start"
            )
        if start is not None:
            end = end or start + timedelta(minutes=call_minutes)
    if start is not None and end is not None:
        _end_after_start(start, end)
    return Timing(timing.kind, start, end, deadline)


def convert(timing: Timing, kind: Kind) -> Timing:
    """Carry the times of one kind over to another, before the new kind's defaults."""
    if kind is timing.kind:
        return timing
    if kind is Kind.MEETING:
        if timing.start is not None:
            return Timing(kind, timing.start, timing.end, None)
        return Timing(kind, timing.deadline, None, None)
    if kind is Kind.TASK:
        deadline = timing.deadline or timing.end or timing.start
        return Timing(kind, timing.start, timing.end, deadline)
    return replace(timing, kind=kind)


def move(old: Timing, new_start: datetime | None) -> datetime | None:
    """The end that keeps the old duration when only the start is moved."""
    if new_start is None or old.start is None or old.end is None:
        return None
    return new_start + (old.end - old.start)


def sort_time(timing: Timing) -> datetime:
    """Where the follow-up sits in an activities list: its start, else its deadline."""
    value = timing.start or timing.deadline
    assert value is not None, "normalise() guarantees a start or a deadline"
    return value
