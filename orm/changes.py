"""Change notifications inside a mutation's transaction: the outbox's single entry point.

Every mutation that changes what a follow-up looks like as a calendar object wraps its
work in ``track(followup_id)``.  On the way in it captures the snapshot before, on the
way out the snapshot after (None when deleted), and hands both to the registered
handlers, which write outbox rows (mail, CalDAV) in the same transaction.  No handler
talks to the network.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime

from calcore.model import EventSnapshot
from orm import models as m
from orm.snapshots import SnapshotRows, snapshot_with_rows

#: (associate ids, resource ids) a follow-up concerns: its owner, attendees and rooms.
Parties = tuple[tuple[int, ...], tuple[int, ...]]


@dataclass(frozen=True)
class Change:
    """One follow-up before and after a mutation (``after`` None: it was deleted)."""

    followup_id: int
    before: EventSnapshot | None
    after: EventSnapshot | None
    #: Participants (by id) that were on the follow-up before; handlers diff them.
    participants_before: tuple[tuple[int, str | None, bool], ...] = field(default=())
    #: The associates (owner, associate participants) and the resources booked before.
    parties_before: Parties = field(default=((), ()))
    #: The original start of the one occurrence changed (None: the follow-up or series).
    occurrence: datetime | None = None
    #: The rows ``after`` was built from (participants, associates, bookings), so that the
    #: handlers do not read them again; None when ``after`` is None or nobody loaded them.
    after_rows: SnapshotRows | None = None


Handler = Callable[[Change], Awaitable[None]]
HANDLERS: list[Handler] = []


def register(handler: Handler) -> None:
    """Add a handler once (idempotent, so app factories may call it repeatedly)."""
    if handler not in HANDLERS:
        HANDLERS.append(handler)


async def parties(followup_id: int) -> Parties:
    """The associates (owner and associate participants) and resources of a follow-up."""
    row = await m.FollowUp.get_or_none(id=followup_id)
    if row is None:
        return (), ()
    return await _parties(row.owner_id, followup_id)


async def _parties(owner_id: int, followup_id: int) -> Parties:
    people: list[int] = await m.Participant.filter(
        followup_id=followup_id, associate_id__isnull=False
    ).values_list("associate_id", flat=True)  # type: ignore[assignment]
    rooms: list[int] = await m.ResourceBooking.filter(followup_id=followup_id).values_list(
        "resource_id", flat=True
    )  # type: ignore[assignment]
    return tuple(sorted({owner_id, *people})), tuple(sorted(set(rooms)))


async def _state(
    followup_id: int,
) -> tuple[EventSnapshot | None, SnapshotRows | None]:
    """The snapshot of a follow-up and the rows it was built from (None: no such row)."""
    row = await m.FollowUp.get_or_none(id=followup_id)
    if row is None:
        return None, None
    return await snapshot_with_rows(row)


def _who(rows: SnapshotRows | None) -> tuple[tuple[int, str | None, bool], ...]:
    """The participants (id, e-mail, invitation switch) in id order."""
    if rows is None:
        return ()
    return tuple((p.id, p.email, p.email_invitation) for p in rows.participants)


@asynccontextmanager
async def track(followup_id: int, occurrence: datetime | None = None) -> AsyncIterator[None]:
    """Run the body, then tell every handler how the follow-up changed.

    ``occurrence``: the original start of the one occurrence of a series the body changes."""
    if not HANDLERS:
        yield
        return
    before, was = await _state(followup_id)
    yield
    after, rows = await _state(followup_id)
    concerned = was.parties if was is not None else ((), ())
    change = Change(followup_id, before, after, _who(was), concerned, occurrence, rows)
    for handler in HANDLERS:
        await handler(change)


async def created(followup_id: int) -> None:
    """Tell the handlers about a new follow-up."""
    if HANDLERS:
        after, rows = await _state(followup_id)
        change = Change(followup_id, None, after, after_rows=rows)
        for handler in HANDLERS:
            await handler(change)
