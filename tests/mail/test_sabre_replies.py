"""sabre/vobject's BrokerProcessReplyTest cases drive the reply rules (mail.replies).

Each case's stored object is turned into the neutral ``StoredMeeting``, the REPLY goes
through ``decide``, the decisions are applied to a PARTSTAT table, and that table is
compared with the one read from sabre's expected object: PARTSTAT (and SCHEDULE-STATUS
where sabre sets it) per attendee and occurrence, never text.

One deliberate difference: sabre adds an uninvited "party crasher" to the event; this
service rejects replies from people who were not invited (the issue says so), so for
those two cases the table must equal sabre's minus the crasher, and the decision must be
a rejection with code NOT_INVITED.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from dateutil.rrule import rrulestr
from icalendar import Calendar
from icalendar.cal.component import Component

from calcore.itip import normalize_address
from mail.inbound import parse_calendars
from mail.replies import (
    ApplyPartstat,
    Reject,
    RejectCode,
    StoredAttendee,
    StoredMeeting,
    decide,
)

DATA = Path(__file__).parents[1] / "data" / "sabre-vobject-itip-cases"
CASES = json.loads((DATA / "BrokerProcessReplyTest.json").read_text(encoding="utf-8"))
CRASHER = "crasher@example.org"
DELIBERATE_REJECTS = {
    "testReplyPartyCrasher": RejectCode.NOT_INVITED,
    "testReplyPartyCrashCreateException": RejectCode.NOT_INVITED,
    "testReplyNoOriginal": RejectCode.UNKNOWN_UID,
    "testReplyNewExceptionNoMasterEvent": RejectCode.NOT_INVITED,
}

Key = tuple[datetime | None, str]


@dataclass
class Cell:
    """One attendee's state in one component."""

    partstat: str
    schedule_status: str | None


def _calendar(text: str) -> Calendar:
    return parse_calendars(text)[0]


def _events(cal: Calendar) -> list[Component]:
    return [c for c in cal.subcomponents if c.name == "VEVENT"]


def _utc(value: datetime | date) -> datetime:
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)
    return datetime(value.year, value.month, value.day, tzinfo=UTC)


def _rid(comp: Component) -> datetime | None:
    return _utc(comp["RECURRENCE-ID"].dt) if "RECURRENCE-ID" in comp else None


def _attendee_lines(comp: Component) -> list[object]:
    value = comp.get("ATTENDEE", [])
    return value if isinstance(value, list) else [value]


def table(cal: Calendar) -> dict[Key, Cell]:
    """Return PARTSTAT and SCHEDULE-STATUS per (occurrence, attendee)."""
    out: dict[Key, Cell] = {}
    for comp in _events(cal):
        for line in _attendee_lines(comp):
            params = line.params  # type: ignore[attr-defined]
            out[(_rid(comp), normalize_address(str(line)))] = Cell(
                str(params.get("PARTSTAT", "NEEDS-ACTION")), params.get("SCHEDULE-STATUS")
            )
    return out


def stored_meeting(cal: Calendar) -> StoredMeeting:
    """Return the neutral view of sabre's stored object."""
    events = _events(cal)
    master = next((e for e in events if "RECURRENCE-ID" not in e), None)
    first = master if master is not None else events[0]
    emails: list[str] = []
    for comp in events:
        for line in _attendee_lines(comp):
            email = normalize_address(str(line))
            if email not in emails:
                emails.append(email)
    recurring = master is not None and "RRULE" in master
    is_occurrence = None
    tzid = "UTC"
    if recurring and master is not None:
        start = master["DTSTART"].dt
        if isinstance(start.tzinfo, ZoneInfo):
            tzid = start.tzinfo.key
        rule = rrulestr(master["RRULE"].to_ical().decode(), dtstart=start)

        def is_occurrence(moment: datetime) -> bool:
            return moment.astimezone(start.tzinfo) in rule

    return StoredMeeting(
        uid=str(first["UID"]),
        sequence=int(first.get("SEQUENCE", 0)),
        organizer_email=normalize_address(str(first["ORGANIZER"])),
        attendees=tuple(StoredAttendee(e) for e in emails),
        recurring=recurring,
        override_ids=frozenset(r for r in (_rid(e) for e in events) if r is not None),
        is_occurrence=is_occurrence,
        tzid=tzid,
    )


def apply(state: dict[Key, Cell], decision: ApplyPartstat) -> None:
    """Apply a decision to the table the way the service applies it to its rows."""
    rid = decision.recurrence_id
    occurrences = {k[0] for k in state}
    if rid is not None and rid not in occurrences:
        for (occ, email), cell in list(state.items()):
            if occ is None:
                state[(rid, email)] = Cell(cell.partstat, None)
    state[(rid, decision.attendee_email)] = Cell(decision.partstat.value, decision.schedule_status)


def _sender(itip: Calendar) -> str:
    return normalize_address(str(_attendee_lines(_events(itip)[0])[0]))


def test_there_are_fourteen_cases() -> None:
    assert len(CASES) == 14


@pytest.mark.parametrize("case", CASES, ids=[c["test"] for c in CASES])
def test_sabre_process_reply(case: dict[str, str | None]) -> None:
    itip = _calendar(str(case["itip"]))
    existing = _calendar(str(case["existing"])) if case["existing"] else None
    meeting = stored_meeting(existing) if existing is not None else None

    decisions = decide(itip, _sender(itip), meeting)

    state = table(existing) if existing is not None else {}
    for decision in decisions:
        if isinstance(decision, ApplyPartstat):
            apply(state, decision)
    name = str(case["test"])
    if name in DELIBERATE_REJECTS:
        assert [type(d) for d in decisions] == [Reject]
        rejection = decisions[0]
        assert isinstance(rejection, Reject)
        assert rejection.code is DELIBERATE_REJECTS[name]
        assert rejection.reason
    else:
        assert all(isinstance(d, ApplyPartstat) for d in decisions), decisions
    if case["expected"] is None:
        expected = table(existing) if existing is not None else {}
    else:
        expected = table(_calendar(str(case["expected"])))
        expected = {k: v for k, v in expected.items() if k[1] != CRASHER}
    assert {k: v.partstat for k, v in state.items()} == {k: v.partstat for k, v in expected.items()}
    for key, cell in expected.items():
        if cell.schedule_status is not None:
            assert state[key].schedule_status == cell.schedule_status
