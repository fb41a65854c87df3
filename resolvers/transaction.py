"""One transaction per mutation: a domain error rolls it back, a lost race reads CONFLICT."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from tortoise.exceptions import IntegrityError, OperationalError, TransactionManagementError
from tortoise.transactions import in_transaction

from resolvers.errors import ConcurrentChange

T = TypeVar("T")

#: SQLSTATEs of a transaction that lost a race: serialization failure, deadlock.
_LOST_RACE = {"40001", "40P01"}


def lost_race(exc: BaseException) -> bool:
    """Whether a database error means a concurrent transaction came first (not a bug)."""
    if isinstance(exc, IntegrityError):  # a unique key another transaction just took
        return True
    cause = exc.__cause__ or exc.__context__
    state = getattr(cause, "sqlstate", None)
    if state in _LOST_RACE:
        return True
    return isinstance(exc, OperationalError | TransactionManagementError) and (
        "database is locked" in str(exc)  # SQLite: the busy timeout ran out
    )


async def atomically(work: Callable[[], Awaitable[T]]) -> T:
    """Run ``work`` in one transaction; a ``DomainError`` rolls it back and propagates.

    A transaction that lost a race to a concurrent one (a unique key taken meanwhile, a
    serialization failure or deadlock, SQLite's lock held past the busy timeout) is rolled
    back and raised as ``ConcurrentChange`` (CONFLICT): the client reads again and retries.
    """
    try:
        async with in_transaction():
            return await work()
    except (IntegrityError, OperationalError, TransactionManagementError) as exc:
        if not lost_race(exc):
            raise
        raise ConcurrentChange() from exc
