"""How each preference value is validated (the keys and defaults are ``orm.preferences``)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from orm.preferences import DEFAULTS, PreferenceKey
from resolvers import phone_links

__all__ = ["DEFAULTS", "SPECS", "KeySpec", "PreferenceKey", "normalise"]

WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
LANGUAGES = ("en", "da", "no")


@dataclass(frozen=True)
class WorkingHours:
    """Per weekday (0 = Monday) the working span in local time; absent days are off."""

    days: dict[int, tuple[time, time]]


def _duration(value: str) -> str:
    if not re.fullmatch(r"\d{1,4}", value.strip()):
        raise ValueError("must be a whole number of minutes")
    minutes = int(value)
    if not 1 <= minutes <= 1440:
        raise ValueError("must be between 1 and 1440 minutes")
    return str(minutes)


_ZONES: set[str] = set()


def _time_zone(value: str) -> str:
    value = value.strip()
    if not _ZONES:
        _ZONES.update(available_timezones())
    if value not in _ZONES:
        raise ValueError("must be an IANA time zone such as Europe/Oslo")
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError("must be an IANA time zone such as Europe/Oslo") from exc
    return value


def _language(value: str) -> str:
    value = value.strip().lower()
    if value == "nb":
        value = "no"
    if value not in LANGUAGES:
        raise ValueError(f"must be one of {', '.join(LANGUAGES)}")
    return value


_SEGMENT = re.compile(
    r"^(?P<d1>MO|TU|WE|TH|FR|SA|SU)(?:-(?P<d2>MO|TU|WE|TH|FR|SA|SU))?"
    r" (?P<h1>\d{2}):(?P<m1>\d{2})-(?P<h2>\d{2}):(?P<m2>\d{2})$"
)


def parse_working_hours(value: str) -> WorkingHours:
    """Parse ``MO-FR 08:00-16:00`` or several such segments joined by ``;``."""
    days: dict[int, tuple[time, time]] = {}
    for segment in (part.strip() for part in value.split(";")):
        match = _SEGMENT.match(segment.upper())
        if not match:
            raise ValueError("must look like 'MO-FR 08:00-16:00' (segments separated by ';')")
        first = WEEKDAYS.index(match["d1"])
        last = WEEKDAYS.index(match["d2"] or match["d1"])
        if last < first:
            raise ValueError(f"day range {segment!r} runs backwards")
        try:
            start = time(int(match["h1"]), int(match["m1"]))
            end = time(int(match["h2"]), int(match["m2"]))
        except ValueError as exc:
            raise ValueError(f"{segment!r} has an invalid time") from exc
        if end <= start:
            raise ValueError(f"{segment!r} ends before it starts")
        for day in range(first, last + 1):
            if day in days:
                raise ValueError(f"{WEEKDAYS[day]} is given twice")
            days[day] = (start, end)
    return WorkingHours(days)


def _working_hours(value: str) -> str:
    parse_working_hours(value)
    return value.strip().upper()


@dataclass(frozen=True)
class KeySpec:
    default: str
    normalise: Callable[[str], str]
    description: str


SPECS: dict[PreferenceKey, KeySpec] = {
    PreferenceKey.MEETING_DURATION: KeySpec(
        DEFAULTS[PreferenceKey.MEETING_DURATION],
        _duration,
        "Duration of a new meeting in minutes (1..1440)",
    ),
    PreferenceKey.CALL_DURATION: KeySpec(
        DEFAULTS[PreferenceKey.CALL_DURATION],
        _duration,
        "Duration of a new call in minutes (1..1440)",
    ),
    PreferenceKey.PHONE_LINK_FORMAT: KeySpec(
        DEFAULTS[PreferenceKey.PHONE_LINK_FORMAT],
        phone_links.check_format,
        "Call link; %p is the number, e.g. tel:%p, callto:%p",
    ),
    PreferenceKey.TIME_ZONE: KeySpec(
        DEFAULTS[PreferenceKey.TIME_ZONE], _time_zone, "IANA time zone"
    ),
    PreferenceKey.LANGUAGE: KeySpec(
        DEFAULTS[PreferenceKey.LANGUAGE], _language, "Language: en, da or no"
    ),
    PreferenceKey.WORKING_HOURS: KeySpec(
        DEFAULTS[PreferenceKey.WORKING_HOURS],
        _working_hours,
        "Working hours, e.g. MO-FR 08:00-16:00",
    ),
}


def normalise(key: PreferenceKey, value: str) -> str:
    """Return the canonical value, or raise ValueError saying what is wrong."""
    if len(value) > 1000:
        raise ValueError("is too long")
    return SPECS[key].normalise(value)
