"""Typed errors in mutation payloads, and the wrapper that answers a mutation with them.

The transaction itself (and what counts as a lost race) is ``resolvers.transaction``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from enum import Enum
from typing import TypeVar

import strawberry

from resolvers import errors as domain
from resolvers import transaction


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


async def atomically(work: Callable[[], Awaitable[T]], fail: Callable[[list[UserError]], T]) -> T:
    """Run ``work`` in one transaction; on a domain error ``fail`` builds the payload.

    The transaction is rolled back first; a lost race reads CONFLICT.
    """
    try:
        return await transaction.atomically(work)
    except domain.DomainError as exc:
        return fail([to_user_error(exc)])
