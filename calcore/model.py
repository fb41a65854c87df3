"""Neutral, storage-free description of a follow-up as a calendar component.

Everything in ``calcore`` works on these frozen dataclasses: the ORM layer turns a
follow-up row (with its participants, bookings and overrides) into an ``EventSnapshot``,
and the builders turn a snapshot into an ``icalendar.Calendar`` (RFC 5545), the iTIP
builders wrap it in a METHOD (RFC 5546), and the importer does the reverse.

All datetimes are timezone-aware.  ``start``/``end``/``due`` are in UTC; ``tzid`` is the
owner's IANA zone in which recurrence rules are evaluated (wall clock).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum


class Kind(str, Enum):
    """What a follow-up is; decides VEVENT or VTODO."""

    MEETING = "MEETING"
    TASK = "TASK"
    CALL = "CALL"


class PartStat(str, Enum):
    """Participation status of an attendee (RFC 5545 section 3.2.12)."""

    NEEDS_ACTION = "NEEDS-ACTION"
    ACCEPTED = "ACCEPTED"
    TENTATIVE = "TENTATIVE"
    DECLINED = "DECLINED"
    DELEGATED = "DELEGATED"


class CuType(str, Enum):
    """Calendar user type of an attendee (RFC 5545 section 3.2.3)."""

    INDIVIDUAL = "INDIVIDUAL"
    ROOM = "ROOM"
    RESOURCE = "RESOURCE"


@dataclass(frozen=True)
class Person:
    """A calendar user: an e-mail address and an optional display name."""

    email: str
    name: str | None = None


@dataclass(frozen=True)
class Attendee:
    """One ATTENDEE line of a calendar object."""

    email: str
    name: str | None = None
    partstat: PartStat = PartStat.NEEDS_ACTION
    role: str = "REQ-PARTICIPANT"
    rsvp: bool = True
    cutype: CuType = CuType.INDIVIDUAL


@dataclass(frozen=True)
class EventSnapshot:
    """A follow-up (or one overridden occurrence of a series) as calendar data.

    ``recurrence_id`` is set only on overrides: the original start (UTC) of the
    occurrence they replace.  ``overrides`` is set only on a series master.
    """

    uid: str
    kind: Kind
    title: str
    start: datetime | None = None
    end: datetime | None = None
    due: datetime | None = None
    tzid: str = "UTC"
    sequence: int = 0
    description: str = ""
    location: str | None = None
    organizer: Person | None = None
    attendees: tuple[Attendee, ...] = ()
    transparent: bool = False
    private: bool = False
    alarm_minutes: int | None = None
    categories: tuple[str, ...] = ()
    url: str | None = None
    done: bool = False
    completed_at: datetime | None = None
    cancelled: bool = False
    rrule: str | None = None
    rdates: tuple[datetime, ...] = ()
    exdates: tuple[datetime, ...] = ()
    recurrence_id: datetime | None = None
    overrides: tuple[EventSnapshot, ...] = field(default=())
    created: datetime | None = None
    last_modified: datetime | None = None
    #: DATE (all-day) values: ``start``/``end`` are midnights in ``tzid``, converted to UTC.
    all_day: bool = False
    #: An override given with ``RECURRENCE-ID;RANGE=THISANDFUTURE`` (RFC 5545 section
    #: 3.2.13): its time shift and properties apply to all later occurrences too.
    this_and_future: bool = False
