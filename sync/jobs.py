"""Claiming CalDAV sync jobs: per-object order on top of ``orm.outbox``'s leases.

``orm.outbox.claim`` takes any due rows; CalDAV writes of one object must run in the
order they were queued (a PUT, then the DELETE of a removed participant, then a PUT
when they are added back).  So only the head of each (account, object name) queue - its
oldest QUEUED job - can be claimed, and only while that head is due and not leased: a
later job of the same object waits until the head is SENT or FAILED.  Jobs of accounts
in the FAILED state (refused credentials) are not claimed until the account is updated.
On PostgreSQL the heads are locked with ``SELECT ... FOR UPDATE SKIP LOCKED`` in a
transaction, so workers on several machines take disjoint jobs; on SQLite a
compare-and-set UPDATE does it.  Results are recorded with ``orm.outbox``'s fenced
``mark_sent``/``mark_failed``/``release``.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from tortoise.expressions import Q, Subquery
from tortoise.functions import Min
from tortoise.transactions import in_transaction

from orm.outbox import utcnow
from orm.outbox_models import OutboxStatus
from orm.sync_models import AccountState, CalendarAccount, SyncJob


def _heads() -> Any:
    """Subquery: the oldest queued job id of every (account, object name)."""
    return Subquery(
        SyncJob.filter(status=OutboxStatus.QUEUED)
        .annotate(head=Min("id"))
        .group_by("account_id", "name")
        .values("head")
    )


def _claimable(now: datetime) -> Any:
    free = Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
    healthy = Subquery(CalendarAccount.filter(state=AccountState.OK).values("id"))
    return SyncJob.filter(
        free,
        status=OutboxStatus.QUEUED,
        next_attempt_at__lte=now,
        id__in=_heads(),
        account_id__in=healthy,
    )


def _is_postgres() -> bool:
    return bool(SyncJob._meta.db.capabilities.dialect == "postgres")


async def claim(
    worker: str, *, limit: int, lease: timedelta, now: datetime | None = None
) -> tuple[str, list[SyncJob]]:
    """Claim up to ``limit`` head jobs for ``worker``; return the claim token and jobs."""
    moment = now or utcnow()
    token = f"{worker[:60]}/{uuid.uuid4().hex[:12]}"
    until = moment + lease
    if _is_postgres():
        async with in_transaction() as conn:
            rows = (
                await _claimable(moment)
                .using_db(conn)
                .order_by("id")
                .limit(limit)
                .select_for_update(skip_locked=True)
            )
            ids = [r.pk for r in rows]
            if ids:
                await (
                    SyncJob.filter(pk__in=ids)
                    .using_db(conn)
                    .update(claimed_by=token, claimed_until=until)
                )
    else:
        candidates = (
            await _claimable(moment).order_by("id").limit(limit).values_list("id", flat=True)
        )
        if candidates:
            await (
                _claimable(moment)
                .filter(pk__in=list(candidates))
                .update(claimed_by=token, claimed_until=until)
            )
    claimed = await SyncJob.filter(claimed_by=token).order_by("id")
    return token, list(claimed)


async def pending(account_id: int | None = None) -> int:
    """Count queued jobs (of one account, or all)."""
    query = SyncJob.filter(status=OutboxStatus.QUEUED)
    if account_id is not None:
        query = query.filter(account_id=account_id)
    return await query.count()
