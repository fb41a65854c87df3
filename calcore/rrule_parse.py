"""Text form of recurrence rules: parse, format and validate (RFC 5545 section 3.3.10).

``parse_rrule`` is tolerant of what real producers emit (a leading ``RRULE:``, a trailing
``;`` as Google writes it, lower case, blanks around parts, repeated list values, ``X-``
parts) and strict about everything that changes the meaning.  ``format_rrule`` writes the
canonical text (fixed part order, INTERVAL=1 and WKST=MO omitted) that parses back to an
equal rule.  ``validate_rule`` adds the checks that need DTSTART.  ``check_density`` is
the diary's policy for new rules (what users and imports may store), apart from parsing
so that rules stored before it still read.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from functools import lru_cache

from calcore.rrule_model import WEEKDAYS, Freq, RecurrenceError, RecurrenceRule

_BYDAY_RE = re.compile(r"^([+-]?\d{1,2})?(MO|TU|WE|TH|FR|SA|SU)$")
_UNTIL_RE = re.compile(r"^(\d{8})(?:T(\d{6})(Z?))?$")

# name -> (minimum, maximum, negative values allowed)
_RANGES: dict[str, tuple[int, int, bool]] = {
    "BYSECOND": (0, 60, False),
    "BYMINUTE": (0, 59, False),
    "BYHOUR": (0, 23, False),
    "BYMONTHDAY": (1, 31, True),
    "BYYEARDAY": (1, 366, True),
    "BYWEEKNO": (1, 53, True),
    "BYMONTH": (1, 12, False),
    "BYSETPOS": (1, 366, True),
}
_FIELD = {
    "BYSECOND": "bysecond",
    "BYMINUTE": "byminute",
    "BYHOUR": "byhour",
    "BYMONTHDAY": "bymonthday",
    "BYYEARDAY": "byyearday",
    "BYWEEKNO": "byweekno",
    "BYMONTH": "bymonth",
    "BYSETPOS": "bysetpos",
}


def _int(name: str, text: str) -> int:
    """Parse one integer of a rule part."""
    try:
        return int(text)
    except ValueError:
        raise RecurrenceError(f"{name} must be a whole number, got {text!r}") from None


def _parse_until(text: str) -> datetime | date:
    """Parse an UNTIL value: DATE, floating DATE-TIME or UTC DATE-TIME."""
    m = _UNTIL_RE.match(text)
    if not m:
        raise RecurrenceError(
            f"UNTIL must look like 20261231, 20261231T235959 or 20261231T235959Z, got {text!r}"
        )
    day, clock, zulu = m.groups()
    try:
        if clock is None:
            return date(int(day[:4]), int(day[4:6]), int(day[6:]))
        value = datetime(
            int(day[:4]), int(day[4:6]), int(day[6:]),
            int(clock[:2]), int(clock[2:4]), min(int(clock[4:]), 59),
        )
    except ValueError as exc:
        raise RecurrenceError(f"UNTIL is not a real date or time: {text!r} ({exc})") from None
    return value.replace(tzinfo=UTC) if zulu else value


def _parse_byday(text: str) -> tuple[int | None, int]:
    """Parse one BYDAY entry such as ``MO``, ``-1FR`` or ``+2TU``."""
    m = _BYDAY_RE.match(text)
    if not m:
        raise RecurrenceError(f"BYDAY entries look like MO, 2TU or -1FR, got {text!r}")
    ordinal = int(m.group(1)) if m.group(1) else None
    return ordinal, WEEKDAYS.index(m.group(2))


def _weekday(name: str, text: str) -> int:
    """Parse a two-letter weekday code."""
    if text not in WEEKDAYS:
        raise RecurrenceError(f"{name} must be one of {', '.join(WEEKDAYS)}, got {text!r}")
    return WEEKDAYS.index(text)


def _canonical_byday(pairs: Iterable[tuple[int | None, int]]) -> tuple[tuple[int | None, int], ...]:
    """Deduplicate and order BYDAY entries (plain weekdays first, then by ordinal)."""
    return tuple(sorted(set(pairs), key=lambda p: (p[0] is not None, p[0] or 0, p[1])))


@lru_cache(maxsize=4096)
def parse_rrule(text: str) -> RecurrenceRule:
    """Parse RRULE text into a checked ``RecurrenceRule`` (raises ``RecurrenceError``)."""
    if not isinstance(text, str):
        raise RecurrenceError("a recurrence rule must be text")
    body = text.strip()
    if body[:6].upper() == "RRULE:":
        body = body[6:]
    parts: dict[str, str] = {}
    for raw in body.split(";"):
        chunk = raw.strip()
        if not chunk:
            continue
        name, sep, value = chunk.partition("=")
        name = name.strip().upper()
        if not sep or not value.strip():
            raise RecurrenceError(f"rule part {chunk!r} has no value (expected NAME=VALUE)")
        if name.startswith("X-"):
            continue
        if name in parts:
            raise RecurrenceError(f"rule part {name} appears twice")
        parts[name] = value.strip().upper()
    if "FREQ" not in parts:
        raise RecurrenceError("a recurrence rule needs FREQ (e.g. FREQ=WEEKLY)")
    raw_freq = parts.pop("FREQ")
    try:
        freq = Freq(raw_freq)
    except ValueError:
        raise RecurrenceError(
            f"unknown FREQ {raw_freq!r}; expected one of " + ", ".join(f.value for f in Freq)
        ) from None
    kwargs: dict[str, object] = {}
    for name, value in parts.items():
        if name == "INTERVAL":
            kwargs["interval"] = _int(name, value)
        elif name == "COUNT":
            kwargs["count"] = _int(name, value)
        elif name == "UNTIL":
            kwargs["until"] = _parse_until(value)
        elif name == "WKST":
            kwargs["wkst"] = _weekday(name, value)
        elif name == "BYDAY":
            kwargs["byday"] = _canonical_byday(_parse_byday(v.strip()) for v in value.split(","))
        elif name in _FIELD:
            values = {_int(name, v.strip()) for v in value.split(",")}
            kwargs[_FIELD[name]] = tuple(sorted(values))
        elif name == "RSCALE" and value == "GREGORIAN":
            continue
        else:
            raise RecurrenceError(f"unsupported rule part {name}")
    rule = RecurrenceRule(freq=freq, **kwargs)  # type: ignore[arg-type]
    check_rule(rule)
    return rule


def check_rule(rule: RecurrenceRule) -> None:
    """Check a rule on its own (ranges, combinations); raise ``RecurrenceError``."""
    if not isinstance(rule.freq, Freq):
        raise RecurrenceError(f"unknown FREQ {rule.freq!r}")
    if rule.interval < 1:
        raise RecurrenceError(f"INTERVAL must be 1 or more, got {rule.interval}")
    if rule.count is not None and rule.until is not None:
        raise RecurrenceError("COUNT and UNTIL cannot both be given (RFC 5545 section 3.3.10)")
    if rule.count is not None and rule.count < 1:
        raise RecurrenceError(f"COUNT must be 1 or more, got {rule.count}")
    if not 0 <= rule.wkst <= 6:
        raise RecurrenceError(f"WKST must be a weekday, got {rule.wkst}")
    for name, field in _FIELD.items():
        low, high, negative = _RANGES[name]
        for value in getattr(rule, field):
            ok = low <= abs(value) <= high if negative else low <= value <= high
            if not ok or (negative and value == 0):
                span = f"{low}..{high}" + (f" or -{high}..-{low}" if negative else "")
                raise RecurrenceError(f"{name} value {value} is out of range ({span})")
    for ordinal, weekday in rule.byday:
        if not 0 <= weekday <= 6:
            raise RecurrenceError(f"BYDAY weekday {weekday} is not a weekday")
        if ordinal is None:
            continue
        limit = 5 if rule.freq is Freq.MONTHLY else 53
        if ordinal == 0 or abs(ordinal) > limit:
            raise RecurrenceError(
                f"BYDAY ordinal {ordinal} is out of range (1..{limit} or -{limit}..-1)"
            )
        if rule.freq not in (Freq.MONTHLY, Freq.YEARLY):
            raise RecurrenceError(
                f"BYDAY with an ordinal ({ordinal}{WEEKDAYS[weekday]}) needs FREQ=MONTHLY "
                "or FREQ=YEARLY"
            )
        if rule.byweekno:
            raise RecurrenceError("BYDAY with an ordinal cannot be combined with BYWEEKNO")
    if rule.bysetpos and not rule.has_by_parts:
        raise RecurrenceError("BYSETPOS needs another BY* part (e.g. BYDAY) to pick from")
    if rule.byweekno and rule.freq is not Freq.YEARLY:
        raise RecurrenceError("BYWEEKNO is only allowed with FREQ=YEARLY")
    if rule.byyearday and rule.freq in (Freq.DAILY, Freq.WEEKLY, Freq.MONTHLY):
        raise RecurrenceError(f"BYYEARDAY is not allowed with FREQ={rule.freq.value}")
    if rule.bymonthday and rule.freq is Freq.WEEKLY:
        raise RecurrenceError("BYMONTHDAY is not allowed with FREQ=WEEKLY")


#: Most occurrences a new series may have in one day: an hourly series.  With the
#: default 400-day window that is at most 9,600 per window, below the expansion limit.
MAX_PER_DAY = 24


def per_day(rule: RecurrenceRule) -> int:
    """The most occurrences the rule can give in one day (BYSETPOS not counted)."""
    if rule.freq in (Freq.SECONDLY, Freq.MINUTELY):
        unit = 1 if rule.freq is Freq.SECONDLY else 60
        return 86_400 // (unit * rule.interval) or 1
    minutes = len(rule.byminute) or 1
    seconds = len(rule.bysecond) or 1
    if rule.freq is Freq.HOURLY:
        hours = len(rule.byhour) or -(-24 // rule.interval)
    else:
        hours = len(rule.byhour) or 1
    return hours * minutes * seconds


def check_density(rule: RecurrenceRule) -> None:
    """Refuse a rule a CRM diary has no use for (raise ``RecurrenceError``).

    FREQ=SECONDLY and FREQ=MINUTELY are refused outright; any other rule may give at
    most ``MAX_PER_DAY`` occurrences a day (FREQ=HOURLY with one BYMINUTE at most, or
    BYHOUR x BYMINUTE x BYSECOND of a daily or longer rule at most 24).
    """
    if rule.freq in (Freq.SECONDLY, Freq.MINUTELY):
        raise RecurrenceError(
            f"FREQ={rule.freq.value} is not supported: a series repeats at most every hour "
            "(HOURLY, DAILY, WEEKLY, MONTHLY or YEARLY)"
        )
    n = per_day(rule)
    if n > MAX_PER_DAY:
        raise RecurrenceError(
            f"the rule gives up to {n} occurrences a day; a series may have at most "
            f"{MAX_PER_DAY} a day (fewer BYHOUR, BYMINUTE or BYSECOND values)"
        )


def validate_rule(rule: RecurrenceRule, dtstart: datetime | date) -> None:
    """Check a rule against its DTSTART; raise ``RecurrenceError`` with a clear message."""
    check_rule(rule)
    until = rule.until
    if until is None:
        return
    start_is_date = not isinstance(dtstart, datetime)
    if isinstance(until, datetime) and isinstance(dtstart, datetime):
        if (until.tzinfo is None) != (dtstart.tzinfo is None):
            a = until.replace(tzinfo=None)
            b = dtstart.astimezone(UTC).replace(tzinfo=None) if dtstart.tzinfo else dtstart
            before = a < b
        else:
            before = until < dtstart
    else:
        u = until.date() if isinstance(until, datetime) else until
        d = dtstart if start_is_date else dtstart.date()  # type: ignore[union-attr]
        before = u < d
    if before:
        raise RecurrenceError(
            f"UNTIL ({format_until(until)}) is before the series starts ({dtstart.isoformat()})"
        )


def format_until(until: datetime | date) -> str:
    """Format an UNTIL value (UTC with Z, floating, or DATE)."""
    if isinstance(until, datetime):
        if until.tzinfo is not None:
            return until.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
        return until.strftime("%Y%m%dT%H%M%S")
    return until.strftime("%Y%m%d")


def _ints(values: Sequence[int]) -> str:
    """Join integers with commas."""
    return ",".join(str(v) for v in values)


def format_rrule(rule: RecurrenceRule) -> str:
    """Write the canonical RFC 5545 text of a rule (without the ``RRULE:`` prefix)."""
    out = [f"FREQ={rule.freq.value}"]
    if rule.interval != 1:
        out.append(f"INTERVAL={rule.interval}")
    if rule.count is not None:
        out.append(f"COUNT={rule.count}")
    if rule.until is not None:
        out.append(f"UNTIL={format_until(rule.until)}")
    if rule.bysecond:
        out.append(f"BYSECOND={_ints(rule.bysecond)}")
    if rule.byminute:
        out.append(f"BYMINUTE={_ints(rule.byminute)}")
    if rule.byhour:
        out.append(f"BYHOUR={_ints(rule.byhour)}")
    if rule.byday:
        days = ",".join(f"{'' if o is None else o}{WEEKDAYS[w]}" for o, w in rule.byday)
        out.append(f"BYDAY={days}")
    if rule.bymonthday:
        out.append(f"BYMONTHDAY={_ints(rule.bymonthday)}")
    if rule.byyearday:
        out.append(f"BYYEARDAY={_ints(rule.byyearday)}")
    if rule.byweekno:
        out.append(f"BYWEEKNO={_ints(rule.byweekno)}")
    if rule.bymonth:
        out.append(f"BYMONTH={_ints(rule.bymonth)}")
    if rule.bysetpos:
        out.append(f"BYSETPOS={_ints(rule.bysetpos)}")
    if rule.wkst != 0:
        out.append(f"WKST={WEEKDAYS[rule.wkst]}")
    return ";".join(out)


def rule_from_fields(
    freq: Freq | str,
    interval: int = 1,
    *,
    byday: Iterable[str | tuple[int | None, int]] = (),
    bymonthday: Iterable[int] = (),
    bymonth: Iterable[int] = (),
    bysetpos: Iterable[int] = (),
    count: int | None = None,
    until: datetime | date | None = None,
    wkst: str | int = 0,
) -> RecurrenceRule:
    """Build a checked rule from structured input (e.g. a GraphQL input object).

    ``byday`` takes codes like ``"MO"`` or ``"-1FR"`` or ``(ordinal, weekday)`` pairs.
    """
    try:
        f = freq if isinstance(freq, Freq) else Freq(str(freq).upper())
    except ValueError:
        raise RecurrenceError(f"unknown FREQ {freq!r}") from None
    days = _canonical_byday(
        _parse_byday(d.strip().upper()) if isinstance(d, str) else d for d in byday
    )
    ws = _weekday("WKST", wkst.upper()) if isinstance(wkst, str) else wkst
    if isinstance(until, datetime) and until.tzinfo is not None:
        until = until.astimezone(UTC)
    rule = RecurrenceRule(
        freq=f,
        interval=interval,
        count=count,
        until=until,
        byday=days,
        bymonthday=tuple(sorted(set(bymonthday))),
        bymonth=tuple(sorted(set(bymonth))),
        bysetpos=tuple(sorted(set(bysetpos))),
        wkst=ws,
    )
    check_rule(rule)
    return rule
