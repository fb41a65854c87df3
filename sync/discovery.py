"""Calendar discovery for an account, on the account's own ``sync.http.DavSession``.

Owns "which calendars does this account have": current-user-principal (RFC 5397 §3)
-> calendar-home-set (RFC 4791 §6.2.1) -> the calendar collections in it with their
display name and supported-calendar-component-set (RFC 4791 §5.2.3), the walk that
RFC 6638 §2 and RFC 4791 §6 describe.  Fallbacks, as the ``caldav`` library does them:
no principal -> the given URL is the principal; no home-set -> the principal is the
home; the given URL may itself be a calendar.

It runs on the same session as every other request (not on the ``caldav`` library's
own HTTP client), so discovery passes the same outbound address policy on every
connection, never follows a redirect, and its answers are size-capped and parsed by
``sync.dav_xml`` (no DTD, no entities).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urljoin

from sync import dav_xml as dx
from sync.http import DavSession, error_for_response

ALL_COMPONENTS = frozenset({"VEVENT", "VTODO", "VJOURNAL"})
MAX_CALENDARS = 1000


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


async def _propfind(
    session: DavSession, url: str, props: list[tuple[str, str]], depth: str, what: str
) -> dx.Multistatus:
    response, raw = await session.request(
        "PROPFIND",
        url,
        headers={"Content-Type": 'application/xml; charset="utf-8"', "Depth": depth},
        content=dx.propfind_body(props),
    )
    if response.status_code != 207:
        raise error_for_response(response, raw, what)
    return dx.parse_multistatus(raw, max_bytes=session.max_response_bytes)


def _own(multistatus: dx.Multistatus, url: str) -> dx.DavResponse | None:
    """Return the response about ``url`` itself (the first one when none matches)."""
    path = dx.href_path(url).rstrip("/")
    for item in multistatus.responses:
        if dx.href_path(item.href).rstrip("/") == path:
            return item
    return multistatus.responses[0] if multistatus.responses else None


def _is_calendar(item: dx.DavResponse) -> bool:
    kind = item.props.get(dx.RESOURCETYPE)
    return kind is not None and kind.find(dx.CALENDAR_COLLECTION) is not None


def _info(base: str, item: dx.DavResponse) -> CalendarInfo:
    comps = dx.supported_components(item)
    return CalendarInfo(
        url=urljoin(base, item.href),
        display_name=item.text(dx.DISPLAYNAME),
        components=frozenset(comps) if comps else ALL_COMPONENTS,
    )


async def discover_calendars(session: DavSession, url: str) -> list[CalendarInfo]:
    """Walk principal -> calendar-home-set -> calendars and describe each calendar."""
    found = await _propfind(
        session, url, [("DAV:", "current-user-principal")], "0", "principal discovery"
    )
    own = _own(found, url)
    href = own.href_text(dx.CURRENT_USER_PRINCIPAL) if own is not None else None
    principal = urljoin(url, href) if href else url
    found = await _propfind(
        session, principal, [(dx.CALDAV, "calendar-home-set")], "0", "calendar-home-set"
    )
    own = _own(found, principal)
    href = own.href_text(dx.CALENDAR_HOME_SET) if own is not None else None
    homes = [urljoin(principal, href)] if href else [principal]
    if url not in homes:
        homes.append(url)  # the given URL may be a calendar (or a home) itself
    props = [
        ("DAV:", "resourcetype"),
        ("DAV:", "displayname"),
        (dx.CALDAV, "supported-calendar-component-set"),
    ]
    calendars: dict[str, CalendarInfo] = {}
    for home in homes:
        listing = await _propfind(session, home, props, "1", "calendar listing")
        for item in listing.responses[:MAX_CALENDARS]:
            if _is_calendar(item):
                info = _info(home, item)
                calendars.setdefault(info.url, info)
        if calendars:
            break
    return list(calendars.values())
