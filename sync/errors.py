"""Typed failures of the CalDAV transport, and the map from HTTP outcomes to them.

Owns the exception hierarchy that the outbox worker acts on:

- ``AuthError``: 401/403 (RFC 9110 §15.5.2, §15.5.4) - wrong credentials or no access;
  the caller marks the account failed and stops retrying.
- ``PreconditionFailed``: 412 (RFC 9110 §13.1.1-2, RFC 4791 §5.3.4) - carries the
  server's copy and ETag so the caller can re-apply its change and retry.
- ``TransientError``: 429, 5xx - retry later; ``ServerUnreachable`` (a subclass):
  connection refused, reset, timeout, DNS, TLS - the whole server is out, not one object.
  Its text is always ``UNREACHABLE`` (one text for every cause, so an account is no port
  scanner); the cause is logged.
- ``AddressRefused``: the outbound address policy (``sync.address_policy``) refused the
  server's address; the caller marks the account failed, as for ``AuthError``.  Its text
  is the same ``UNREACHABLE``.
- ``NotFoundError``: 404 on a read.
- ``PreconditionRefused``: 403/409 with a ``DAV:error`` precondition (RFC 4791 §5.3.2.1
  ``no-uid-conflict``, RFC 6638 §3.2.4 ``unique-scheduling-object-resource``,
  ``same-organizer-in-all-components``, ...): the server refuses this object the same way
  every time, so the write ends FAILED with the server's reason, never retried.
- ``CalDAVError``: anything else, with the status and an excerpt of the body.

Response bodies are untrusted: only a short, printable excerpt is kept.
"""

from __future__ import annotations

EXCERPT_CHARS = 300
UNREACHABLE = "server unreachable"
#: the preconditions a server names when another object of the collection (or, RFC 6638,
#: of the user's calendars) already has the UID: RFC 4791 §5.3.2.1, RFC 6638 §3.2.4.1
UID_CONFLICTS = frozenset({"no-uid-conflict", "unique-scheduling-object-resource"})


def body_excerpt(body: bytes | str | None, limit: int = EXCERPT_CHARS) -> str:
    """Return a short printable excerpt of an (untrusted) response body."""
    if not body:
        return ""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    text = text[: limit * 2]
    cleaned = "".join(ch if ch.isprintable() else " " for ch in text)
    cleaned = " ".join(cleaned.split())
    return cleaned[:limit]


class CalDAVError(Exception):
    """Raise for a CalDAV exchange that failed for a reason with no narrower type."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        body: bytes | str | None = None,
        url: str | None = None,
    ) -> None:
        self.status = status
        self.body_excerpt = body_excerpt(body)
        self.url = url
        parts = [message]
        if status is not None:
            parts.append(f"status={status}")
        if url:
            parts.append(f"url={url}")
        if self.body_excerpt:
            parts.append(f"body={self.body_excerpt!r}")
        super().__init__(" ".join(parts))


class AuthError(CalDAVError):
    """Raise when the server refuses the credentials or the access (401/403)."""


class TransientError(CalDAVError):
    """Raise when the server is unreachable, too slow or failing (5xx, 429): retry later."""


class AddressRefused(CalDAVError):
    """Raise when the outbound address policy refuses the server's address."""


class ServerUnreachable(TransientError):
    """Raise when no answer came at all (refused, reset, timed out): the whole server is out."""


class NotFoundError(CalDAVError):
    """Raise when the requested object does not exist (404)."""


class ResponseTooLarge(CalDAVError):
    """Raise when a response body exceeds the configured size cap."""


class InvalidXML(CalDAVError):
    """Raise when a response body is not acceptable XML (malformed, DTD, entities)."""


class PreconditionFailed(CalDAVError):
    """Raise on 412: the object changed (or exists, or vanished) on the server.

    ``server_ics``/``server_etag`` hold the server's current copy, fetched right after
    the 412; both are ``None`` when the object no longer exists on the server.
    """

    def __init__(
        self,
        message: str,
        *,
        url: str | None = None,
        server_ics: bytes | None = None,
        server_etag: str | None = None,
    ) -> None:
        super().__init__(message, status=412, url=url)
        self.server_ics = server_ics
        self.server_etag = server_etag


class PreconditionRefused(CalDAVError):
    """Raise when the server refuses a write with a ``DAV:error`` precondition (final).

    ``conditions`` holds the local names of the preconditions (``no-uid-conflict``, ...);
    the message names them and the resource the server points at (its ``DAV:href``).
    """

    def __init__(
        self,
        what: str,
        *,
        status: int,
        conditions: list[str],
        hrefs: list[str],
        body: bytes | str | None = None,
        url: str | None = None,
    ) -> None:
        self.conditions = conditions
        self.hrefs = hrefs
        where = f" (conflicting resource: {', '.join(hrefs)})" if hrefs else ""
        reason = f"{what}: the server refused the object: {', '.join(conditions)}{where}"
        super().__init__(reason, status=status, body=body, url=url)
        self.reason = reason

    @property
    def uid_conflict(self) -> bool:
        """Tell whether the refusal is "an object with this UID already exists"."""
        return any(c in UID_CONFLICTS for c in self.conditions)


def error_for_status(status: int, body: bytes | str | None, url: str, what: str) -> CalDAVError:
    """Return the typed error for an unexpected HTTP status of a request."""
    if status in (401, 403):
        return AuthError(f"{what}: access refused", status=status, body=body, url=url)
    if status == 404:
        return NotFoundError(f"{what}: not found", status=status, body=body, url=url)
    if status == 429 or status >= 500:
        return TransientError(f"{what}: server busy or failing", status=status, body=body, url=url)
    return CalDAVError(f"{what}: unexpected answer", status=status, body=body, url=url)
