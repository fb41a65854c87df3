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

from calcore.model import EventSnapshot
from orm import models as m
from orm.snapshots import snapshot


@dataclass(frozen=True)
class Change:
    """One follow-up before and after a mutation (``after`` None: it was deleted)."""

    followup_id: int
    before: EventSnapshot | None
    after: EventSnapshot | None
    #: Participants (by id) that were on the follow-up before; handlers diff them.
    participants_before: tuple[tuple[int, str | None, bool], ...] = field(default=())


Handler = Callable[[Change], Awaitable[None]]
HANDLERS: list[Handler] = []


def register(handler: Handler) -> None:
    """Add a handler once (idempotent, so app factories may call it repeatedly)."""
    if handler not in HANDLERS:
        HANDLERS.append(handler)


async def _state(
    followup_id: int, *, people: bool = True
) -> tuple[EventSnapshot | None, tuple[tuple[int, str | None, bool], ...]]:
    row = await m.FollowUp.get_or_none(id=followup_id)
    if row is None:
        return None, ()
    if not people:
        return await snapshot(row), ()
    who = tuple(
        (p.id, p.email, p.email_invitation)
        for p in await m.Participant.filter(followup_id=followup_id).order_by("id")
    )
    return await snapshot(row), who


@asynccontextmanager
async def track(followup_id: int) -> AsyncIterator[None]:
    """Run the body, then tell every handler how the follow-up changed."""
    if not HANDLERS:
        yield
        return
    before, people = await _state(followup_id)
    yield
    after, _ = await _state(followup_id, people=False)
    change = Change(followup_id, before, after, people)
    for handler in HANDLERS:
        await handler(change)


async def created(followup_id: int) -> None:
    """Tell the handlers about a new follow-up."""
    if HANDLERS:
        after, _ = await _state(followup_id, people=False)
        change = Change(followup_id, None, after)
        for handler in HANDLERS:
            await handler(change)
