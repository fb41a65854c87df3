"""Text on its way into a calendar object or a mail: never a control character.

Stored values can hold anything (rows from before the input rule, COUNTER mails,
imports): ``lines`` keeps LF and TAB, turns other line breaks into LF and drops other
controls (TEXT values: SUMMARY, LOCATION, DESCRIPTION, which icalendar escapes, RFC 5545
section 3.3.11); ``one_line`` turns control characters, lone surrogates and Unicode line
separators into a space (names, addresses, UID, URL, categories, mail headers);
``param`` also replaces ``"``, which a parameter value cannot hold (section 3.2).
``safe_snapshot`` applies them to every text of a snapshot, so the builder and the mail
composer never emit (or choke on) a broken line or header.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import replace

from calcore.model import Attendee, EventSnapshot, Person

_BREAKS = re.compile("\r\n|[\r\u2028\u2029\x85]")


def _control(ch: str) -> bool:
    return unicodedata.category(ch) in ("Cc", "Cs", "Zl", "Zp")


def _plain(value: str) -> bool:
    """Printable ASCII only (space to ``~``): nothing to replace (checked in C)."""
    return value.isascii() and value.isprintable()


def one_line(value: str) -> str:
    """``value`` on one line: every control character becomes a space."""
    if _plain(value):
        return value
    return "".join(" " if _control(ch) else ch for ch in value)


def lines(value: str) -> str:
    """``value`` with LF line breaks and TABs, without other control characters."""
    if _plain(value.replace("\n", "").replace("\t", "")):
        return value
    value = _BREAKS.sub("\n", value)
    return "".join(ch for ch in value if ch in "\n\t" or not _control(ch))


def param(value: str) -> str:
    """``one_line`` for a parameter value (CN): no DQUOTE either."""
    return one_line(value).replace('"', "'")


def address(value: str) -> str:
    """An e-mail address as text: one line, no blanks around it."""
    return one_line(value).strip()


def _person(p: Person | None) -> Person | None:
    if p is None:
        return None
    return Person(address(p.email), None if p.name is None else param(p.name))


def safe_attendee(a: Attendee) -> Attendee:
    """An attendee whose name and address can go into a line or a header."""
    return replace(a, email=address(a.email), name=None if a.name is None else param(a.name))


def _safe_already(s: EventSnapshot) -> bool:
    """Every text of ``s`` is printable ASCII (LF and TAB allowed in TEXT values)."""
    people: list[Person | Attendee] = [s.organizer] if s.organizer is not None else []
    people += s.attendees
    single = [s.uid, s.url or "", *s.categories, *(p.email for p in people)]
    single += [p.name for p in people if p.name is not None]
    multi = "".join((s.title, s.description, s.location or "")).replace("\n", "")
    return (
        all(_plain(v) and '"' not in v and "," not in v for v in single)
        and all(v == v.strip() for v in (p.email for p in people))
        and " " not in (s.url or "")
        and _plain(multi.replace("\t", ""))
        and all(_safe_already(o) for o in s.overrides)
    )


def safe_snapshot(s: EventSnapshot) -> EventSnapshot:
    """The snapshot with every text made safe (overrides included); ``s`` when it was."""
    if _safe_already(s):
        return s
    fixed = replace(
        s,
        uid=one_line(s.uid),
        title=lines(s.title),
        description=lines(s.description),
        location=None if s.location is None else lines(s.location),
        url=None if s.url is None else one_line(s.url).replace(" ", "%20"),
        categories=tuple(one_line(c).replace(",", " ") for c in s.categories),
        organizer=_person(s.organizer),
        attendees=tuple(safe_attendee(a) for a in s.attendees),
        overrides=tuple(safe_snapshot(o) for o in s.overrides),
    )
    return s if fixed == s else fixed
