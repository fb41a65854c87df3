"""WebDAV/CalDAV XML: request bodies out, defensive parsing of multistatus answers in.

Owns the XML the transport sends and reads:

- request bodies for PROPFIND (RFC 4918 §9.1), calendar-multiget (RFC 4791 §7.9),
  calendar-query on a UID (RFC 4791 §7.8),
  sync-collection (RFC 6578 §3.2) and the principal/home-set properties
  (RFC 5397 §3, RFC 4791 §6.2.1);
- parsing of ``DAV:multistatus`` (RFC 4918 §13, §14.16) including the sync-token of a
  sync-collection answer (RFC 6578 §6.4) and the ``DAV:error`` body of a failed
  precondition (RFC 4918 §16, RFC 6578 §3.2 ``valid-sync-token``).

Server answers are untrusted. They are parsed with ``defusedxml`` with DTDs forbidden
(so no entity expansion, no billion laughs, no external entities) and only after a
size check; anything else raises ``InvalidXML``/``ResponseTooLarge``.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit
from xml.sax.saxutils import escape

import defusedxml
import defusedxml.ElementTree as SafeET

from sync.errors import InvalidXML, ResponseTooLarge

DAV = "DAV:"
CALDAV = "urn:ietf:params:xml:ns:caldav"
DEFAULT_MAX_XML_BYTES = 64 * 1024 * 1024

GETETAG = f"{{{DAV}}}getetag"
CALENDAR_DATA = f"{{{CALDAV}}}calendar-data"
SUPPORTED_COMPONENTS = f"{{{CALDAV}}}supported-calendar-component-set"
CURRENT_USER_PRINCIPAL = f"{{{DAV}}}current-user-principal"
RESOURCETYPE = f"{{{DAV}}}resourcetype"
DISPLAYNAME = f"{{{DAV}}}displayname"
CALENDAR_HOME_SET = f"{{{CALDAV}}}calendar-home-set"
CALENDAR_COLLECTION = f"{{{CALDAV}}}calendar"

_XML_HEAD = '<?xml version="1.0" encoding="utf-8"?>\n'


def parse_xml(body: bytes, *, max_bytes: int = DEFAULT_MAX_XML_BYTES) -> ET.Element:
    """Parse an untrusted XML body: size-capped, no DTD, no entities, no external refs."""
    if len(body) > max_bytes:
        raise ResponseTooLarge(f"XML body of {len(body)} bytes exceeds cap of {max_bytes}")
    try:
        return SafeET.fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except (ET.ParseError, defusedxml.DefusedXmlException, ValueError) as exc:
        raise InvalidXML(f"unacceptable XML ({type(exc).__name__})", body=body) from exc


def status_code(status_line: str | None) -> int | None:
    """Return the code of an ``HTTP/1.1 200 OK`` status line (RFC 4918 §14.28)."""
    if not status_line:
        return None
    parts = status_line.split()
    if len(parts) >= 2 and parts[1].isdigit():
        return int(parts[1])
    return None


@dataclass
class DavResponse:
    """One ``DAV:response`` of a multistatus: href, own status, properties found (200)."""

    href: str
    status: int | None = None
    props: dict[str, ET.Element] = field(default_factory=dict)
    missing: dict[str, int] = field(default_factory=dict)

    def text(self, name: str) -> str | None:
        """Return the text of a found property, stripped, or None."""
        element = self.props.get(name)
        if element is None or element.text is None:
            return None
        return element.text.strip()

    def href_text(self, name: str) -> str | None:
        """Return the ``DAV:href`` inside a found property (e.g. current-user-principal)."""
        element = self.props.get(name)
        if element is None:
            return None
        href = element.find(f"{{{DAV}}}href")
        if href is None or href.text is None:
            return None
        return href.text.strip()


@dataclass
class Multistatus:
    """A parsed ``DAV:multistatus``, with the RFC 6578 sync-token when present."""

    responses: list[DavResponse]
    sync_token: str | None = None


def parse_multistatus(body: bytes, *, max_bytes: int = DEFAULT_MAX_XML_BYTES) -> Multistatus:
    """Parse a 207 answer into responses (RFC 4918 §14.16) and its sync-token."""
    root = parse_xml(body, max_bytes=max_bytes)
    if root.tag != f"{{{DAV}}}multistatus":
        raise InvalidXML(f"expected DAV:multistatus, got {root.tag[:80]}", body=body)
    responses: list[DavResponse] = []
    for node in root.findall(f"{{{DAV}}}response"):
        href_el = node.find(f"{{{DAV}}}href")
        if href_el is None or not (href_el.text or "").strip():
            continue
        item = DavResponse(href=(href_el.text or "").strip())
        item.status = status_code(node.findtext(f"{{{DAV}}}status"))
        for propstat in node.findall(f"{{{DAV}}}propstat"):
            code = status_code(propstat.findtext(f"{{{DAV}}}status"))
            prop = propstat.find(f"{{{DAV}}}prop")
            if prop is None:
                continue
            for child in prop:
                if code is not None and 200 <= code < 300:
                    item.props[child.tag] = child
                else:
                    item.missing[child.tag] = code or 0
        responses.append(item)
    token_el = root.find(f"{{{DAV}}}sync-token")
    token = token_el.text.strip() if token_el is not None and token_el.text else None
    return Multistatus(responses=responses, sync_token=token)


def error_conditions(body: bytes, *, max_bytes: int = 1024 * 1024) -> set[str]:
    """Return the precondition names in a ``DAV:error`` body (RFC 4918 §16); empty if none."""
    if not body or len(body) > max_bytes:
        return set()
    try:
        root = parse_xml(body, max_bytes=max_bytes)
    except (InvalidXML, ResponseTooLarge):
        return set()
    if root.tag != f"{{{DAV}}}error":
        return set()
    return {child.tag for child in root}


@dataclass
class DavErrorBody:
    """The preconditions of a ``DAV:error`` body (local names) and the hrefs inside them."""

    conditions: list[str]
    hrefs: list[str]


def error_body(body: bytes, *, max_bytes: int = 1024 * 1024) -> DavErrorBody | None:
    """Parse a ``DAV:error`` body (RFC 4918 §16); None when the body is not one."""
    if not body or len(body) > max_bytes:
        return None
    try:
        root = parse_xml(body, max_bytes=max_bytes)
    except (InvalidXML, ResponseTooLarge):
        return None
    if root.tag != f"{{{DAV}}}error" or len(root) == 0:
        return None
    names = [child.tag.rsplit("}", 1)[-1][:100] for child in root][:10]
    hrefs = [
        (h.text or "").strip()[:300]
        for child in root
        for h in child.iter(f"{{{DAV}}}href")
        if (h.text or "").strip()
    ][:5]
    return DavErrorBody(conditions=names, hrefs=hrefs)


def supported_components(response: DavResponse) -> set[str] | None:
    """Return the component names of supported-calendar-component-set, or None if absent.

    RFC 4791 §5.2.3: without the property the server accepts every component type.
    """
    element = response.props.get(SUPPORTED_COMPONENTS)
    if element is None:
        return None
    return {
        comp.get("name", "").upper()
        for comp in element.findall(f"{{{CALDAV}}}comp")
        if comp.get("name")
    }


def href_path(href: str) -> str:
    """Return the unquoted path of an href that may be absolute or a path."""
    return unquote(urlsplit(href).path)


def propfind_body(props: list[tuple[str, str]]) -> bytes:
    """Build a PROPFIND body asking for the given (namespace, local name) props."""
    prefixes = {DAV: "D", CALDAV: "C"}
    inner = "".join(f"<{prefixes[ns]}:{name}/>" for ns, name in props)
    return (
        f'{_XML_HEAD}<D:propfind xmlns:D="DAV:" xmlns:C="{CALDAV}">'
        f"<D:prop>{inner}</D:prop></D:propfind>"
    ).encode()


def sync_collection_body(token: str | None) -> bytes:
    """Build a sync-collection REPORT body, initial when token is None (RFC 6578 §3.2)."""
    token_xml = f"<D:sync-token>{escape(token)}</D:sync-token>" if token else "<D:sync-token/>"
    return (
        f'{_XML_HEAD}<D:sync-collection xmlns:D="DAV:">{token_xml}'
        "<D:sync-level>1</D:sync-level><D:prop><D:getetag/></D:prop></D:sync-collection>"
    ).encode()


#: characters XML 1.0 cannot carry (a UID with one is never put into a query)
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def uid_query_body(uid: str, component: str = "VEVENT") -> bytes | None:
    """Build a calendar-query REPORT for the objects whose ``component`` has ``uid``.

    RFC 4791 §7.8 with a UID ``prop-filter`` (``i;octet``, exact bytes; ``text-match``
    is a substring match, so the caller still checks the UID of what comes back).  None
    when the UID holds a character XML cannot carry.
    """
    if not uid or _NOT_XML.search(uid) or component not in ("VEVENT", "VTODO"):
        return None
    return (
        f'{_XML_HEAD}<C:calendar-query xmlns:D="DAV:" xmlns:C="{CALDAV}">'
        "<D:prop><D:getetag/><C:calendar-data/></D:prop>"
        f'<C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="{component}">'
        '<C:prop-filter name="UID"><C:text-match collation="i;octet">'
        f"{escape(uid)}</C:text-match></C:prop-filter>"
        "</C:comp-filter></C:comp-filter></C:filter></C:calendar-query>"
    ).encode()


def multiget_body(hrefs: list[str]) -> bytes:
    """Build a calendar-multiget REPORT body for the given hrefs (RFC 4791 §7.9)."""
    inner = "".join(f"<D:href>{escape(href)}</D:href>" for href in hrefs)
    return (
        f'{_XML_HEAD}<C:calendar-multiget xmlns:D="DAV:" xmlns:C="{CALDAV}">'
        f"<D:prop><D:getetag/><C:calendar-data/></D:prop>{inner}</C:calendar-multiget>"
    ).encode()


def mkcalendar_body(display_name: str, components: tuple[str, ...] = ("VEVENT", "VTODO")) -> bytes:
    """Build an MKCALENDAR body with a display name and component set (RFC 4791 §5.3.1)."""
    comps = "".join(f'<C:comp name="{escape(c)}"/>' for c in components)
    return (
        f'{_XML_HEAD}<C:mkcalendar xmlns:D="DAV:" xmlns:C="{CALDAV}"><D:set><D:prop>'
        f"<D:displayname>{escape(display_name)}</D:displayname>"
        f"<C:supported-calendar-component-set>{comps}</C:supported-calendar-component-set>"
        "</D:prop></D:set></C:mkcalendar>"
    ).encode()
