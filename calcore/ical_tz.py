"""TZID resolution for imported calendar data (RFC 5545 sections 3.2.19 and 3.6.5).

Owns mapping whatever TZID a producer wrote to an IANA zone name: plain Olson names,
Windows names ("GMT Standard Time", "FLE Standard Time", via icalendar's table), the
"globally unique" vendor-prefixed forms (``/freeassociation.sourceforge.net/Tzfile/...``,
``/mozilla.org/20070129_1/...``) and, for a custom VTIMEZONE under a free-text name such
as ``(UTC-03:00) Brasília``, the IANA zone with the same offsets, else a fixed ``Etc/GMT``
offset.  Instants are always converted with the producer's own definition; the IANA name
is what the series' wall-clock rule is evaluated in afterwards.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON

_UTC_OFFSET_RE = re.compile(r"\(UTC([+-])(\d{2}):(\d{2})\)")
_PROBES = tuple(datetime(2024, m, 15, 12, tzinfo=UTC) for m in (1, 4, 7, 10)) + tuple(
    datetime(2019, m, 15, 12, tzinfo=UTC) for m in (1, 7)
)
_PREFERRED = ("Europe/", "America/", "Asia/", "Africa/", "Australia/", "Pacific/", "Atlantic/")


@lru_cache(maxsize=512)
def iana_zone(name: str) -> ZoneInfo | None:
    """Return the ZoneInfo for an IANA name, or None."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None


@lru_cache(maxsize=512)
def zone_name_from_tzid(tzid: str) -> str | None:
    """Map a TZID text to an IANA zone name without looking at any VTIMEZONE."""
    cleaned = tzid.strip().strip('"').strip()
    candidates = [cleaned.strip("/")]
    if cleaned.strip("/") in WINDOWS_TO_OLSON:
        candidates.append(WINDOWS_TO_OLSON[cleaned.strip("/")])
    if cleaned.startswith("/"):
        parts = cleaned.strip("/").split("/")
        candidates += ["/".join(parts[i:]) for i in range(1, len(parts))]
    for candidate in candidates:
        if "/" in candidate or candidate in ("UTC", "GMT"):
            zone = iana_zone(candidate)
            if zone is not None:
                return candidate
    return None


def _signature(tz: tzinfo) -> tuple[timedelta | None, ...]:
    """Return the UTC offsets of a zone at a few probe instants."""
    return tuple(p.astimezone(tz).utcoffset() for p in _PROBES)


@lru_cache(maxsize=1)
def _signatures() -> dict[tuple[timedelta | None, ...], str]:
    """Map offset signatures to one preferred IANA name each (built once, lazily)."""
    table: dict[tuple[timedelta | None, ...], str] = {}
    for name in sorted(available_timezones()):
        if not name.startswith(_PREFERRED):
            continue
        zone = iana_zone(name)
        if zone is not None:
            table.setdefault(_signature(zone), name)
    return table


def _fixed_offset_name(offset: timedelta) -> str | None:
    """Return the ``Etc/GMT`` zone for a whole-hour offset (note the inverted sign)."""
    seconds = int(offset.total_seconds())
    if seconds % 3600:
        return None
    hours = seconds // 3600
    if hours == 0:
        return "UTC"
    return f"Etc/GMT{'-' if hours > 0 else '+'}{abs(hours)}"


def zone_name_for(tzid: str | None, tz: tzinfo | None) -> str:
    """Return the IANA name to store for a value's TZID and its decoded tzinfo."""
    if isinstance(tz, ZoneInfo) and tz.key:
        return tz.key
    if tzid:
        found = zone_name_from_tzid(tzid)
        if found:
            return found
    if tz is None:
        return "UTC"
    if all(o == timedelta(0) for o in _signature(tz)):
        return "UTC"
    match = _signatures().get(_signature(tz))
    if match:
        return match
    if tzid:
        m = _UTC_OFFSET_RE.search(tzid)
        if m:
            sign = 1 if m.group(1) == "+" else -1
            name = _fixed_offset_name(
                sign * timedelta(hours=int(m.group(2)), minutes=int(m.group(3)))
            )
            if name:
                return name
    offset = _PROBES[0].astimezone(tz).utcoffset()
    return (_fixed_offset_name(offset) if offset is not None else None) or "UTC"
