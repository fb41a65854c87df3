"""Re-applying our change to the server's copy after a 412 (RFC 4791 section 5.3.4).

When a calendar app edited the object between our read and our write, the server refuses
the ``If-Match`` PUT; the worker then fetches the server copy and writes our object
*merged into it*: every property and component the service owns comes from our side
(our fields win), and what a user or server added on their side survives - ``X-``
properties we do not write, and alarms (VALARM, RFC 5545 section 3.6.6) that were not in
the copy we last wrote (the three-way base).  Then it writes with ``If-Match`` on the
server's new ETag, never blindly.
"""

from __future__ import annotations

from icalendar import Calendar
from icalendar.cal.component import Component

_OWNED = ("VEVENT", "VTODO")


def _key(comp: Component) -> tuple[str, str, str]:
    rid = comp.get("RECURRENCE-ID")
    return str(comp.name), str(comp.get("UID", "")), rid.to_ical().decode() if rid else ""


def _index(cal: Calendar | None) -> dict[tuple[str, str, str], Component]:
    if cal is None:
        return {}
    return {_key(c): c for c in cal.walk() if c.name in _OWNED}


def _parse(data: bytes | str | None) -> Calendar | None:
    if not data:
        return None
    try:
        return Calendar.from_ical(data)
    except ValueError:
        return None


def merge(ours: bytes | str, theirs: bytes | str, base: bytes | str | None = None) -> bytes:
    """Return our object with the server-side additions of ``theirs`` kept."""
    mine = Calendar.from_ical(ours)
    their_index = _index(_parse(theirs))
    base_index = _index(_parse(base))
    for comp in mine.walk():
        if comp.name not in _OWNED:
            continue
        key = _key(comp)
        server = their_index.get(key)
        if server is None:
            continue
        for name in list(server.keys()):
            if name.startswith("X-") and name not in comp:
                comp[name] = server[name]
        ours_alarms = {a.to_ical() for a in comp.subcomponents if a.name == "VALARM"}
        old = base_index.get(key)
        base_alarms = (
            {a.to_ical() for a in old.subcomponents if a.name == "VALARM"} if old else set()
        )
        for alarm in server.subcomponents:
            if alarm.name != "VALARM":
                continue
            raw = alarm.to_ical()
            if raw not in ours_alarms and raw not in base_alarms:
                comp.add_component(alarm)
                ours_alarms.add(raw)
    return bytes(mine.to_ical())
