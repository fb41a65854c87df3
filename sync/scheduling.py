"""Who schedules a meeting the calendar server already schedules (RFC 6638 implicit scheduling).

Our rule is to be the scheduling agent: every object we write marks ORGANIZER and each
ATTENDEE ``SCHEDULE-AGENT=CLIENT`` (RFC 6638 section 7.1), we invite by e-mail and write
each participant's copy ourselves.  A meeting made in the owner's calendar app on a
server that schedules itself (``calendar-auto-schedule``, RFC 6638 section 2) and
imported is already scheduled by that server: its attendees carry no SCHEDULE-AGENT (or
``SERVER``) and the server has sent them its invitations.  Flipping such an attendee to
``CLIENT`` is, for the server, that attendee leaving its scheduling: RFC 6638 section
3.2.1.2 (the table of organizer modifications: SERVER -> CLIENT is a CANCEL), so Cyrus
sends them a CANCEL and their copy becomes CANCELLED.

So in the owner's calendar an attendee the calendar's copy leaves to the server stays
the server's (its SCHEDULE-AGENT is written as the server had it: absent), unless we
deliver to that attendee ourselves (an associate or room with a calendar account: we
write their copy, so they are ours and marked ``CLIENT``, as before); ORGANIZER loses its
``CLIENT`` mark as soon as one attendee stays the server's.  The server then keeps
delivering the changes (a move in the CRM, a deletion) to those attendees, once: we send
them no invitation mail of our own (an imported meeting's participants have e-mail
invitations off: the server invited them) and write no copy of theirs.  Attendees added
in the CRM later are not in the calendar's copy, so they are ours.
"""

from __future__ import annotations

from icalendar import Calendar
from icalendar.cal.component import Component

_OWNED = ("VEVENT", "VTODO")
_AGENT = "SCHEDULE-AGENT"


def _address(value: object) -> str:
    return str(value).strip().lower().removeprefix("mailto:")


def _listed(comp: Component, name: str) -> list[object]:
    value = comp.get(name, [])
    return value if isinstance(value, list) else [value]


def _server_agent(prop: object) -> bool:
    params = getattr(prop, "params", {})
    return str(params.get(_AGENT, "SERVER")).upper() == "SERVER"


def left_to_server(calendar_copy: str | bytes | None) -> set[str]:
    """Addresses (lower case) of the attendees the calendar's copy leaves to the server.

    Those ATTENDEEs, other than the ORGANIZER, without SCHEDULE-AGENT (or ``SERVER``), in
    an object that has an ORGANIZER; empty for anything unreadable.
    """
    if not calendar_copy:
        return set()
    try:
        cal = Calendar.from_ical(calendar_copy)
    except Exception:  # the calendar's data: unreadable means "nothing to keep"
        return set()
    out: set[str] = set()
    for comp in cal.walk():
        if comp.name not in _OWNED or "ORGANIZER" not in comp:
            continue
        organizer = _address(comp["ORGANIZER"])
        for attendee in _listed(comp, "ATTENDEE"):
            address = _address(attendee)
            if address and address != organizer and _server_agent(attendee):
                out.add(address)
    return out


def keep_server_agent(data: bytes, server: set[str]) -> bytes:
    """Our object with the attendees in ``server`` left to the server (no SCHEDULE-AGENT).

    ORGANIZER loses its ``SCHEDULE-AGENT`` too when any attendee is left to the server;
    everything else is written as rendered.  ``data`` is unchanged when nothing is left.
    """
    if not server:
        return data
    cal = Calendar.from_ical(data)
    changed = False
    for comp in cal.walk():
        if comp.name not in _OWNED:
            continue
        kept = False
        for attendee in _listed(comp, "ATTENDEE"):
            if _address(attendee) in server and _AGENT in attendee.params:  # type: ignore[attr-defined]
                del attendee.params[_AGENT]  # type: ignore[attr-defined]
                kept = True
        organizer = comp.get("ORGANIZER")
        if kept and organizer is not None and _AGENT in organizer.params:
            del organizer.params[_AGENT]
        changed |= kept
    return cal.to_ical() if changed else data
