"""Adopting the server's scheduling copy of our meeting when a create is refused for its UID.

A server that schedules itself (RFC 6638 implicit scheduling, e.g. Cyrus) delivers its own
copy of a meeting made in the organiser's calendar app into each attendee's calendar, under
a name of its choosing; our create of the attendee's copy is then refused (RFC 6638
§3.2.4.1 ``unique-scheduling-object-resource``, RFC 4791 §5.3.2.1 ``no-uid-conflict``).
``adoptable`` finds the object that holds the UID in that calendar (one calendar-query,
RFC 4791 §7.8) and says whether it is the same meeting: every component carries our UID
and our ORGANIZER.  Then the worker writes ours over it (``If-Match`` on its ETag) and
keeps its name.  Anything else (an app's own copy with another organiser, no organiser,
several candidates, unreadable data) is not adopted and the refusal stays final.

The server is untrusted: its answer is parsed defensively (``sync.dav_xml``), its
calendar data with a catch-all (bad data only means "not adoptable"), and a substring
match of the query is not taken for the UID.
"""

from __future__ import annotations

import logging

from icalendar import Calendar

from sync.client import CalendarClient
from sync.errors import CalDAVError, TransientError

log = logging.getLogger("followups.sync")

#: object names longer than this are not stored (``CalendarObject.name``)
MAX_NAME = 200
_OWNED = ("VEVENT", "VTODO")


def _address(value: object) -> str:
    return str(value).strip().lower().removeprefix("mailto:")


def identity(data: bytes) -> tuple[str, str, str] | None:
    """Return (component, UID, ORGANIZER address) of an object; None unless unambiguous.

    Every VEVENT/VTODO must carry the same UID and the same ORGANIZER, of one kind.
    """
    try:
        cal = Calendar.from_ical(data)
        comps = [c for c in cal.walk() if c.name in _OWNED]
        kinds = {str(c.name) for c in comps}
        uids = {str(c.get("UID", "")) for c in comps}
        organizers = {_address(c.get("ORGANIZER", "")) for c in comps}
    except Exception:  # untrusted data: unreadable is "not the same meeting"
        return None
    if len(kinds) != 1 or len(uids) != 1 or len(organizers) != 1:
        return None
    (kind,), (uid,), (organizer,) = kinds, uids, organizers
    if not uid or not organizer:
        return None
    return kind, uid, organizer


async def adoptable(client: CalendarClient, data: bytes, name: str) -> tuple[str, str] | None:
    """Return (name, ETag) of the calendar's copy of our meeting ``data``; None if none.

    ``name`` is where we tried to create it.  Exactly one other object must hold our UID
    with our ORGANIZER.  A failing query is "none" (the refusal stands), except a server
    that is down or busy (``TransientError`` but a 501): that is retried.
    """
    ours = identity(data)
    if ours is None:
        return None
    kind, uid, _ = ours
    try:
        found = await client.find_uid(uid, kind)
    except TransientError as exc:
        if exc.status != 501:  # down or busy: tried again later; 501: no calendar-query
            raise
        log.info("UID query of %s refused: %s", client.calendar_url, exc)
        return None
    except CalDAVError as exc:
        log.info("UID query of %s refused: %s", client.calendar_url, exc)
        return None
    same = [
        (other, etag)
        for other, copy, etag in found
        if other != name and len(other) <= MAX_NAME and identity(copy) == ours
    ]
    return same[0] if len(same) == 1 else None
