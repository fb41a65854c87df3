"""All-day follow-ups: dates instead of times, in the owner's time zone.

Owns the mapping between the dates a client gives or reads and the stored columns.  An
all-day row (``FollowUp.all_day``) stores ``start_at``/``end_at``/``deadline`` as the UTC
instants of local midnights in the row's ``tzid`` (the owner's zone), the end exclusive
(as RFC 5545 ``DTEND;VALUE=DATE``).  The API speaks dates: ``startDate``, ``endDate``
(inclusive: the last day, as calendar apps show it) and ``deadlineDate``; ``start``/``end``/
``deadline`` given for an all-day item count by the date they are written with (an end at
exactly midnight is exclusive, as an instant would be).  Day arithmetic is done on dates,
never on durations, so a day stays a day across DST.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from orm import models as m
from orm.occurrences import Span, local_date
from resolvers import followup_rules as rules
from resolvers.errors import ValidationFailed

#: input keys (model names) and their GraphQL paths
DATE_KEYS = {"start_date": "startDate", "end_date": "endDate", "deadline_date": "deadlineDate"}
_TIME_KEYS = {"start_at": "start", "end_at": "end", "deadline": "deadline"}
_ONE_DAY = timedelta(days=1)
_TINY = timedelta(microseconds=1)


def midnight(day: date, tzid: str, path: str = "startDate") -> datetime:
    """The UTC instant at which ``day`` begins in ``tzid`` (a missing midnight resolves
    forward by the gap, RFC 5545 section 3.3.5)."""
    try:
        local = datetime.combine(day, time()).replace(tzinfo=ZoneInfo(tzid))
        utc = local.astimezone(UTC)
    except OverflowError:
        raise ValidationFailed(path, f"{path} must be between 1900 and 2200") from None
    checked = rules.aware(utc, path)
    assert checked is not None
    return checked


def _written(value: datetime | None, path: str) -> date | None:
    """The date a time was written with (its own offset), for an all-day item."""
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValidationFailed(path, f"{path} needs a UTC offset, e.g. 2026-03-02T00:00:00Z")
    return value.date()


def _written_end(value: datetime | None) -> date | None:
    """The exclusive end date of an end time: its date, the next one unless at midnight."""
    day = _written(value, "end")
    if day is None or value is None:
        return None
    return day if value.timetz().replace(tzinfo=None) == time() else day + _ONE_DAY


def take(data: dict[str, Any], all_day: bool) -> dict[str, date | None]:
    """Pop the dates of an all-day item from ``data``: keys start, end (exclusive), deadline.

    Absent keys are absent from the answer; null clears.  For an item that is not all-day,
    a date field is a ``ValidationFailed`` (it needs ``allDay: true``).
    """
    dates = {key: data.pop(key) for key in list(DATE_KEYS) if key in data}
    if not all_day:
        if dates:
            path = DATE_KEYS[next(iter(dates))]
            raise ValidationFailed(path, f"{path} needs allDay: true")
        return {}
    for key, path in DATE_KEYS.items():
        time_key = {"start_date": "start_at", "end_date": "end_at"}.get(key, "deadline")
        if key in dates and time_key in data and data.pop(time_key) is not None:
            raise ValidationFailed(path, f"give {path} or {_TIME_KEYS[time_key]}, not both")
    given: dict[str, date | None] = {}
    if "start_date" in dates:
        given["start"] = dates["start_date"]
    elif "start_at" in data:
        given["start"] = _written(data.pop("start_at"), "start")
    if "end_date" in dates:
        last = dates["end_date"]
        given["end"] = None if last is None else last + _ONE_DAY
    elif "end_at" in data:
        given["end"] = _written_end(data.pop("end_at"))
    if "deadline_date" in dates:
        given["deadline"] = dates["deadline_date"]
    elif "deadline" in data:
        given["deadline"] = _written(data.pop("deadline"), "deadline")
    return given


def _days_of(timing: rules.Timing, tzid: str, was_all_day: bool) -> list[date | None]:
    """[start, exclusive end, deadline] dates of stored times (timed ones: the days touched)."""
    start = local_date(timing.start, tzid) if timing.start else None
    deadline = local_date(timing.deadline, tzid) if timing.deadline else None
    end = None
    if timing.end is not None:
        end = local_date(timing.end if was_all_day else timing.end - _TINY, tzid)
        end = end if was_all_day else end + _ONE_DAY
        if start is not None and end <= start:
            end = start + _ONE_DAY
    return [start, end, deadline]


def timing(
    kind: m.Kind,
    given: dict[str, date | None],
    tzid: str,
    old: rules.Timing | None = None,
    was_all_day: bool = False,
) -> rules.Timing:
    """The stored timing of an all-day item of ``kind``: ``old`` converted and moved by
    ``given`` in whole days (a moved start keeps the number of days)."""
    if kind is m.Kind.CALL:
        raise ValidationFailed("allDay", "a call cannot be all-day; make it a meeting or a task")
    start, end, deadline = _days_of(old, tzid, was_all_day) if old else [None, None, None]
    if old is not None and kind is not old.kind:
        if kind is m.Kind.MEETING and start is None:
            start, end = deadline, None
        if kind is m.Kind.TASK and deadline is None:
            deadline = end - _ONE_DAY if end is not None else start
        if kind is m.Kind.MEETING:
            deadline = None
    if "start" in given:
        new = given["start"]
        if "end" not in given and new is not None and start is not None and end is not None:
            end = new + (end - start)
        start = new
    end = given.get("end", end)
    deadline = given.get("deadline", deadline)
    if start is not None and end is None:
        end = start + _ONE_DAY
    if end is not None and start is None:
        raise ValidationFailed("endDate", "an end needs a start")
    if start is not None and end is not None and end <= start:
        raise ValidationFailed("endDate", "endDate must not be before startDate")
    return rules.Timing(
        kind,
        midnight(start, tzid, "startDate") if start else None,
        midnight(end, tzid, "endDate") if end else None,
        midnight(deadline, tzid, "deadlineDate") if deadline else None,
    )


def busy_default(all_day: bool, setting: bool) -> bool:
    """Busy unless told: all-day items are free (``ALL_DAY_BUSY_DEFAULT`` flips it)."""
    return setting if all_day else True


def whole_day_instants(values: Iterable[datetime], tzid: str) -> list[datetime]:
    """RDATEs/EXDATEs of an all-day series moved to the midnight of their local date."""
    return [midnight(local_date(v, tzid), tzid, "recurrence") for v in values]


def series_end(row_end: datetime | None, duration: timedelta, tzid: str, days: int) -> Any:
    """``series_end`` of an all-day series: the last start plus whole days, not hours."""
    if row_end is None:
        return None
    last_start = row_end - duration
    return midnight(local_date(last_start, tzid) + timedelta(days=days), tzid, "recurrence")


def output(
    row: m.FollowUp, start: datetime | None, end: datetime | None, deadline: datetime | None
) -> dict[str, date | None]:
    """``startDate``, ``endDate`` (inclusive) and ``deadlineDate`` of an all-day item."""
    if not row.all_day:
        return {"start_date": None, "end_date": None, "deadline_date": None}
    first = local_date(start, row.tzid) if start else None
    after = local_date(end, row.tzid) if end else None
    return {
        "start_date": first,
        "end_date": max(after - _ONE_DAY, first) if after and first else after,
        "deadline_date": local_date(deadline, row.tzid) if deadline else None,
    }


def overdue_after(row: m.FollowUp, deadline: datetime) -> datetime:
    """When a follow-up due at ``deadline`` becomes overdue: an all-day one at day's end."""
    if not row.all_day:
        return deadline
    return midnight(local_date(deadline, row.tzid) + _ONE_DAY, row.tzid, "deadlineDate")


def shift_to_master(data: dict[str, Any], row: m.FollowUp, current: Span) -> None:
    """Dates given for one occurrence with scope ALL, moved onto the series' first one."""
    if not row.all_day:
        return
    now = output(row, current.start, current.end, current.deadline)
    master = output(row, row.start_at, row.end_at, row.deadline)
    for key in DATE_KEYS:
        value, was, first = data.get(key), now[key], master[key]
        if value is not None and was is not None and first is not None:
            data[key] = first + (value - was)


def moved_to(row: m.FollowUp, start: datetime, end: datetime | None) -> dict[str, Any]:
    """The input moving an all-day ``row`` to instants (a COUNTER's): their dates in the
    row's zone (DATE values read anywhere from UTC to the row's zone land on that day)."""
    first = local_date(start, row.tzid)
    fields: dict[str, Any] = {"start_date": first}
    if end is not None:
        last = local_date(end - _TINY, row.tzid)
        fields["end_date"] = max(first, last)
    return fields
