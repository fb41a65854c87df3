"""libical's recurrence expectations (tests/data/rrule, see its README for provenance).

Every case of ``libical_icalrecur_test.txt`` is one test; the iterator is fed the naive
DTSTART (floating or UTC values compare as wall-clock, as libical does) and START-AT
cases start the iteration there, so they exercise the skip-ahead path.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import icalendar
import pytest

from calcore.recurrence import expand, local_until
from calcore.rrule_expand import iterate
from calcore.rrule_parse import parse_rrule

DATA = Path(__file__).resolve().parent.parent / "data" / "rrule"

#: Cases whose expectation is not an RFC 5545 answer, by the line of their RRULE.
EXCLUDED: dict[int, str] = {
    405: (
        "libical reports '*** UNIMPLEMENTED' for YEARLY with BYWEEKNO combined with BYMONTH "
        "and BYMONTHDAY; we compute the RFC 5545 intersection instead, checked against a "
        "hand-derived list in test_byweekno_with_bymonth_and_bymonthday"
    ),
}


@dataclass(frozen=True)
class Case:
    """One libical test case."""

    line: int
    rrule: str
    dtstart: str
    start_at: str | None
    instances: str


def _load() -> list[Case]:
    """Parse the test file, keeping each case's RRULE line number."""
    cases: list[Case] = []
    fields: dict[str, str] = {}
    line_of_rule = 0
    text = (DATA / "libical_icalrecur_test.txt").read_text(encoding="utf-8")
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, _, value = line.partition(":")
        if key == "RRULE":
            line_of_rule = number
        fields[key] = value
        if key == "INSTANCES":
            cases.append(
                Case(
                    line_of_rule, fields["RRULE"], fields["DTSTART"], fields.get("START-AT"), value
                )
            )
            fields = {}
    return cases


def _parse_time(text: str) -> tuple[datetime, bool]:
    """Parse 19970902T090000[Z] or 19970902 into a naive datetime and a DATE flag."""
    text = text.rstrip("Z")
    if "T" in text:
        return datetime.strptime(text, "%Y%m%dT%H%M%S"), False
    return datetime.strptime(text, "%Y%m%d"), True


def _run(case: Case) -> str:
    """Expand a case the way libical's test driver does and format the instances."""
    dtstart, date_only = _parse_time(case.dtstart)
    rule = parse_rrule(case.rrule)
    until = rule.until
    bound = (
        until.replace(tzinfo=None)
        if isinstance(until, datetime)
        else local_until(rule, UTC, all_day=date_only)
    )
    start_at = _parse_time(case.start_at)[0] if case.start_at else None
    out = []
    for value in iterate(dtstart, rule, date_only=date_only, until=bound, start_from=start_at):
        out.append(value)
        assert len(out) <= 5000, "runaway expansion"
    suffix = "Z" if case.dtstart.endswith("Z") else ""
    fmt = "%Y%m%d" if date_only else "%Y%m%dT%H%M%S"
    return ",".join(v.strftime(fmt) + suffix for v in out)


def _expected(case: Case) -> str:
    """Return the expected instances; START-AT drops those before it (libical's driver)."""
    if not case.start_at:
        return case.instances
    start = _parse_time(case.start_at)[0]
    return ",".join(v for v in case.instances.split(",") if _parse_time(v)[0] >= start)


CASES = _load()


def test_the_file_holds_146_cases() -> None:
    assert len(CASES) == 146
    assert sum(1 for c in CASES if c.start_at) == 7


@pytest.mark.parametrize("case", CASES, ids=[f"L{c.line}-{c.rrule}" for c in CASES])
def test_libical_case(case: Case) -> None:
    if case.line in EXCLUDED:
        _run(case)  # must not crash
        return
    assert _run(case) == _expected(case)


def test_excluded_cases_are_few_and_exist() -> None:
    lines = {c.line for c in CASES}
    assert set(EXCLUDED) <= lines
    assert len(EXCLUDED) <= 3


def test_byweekno_with_bymonth_and_bymonthday() -> None:
    """30 December when it lies in ISO week 1 (the case libical leaves unimplemented)."""
    case = next(c for c in CASES if c.line == 405)
    # 30 Dec 2024, 2025, 2030, 2031 fall in week 1 of the next ISO year; 2026-2029 do not.
    assert _run(case) == "20241230,20251230,20301230,20311230"


def _numevents() -> list[tuple[str, icalendar.cal.component.Component]]:
    """Parse libical_recur_numevents.txt (VEVENTs without a VCALENDAR; ';' comments)."""
    raw = (DATA / "libical_recur_numevents.txt").read_text(encoding="utf-8")
    body = "\r\n".join(line for line in raw.splitlines() if not line.startswith(";"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cal = icalendar.Calendar.from_ical(f"BEGIN:VCALENDAR\r\n{body}\r\nEND:VCALENDAR\r\n")
    events = list(cal.walk("VEVENT"))
    return [(f"{i}-{str(e.get('DESCRIPTION', ''))[:40]}", e) for i, e in enumerate(events)]


NUMEVENTS = _numevents()


def _values(event: icalendar.cal.component.Component, name: str) -> list:
    raw = event.get(name)
    return [] if raw is None else raw if isinstance(raw, list) else [raw]


@pytest.mark.parametrize("event", [e for _, e in NUMEVENTS], ids=[i for i, _ in NUMEVENTS])
def test_libical_numevents(event: icalendar.cal.component.Component) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dtstart = event.decoded("DTSTART")
    if dtstart.tzinfo is None:
        dtstart = dtstart.replace(tzinfo=UTC)
    exdates = [
        d.dt if d.dt.tzinfo else d.dt.replace(tzinfo=UTC)
        for prop in _values(event, "EXDATE")
        for d in prop.dts
    ]
    exrules = [parse_rrule(p.to_ical().decode()) for p in _values(event, "EXRULE")]
    got = expand(
        dtstart,
        parse_rrule(event["RRULE"].to_ical().decode()),
        exdates=exdates,
        exrules=exrules,
        window_start=datetime(1900, 1, 1, tzinfo=UTC),
        window_end=datetime(2200, 1, 1, tzinfo=UTC),
    )
    assert len(got) == int(event["X-EXPECT-NUMEVENTS"])
