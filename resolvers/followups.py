"""Creating, changing, completing, calling and deleting follow-ups (one transaction each).

Input arrives as a dict of the fields the client gave (absent = unchanged), already
decoded from GraphQL; every rule is checked before anything is written.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from orm import changes, occurrences
from orm import models as m
from resolvers import all_day, bookings, series, text_input
from resolvers import followup_rules as rules
from resolvers.errors import Forbidden, NotFound, ValidationFailed, VersionConflict
from resolvers.preference_keys import PreferenceKey
from resolvers.preferences import effective_for
from resolvers.series import RecurrenceSpec
from resolvers.visibility import may_edit, sees_details

MAX_TITLE = 500
MAX_AGENDA = 20_000
MAX_LOCATION = 500
MAX_ALARM_MINUTES = 40_320
REFERENCES: dict[str, type[Any]] = {
    "type_id": m.ActivityType,
    "company_id": m.Company,
    "person_id": m.Person,
    "sale_id": m.Sale,
    "project_id": m.Project,
}
SIGNIFICANT = (
    "kind",
    "all_day",
    "start_at",
    "end_at",
    "deadline",
    "location",
    "rrule",
    "rdates",
    "exdates",
)
DEFAULT_LIMIT = 10_000


def now() -> datetime:
    return datetime.now(UTC)


def _text(
    data: dict[str, Any], key: str, limit: int, *, required: bool = False, lines: bool = False
) -> None:
    """Check one text field (``resolvers.text_input``: one line unless ``lines``)."""
    if key not in data:
        return
    value = (data[key] or "").strip()
    value = text_input.multi_line(value) if lines else text_input.single_line(value, key)
    if required and not value:
        raise ValidationFailed(key, f"{key} must not be empty")
    if len(value) > limit:
        raise ValidationFailed(key, f"{key} must be at most {limit} characters")
    data[key] = value


async def _check_references(data: dict[str, Any]) -> None:
    for key, model in REFERENCES.items():
        value = data.get(key)
        if value is not None and not await model.exists(id=value):
            raise NotFound(model.__name__, value, key.removesuffix("_id") + "Id")


async def owner_defaults(owner: m.Associate) -> tuple[int, int, str]:
    """The owner's meeting and call durations (minutes) and time zone, in one lookup."""
    prefs = (await effective_for([owner]))[owner.id]
    return (
        int(prefs[PreferenceKey.MEETING_DURATION].value),
        int(prefs[PreferenceKey.CALL_DURATION].value),
        prefs[PreferenceKey.TIME_ZONE].value,
    )


def _series_columns(
    spec: RecurrenceSpec, timing: rules.Timing, tzid: str, limit: int, whole_days: bool = False
) -> dict[str, Any]:
    anchor = timing.start or timing.deadline
    assert anchor is not None
    duration = timing.end - timing.start if timing.start and timing.end else timedelta(0)
    if not whole_days:
        return series.columns(spec, anchor, duration, tzid, limit)
    spec = RecurrenceSpec(
        spec.rule,
        all_day.whole_day_instants(spec.rdates, tzid),
        all_day.whole_day_instants(spec.exdates, tzid),
    )
    out = series.columns(spec, anchor, duration, tzid, limit)
    days = (all_day.local_date(anchor + duration, tzid) - all_day.local_date(anchor, tzid)).days
    out["series_end"] = all_day.series_end(out["series_end"], duration, tzid, days)
    return out


async def _owner(data: dict[str, Any], viewer: m.Associate) -> m.Associate:
    owner_id = data.get("owner_id") or viewer.id
    owner = await m.Associate.get_or_none(id=owner_id)
    if owner is None or not owner.active:
        raise NotFound("Associate", owner_id, "ownerId")
    return owner


def _check_scalars(data: dict[str, Any]) -> None:
    _text(data, "title", MAX_TITLE, required=True)
    _text(data, "agenda", MAX_AGENDA, lines=True)
    _text(data, "location", MAX_LOCATION)
    alarm = data.get("alarm_minutes")
    if alarm is not None and not 0 <= alarm <= MAX_ALARM_MINUTES:
        raise ValidationFailed("alarmMinutes", f"alarmMinutes must be 0..{MAX_ALARM_MINUTES}")
    for key in ("start_at", "end_at", "deadline"):
        if key in data:
            data[key] = rules.aware(data[key], {"start_at": "start", "end_at": "end"}.get(key, key))


def _columns(data: dict[str, Any], timing: rules.Timing, owner: m.Associate) -> dict[str, Any]:
    """The row columns: the given fields with the normalised timing and the owner."""
    columns = {k: v for k, v in data.items() if k not in ("kind", "owner_id")}
    columns.update(
        kind=timing.kind,
        start_at=timing.start,
        end_at=timing.end,
        deadline=timing.deadline,
        sort_at=rules.sort_time(timing),
        owner_id=owner.id,
    )
    return columns


#: the highest SEQUENCE taken over from outside: room below the 32-bit column for updates
MAX_SEQUENCE = 2**31 - 1 - 1_000_000


async def create(
    viewer: m.Associate,
    data: dict[str, Any],
    limit: int = DEFAULT_LIMIT,
    *,
    all_day_busy: bool = False,
    uid: str | None = None,
    tzid: str | None = None,
    sequence: int = 0,
) -> m.FollowUp:
    """Create a follow-up from the fields given; defaults from the owner's preferences.

    ``all_day_busy``: whether an all-day item is busy when no availability is given.
    ``uid``: the iCalendar UID to keep (an event made in a calendar app); else a new one.
    ``sequence``: the iCalendar SEQUENCE to go on from (that event's), so that our
    updates of it are newer than what its attendees already hold.
    ``tzid``: the IANA zone its times and rule are in (that event's TZID); else the
    owner's (all-day dates are always the owner's)."""
    if "title" not in data:
        raise ValidationFailed("title", "title must not be empty")
    whole_days = bool(data.get("all_day"))
    dates = all_day.take(data, whole_days)
    if whole_days:
        data.setdefault("busy", all_day.busy_default(True, all_day_busy))
    _check_scalars(data)
    await _check_references(data)
    owner = await _owner(data, viewer)
    kind = data.get("kind")
    if kind is None:
        activity_type = (
            await m.ActivityType.get_or_none(id=data["type_id"]) if data.get("type_id") else None
        )
        kind = activity_type.default_kind if activity_type else m.Kind.MEETING
    meeting, call, zone = await owner_defaults(owner)
    given = rules.Timing(kind, data.get("start_at"), data.get("end_at"), data.get("deadline"))
    timing = rules.normalise(
        all_day.timing(kind, dates, zone) if whole_days else given,
        meeting_minutes=meeting,
        call_minutes=call,
    )
    spec = data.pop("recurrence", None)
    fields = _columns(data, timing, owner)
    fields.update(uid=uid or f"{uuid.uuid4()}@followups", tzid=zone if whole_days else tzid or zone)
    fields["sequence"] = min(max(sequence, 0), MAX_SEQUENCE)
    if spec is not None:
        fields.update(_series_columns(spec, timing, fields["tzid"], limit, whole_days))
    if fields.get("done"):
        fields["done_at"] = now()
    row = await m.FollowUp.create(**fields)
    await changes.created(row.id)
    return row


async def editable(viewer: m.Associate, followup_id: int) -> m.FollowUp:
    """The follow-up, if the viewer may change it; NotFound if they may not even see it."""
    row = await m.FollowUp.get_or_none(id=followup_id)
    if row is None:
        raise NotFound("FollowUp", followup_id, "id")
    if not may_edit(viewer, row):
        participants = await m.Participant.filter(followup_id=row.id)
        if not sees_details(viewer, row, participants):
            raise NotFound("FollowUp", followup_id, "id")
        raise Forbidden("only the owner or an administrator may change this follow-up")
    return row


async def _save(row: m.FollowUp, version: int | None, changes: dict[str, Any]) -> m.FollowUp:
    """Write ``changes`` if the row is still at ``version`` (optimistic lock)."""
    expected = row.version if version is None else version
    if any(getattr(row, k) != v for k, v in changes.items() if k in SIGNIFICANT):
        changes["sequence"] = row.sequence + 1
    changes.update(version=expected + 1, updated_at=now())
    updated = await m.FollowUp.filter(id=row.id, version=expected).update(**changes)
    if not updated:
        current = await m.FollowUp.get(id=row.id)
        raise VersionConflict(current.version)
    return await m.FollowUp.get(id=row.id)


async def touch(row: m.FollowUp, version: int | None) -> m.FollowUp:
    """Bump the version of a follow-up whose participants or resources changed."""
    return await _save(row, version, {})


async def update(
    viewer: m.Associate,
    followup_id: int,
    version: int,
    data: dict[str, Any],
    limit: int = DEFAULT_LIMIT,
    *,
    all_day_busy: bool = False,
) -> m.FollowUp:
    """Change the given fields; a kind change converts the times (followup_rules.convert).

    Turning all-day on or off without an availability sets the default of the new form
    (``all_day.busy_default``); leaving all-day without an end gives the default length."""
    row = await editable(viewer, followup_id)
    if row.version != version:
        raise VersionConflict(row.version)
    whole_days = bool(data.get("all_day", row.all_day))
    dates = all_day.take(data, whole_days)
    if whole_days != row.all_day and "busy" not in data:
        data["busy"] = all_day.busy_default(whole_days, all_day_busy)
    _check_scalars(data)
    await _check_references(data)
    owner = (
        await _owner(data, viewer) if "owner_id" in data else await m.Associate.get(id=row.owner_id)
    )
    old = rules.Timing(row.kind, row.start_at, row.end_at, row.deadline)
    timing = rules.convert(old, data.get("kind") or row.kind)
    if "start_at" in data and "end_at" not in data and timing.kind is old.kind and not row.all_day:
        data["end_at"] = rules.move(old, data["start_at"])
    leaving = row.all_day and not whole_days and "end_at" not in data
    timing = rules.Timing(
        timing.kind,
        data.get("start_at", timing.start),
        None if leaving else data.get("end_at", timing.end),
        data.get("deadline", timing.deadline),
    )
    if whole_days:
        timing = all_day.timing(timing.kind, dates, row.tzid, old, row.all_day)
    meeting, call, _ = await owner_defaults(owner)
    timing = rules.normalise(timing, meeting_minutes=meeting, call_minutes=call)
    spec = data.pop("recurrence", None)
    changes = _columns(data, timing, owner)
    if spec is None and row.rrule is not None:
        spec = series.RecurrenceSpec(
            series.parse_rrule(row.rrule),
            [datetime.fromisoformat(v) for v in row.rdates],
            [datetime.fromisoformat(v) for v in row.exdates],
        )
    if spec is not None:
        changes.update(_series_columns(spec, timing, row.tzid, limit, whole_days))
    if "done" in changes and bool(changes["done"]) != row.done:  # as completeFollowUp does
        changes["done_at"] = now() if changes["done"] else None
    saved = await _save(row, version, changes)
    if saved.sequence != row.sequence:
        await bookings.recheck_bookings(saved)
    if saved.rrule is not None:
        await prune_overrides(saved)
    elif row.rrule is not None:
        await m.Occurrence.filter(series_id=row.id).delete()
    return saved


async def prune_overrides(row: m.FollowUp) -> None:
    """Drop overrides whose original start is no longer an occurrence of the series."""
    from zoneinfo import ZoneInfo

    from calcore.recurrence import is_occurrence

    local = occurrences.anchor(row).astimezone(ZoneInfo(row.tzid))
    rdates = [datetime.fromisoformat(v) for v in row.rdates]
    exdates = [datetime.fromisoformat(v) for v in row.exdates]
    stale = [
        o.id
        for o in await m.Occurrence.filter(series_id=row.id)
        if not is_occurrence(local, row.rrule, rdates, exdates, o.recurrence_id)
    ]
    if stale:
        await m.Occurrence.filter(id__in=stale).delete()


async def set_done(
    viewer: m.Associate, followup_id: int, done: bool, version: int | None
) -> m.FollowUp:
    """Mark done (with the time) or reopen."""
    row = await editable(viewer, followup_id)
    return await _save(row, version, {"done": done, "done_at": now() if done else None})


async def make_call(viewer: m.Associate, followup_id: int, version: int | None) -> m.FollowUp:
    """Make a planned call: it starts now and lasts the owner's call duration."""
    row = await editable(viewer, followup_id)
    if row.kind is not m.Kind.CALL:
        raise ValidationFailed("id", "only a call can be made")
    if row.start_at is not None:
        raise ValidationFailed("id", "this call has already been made")
    meeting, call, _ = await owner_defaults(await m.Associate.get(id=row.owner_id))
    timing = rules.normalise(
        rules.Timing(m.Kind.CALL, now(), None, row.deadline),
        meeting_minutes=meeting,
        call_minutes=call,
    )
    return await _save(
        row,
        version,
        {"start_at": timing.start, "end_at": timing.end, "sort_at": timing.start},
    )


async def delete(viewer: m.Associate, followup_id: int, version: int | None) -> None:
    row = await editable(viewer, followup_id)
    if version is not None and row.version != version:
        raise VersionConflict(row.version)
    await row.delete()
