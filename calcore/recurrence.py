"""Recurrence sets in real time zones: the public API of the recurrence engine.

Owns turning a DTSTART, an RRULE, RDATEs and EXDATEs into occurrence instants
(RFC 5545 sections 3.8.5.1-3.8.5.3), plus the helpers edit scopes need.

Time-zone rules:

* The rule is evaluated in the WALL-CLOCK time of DTSTART's zone (an IANA ``ZoneInfo``),
  so a weekly 09:00 Europe/Oslo meeting stays at 09:00 local across daylight saving time.
* A wall time that does not exist (02:30 on a spring-forward day) is interpreted with the
  UTC offset from before the gap, RFC 5545 section 3.3.5 — 02:30 becomes 03:30 summer time.
  A wall time that occurs twice (autumn) means the first of the two (``fold=0``).  Python's
  ``zoneinfo`` does exactly this for ``fold=0``.
* EXDATE and RDATE are compared as instants; UNTIL given in UTC is compared as an instant.
* DTSTART is an occurrence when the RRULE produces it (or when there is no RRULE).  A
  DTSTART that is not synchronized with its rule gives an undefined set by section
  3.8.5.3; like libical and dateutil we then leave it out, and COUNT counts only the
  instances the rule produces.

The rule iterator itself (``rrule_expand``) works on naive wall-clock values; windows are
widened by a day on each side when converted to wall time and filtered exactly afterwards.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, tzinfo
from itertools import pairwise
from typing import Any

from calcore.rrule_expand import iterate, simple_walls
from calcore.rrule_model import (
    ExpansionLimitError,
    Freq,
    RecurrenceError,
    RecurrenceRule,
)
from calcore.rrule_parse import (
    check_density,
    check_rule,
    format_rrule,
    parse_rrule,
    rule_from_fields,
    validate_rule,
)
from calcore.rrule_summary import summarize
from calcore.rrule_window import window_instants

__all__ = [
    "DEFAULT_EXPANSION_LIMIT",
    "ExpansionLimitError",
    "Freq",
    "RecurrenceError",
    "RecurrenceRule",
    "check_density",
    "check_rule",
    "expand",
    "expand_capped",
    "format_rrule",
    "is_occurrence",
    "local_until",
    "parse_rrule",
    "rule_from_fields",
    "split_rule",
    "summarize",
    "validate_rule",
]

#: Default for the most occurrences one expansion may return.
DEFAULT_EXPANSION_LIMIT = 10_000

_MARGIN = timedelta(days=1)
_SLACK = timedelta(hours=3)


def _wall(instant: datetime, zone: tzinfo) -> datetime:
    """Return the naive wall-clock time of an aware instant in ``zone``."""
    return instant.astimezone(zone).replace(tzinfo=None)


def _instant(wall: datetime, zone: tzinfo) -> datetime:
    """Return the UTC instant of a wall-clock time (RFC 5545 section 3.3.5 for gaps)."""
    return wall.replace(tzinfo=zone).astimezone(UTC)


def local_until(rule: RecurrenceRule, zone: tzinfo, *, all_day: bool = False) -> datetime | None:
    """Return an inclusive wall-clock bound for UNTIL (generous; filter instants after)."""
    until = rule.until
    if until is None:
        return None
    if isinstance(until, datetime):
        if until.tzinfo is None:
            return until
        return _wall(until, zone) + _SLACK
    if all_day:
        return datetime(until.year, until.month, until.day)
    return datetime(until.year, until.month, until.day, 23, 59, 59)


def _until_instant(rule: RecurrenceRule, zone: tzinfo, all_day: bool) -> datetime | None:
    """Return UNTIL as an exact instant bound, or None when the wall bound is exact."""
    until = rule.until
    if isinstance(until, datetime) and until.tzinfo is not None:
        return until.astimezone(UTC)
    return None


def _ascending(values: list[datetime]) -> bool:
    """Whether a list is strictly increasing (wall times in a DST gap can break this)."""
    return all(a < b for a, b in pairwise(values))


def _check_aware(name: str, value: datetime) -> None:
    """Reject naive datetimes where instants are needed."""
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise RecurrenceError(f"{name} must be a timezone-aware datetime")


def expand(
    dtstart: datetime,
    rule: RecurrenceRule | str | None,
    *,
    rdates: Iterable[datetime] = (),
    exdates: Iterable[datetime] = (),
    window_start: datetime,
    window_end: datetime,
    limit: int = DEFAULT_EXPANSION_LIMIT,
    duration: timedelta | None = None,
    all_day: bool = False,
    exrules: Iterable[RecurrenceRule] = (),
    cut: bool = False,
) -> list[datetime]:
    """Return the sorted UTC starts of occurrences in ``[window_start, window_end)``.

    With ``duration`` an occurrence that starts before ``window_start`` but is still
    running at it is included too.  ``all_day`` ignores BYHOUR/BYMINUTE/BYSECOND.
    ``exrules`` (RFC 2445 EXRULE, deprecated by RFC 5545 but still met) remove instants.
    Raises ``ExpansionLimitError`` when more than ``limit`` occurrences would be returned,
    unless ``cut``: then the ``limit + 1`` earliest are returned (see ``expand_capped``).
    """
    _check_aware("dtstart", dtstart)
    _check_aware("window_start", window_start)
    _check_aware("window_end", window_end)
    if isinstance(rule, str):
        rule = parse_rrule(rule)
    zone = dtstart.tzinfo
    assert zone is not None
    span = duration if duration is not None and duration > timedelta(0) else timedelta(0)
    lower = window_start - span
    ex = {e.astimezone(UTC) for e in exdates}
    for exrule in exrules:
        ex.update(
            expand(
                dtstart, exrule, window_start=window_start, window_end=window_end,
                limit=max(limit, 1) * 10, duration=duration, all_day=all_day,
            )
        )
    if (
        rule is not None
        and not exrules
        and not all_day
        and isinstance(rdates, (tuple, list))
        and not rdates
    ):
        fast = window_instants(
            dtstart, zone, rule, window_start, window_end, span, exdates=ex, limit=limit,
            cut=cut,
        )
        if fast is not None:
            return fast
    start_utc = dtstart.astimezone(UTC)

    def wanted(inst: datetime) -> bool:
        if inst >= window_end or inst in ex:
            return False
        return inst >= window_start or (bool(span) and inst + span > window_start)

    out: set[datetime] = set()
    if rule is None and wanted(start_utc):
        out.add(start_utc)
    if rule is not None and start_utc < window_end:
        until_exact = _until_instant(rule, zone, all_day)
        local0 = dtstart.replace(tzinfo=None)
        bound = local_until(rule, zone, all_day=all_day)
        start_from = _wall(lower, zone) - _MARGIN
        stop_after = _wall(window_end, zone) + _MARGIN
        walls: Iterable[datetime] | None = simple_walls(
            local0, rule, until=bound, start_from=start_from, stop_after=stop_after
        )
        if walls is None:
            walls = iterate(
                local0, rule, date_only=all_day, until=bound, start_from=start_from,
                stop_after=stop_after,
            )
        lo = window_start - span
        plain: list[datetime] = []
        for wall in walls:
            inst = wall.replace(tzinfo=zone).astimezone(UTC)
            if (
                inst < window_end
                and (inst > lo if span else inst >= window_start)
                and (until_exact is None or inst <= until_exact)
                and inst not in ex
            ):
                plain.append(inst)
                if len(plain) > limit:
                    if not cut:
                        raise ExpansionLimitError(limit)
                    break
        if not out and isinstance(rdates, (tuple, list)) and not rdates:
            return plain if _ascending(plain) else sorted(set(plain))
        out.update(plain)
    for r in rdates:
        inst = r.astimezone(UTC)
        if wanted(inst):
            out.add(inst)
    if len(out) > limit and not cut:
        raise ExpansionLimitError(limit)
    return sorted(out)[: limit + 1]


def expand_capped(
    dtstart: datetime,
    rule: RecurrenceRule | str | None,
    *,
    limit: int = DEFAULT_EXPANSION_LIMIT,
    **window: Any,
) -> tuple[list[datetime], bool]:
    """``expand`` that never fails on the limit: (the ``limit`` earliest starts, whether
    more exist in the window).  What reads use, so one series that repeats too often
    (e.g. FREQ=SECONDLY stored by an older release) cannot fail a whole diary.

    The iterator stops at ``limit + 1`` instants, so a dense rule costs no more than the
    limit.  ``window`` takes the other keyword arguments of ``expand``.
    """
    found = expand(dtstart, rule, limit=limit, cut=True, **window)
    if len(found) > limit:
        return found[:limit], True
    return found, False


def _rule_instants_before(dtstart: datetime, rule: RecurrenceRule, at: datetime) -> int:
    """Count the instances the rule itself produces before the instant ``at``."""
    zone = dtstart.tzinfo
    assert zone is not None
    until_exact = _until_instant(rule, zone, False)
    n = 0
    for wall in iterate(
        dtstart.replace(tzinfo=None),
        rule,
        until=local_until(rule, zone),
        stop_after=_wall(at, zone) + _MARGIN,
    ):
        inst = _instant(wall, zone)
        if inst >= at or (until_exact is not None and inst > until_exact):
            break
        n += 1
    return n


def split_rule(
    dtstart: datetime, rule: RecurrenceRule, at: datetime, *, all_day: bool = False
) -> tuple[RecurrenceRule | None, RecurrenceRule]:
    """Split a series for "this and all following" at the occurrence starting at ``at``.

    Returns ``(rule_before, rule_from)``: the old series ends before ``at`` (UNTIL one
    second before it, in UTC, or a reduced COUNT; ``None`` when nothing is left before
    ``at``) and the new series, starting at ``at``, keeps the remaining COUNT if any.
    """
    _check_aware("dtstart", dtstart)
    _check_aware("at", at)
    at = at.astimezone(UTC)
    if at <= dtstart.astimezone(UTC):
        return None, rule
    if rule.count is not None:
        n = _rule_instants_before(dtstart, rule, at)
        if n >= rule.count:
            raise RecurrenceError("the series has no occurrences left at the split point")
        before = replace(rule, count=n) if n > 0 else None
        return before, replace(rule, count=rule.count - n)
    if all_day:
        day = _wall(at, dtstart.tzinfo or UTC).date() - timedelta(days=1)
        before_until: datetime | date = day
    else:
        before_until = at - timedelta(seconds=1)
    return replace(rule, until=before_until, count=None), rule


def is_occurrence(
    dtstart: datetime,
    rule: RecurrenceRule | str | None,
    rdates: Iterable[datetime],
    exdates: Iterable[datetime],
    candidate: datetime,
    *,
    all_day: bool = False,
) -> bool:
    """Whether an occurrence of the series starts exactly at the instant ``candidate``."""
    _check_aware("candidate", candidate)
    hits = expand(
        dtstart,
        rule,
        rdates=rdates,
        exdates=exdates,
        window_start=candidate,
        window_end=candidate + timedelta(seconds=1),
        all_day=all_day,
    )
    return bool(hits) and hits[0] == candidate.astimezone(UTC)
