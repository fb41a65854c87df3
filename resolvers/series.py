"""Recurrence input: turning a rule (text or fields) into validated series columns."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from calcore.recurrence import (
    ExpansionLimitError,
    RecurrenceError,
    RecurrenceRule,
    check_density,
    expand,
    format_rrule,
    parse_rrule,
    rule_from_fields,
    validate_rule,
)
from resolvers.errors import ValidationFailed
from resolvers.followup_rules import LATEST, aware


@dataclass(frozen=True)
class RecurrenceSpec:
    """A decoded recurrence input: ``rule`` None removes the recurrence."""

    rule: RecurrenceRule | None
    rdates: list[datetime] = field(default_factory=list)
    exdates: list[datetime] = field(default_factory=list)


def parse_spec(
    rrule: str | None,
    fields: dict[str, Any] | None,
    rdates: list[datetime],
    exdates: list[datetime],
) -> RecurrenceSpec:
    """Read a rule given as RRULE text or as structured fields (not both)."""
    if rrule and fields:
        raise ValidationFailed("recurrence", "give the rule as rrule text or as fields, not both")
    try:
        if rrule:
            if len(rrule) > 1000:
                raise ValidationFailed("recurrence.rrule", "rrule is too long")
            rule: RecurrenceRule | None = parse_rrule(rrule)
        elif fields:
            rule = rule_from_fields(**fields)
        else:
            rule = None
    except RecurrenceError as exc:
        path = "recurrence.rrule" if rrule else "recurrence"
        raise ValidationFailed(path, f"invalid recurrence rule: {exc}") from exc
    if rule is not None:
        try:
            check_density(rule)
        except RecurrenceError as exc:
            path = "recurrence.rrule" if rrule else "recurrence.freq"
            raise ValidationFailed(path, f"unsupported recurrence rule: {exc}") from exc
    extra = [_instant(v, "recurrence.rdates") for v in rdates]
    excluded = [_instant(v, "recurrence.exdates") for v in exdates]
    if len(extra) + len(excluded) > 1000:
        raise ValidationFailed("recurrence", "at most 1000 extra and excluded dates")
    return RecurrenceSpec(rule, extra, excluded)


def _instant(value: datetime, path: str) -> datetime:
    result = aware(value, path)
    assert result is not None
    return result


def columns(
    spec: RecurrenceSpec,
    anchor: datetime,
    duration: timedelta,
    tzid: str,
    limit: int,
) -> dict[str, Any]:
    """The FollowUp columns of a validated series (or of no series)."""
    if spec.rule is None:
        if spec.rdates or spec.exdates:
            raise ValidationFailed("recurrence", "extra or excluded dates need a rule")
        return {"rrule": None, "rdates": [], "exdates": [], "series_end": None}
    local = anchor.astimezone(ZoneInfo(tzid))
    try:
        validate_rule(spec.rule, local)
    except RecurrenceError as exc:
        raise ValidationFailed("recurrence", f"invalid recurrence rule: {exc}") from exc
    if spec.rule.count is not None and spec.rule.count > limit:
        raise ValidationFailed("recurrence", f"COUNT may be at most {limit}")
    return {
        "rrule": format_rrule(spec.rule),
        "rdates": sorted(d.isoformat() for d in spec.rdates),
        "exdates": sorted(d.isoformat() for d in spec.exdates),
        "series_end": series_end(spec, local, duration, limit),
    }


def series_end(
    spec: RecurrenceSpec, local_anchor: datetime, duration: timedelta, limit: int
) -> datetime | None:
    """When the last occurrence ends, or None for an unbounded series."""
    rule = spec.rule
    assert rule is not None
    if not rule.is_bounded:
        return None
    try:
        starts = expand(
            local_anchor,
            rule,
            rdates=spec.rdates,
            exdates=spec.exdates,
            window_start=local_anchor.astimezone(UTC),
            window_end=LATEST,
            limit=limit,
        )
    except ExpansionLimitError as exc:
        raise ValidationFailed(
            "recurrence", f"a series may have at most {limit} occurrences"
        ) from exc
    if not starts:
        raise ValidationFailed("recurrence", "the rule gives no occurrence at all")
    return starts[-1] + duration
