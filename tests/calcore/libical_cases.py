"""Read libical's ``icalrecur_test.txt`` cases (RRULE, DTSTART, START-AT, INSTANCES)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "data" / "rrule"


@dataclass(frozen=True)
class LibicalCase:
    """One test case of libical's recurrence test file."""

    line: int
    comment: str
    rrule: str
    dtstart: str
    start_at: str | None
    instances: str

    @property
    def id(self) -> str:
        """Return a pytest id naming the line and the rule."""
        return f"L{self.line}-{self.rrule}"


def load_cases() -> list[LibicalCase]:
    """Parse the test file into cases, keeping the source line number."""
    cases: list[LibicalCase] = []
    comment = ""
    fields: dict[str, str] = {}
    start_line = 0
    text = (DATA / "libical_icalrecur_test.txt").read_text(encoding="utf-8")
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if line.startswith("#"):
            comment = (comment + " " + line.lstrip("# ")).strip()
            continue
        if not line:
            continue
        key, _, value = line.partition(":")
        if key == "RRULE":
            start_line = number
        fields[key] = value
        if key == "INSTANCES":
            cases.append(
                LibicalCase(
                    line=start_line,
                    comment=comment,
                    rrule=fields["RRULE"],
                    dtstart=fields["DTSTART"],
                    start_at=fields.get("START-AT"),
                    instances=value,
                )
            )
            fields = {}
            comment = ""
    return cases


def parse_ical_time(text: str) -> tuple[datetime, bool]:
    """Parse 19970902T090000[Z] or 19970902 into a naive datetime and a DATE flag."""
    text = text.rstrip("Z")
    if "T" in text:
        return datetime.strptime(text, "%Y%m%dT%H%M%S"), False
    return datetime.strptime(text, "%Y%m%d"), True
