"""Claiming, leasing and retrying outbox rows: the generic part every outbox reuses.

Works on any Tortoise model with the columns ``status`` (QUEUED/SENT/FAILED),
``attempts``, ``next_attempt_at``, ``last_error``, ``claimed_by``, ``claimed_until`` and
``sent_at`` (see ``orm.outbox_models.MailOutbox``).  A worker claims a batch of due rows
under a lease: on PostgreSQL with ``SELECT ... FOR UPDATE SKIP LOCKED`` inside a
transaction, so concurrent workers on any number of machines take disjoint rows without
waiting on each other; on SQLite (one worker) with a conditional UPDATE.  Every claim
carries a fresh token in ``claimed_by``; results are written only while the row still
carries that token (fencing), so a worker whose lease expired cannot overwrite the work
of the worker that took the row over.  A dead worker's rows come back when their lease
ends, so at most its in-flight batch is repeated.

Ordered claims (``ordered_by``): rows of one group - one CalDAV object, one meeting's
mails to one recipient - must go out in the order they were queued.  Only the head of
each group (its oldest QUEUED row) is claimable, and only while it is due and not
leased; a later row of the group waits until the head is SENT, FAILED or otherwise
settled, even when the later row is due first.
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from tortoise.expressions import Q, Subquery
from tortoise.functions import Min
from tortoise.models import Model

QUEUED, SENT, FAILED = "QUEUED", "SENT", "FAILED"
M = TypeVar("M", bound=Model)


def utcnow() -> datetime:
    """Return the current time in UTC (the one clock of the outbox)."""
    return datetime.now(UTC)


def backoff(
    attempts: int,
    *,
    base: float = 30.0,
    cap: float = 3600.0,
    rng: random.Random | None = None,
) -> timedelta:
    """Return the wait before the next try: exponential, capped, with jitter.

    ``attempts`` is the number of failed tries so far (1 after the first failure); the
    delay is ``min(cap, base * 2**(attempts-1))`` scaled by a random factor in [0.5, 1],
    so workers that failed together do not retry together.
    """
    exp = min(cap, base * (2 ** max(0, min(attempts - 1, 30))))
    factor = 0.5 + 0.5 * (rng or random).random()
    return timedelta(seconds=exp * factor)


def _is_postgres(model: type[Model]) -> bool:
    return bool(model._meta.db.capabilities.dialect == "postgres")


def _claimable(
    model: type[M], now: datetime, ordered_by: tuple[str, ...] = (), where: Q | None = None
) -> Any:
    free = Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
    query = model.filter(free, status=QUEUED, next_attempt_at__lte=now)
    if ordered_by:
        query = query.filter(pk__in=_heads(model, ordered_by))
    return query.filter(where) if where is not None else query


def _heads(model: type[M], ordered_by: tuple[str, ...]) -> Any:
    """Subquery: the oldest QUEUED row of every group named by ``ordered_by``."""
    return Subquery(
        model.filter(status=QUEUED)
        .annotate(head=Min(model._meta.pk_attr))
        .group_by(*ordered_by)
        .values("head")
    )


async def claim(
    model: type[M],
    worker: str,
    *,
    limit: int,
    lease: timedelta,
    now: datetime | None = None,
    ordered_by: tuple[str, ...] = (),
    where: Q | None = None,
    order: tuple[str, ...] = ("next_attempt_at", "id"),
    probe: bool = True,
) -> tuple[str, list[M]]:
    """Claim up to ``limit`` due rows for ``worker``; return the claim token and rows.

    ``ordered_by`` names the columns of a group whose rows go out in queue order (only
    each group's head is claimed); ``where`` narrows the claimable rows further.

    One statement claims and returns the rows: ``UPDATE ... WHERE pk IN (the first due
    rows) RETURNING *`` (written here around the ORM's SELECT: the ORM's UPDATE has no
    RETURNING and drops the row locks of a subquery).  On PostgreSQL the inner SELECT
    takes the rows ``FOR UPDATE SKIP LOCKED``, so concurrent workers take disjoint rows;
    on SQLite the statement runs under the one write lock, so a row another worker took
    no longer matches.  On SQLite ``probe`` first asks a read connection whether anything
    is due, so an idle poll takes no write turn (a busy worker passes ``probe=False``).
    """
    moment = now or utcnow()
    token = f"{worker[:60]}/{uuid.uuid4().hex[:12]}"
    until = moment + lease
    postgres = _is_postgres(model)
    if probe and not postgres and not await _claimable(model, moment, ordered_by, where).exists():
        return token, []
    meta = model._meta
    first = (
        _claimable(model, moment, ordered_by, where)
        .order_by(*order)
        .limit(limit)
        .values_list(meta.pk_attr, flat=True)
    )
    first._choose_db_if_not_chosen(True)
    first._make_query()
    if postgres:
        first.query = first.query.for_update(skip_locked=True)
    inner, values = first.query.get_parameterized_sql()
    by, until_col = (meta.fields_db_projection[f] for f in ("claimed_by", "claimed_until"))
    n = len(values)
    marks = (f"${n + 1}", f"${n + 2}") if postgres else ("?", "?")
    sql = (
        f'UPDATE "{meta.db_table}" SET "{by}"={marks[0]},"{until_col}"={marks[1]}'
        f' WHERE "{meta.db_pk_column}" IN ({inner}) RETURNING *'
    )
    params = [*values, token, until] if postgres else [token, until, *values]
    found = await first._db.execute_query_dict(sql, params)
    rows = [model._init_from_db(**row) for row in found]
    rows.sort(key=lambda r: tuple(getattr(r, f) for f in order))
    return token, rows


async def mark_sent(model: type[Model], pk: Any, token: str, now: datetime | None = None) -> bool:
    """Record a delivery; False when the row's lease was lost to another worker."""
    moment = now or utcnow()
    done = await model.filter(pk=pk, claimed_by=token).update(
        status=SENT, sent_at=moment, last_error=None, claimed_by=None, claimed_until=None
    )
    return bool(done)


async def mark_sent_many(
    model: type[Model], pks: list[Any], token: str, now: datetime | None = None
) -> int:
    """Record several deliveries in one statement; return how many rows were still ours."""
    if not pks:
        return 0
    moment = now or utcnow()
    return int(
        await model.filter(pk__in=pks, claimed_by=token).update(
            status=SENT, sent_at=moment, last_error=None, claimed_by=None, claimed_until=None
        )
    )


async def mark_failed(
    model: type[Model],
    pk: Any,
    token: str,
    error: str,
    *,
    attempts: int,
    max_attempts: int,
    permanent: bool = False,
    now: datetime | None = None,
    base: float = 30.0,
    cap: float = 3600.0,
) -> str:
    """Record a failed try: retry later with backoff, or FAILED for good; return status.

    ``attempts`` is the row's count before this try.
    """
    moment = now or utcnow()
    tries = attempts + 1
    final = permanent or tries >= max_attempts
    fields: dict[str, Any] = {
        "attempts": tries,
        "last_error": error[:2000],
        "claimed_by": None,
        "claimed_until": None,
    }
    if final:
        fields["status"] = FAILED
    else:
        fields["next_attempt_at"] = moment + backoff(tries, base=base, cap=cap)
    await model.filter(pk=pk, claimed_by=token).update(**fields)
    return FAILED if final else QUEUED


async def release(model: type[Model], token: str) -> int:
    """Give back every row still held under ``token`` without counting a try."""
    return await model.filter(claimed_by=token, status=QUEUED).update(
        claimed_by=None, claimed_until=None
    )


async def pending(model: type[Model], now: datetime | None = None) -> int:
    """Count the rows due now and not leased (for health checks and tests)."""
    return await _claimable(model, now or utcnow()).count()
