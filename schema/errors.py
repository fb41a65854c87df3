"""Typed errors in mutation payloads, and the wrapper that runs a mutation in one transaction."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from enum import Enum
from typing import TypeVar

import strawberry
from tortoise.exceptions import IntegrityError, OperationalError, TransactionManagementError
from tortoise.transactions import in_transaction

from resolvers import errors as domain


@strawberry.enum
class ErrorCode(Enum):
    VALIDATION = "VALIDATION"
    NOT_FOUND = "NOT_FOUND"
    FORBIDDEN = "FORBIDDEN"
    VERSION_CONFLICT = "VERSION_CONFLICT"
    CONFLICT = "CONFLICT"
    MAIL_NOT_CONFIGURED = "MAIL_NOT_CONFIGURED"


@strawberry.interface
class UserError:
    code: ErrorCode
    message: str
    path: list[str]


@strawberry.type
class ValidationError(UserError):
    pass


@strawberry.type
class NotFoundError(UserError):
    id: str


@strawberry.type
class ForbiddenError(UserError):
    pass


@strawberry.type
class VersionConflictError(UserError):
    current_version: int


@strawberry.type
class ConflictError(UserError):
    pass


@strawberry.type
class MailNotConfiguredError(UserError):
    pass


ALL_ERROR_TYPES = (
    ValidationError,
    NotFoundError,
    ForbiddenError,
    VersionConflictError,
    ConflictError,
    MailNotConfiguredError,
)


def to_user_error(exc: domain.DomainError) -> UserError:
    """The GraphQL error type for a domain failure."""
    code, message, path = ErrorCode(exc.code), exc.message, list(exc.path)
    if isinstance(exc, domain.NotFound):
        return NotFoundError(code=code, message=message, path=path, id=exc.ident)
    if isinstance(exc, domain.VersionConflict):
        return VersionConflictError(
            code=code, message=message, path=path, current_version=exc.current_version
        )
    plain: dict[str, type[UserError]] = {
        "FORBIDDEN": ForbiddenError,
        "CONFLICT": ConflictError,
        "MAIL_NOT_CONFIGURED": MailNotConfiguredError,
    }
    return plain.get(exc.code, ValidationError)(code=code, message=message, path=path)


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


async def atomically(work: Callable[[], Awaitable[T]], fail: Callable[[list[UserError]], T]) -> T:
    """Run ``work`` in one transaction; on a domain error roll back and build ``fail``.

    A transaction that lost a race to a concurrent one (a unique key taken meanwhile, a
    serialization failure or deadlock, SQLite's lock held past the busy timeout) is rolled
    back and answered as ``CONFLICT``: the client reads again and retries.
    """
    try:
        async with in_transaction():
            return await work()
    except domain.DomainError as exc:
        return fail([to_user_error(exc)])
    except (IntegrityError, OperationalError, TransactionManagementError) as exc:
        if not lost_race(exc):
            raise
        message = "a concurrent change came first; read the record again and retry"
        return fail([ConflictError(code=ErrorCode.CONFLICT, message=message, path=[])])
