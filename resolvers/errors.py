"""Expected failures a client can cause; mutations turn them into typed payload errors."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every expected, client-caused failure; the transaction is rolled back."""

    code = "ERROR"
    path: list[str] = []

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ValidationFailed(DomainError):
    """Input breaks a rule; ``path`` names the offending input field."""

    code = "VALIDATION"

    def __init__(self, path: list[str] | str, message: str) -> None:
        super().__init__(message)
        self.path = path.split(".") if isinstance(path, str) else list(path)


class NotFound(DomainError):
    """The record does not exist, or the viewer may not know that it exists."""

    code = "NOT_FOUND"

    def __init__(self, type_name: str, ident: object, path: str | None = None) -> None:
        super().__init__(f"{type_name} {ident} was not found")
        self.type_name = type_name
        self.ident = str(ident)
        self.path = [path] if path else []


class Forbidden(DomainError):
    """The viewer may see the record but not do this to it."""

    code = "FORBIDDEN"


class VersionConflict(DomainError):
    """Optimistic locking: the record changed since the client read it."""

    code = "VERSION_CONFLICT"

    def __init__(self, current_version: int) -> None:
        super().__init__(
            f"the record was changed by someone else (now version {current_version}); "
            "reload and try again"
        )
        self.current_version = current_version


class BookingConflict(DomainError):
    """A resource that refuses double booking is already taken."""

    code = "CONFLICT"


class MailNotConfigured(DomainError):
    """E-mail invitations are switched off while SMTP is not configured."""

    code = "MAIL_NOT_CONFIGURED"


class ConcurrentChange(DomainError):
    """A concurrent transaction came first (``resolvers.transaction``): read again, retry."""

    code = "CONFLICT"

    def __init__(self) -> None:
        super().__init__("a concurrent change came first; read the record again and retry")
