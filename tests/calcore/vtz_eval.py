"""A tiny evaluator of an embedded VTIMEZONE (RFC 5545 section 3.6.5), for tests only.

It knows nothing but the definition it is given: no zoneinfo, no tz database.  The
offset at a UTC instant is TZOFFSETTO of the latest observance onset at or before it
(DTSTART, its RRULE occurrences, its RDATEs; an onset is a local time in TZOFFSETFROM).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from dateutil.rrule import rrulestr
from icalendar import Calendar
from icalendar.cal.component import Component


def _naive(value: object) -> datetime:
    assert isinstance(value, datetime) and value.tzinfo is None, value
    return value


class EmbeddedZone:
    """The offsets of one VTIMEZONE, evaluated up to ``horizon``."""

    def __init__(self, vtimezone: Component, horizon: int = 2100) -> None:
        self.tzid = str(vtimezone["TZID"])
        limit = datetime(horizon, 1, 1)
        self.onsets: list[tuple[datetime, timedelta]] = []  # (UTC instant, offset after)
        for obs in vtimezone.subcomponents:
            assert obs.name in ("STANDARD", "DAYLIGHT"), obs.name
            start = _naive(obs.decoded("DTSTART"))
            before = obs.decoded("TZOFFSETFROM")
            after = obs.decoded("TZOFFSETTO")
            locals_ = [start]
            if "RRULE" in obs:
                rule = rrulestr(obs["RRULE"].to_ical().decode(), dtstart=start)
                locals_ += list(rule.between(start, limit, inc=False))
            for rdate in (
                obs.get("RDATE", [])
                if isinstance(obs.get("RDATE"), list)
                else ([obs["RDATE"]] if "RDATE" in obs else [])
            ):
                locals_ += [_naive(p.dt) for p in rdate.dts]
            self.onsets += [(moment - before, after) for moment in locals_]
        self.onsets.sort()
        assert self.onsets, "a VTIMEZONE needs observances"

    def offset_at_utc(self, instant: datetime) -> timedelta:
        """Return the UTC offset in force at a (naive) UTC instant."""
        found = self.onsets[0][1]
        for at, after in self.onsets:
            if at > instant:
                break
            found = after
        return found

    def to_utc(self, local: datetime) -> datetime:
        """Return the UTC instant of an (existing, unambiguous) local wall time."""
        for _, offset in self.onsets:
            candidate = local - offset
            if self.offset_at_utc(candidate) == offset:
                return candidate
        raise AssertionError(f"{local} does not exist in {self.tzid}")


def embedded_zones(cal: Calendar) -> dict[str, EmbeddedZone]:
    """Return the VTIMEZONEs of a calendar by TZID."""
    return {str(c["TZID"]): EmbeddedZone(c) for c in cal.walk("VTIMEZONE")}


def rdate_lines_with_lists(ics: bytes) -> list[bytes]:
    """Return RDATE lines (unfolded) that carry more than one date."""
    unfolded = ics.replace(b"\r\n ", b"").replace(b"\r\n\t", b"")
    return [ln for ln in unfolded.split(b"\r\n") if ln.startswith(b"RDATE") and b"," in ln]
