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


@strawberry.enum(description="What kind of error a mutation's payload reports.")
class ErrorCode(Enum):
    VALIDATION = strawberry.enum_value(
        "VALIDATION", description="An argument is invalid; `path` names it."
    )
    NOT_FOUND = strawberry.enum_value(
        "NOT_FOUND", description="A record an ID names does not exist or is not visible."
    )
    FORBIDDEN = strawberry.enum_value(
        "FORBIDDEN", description="The caller may not do this (rights, privacy)."
    )
    VERSION_CONFLICT = strawberry.enum_value(
        "VERSION_CONFLICT",
        description="The record changed since the version given; reload and retry.",
    )
    CONFLICT = strawberry.enum_value(
        "CONFLICT",
        description="The change collides with another (a refusing room already booked, a "
        "concurrent write that won).",
    )
    MAIL_NOT_CONFIGURED = strawberry.enum_value(
        "MAIL_NOT_CONFIGURED", description="E-mail was asked for but SMTP is not configured."
    )


@strawberry.interface(
    description="An error a mutation reports in its payload; nothing was changed."
)
class UserError:
    code: ErrorCode = strawberry.field(description="What kind of error.")
    message: str = strawberry.field(description="What went wrong, in a sentence for people.")
    path: list[str] = strawberry.field(
        description="The argument (and field inside it) the error is about; empty when none."
    )


@strawberry.type(description="An argument is invalid.")
class ValidationError(UserError):
    pass


@strawberry.type(description="A record an ID names does not exist or is not visible.")
class NotFoundError(UserError):
    id: str = strawberry.field(description="The ID (or record number) that was not found.")


@strawberry.type(description="The caller may not do this.")
class ForbiddenError(UserError):
    pass


@strawberry.type(description="The record changed since the version the client gave.")
class VersionConflictError(UserError):
    current_version: int = strawberry.field(description="The record's version now.")


@strawberry.type(description="The change collides with another booking or write.")
class ConflictError(UserError):
    pass


@strawberry.type(description="E-mail was asked for but outgoing mail is not configured.")
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
