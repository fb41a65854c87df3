"""The CalDAV client of one account: safe writes, reads and reconcile of one calendar.

Owns the operations the outbox worker and the reconciler call on a calendar collection:

- create with ``If-None-Match: *`` and update with ``If-Match`` (RFC 9110 §13.1.1-2,
  RFC 4791 §5.3.2, §5.3.4); a 412 raises ``PreconditionFailed`` carrying the server
  copy (a 412 to a create that names a UID conflict, as Xandikos answers, is a
  ``PreconditionRefused`` like Radicale's and Cyrus's 409/403); there is no unconditional
  overwrite. DELETE takes ``If-Match``; 404 is "gone".
- calendar-query on a UID (RFC 4791 §7.8): which object of the calendar has it;
- GET of one object, calendar-multiget of many (RFC 4791 §7.9) in one request;
- PROPFIND Depth 1 ``getetag`` listing (RFC 4918 §9.1) and sync-collection
  (RFC 6578 §3) with fallback to a full sync when the token is refused (403/409/412
  ``valid-sync-token``, RFC 6578 §3.2) and continuation of truncated answers (§3.6);
- the supported-calendar-component-set check for VTODO (RFC 4791 §5.2.3);
- "test connection" (PROPFIND current-user-principal, RFC 5397 §3) as a report;
- discovery, delegated to ``sync.discovery`` (on the same session).

All requests of a client go over one ``sync.http.DavSession`` (httpx keep-alive)
under one outbound address policy (``sync.address_policy``; strict unless given);
``request_count`` counts them. The module is pure of the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import TracebackType
from urllib.parse import quote, urljoin, urlsplit

from sync import dav_xml as dx
from sync.address_policy import STRICT, AddressPolicy
from sync.discovery import CalendarInfo, discover_calendars
from sync.errors import (
    UID_CONFLICTS,
    UNREACHABLE,
    AddressRefused,
    CalDAVError,
    NotFoundError,
    PreconditionFailed,
    PreconditionRefused,
    TransientError,
)
from sync.http import DavSession, error_for_response
from sync.names import object_name

__all__ = [
    "CalendarClient",
    "CalendarInfo",
    "ConnectionReport",
    "SyncResult",
    "object_name",
]

ICS_CONTENT_TYPE = "text/calendar; charset=utf-8"
XML_CONTENT_TYPE = 'application/xml; charset="utf-8"'
MAX_SYNC_ROUNDS = 1000
MAX_UID_MATCHES = 10


@dataclass(frozen=True)
class ConnectionReport:
    """What the server answered to "test connection"."""

    ok: bool
    status: int | None
    reason: str
    principal_url: str | None = None


@dataclass(frozen=True)
class SyncResult:
    """The answer of a sync-collection REPORT (RFC 6578 §3.2).

    ``changed`` maps object names to their new ETags, ``deleted`` lists names gone
    since the token. ``full`` is True for an initial sync or a fallback after the
    server refused the token: then ``changed`` is the whole collection and anything the
    caller knows that is not in it is gone too.
    """

    changed: dict[str, str]
    deleted: list[str]
    token: str
    full: bool


def _uid_refusal(status: int, raw: bytes, url: str) -> PreconditionRefused | None:
    """Return the refusal a 412 body names when it is a UID conflict (else None)."""
    parsed = dx.error_body(raw)
    if parsed is None or not any(c in UID_CONFLICTS for c in parsed.conditions):
        return None
    return PreconditionRefused(
        "PUT", status=status, conditions=parsed.conditions, hrefs=parsed.hrefs, body=raw, url=url
    )


def _collection_url(url: str) -> str:
    """Return the URL with a trailing slash (collections are addressed that way)."""
    return url if url.endswith("/") else url + "/"


class CalendarClient:
    """Talk CalDAV to one account and one calendar collection over one HTTP session."""

    def __init__(
        self,
        url: str,
        username: str,
        password: str,
        *,
        timeout: float = 10.0,
        calendar_url: str | None = None,
        max_response_bytes: int = dx.DEFAULT_MAX_XML_BYTES,
        policy: AddressPolicy = STRICT,
    ) -> None:
        self.url = url
        self.username = username
        self.timeout = timeout
        self.calendar_url = _collection_url(calendar_url or url)
        self._session = DavSession(
            username,
            password,
            timeout=timeout,
            max_response_bytes=max_response_bytes,
            policy=policy,
        )
        self._auto_schedule: bool | None = None

    def __repr__(self) -> str:
        return f"CalendarClient(url={self.url!r}, username={self.username!r}, password=***)"

    async def __aenter__(self) -> CalendarClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the HTTP connections."""
        await self._session.aclose()

    @property
    def request_count(self) -> int:
        """Return how many HTTP requests this client has sent."""
        return self._session.request_count

    def use_calendar(self, calendar: CalendarInfo | str) -> None:
        """Point object operations at a calendar (a discovered one or a URL)."""
        url = calendar.url if isinstance(calendar, CalendarInfo) else calendar
        self.calendar_url = _collection_url(urljoin(self.url, url))

    # -- account level ---------------------------------------------------------------

    async def discover(self) -> list[CalendarInfo]:
        """Find the account's calendars: principal -> home-set -> calendars (RFC 4791 §6)."""
        return await discover_calendars(self._session, self.url)

    async def test_connection(self) -> ConnectionReport:
        """Ask the server for the current-user-principal and report what it answered."""
        body = dx.propfind_body([("DAV:", "current-user-principal"), ("DAV:", "resourcetype")])
        try:
            response, raw = await self._session.request(
                "PROPFIND", self.url, headers=self._xml_headers(depth="0"), content=body
            )
        except (TransientError, AddressRefused):  # one text for every cause; cause logged
            return ConnectionReport(False, None, UNREACHABLE)
        except CalDAVError as exc:
            return ConnectionReport(False, exc.status, str(exc)[:200])
        status = response.status_code
        phrase = f"{status} {response.reason_phrase}".strip()
        if status in (401, 403):
            return ConnectionReport(False, status, f"credentials refused ({phrase})")
        if status != 207:
            return ConnectionReport(False, status, f"not a CalDAV endpoint ({phrase})")
        try:
            multistatus = dx.parse_multistatus(raw, max_bytes=self._session.max_response_bytes)
        except CalDAVError:
            return ConnectionReport(False, status, "unreadable PROPFIND answer")
        principal = next(
            (
                href
                for r in multistatus.responses
                if (href := r.href_text(dx.CURRENT_USER_PRINCIPAL))
            ),
            None,
        )
        principal_url = urljoin(self.url, principal) if principal else None
        return ConnectionReport(True, status, f"connected ({phrase})", principal_url)

    async def supports_vtodo(self) -> bool:
        """Tell whether the calendar accepts VTODO (RFC 4791 §5.2.3; absent = all)."""
        body = dx.propfind_body([(dx.CALDAV, "supported-calendar-component-set")])
        multistatus = await self._propfind(self.calendar_url, body, depth="0")
        for item in multistatus.responses:
            if self._name_of(item.href) == "":
                comps = dx.supported_components(item)
                return comps is None or "VTODO" in comps
        return True

    # -- objects -----------------------------------------------------------------------

    async def auto_schedules(self) -> bool:
        """Tell whether the server schedules itself: ``calendar-auto-schedule`` in the DAV
        header of OPTIONS on the calendar (RFC 6638 section 2); asked once per client.

        A refusal (4xx) is "no"; a server error or no answer is raised (tried again).
        """
        if self._auto_schedule is None:
            response, raw = await self._session.request("OPTIONS", self.calendar_url)
            if response.status_code >= 500:
                raise error_for_response(response, raw, "OPTIONS")
            features = {
                f.strip().lower()
                for value in response.headers.get_list("DAV")
                for f in value.split(",")
            }
            self._auto_schedule = (
                response.status_code < 300 and "calendar-auto-schedule" in features
            )
        return self._auto_schedule

    def object_url(self, name: str) -> str:
        """Return the absolute URL of an object name in the calendar."""
        return self.calendar_url + quote(name, safe="")

    async def put(
        self, name: str, ics_bytes: bytes, etag: str | None = None, create: bool = False
    ) -> str:
        """Create (``If-None-Match: *``) or update (``If-Match``) an object; return its ETag."""
        if create and etag is not None:
            raise ValueError("create=True takes no etag")
        if not create and etag is None:
            raise ValueError("an update needs the stored etag; refusing a blind overwrite")
        url = self.object_url(name)
        headers = {"Content-Type": ICS_CONTENT_TYPE}
        if create:
            headers["If-None-Match"] = "*"
        else:
            headers["If-Match"] = etag or ""
        response, raw = await self._session.request("PUT", url, headers=headers, content=ics_bytes)
        if response.status_code in (200, 201, 204):
            new_etag = response.headers.get("ETag")
            return new_etag if new_etag else await self._etag_of(url)
        if response.status_code == 412:
            refused = _uid_refusal(response.status_code, raw, url) if create else None
            if refused is not None:  # Xandikos answers a UID conflict with 412
                raise refused
            raise await self._precondition_failed(url, "PUT")
        raise error_for_response(response, raw, "PUT")

    async def find_uid(self, uid: str, component: str = "VEVENT") -> list[tuple[str, bytes, str]]:
        """Return the calendar's objects said to hold ``uid``: (name, data, ETag) each.

        One calendar-query REPORT (RFC 4791 §7.8).  Only members of this calendar with
        data and an ETag are returned (at most ``MAX_UID_MATCHES``); the server is
        untrusted and ``text-match`` is a substring match, so the caller checks the UID.
        Empty when the UID cannot be put into a query.
        """
        body = dx.uid_query_body(uid, component)
        if body is None:
            return []
        multistatus = await self._report(body, depth="1")
        found: list[tuple[str, bytes, str]] = []
        for item in multistatus.responses:
            data = item.props.get(dx.CALENDAR_DATA)
            etag = item.text(dx.GETETAG)
            name = self._name_of(item.href)
            if data is None or not data.text or not etag or not name:
                continue
            found.append((name, data.text.encode("utf-8"), etag))
            if len(found) == MAX_UID_MATCHES:
                break
        return found

    async def get(self, name: str) -> tuple[bytes, str]:
        """Fetch one object; return its bytes and ETag; raise NotFoundError if absent."""
        url = self.object_url(name)
        response, raw = await self._session.request("GET", url)
        if response.status_code == 200:
            etag = response.headers.get("ETag") or await self._etag_of(url)
            return raw, etag
        raise error_for_response(response, raw, "GET")

    async def delete(self, name: str, etag: str | None = None) -> None:
        """Delete an object, with ``If-Match`` when an ETag is given; 404 counts as done."""
        url = self.object_url(name)
        headers = {"If-Match": etag} if etag else None
        response, raw = await self._session.request("DELETE", url, headers=headers)
        if response.status_code in (200, 202, 204, 404):
            return
        if response.status_code == 412:
            raise await self._precondition_failed(url, "DELETE")
        raise error_for_response(response, raw, "DELETE")

    async def multiget(self, names: list[str]) -> dict[str, tuple[bytes, str]]:
        """Fetch many objects in one calendar-multiget REPORT; absent names are left out."""
        if not names:
            return {}
        base_path = urlsplit(self.calendar_url).path
        hrefs = [base_path + quote(name, safe="") for name in names]
        multistatus = await self._report(dx.multiget_body(hrefs), depth=None)
        found: dict[str, tuple[bytes, str]] = {}
        for item in multistatus.responses:
            data = item.props.get(dx.CALENDAR_DATA)
            etag = item.text(dx.GETETAG)
            name = self._name_of(item.href)
            if data is None or data.text is None or etag is None or not name:
                continue
            found[name] = (data.text.encode("utf-8"), etag)
        return found

    # -- reconcile ---------------------------------------------------------------------

    async def list_etags(self) -> dict[str, str]:
        """List the collection's objects with ETags (PROPFIND Depth 1, RFC 4918 §9.1)."""
        body = dx.propfind_body([("DAV:", "getetag"), ("DAV:", "resourcetype")])
        multistatus = await self._propfind(self.calendar_url, body, depth="1")
        listing: dict[str, str] = {}
        for item in multistatus.responses:
            name = self._name_of(item.href)
            etag = item.text(dx.GETETAG)
            if name and etag:
                listing[name] = etag
        return listing

    async def sync_collection(self, token: str | None) -> SyncResult:
        """Return changes since ``token`` (RFC 6578); a refused token falls back to full."""
        full = token is None
        changed: dict[str, str] = {}
        deleted: list[str] = []
        current = token
        for _ in range(MAX_SYNC_ROUNDS):
            body = dx.sync_collection_body(current)
            response, raw = await self._session.request(
                "REPORT", self.calendar_url, headers=self._xml_headers(depth="0"), content=body
            )
            status = response.status_code
            if status in (403, 409, 412) and current is not None:
                # RFC 6578 §3.2 says 403/409 + DAV:valid-sync-token; Xandikos sends 412
                conditions = dx.error_conditions(raw)
                if status == 409 or f"{{{dx.DAV}}}valid-sync-token" in conditions:
                    full, current, changed, deleted = True, None, {}, []
                    continue
            if status != 207:
                raise error_for_response(response, raw, "sync-collection REPORT")
            multistatus = dx.parse_multistatus(raw, max_bytes=self._session.max_response_bytes)
            truncated = False
            for item in multistatus.responses:
                name = self._name_of(item.href)
                if name == "":
                    truncated = truncated or item.status == 507
                    continue
                if name is None:
                    continue
                etag = item.text(dx.GETETAG)
                if item.status == 404:
                    changed.pop(name, None)
                    deleted.append(name)
                elif etag:
                    changed[name] = etag
            if not multistatus.sync_token:
                raise CalDAVError("sync-collection answer without sync-token", status=status)
            current = multistatus.sync_token
            if not truncated:
                return SyncResult(changed=changed, deleted=deleted, token=current, full=full)
        raise CalDAVError("sync-collection kept truncating", url=self.calendar_url)

    # -- helpers -----------------------------------------------------------------------

    @staticmethod
    def _xml_headers(depth: str | None) -> dict[str, str]:
        headers = {"Content-Type": XML_CONTENT_TYPE}
        if depth is not None:
            headers["Depth"] = depth
        return headers

    def _name_of(self, href: str) -> str | None:
        """Return the member name of an href in the calendar; "" for the calendar itself.

        None when the href is outside the calendar or a nested collection.
        """
        path = dx.href_path(href)
        base = dx.href_path(self.calendar_url)
        if path.rstrip("/") == base.rstrip("/"):
            return ""
        if not path.startswith(base):
            return None
        rest = path[len(base) :]
        return None if not rest or "/" in rest else rest

    async def _propfind(self, url: str, body: bytes, depth: str) -> dx.Multistatus:
        response, raw = await self._session.request(
            "PROPFIND", url, headers=self._xml_headers(depth), content=body
        )
        if response.status_code != 207:
            raise error_for_response(response, raw, "PROPFIND")
        return dx.parse_multistatus(raw, max_bytes=self._session.max_response_bytes)

    async def _report(self, body: bytes, depth: str | None) -> dx.Multistatus:
        response, raw = await self._session.request(
            "REPORT", self.calendar_url, headers=self._xml_headers(depth), content=body
        )
        if response.status_code != 207:
            raise error_for_response(response, raw, "REPORT")
        return dx.parse_multistatus(raw, max_bytes=self._session.max_response_bytes)

    async def _etag_of(self, url: str) -> str:
        """Ask for an object's ETag when a write or GET answer did not carry one."""
        body = dx.propfind_body([("DAV:", "getetag")])
        multistatus = await self._propfind(url, body, depth="0")
        for item in multistatus.responses:
            etag = item.text(dx.GETETAG)
            if etag:
                return etag
        raise CalDAVError("server gave no ETag for the object", url=url)

    async def _precondition_failed(self, url: str, what: str) -> PreconditionFailed:
        """Fetch the server's copy after a 412 and wrap it in PreconditionFailed."""
        response, raw = await self._session.request("GET", url)
        if response.status_code == 404:
            return PreconditionFailed(f"{what}: object is gone on the server", url=url)
        if response.status_code != 200:
            error = error_for_response(response, raw, f"{what} (fetching server copy)")
            if isinstance(error, NotFoundError):
                return PreconditionFailed(f"{what}: object is gone on the server", url=url)
            raise error
        etag = response.headers.get("ETag") or await self._etag_of(url)
        return PreconditionFailed(
            f"{what}: object changed on the server", url=url, server_ics=raw, server_etag=etag
        )
