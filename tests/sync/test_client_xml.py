"""Untrusted XML answers: hostile bodies raise typed errors, never expand or hang."""

from __future__ import annotations

import time

import pytest

from sync import dav_xml as dx
from sync.errors import CalDAVError, InvalidXML, ResponseTooLarge

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<D:multistatus xmlns:D="DAV:"><D:response><D:href>&lol9;</D:href></D:response></D:multistatus>
"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE m [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<D:multistatus xmlns:D="DAV:"><D:response><D:href>&xxe;</D:href></D:response></D:multistatus>
"""

GOOD = b"""<?xml version="1.0" encoding="utf-8"?>
<D:multistatus xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
 <D:response><D:href>/cal/</D:href><D:status>HTTP/1.1 507 Insufficient Storage</D:status>
 </D:response>
 <D:response><D:href>/cal/a.ics</D:href>
  <D:propstat><D:prop><D:getetag>"e1"</D:getetag></D:prop>
   <D:status>HTTP/1.1 200 OK</D:status></D:propstat>
  <D:propstat><D:prop><C:calendar-data/></D:prop>
   <D:status>HTTP/1.1 404 Not Found</D:status></D:propstat></D:response>
 <D:response><D:href>/cal/b.ics</D:href><D:status>HTTP/1.1 404 Not Found</D:status></D:response>
 <D:sync-token>tok-2</D:sync-token>
</D:multistatus>
"""


def test_billion_laughs_is_refused_fast() -> None:
    started = time.perf_counter()
    with pytest.raises(InvalidXML):
        dx.parse_multistatus(BILLION_LAUGHS)
    assert time.perf_counter() - started < 1.0


def test_external_entity_is_refused() -> None:
    with pytest.raises(InvalidXML):
        dx.parse_multistatus(EXTERNAL_ENTITY)


def test_huge_body_is_refused_before_parsing() -> None:
    huge = b'<D:multistatus xmlns:D="DAV:">' + b" " * (2 * 1024 * 1024) + b"</D:multistatus>"
    with pytest.raises(ResponseTooLarge):
        dx.parse_multistatus(huge, max_bytes=1024 * 1024)


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not xml at all",
        b"<D:multistatus xmlns:D='DAV:'><D:response>",
        b"<html><body>502 Bad Gateway</body></html>",
        b"\xff\xfe\x00<",
        b"<?xml version='1.0'?><!DOCTYPE x [<!ELEMENT x ANY>]><x/>",
    ],
)
def test_garbage_raises_typed_error(body: bytes) -> None:
    with pytest.raises(CalDAVError):
        dx.parse_multistatus(body)


def test_deep_nesting_parses_to_nothing() -> None:
    body = b"<D:multistatus xmlns:D='DAV:'>" + b"<a>" * 5000 + b"</a>" * 5000
    parsed = dx.parse_multistatus(body + b"</D:multistatus>")
    assert parsed.responses == [] and parsed.sync_token is None


def test_error_conditions_ignore_hostile_bodies() -> None:
    assert dx.error_conditions(BILLION_LAUGHS) == set()
    assert dx.error_conditions(b"<html/>") == set()
    assert dx.error_conditions(b'<D:error xmlns:D="DAV:"><D:valid-sync-token/></D:error>') == {
        "{DAV:}valid-sync-token"
    }


def test_good_multistatus_is_read() -> None:
    parsed = dx.parse_multistatus(GOOD)
    assert parsed.sync_token == "tok-2"
    first, second, third = parsed.responses
    assert first.href == "/cal/" and first.status == 507
    assert second.text(dx.GETETAG) == '"e1"'
    assert dx.CALENDAR_DATA in second.missing
    assert third.status == 404 and third.props == {}


def test_request_bodies_escape_values() -> None:
    body = dx.sync_collection_body("<tok&>")
    assert b"&lt;tok&amp;&gt;" in body
    dx.parse_xml(body)
    multiget = dx.multiget_body(["/cal/a&b.ics"])
    assert b"/cal/a&amp;b.ics" in multiget
    dx.parse_xml(multiget)
