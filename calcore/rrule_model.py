"""The recurrence rule value (RFC 5545 section 3.3.10) and the recurrence errors.

Owns ``RecurrenceRule``, the frequency and weekday vocabularies and the exception types;
parsing lives in ``rrule_parse``, expansion in ``rrule_expand``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum


class RecurrenceError(ValueError):
    """A recurrence rule is invalid or cannot be expanded; the message says why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ExpansionLimitError(RecurrenceError):
    """One expansion would produce more occurrences than the configured limit."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"the recurrence expands to more than {limit} occurrences in the requested "
            f"window (limit {limit}); ask for a shorter window"
        )
        self.limit = limit


class Freq(str, Enum):
    """The FREQ rule part (RFC 5545 section 3.3.10)."""

    SECONDLY = "SECONDLY"
    MINUTELY = "MINUTELY"
    HOURLY = "HOURLY"
    DAILY = "DAILY"
    WEEKLY = "WEEKLY"
    MONTHLY = "MONTHLY"
    YEARLY = "YEARLY"


#: RFC 5545 weekday codes in Python's ``date.weekday()`` order (Monday is 0).
WEEKDAYS: tuple[str, ...] = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")

#: Frequencies ordered from the shortest period to the longest.
FREQ_ORDER: tuple[Freq, ...] = (
    Freq.SECONDLY,
    Freq.MINUTELY,
    Freq.HOURLY,
    Freq.DAILY,
    Freq.WEEKLY,
    Freq.MONTHLY,
    Freq.YEARLY,
)


@dataclass(frozen=True)
class RecurrenceRule:
    """One RRULE value; weekdays are 0 (Monday) .. 6 (Sunday).

    ``until`` is an aware UTC datetime (``UNTIL=...Z``), a naive datetime (floating
    ``UNTIL``, used with floating DTSTART) or a ``date`` (all-day series).  ``byday``
    holds ``(ordinal or None, weekday)`` pairs, e.g. ``(-1, 4)`` for "last Friday".
    """

    freq: Freq
    interval: int = 1
    count: int | None = None
    until: datetime | date | None = None
    byday: tuple[tuple[int | None, int], ...] = ()
    bymonthday: tuple[int, ...] = ()
    bymonth: tuple[int, ...] = ()
    byyearday: tuple[int, ...] = ()
    byweekno: tuple[int, ...] = ()
    byhour: tuple[int, ...] = ()
    byminute: tuple[int, ...] = ()
    bysecond: tuple[int, ...] = ()
    bysetpos: tuple[int, ...] = ()
    wkst: int = 0

    @property
    def is_bounded(self) -> bool:
        """Whether the rule ends (COUNT or UNTIL)."""
        return self.count is not None or self.until is not None

    @property
    def has_by_parts(self) -> bool:
        """Whether any BY* part other than BYSETPOS is present."""
        return bool(
            self.byday
            or self.bymonthday
            or self.bymonth
            or self.byyearday
            or self.byweekno
            or self.byhour
            or self.byminute
            or self.bysecond
        )
