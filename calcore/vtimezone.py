"""VTIMEZONE definitions that do not expire (RFC 5545 section 3.6.5), from tzdata itself.

A TZif file (RFC 8536) holds the zone's explicit transitions and, in its footer, the
POSIX TZ string of the rule in force after them (``CET-1CEST,M3.5.0,M10.5.0/3``): the
definitive current rule.  The definition we emit is what Thunderbird and Outlook send:

- one STANDARD and one DAYLIGHT observance with a yearly RRULE (``BYMONTH`` +
  ``BYDAY``, or ``BYDAY`` + ``BYMONTHDAY`` when the rule's time crosses midnight) for the
  current rule, open-ended, so a series is right in 2035 as in 2026;
- one single-onset observance (DTSTART only, never RDATE lists) per historic transition
  between the event's first start and the moment the current rule took over, plus the
  one in force at that first start;
- a zone without DST: its STANDARD observance only.

Rules the RRULE form cannot express (``Jn``/``n`` day numbers, a shifted day that leaves
its month) get one single-onset observance per transition until ``FALLBACK_YEARS`` after
the event's start.
"""

from __future__ import annotations

import importlib.resources
import re
import struct
import zoneinfo
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path

from icalendar import Timezone, TimezoneDaylight, TimezoneStandard, vRecur

DAYS = ("SU", "MO", "TU", "WE", "TH", "FR", "SA")  # POSIX weekday numbers 0..6
SHORTEST_MONTH = {
    1: 31,
    2: 28,
    3: 31,
    4: 30,
    5: 31,
    6: 30,
    7: 31,
    8: 31,
    9: 30,
    10: 31,
    11: 30,
    12: 31,
}
FALLBACK_YEARS = 60
EPOCH = datetime(1970, 1, 1)
_NAME = r"(<[^>]+>|[A-Za-z]{3,})"
_OFFSET = r"([+-]?\d{1,3}(?::\d{2}){0,2})"
_POSIX = re.compile(rf"^{_NAME}{_OFFSET}(?:{_NAME}{_OFFSET}?(?:,([^,]+),([^,]+))?)?$")


@dataclass(frozen=True)
class Transition:
    """One change of a zone's offset (or name): UTC instant, offsets before and after."""

    at: int  # seconds since the epoch, UTC
    before: int
    after: int
    dst: bool
    name: str


@dataclass(frozen=True)
class Rule:
    """One POSIX ``Mm.w.d/time`` onset: month, week (5 = last), weekday (0 = Sunday)."""

    month: int
    week: int
    weekday: int
    seconds: int  # local time of the onset, in the offset before it; may be < 0 or > 24 h

    def onset(self, year: int, before: int) -> int:
        """Return the UTC instant (epoch seconds) of this onset in ``year``."""
        first = datetime(year, self.month, 1)
        shift = (self.weekday - (first.weekday() + 1) % 7) % 7
        day = 1 + shift + 7 * (self.week - 1)
        if self.week == 5:
            nxt = datetime(year + self.month // 12, self.month % 12 + 1, 1)
            last = (nxt - timedelta(days=1)).day
            while day > last:
                day -= 7
        local = datetime(year, self.month, day) + timedelta(seconds=self.seconds)
        return int((local - EPOCH).total_seconds()) - before


@dataclass(frozen=True)
class Posix:
    """A POSIX TZ string: standard name/offset, and DST name/offset with its two onsets."""

    std_name: str
    std: int
    dst_name: str | None = None
    dst: int | None = None
    start: Rule | None = None
    end: Rule | None = None


def _seconds(text: str) -> int:
    sign = -1 if text.startswith("-") else 1
    parts = [int(p) for p in text.lstrip("+-").split(":")] + [0, 0]
    return sign * (parts[0] * 3600 + parts[1] * 60 + parts[2])


def _rule(text: str) -> Rule:
    day, _, time = text.partition("/")
    if not day.startswith("M"):
        raise ValueError(f"unsupported POSIX day form {day!r}")
    month, week, weekday = (int(p) for p in day[1:].split("."))
    return Rule(month, week, weekday, _seconds(time) if time else 7200)


def parse_posix(text: str) -> Posix:
    """Parse a POSIX TZ string (the TZif footer); raise ``ValueError`` on other forms."""
    m = _POSIX.match(text.strip())
    if m is None:
        raise ValueError(f"unparsable POSIX TZ {text!r}")
    std_name, std_off, dst_name, dst_off, start, end = m.groups()
    std = -_seconds(std_off)  # POSIX offsets count west of Greenwich
    if dst_name is None:
        return Posix(std_name.strip("<>"), std)
    dst = -_seconds(dst_off) if dst_off else std + 3600
    if start is None or end is None:
        raise ValueError(f"POSIX TZ without rules {text!r}")
    return Posix(std_name.strip("<>"), std, dst_name.strip("<>"), dst, _rule(start), _rule(end))


def _tzif_bytes(name: str) -> bytes:
    for base in zoneinfo.TZPATH:
        path = Path(base) / name
        if path.is_file():
            return path.read_bytes()
    package = "tzdata.zoneinfo." + ".".join(name.split("/")[:-1])
    return importlib.resources.files(package.rstrip(".")).joinpath(name.split("/")[-1]).read_bytes()


@lru_cache(maxsize=256)
def read_tzif(name: str) -> tuple[tuple[Transition, ...], tuple[int, bool, str], str]:
    """Return a zone's explicit transitions, its initial (offset, dst, name), its footer."""
    data = _tzif_bytes(name)
    if data[:4] != b"TZif":
        raise ValueError(f"{name}: not a TZif file")
    counts = struct.unpack(">6l", data[20:44])
    isut, isstd, leap, times, types, chars = counts
    skip = 44 + times * 5 + types * 6 + chars + leap * 8 + isstd + isut
    if data[4:5] < b"2":
        raise ValueError(f"{name}: TZif version 1 has no footer")
    isut, isstd, leap, times, types, chars = struct.unpack(">6l", data[skip + 20 : skip + 44])
    pos = skip + 44
    stamps = struct.unpack(f">{times}q", data[pos : pos + times * 8])
    pos += times * 8
    idx = data[pos : pos + times]
    pos += times
    infos = [struct.unpack(">lBB", data[pos + i * 6 : pos + i * 6 + 6]) for i in range(types)]
    pos += types * 6
    names = data[pos : pos + chars]
    pos += chars + leap * 12 + isstd + isut
    footer = data[pos:].strip(b"\n").decode("ascii")

    def label(i: int) -> str:
        start = infos[i][2]
        return names[start : names.index(b"\0", start)].decode("ascii")

    initial = (infos[0][0], bool(infos[0][1]), label(0))
    out: list[Transition] = []
    state = initial
    for at, i in zip(stamps, idx, strict=True):
        off, dst, _ = infos[i]
        new = (off, bool(dst), label(i))
        if new != state:  # zic's 2038 marker and other no-op entries change nothing
            out.append(Transition(at, state[0], off, bool(dst), new[2]))
        state = new
    return tuple(out), initial, footer


def _rule_onsets(p: Posix, year: int) -> list[Transition]:
    assert p.start is not None and p.end is not None and p.dst is not None
    dst_name = p.dst_name or p.std_name
    return sorted(
        [
            Transition(p.start.onset(year, p.std), p.std, p.dst, True, dst_name),
            Transition(p.end.onset(year, p.dst), p.dst, p.std, False, p.std_name),
        ],
        key=lambda t: t.at,
    )


def _covered_from(explicit: list[Transition], p: Posix) -> tuple[list[Transition], int]:
    """Split off the trailing explicit transitions the current rule reproduces.

    Returns the historic ones and the instant from which the rule is in force.
    """
    if p.start is None:
        return explicit, explicit[-1].at + 1 if explicit else -(1 << 62)
    cut = len(explicit)
    later: Transition | None = None  # the covered transition after the candidate
    while cut > 0:
        t = explicit[cut - 1]
        year = datetime.fromtimestamp(t.at, UTC).year
        onsets = sorted(
            (r for y in (year - 1, year, year + 1) for r in _rule_onsets(p, y)), key=lambda r: r.at
        )
        if later is not None:  # contiguous: no rule onset may be missing in between
            onsets = [r for r in onsets if r.at < later.at][-1:]
        if not any((r.at, r.before, r.after) == (t.at, t.before, t.after) for r in onsets):
            break
        later = t
        cut -= 1
    since = explicit[cut].at if cut < len(explicit) else (explicit[-1].at + 1 if explicit else 0)
    return explicit[:cut], since


def _local(at: int, offset: int) -> datetime:
    return EPOCH + timedelta(seconds=at + offset)


def _observance(t: Transition) -> TimezoneStandard | TimezoneDaylight:
    comp = TimezoneDaylight() if t.dst else TimezoneStandard()
    comp.add("dtstart", _local(t.at, t.before))
    comp.add("tzoffsetfrom", timedelta(seconds=t.before))
    comp.add("tzoffsetto", timedelta(seconds=t.after))
    if t.name:
        comp.add("tzname", t.name)
    return comp


def _rrule(rule: Rule) -> vRecur | None:
    """Return the yearly RRULE of an onset, or None when it cannot be expressed."""
    k, _ = divmod(rule.seconds, 86400)
    day = DAYS[(rule.weekday + k) % 7]
    if k == 0:
        nth = -1 if rule.week == 5 else rule.week
        return vRecur({"FREQ": "YEARLY", "BYMONTH": rule.month, "BYDAY": f"{nth}{day}"})
    if rule.week == 5:
        days = list(range(-7 + k, k))
        if max(days) >= 0 or min(days) < -SHORTEST_MONTH[rule.month]:
            return None
    else:
        days = list(range(7 * (rule.week - 1) + 1 + k, 7 * rule.week + 1 + k))
        if min(days) < 1 or max(days) > SHORTEST_MONTH[rule.month]:
            return None
    return vRecur({"FREQ": "YEARLY", "BYMONTH": rule.month, "BYDAY": day, "BYMONTHDAY": days})


@lru_cache(maxsize=256)
def _zone(name: str) -> tuple[tuple[int, bool, str], Posix, list[Transition], int]:
    """Return a zone's initial type, current rule, history before the rule, rule start."""
    explicit, initial, footer = read_tzif(name)
    p = parse_posix(footer)
    historic, since = _covered_from(list(explicit), p)
    return initial, p, historic, since


def vtimezone(name: str, first: datetime) -> Timezone:
    """Return the VTIMEZONE of IANA zone ``name`` for events from ``first`` on, for ever."""
    initial, p, historic, since = _zone(name)
    start = int(first.timestamp())
    tz = Timezone()
    tz.add("tzid", name)
    chosen: list[Transition] = []
    if start < since:  # the transition in force at the first start, and the later history
        in_force = [t for t in historic if t.at <= start]
        chosen = ([in_force[-1]] if in_force else []) + [t for t in historic if t.at > start]
        if not in_force:
            chosen.insert(0, Transition(-(1 << 35), initial[0], initial[0], initial[1], initial[2]))
    if p.start is None or p.end is None:
        if not chosen:  # no DST and no history after the start: the standard time only
            chosen = [Transition(-p.std, p.std, p.std, False, p.std_name)]  # 1970-01-01 local
        for t in chosen:
            tz.add_component(_observance(t))
        return tz
    for t in chosen:
        tz.add_component(_observance(t))
    year = max(datetime.fromtimestamp(max(since, start), UTC).year - 1, 1900)
    floor = since if chosen else -(1 << 62)
    onsets = [t for y in (year, year + 1, year + 2) for t in _rule_onsets(p, y) if t.at >= floor]
    rules = {True: p.start, False: p.end}
    for dst in (False, True):
        onset = next(t for t in onsets if t.dst is dst)
        recur = _rrule(rules[dst])
        if recur is None:  # not expressible as RRULE: single onsets for a long while
            last = datetime.fromtimestamp(start, UTC).year + FALLBACK_YEARS
            for y in range(datetime.fromtimestamp(onset.at, UTC).year, last + 1):
                for t in _rule_onsets(p, y):
                    if t.dst is dst and t.at >= onset.at:
                        tz.add_component(_observance(t))
            continue
        comp = _observance(onset)
        comp.add("rrule", recur)
        tz.add_component(comp)
    return tz
