"""Calendar discovery for an account, built on the ``caldav`` library's asyncio client.

Owns "which calendars does this account have": current-user-principal (RFC 5397 §3)
-> calendar-home-set (RFC 4791 §6.2.1) -> the calendar collections in it with their
display name and supported-calendar-component-set (RFC 4791 §5.2.3), the walk that
RFC 6638 §2 and RFC 4791 §6 describe. ``caldav.aio.AsyncDAVClient`` does that walk,
including the fallbacks for servers without a home-set, so we use it instead of
re-writing it; it parses with lxml ``resolve_entities=False`` and ``huge_tree=False``.

Discovery runs once per account setup, so its own short-lived HTTP session (niquests,
caldav's default) is fine; the hot path (PUT/GET/DELETE/REPORT) lives in
``sync.client`` on one reused httpx connection. This module maps caldav's and
niquests' exceptions onto ``sync.errors``.
"""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from caldav.aio import AsyncDAVClient
from caldav.lib import error as caldav_error

from sync.errors import AuthError, CalDAVError, TransientError

T = TypeVar("T")

ALL_COMPONENTS = frozenset({"VEVENT", "VTODO", "VJOURNAL"})


@dataclass(frozen=True)
class CalendarInfo:
    """A calendar collection found by discovery."""

    url: str
    display_name: str | None
    components: frozenset[str]

    @property
    def supports_vtodo(self) -> bool:
        """Tell whether tasks can be stored here as VTODO (RFC 4791 §5.2.3)."""
        return "VTODO" in self.components

    @property
    def supports_vevent(self) -> bool:
        """Tell whether meetings can be stored here as VEVENT."""
        return "VEVENT" in self.components


def _is_transient_exception(exc: BaseException) -> bool:
    """Tell whether an exception from the HTTP library means 'unreachable/slow'."""
    try:
        import niquests.exceptions as nq
    except ImportError:  # pragma: no cover - caldav's default dependency
        nq = None  # type: ignore[assignment]
    if nq is not None and isinstance(exc, nq.ConnectionError | nq.Timeout):
        return True
    try:
        import httpx
    except ImportError:  # pragma: no cover
        return isinstance(exc, OSError | TimeoutError)
    return isinstance(exc, httpx.TransportError | OSError | TimeoutError)


async def _guarded(awaitable: Awaitable[T], url: str, what: str) -> T:
    """Await a caldav call and translate its failures to ``sync.errors``."""
    try:
        return await awaitable
    except caldav_error.AuthorizationError as exc:
        raise AuthError(f"{what}: access refused", status=exc.status or 401, url=url) from exc
    except caldav_error.RateLimitError as exc:
        raise TransientError(f"{what}: rate limited", status=exc.status, url=url) from exc
    except caldav_error.DAVError as exc:
        status = exc.status
        if status is not None and status >= 500:
            raise TransientError(f"{what}: server failing", status=status, url=url) from exc
        raise CalDAVError(f"{what}: {exc.reason}", status=status, body=exc.body, url=url) from exc
    except Exception as exc:
        if _is_transient_exception(exc):
            raise TransientError(f"{what}: {type(exc).__name__}", url=url) from exc
        raise


async def discover_calendars(
    url: str, username: str, password: str, *, timeout: float
) -> list[CalendarInfo]:
    """Walk principal -> calendar-home-set -> calendars and describe each calendar."""
    client = AsyncDAVClient(
        url=url,
        username=username,
        password=password,
        auth_type="basic",
        timeout=max(1, round(timeout)),
        enable_rfc6764=False,
    )
    try:
        principal = await _guarded(client.get_principal(), url, "principal discovery")
        calendars = await _guarded(client.get_calendars(principal), url, "calendar listing")
        found: list[CalendarInfo] = []
        for calendar in calendars:
            cal_url = str(calendar.url)
            # caldav's dual-mode objects return coroutines when bound to the async client
            comps: Any = await _guarded(
                cast(Awaitable[Any], calendar.get_supported_components()), cal_url, "components"
            )
            names: Any = await _guarded(
                cast(Awaitable[Any], calendar.get_display_name()), cal_url, "display name"
            )
            components = frozenset(str(c).upper() for c in comps) or ALL_COMPONENTS
            found.append(
                CalendarInfo(
                    url=cal_url,
                    display_name=str(names) if names is not None else None,
                    components=components,
                )
            )
        return found
    finally:
        await client.close()
