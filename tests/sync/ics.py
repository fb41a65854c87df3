"""Minimal iCalendar objects for transport tests (the real builder lives elsewhere)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


def vevent(uid: str, summary: str = "Meeting", *, day: int = 0, sequence: int = 0) -> bytes:
    """Return a VCALENDAR with one VEVENT (RFC 5545 §3.6.1)."""
    start = datetime(2026, 1, 5, 9, 0, tzinfo=UTC) + timedelta(days=day)
    end = start + timedelta(hours=1)
    fmt = "%Y%m%dT%H%M%SZ"
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//followups//tests//EN",
        "BEGIN:VEVENT",
        f"UID:{uid}",
        f"DTSTAMP:{start.strftime(fmt)}",
        f"DTSTART:{start.strftime(fmt)}",
        f"DTEND:{end.strftime(fmt)}",
        f"SEQUENCE:{sequence}",
        f"SUMMARY:{summary}",
        "END:VEVENT",
        "END:VCALENDAR",
        "",
    ]
    return "\r\n".join(lines).encode("utf-8")


def vtodo(uid: str, summary: str = "Task") -> bytes:
    """Return a VCALENDAR with one VTODO (RFC 5545 §3.6.2)."""
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//followups//tests//EN",
        "BEGIN:VTODO",
        f"UID:{uid}",
        "DTSTAMP:20260105T090000Z",
        "DUE:20260106T090000Z",
        f"SUMMARY:{summary}",
        "END:VTODO",
        "END:VCALENDAR",
        "",
    ]
    return "\r\n".join(lines).encode("utf-8")
