"""One reused, size-capped, counted HTTP/1.1 keep-alive session for a CalDAV account.

Owns the wire: an ``httpx.AsyncClient`` with Basic auth (RFC 7617) and keep-alive
connections reused across requests, a cap on every response body (server answers are
untrusted), a request counter (for the request-count budget of a reconcile), and the
map from transport failures and statuses to ``sync.errors``.  Every connection goes
through ``sync.address_policy`` (checked on the resolved address at connect time),
redirects are never followed, proxies from the environment are ignored, and every
transport failure reads ``UNREACHABLE`` (the real cause goes to the log).

Why httpx here and not ``caldav.aio``: the transport needs per-request conditional
headers (``If-Match``/``If-None-Match``, RFC 9110 §13.1) with the 412 surfaced as a
value, the ETag response header, streaming bodies with a size cap, and a request
counter; caldav 3.6's ``AsyncDAVClient`` wraps every answer in its own parsed
``DAVResponse`` (lxml, uncapped), re-tries auth negotiation on its own and hides the
raw status behind exception classes, which is the wrong shape for a transport that must
report what the server answered. Discovery (``sync.discovery``) runs on this session
too, so it passes the same address policy.

Keep-alive is used wherever the server allows it (Xandikos/aiohttp: one connection
for a whole batch); Radicale's built-in server closes the connection after every
answer, so there each request reconnects, exactly as the caldav library's client does.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from urllib.parse import urlsplit

import httpx

from sync.address_policy import STRICT, AddressPolicy, OutboundRefused, PolicyTransport
from sync.dav_xml import DEFAULT_MAX_XML_BYTES, error_body
from sync.errors import (
    UNREACHABLE,
    AddressRefused,
    AuthError,
    CalDAVError,
    PreconditionRefused,
    ResponseTooLarge,
    ServerUnreachable,
    error_for_status,
)

USER_AGENT = "followups-caldav/0.1"
log = logging.getLogger("followups.sync")


class DavSession:
    """Send DAV requests on one keep-alive connection pool; count them; cap bodies."""

    def __init__(
        self,
        username: str,
        password: str,
        *,
        timeout: float,
        max_response_bytes: int = DEFAULT_MAX_XML_BYTES,
        max_connections: int = 4,
        policy: AddressPolicy = STRICT,
    ) -> None:
        self.max_response_bytes = max_response_bytes
        self.request_count = 0
        limits = httpx.Limits(
            max_connections=max_connections, max_keepalive_connections=max_connections
        )
        self._client = httpx.AsyncClient(
            auth=httpx.BasicAuth(username, password),
            timeout=httpx.Timeout(timeout),
            transport=PolicyTransport(policy, limits=limits),
            headers={"User-Agent": USER_AGENT},
            follow_redirects=False,
            trust_env=False,
        )

    async def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        content: bytes | None = None,
    ) -> tuple[httpx.Response, bytes]:
        """Send one request; return the response and its (capped) body; raise on transport."""
        self.request_count += 1
        try:
            request = self._client.build_request(method, url, headers=headers, content=content)
            response = await self._client.send(request, stream=True)
            try:
                body = await self._read_capped(response, url)
            finally:
                await response.aclose()
        except OutboundRefused as exc:
            _log_unreachable(method, url, exc)
            raise AddressRefused(f"{method}: {UNREACHABLE}", url=url) from exc
        except httpx.TransportError as exc:  # refused, reset, timeout, DNS, TLS: one text
            _log_unreachable(method, url, exc)
            raise ServerUnreachable(f"{method}: {UNREACHABLE}", url=url) from exc
        return response, body

    async def _read_capped(self, response: httpx.Response, url: str) -> bytes:
        """Read a streamed body, refusing more than ``max_response_bytes``."""
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > self.max_response_bytes:
            raise ResponseTooLarge(
                f"declared body of {declared} bytes exceeds cap",
                status=response.status_code,
                url=url,
            )
        chunks: list[bytes] = []
        total = 0
        async for chunk in response.aiter_bytes():
            total += len(chunk)
            if total > self.max_response_bytes:
                raise ResponseTooLarge(
                    f"body exceeds cap of {self.max_response_bytes} bytes",
                    status=response.status_code,
                    url=url,
                )
            chunks.append(chunk)
        return b"".join(chunks)

    async def aclose(self) -> None:
        """Close the pooled connections."""
        await self._client.aclose()


def _log_unreachable(method: str, url: str, exc: Exception) -> None:
    """Log the real cause of an "unreachable" (the client sees one text for all)."""
    host = urlsplit(url).netloc.rsplit("@", 1)[-1]
    log.warning("%s %s unreachable: %s: %s", method, host, type(exc).__name__, exc)


def error_for_response(response: httpx.Response, body: bytes, what: str) -> CalDAVError:
    """Return the typed error for an unexpected status, for the caller to raise.

    A 403 or 409 that explains itself with a ``DAV:error`` precondition (RFC 4918 §16,
    e.g. RFC 4791 §5.3.2.1 ``no-uid-conflict``, RFC 6638 §3.2.4.1
    ``unique-scheduling-object-resource``) is a refused object (``PreconditionRefused``,
    final), not bad credentials.
    """
    url = str(response.request.url)
    status = response.status_code
    if status in (403, 409):
        parsed = error_body(body)
        if parsed is not None:
            return PreconditionRefused(
                what,
                status=status,
                conditions=parsed.conditions,
                hrefs=parsed.hrefs,
                body=body,
                url=url,
            )
    if status in (401, 403):
        return AuthError(f"{what}: access refused", status=status, body=body, url=url)
    return error_for_status(status, body, url, what)
