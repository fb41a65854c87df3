"""Claiming CalDAV sync jobs: per-object order on top of ``orm.outbox``'s leases.

``orm.outbox.claim`` takes any due rows; CalDAV writes of one object must run in the
order they were queued (a PUT, then the DELETE of a removed participant, then a PUT
when they are added back).  So only the head of each (account, object name) queue - its
oldest QUEUED job - can be claimed, and only while that head is due and not leased: a
later job of the same object waits until the head is SENT or FAILED.  Jobs of accounts
in the FAILED state (refused credentials) are not claimed until the account is updated.
The ordered claim itself is ``orm.outbox.claim(ordered_by=...)``, shared with the mail
outbox (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, compare-and-set on SQLite).  Results
are recorded with ``orm.outbox``'s fenced ``mark_sent``/``mark_failed``/``release``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from tortoise.expressions import Q, Subquery

from orm import outbox
from orm.outbox_models import OutboxStatus
from orm.sync_models import AccountState, CalendarAccount, SyncJob

ORDERED_BY = ("account_id", "name")


def _healthy() -> Q:
    return Q(account_id__in=Subquery(CalendarAccount.filter(state=AccountState.OK).values("id")))


async def claim(
    worker: str, *, limit: int, lease: timedelta, now: datetime | None = None
) -> tuple[str, list[SyncJob]]:
    """Claim up to ``limit`` head jobs for ``worker``; return the claim token and jobs."""
    return await outbox.claim(
        SyncJob,
        worker,
        limit=limit,
        lease=lease,
        now=now,
        ordered_by=ORDERED_BY,
        where=_healthy(),
        order=("id",),
    )


async def pending(account_id: int | None = None) -> int:
    """Count queued jobs (of one account, or all)."""
    query = SyncJob.filter(status=OutboxStatus.QUEUED)
    if account_id is not None:
        query = query.filter(account_id=account_id)
    return await query.count()
