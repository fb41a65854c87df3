"""Which iMIP mails a change needs, queued in the outbox inside the change's transaction.

Owns the sending rules of issue 6, per participant with the e-mail switch on (never the
organiser): a REQUEST when invited (or switched on), a new REQUEST with the bumped
SEQUENCE on a significant change (time, recurrence, location; RFC 5546 section 2.1.4,
decided by ``calcore.itip.significant_changes``), a REQUEST with the same SEQUENCE when
only the title, the agenda or the attendee list changed (RFC 5546 section 2.1.5 allows
an update without a bump for non-significant changes; debounced by
MAIL_UPDATE_DEBOUNCE_SECONDS so that a burst of edits becomes one mail), a CANCEL when
the meeting is deleted or the participant removed, and a CANCEL with RECURRENCE-ID for
each occurrence deleted from a series (section 3.2.5).  Messages are composed by
``mail.compose`` from the snapshots of ``orm.snapshots``; nothing here talks to
the network.

Order per recipient (issue 16): the worker sends one meeting's mails to one recipient in
queue order, and a queued mail that a newer one makes obsolete is never sent: a new mail
for the whole meeting supersedes every older unsent REQUEST/CANCEL to that recipient; one
for an occurrence (RECURRENCE-ID) supersedes the older ones for that occurrence
(``supersede``; the rows become SUPERSEDED, visible in ``mailDelivery``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import Message

from tortoise.expressions import Q

from calcore import itip
from calcore.model import Attendee, EventSnapshot
from config.settings import Settings
from mail.compose import CalendarCache, Rendered, render_invitation
from mail.reply_links import reply_links
from orm import changes
from orm import models as m
from orm.changes import Change
from orm.outbox import utcnow
from orm.outbox_models import MailOutbox, MailStatus
from orm.preferences import PreferenceKey
from orm.snapshots import SnapshotRows


@dataclass(frozen=True)
class Planned:
    """One mail to queue: to whom, which METHOD, from which snapshot."""

    followup_id: int
    participant_id: int | None
    email: str
    method: str
    snapshot: EventSnapshot
    changed: frozenset[str] = frozenset()
    recurrence_id: datetime | None = None
    debounce: bool = False


#: Non-significant changes the invitees are told of (their copy would be wrong otherwise).
UPDATES = frozenset({"title", "description", "attendees"})


class MailHandler:
    """The ``orm.changes`` handler that queues invitation mails."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def __call__(self, change: Change) -> None:
        if not self.settings.mail_configured:
            return
        plans = await plan(change)
        if plans:
            # a new follow-up's id is new (never reused), so no unsent mail can be its
            await queue(plans, self.settings, change.after_rows, fresh=change.before is None)


def install(settings: Settings) -> MailHandler:
    """Register the mail handler for ``settings``, replacing one registered before.

    With SMTP unconfigured no handler stays registered, so mutations pay nothing.
    """
    uninstall()
    handler = MailHandler(settings)
    if settings.mail_configured:
        changes.register(handler)
    return handler


def uninstall() -> None:
    """Remove every mail handler (tests and app factories call ``install`` again)."""
    changes.HANDLERS[:] = [h for h in changes.HANDLERS if not isinstance(h, MailHandler)]


def _is_organiser(snapshot: EventSnapshot | None, email: str) -> bool:
    org = snapshot.organizer if snapshot else None
    return org is not None and itip.same_address(org.email, email)


def _cancelled_occurrences(before: EventSnapshot, after: EventSnapshot) -> list[datetime]:
    """Return the occurrences newly excluded when nothing else about the rule changed."""
    if itip._norm_rule(before.rrule) != itip._norm_rule(after.rrule) or not after.rrule:
        return []
    if set(before.rdates) != set(after.rdates) or before.tzid != after.tzid:
        return []
    if (before.start, before.end, before.due) != (after.start, after.end, after.due):
        return []
    return sorted(set(after.exdates) - set(before.exdates))


async def plan(change: Change) -> list[Planned]:
    """Return the mails one change needs (pure rules over the before/after state)."""
    before, after, fid = change.before, change.after, change.followup_id
    was = {pid: (email, flag) for pid, email, flag in change.participants_before}
    if after is None:
        if before is None or before.organizer is None:
            return []
        gone = itip.cancelled(before)
        return [
            Planned(fid, pid, email, itip.CANCEL, gone)
            for pid, (email, flag) in was.items()
            if flag and email and not _is_organiser(before, email)
        ]
    if after.organizer is None:
        return []
    if change.after_rows is not None:  # the participants the snapshot was built from
        rows = list(change.after_rows.participants)
    else:
        rows = await m.Participant.filter(followup_id=change.followup_id).order_by("id")
    now_ids = {p.id for p in rows}
    out: list[Planned] = []
    for pid, (email, flag) in was.items():
        if pid not in now_ids and flag and email and not _is_organiser(after, email):
            out.append(Planned(fid, pid, email, itip.CANCEL, after))
    significant = itip.significant_changes(before, after) if before is not None else set()
    dropped = _cancelled_occurrences(before, after) if before is not None else []
    everything = itip.changes(before, after) if before is not None else set()
    for p in rows:
        if p.organiser or not p.email_invitation or not p.email:
            continue
        if _is_organiser(after, p.email):
            continue
        old = was.get(p.id)
        if before is None or old is None or not old[1]:
            out.append(Planned(fid, p.id, p.email, itip.REQUEST, after))
        elif dropped and significant <= {"recurrence", "occurrences"}:
            out += [
                Planned(fid, p.id, p.email, itip.CANCEL, after, recurrence_id=r) for r in dropped
            ]
        elif significant:
            out.append(Planned(fid, p.id, p.email, itip.REQUEST, after, frozenset(everything)))
        elif everything & UPDATES:
            changed = frozenset(everything & UPDATES)
            out.append(Planned(fid, p.id, p.email, itip.REQUEST, after, changed, debounce=True))
    return out


def _recipient(snapshot: EventSnapshot, email: str) -> Attendee:
    for attendee in snapshot.attendees:
        if itip.same_address(attendee.email, email):
            return attendee
    return Attendee(email=email)


async def _preferences(
    plans: list[Planned], loaded: SnapshotRows | None = None
) -> tuple[str, dict[int, str]]:
    """The organiser's language and the time zone of each planned recipient who is an
    associate (others: unknown), in three queries for the whole change; in one with the
    rows the change's snapshot was built from (``loaded``: its participants, owner and
    associates)."""
    from orm.preferences import effective_for

    org = plans[0].snapshot.organizer
    if loaded is not None and loaded.owner_id in loaded.associates and org is not None:
        return await _loaded_preferences(plans, loaded)
    ids = [p.participant_id for p in plans if p.participant_id is not None]
    parts = (
        await m.Participant.filter(id__in=ids, associate_id__isnull=False).values_list(
            "id", "associate_id"
        )
        if ids
        else []
    )
    wanted = Q(id__in=[a for _, a in parts]) if parts else Q(id__in=[])
    if org is not None:
        wanted |= Q(email=org.email)
    people = await m.Associate.filter(wanted).order_by("id")
    prefs = await effective_for(people) if people else {}
    owner = next((a for a in people if org is not None and a.email == org.email), None)
    values = prefs.get(owner.id) if owner is not None else None
    language = values[PreferenceKey.LANGUAGE].value if values else "en"
    zones = {pid: prefs[aid][PreferenceKey.TIME_ZONE].value for pid, aid in parts if aid in prefs}
    return language, zones


async def _loaded_preferences(
    plans: list[Planned], loaded: SnapshotRows
) -> tuple[str, dict[int, str]]:
    """``_preferences`` from the rows the snapshot was built from: one query."""
    from orm.preferences import effective_for

    planned = {p.participant_id for p in plans}
    parts: list[tuple[int, int]] = [
        (p.id, p.associate_id)
        for p in loaded.participants
        if p.id in planned and p.associate_id is not None and p.associate_id in loaded.associates
    ]
    owner = loaded.associates[loaded.owner_id]
    people = [owner, *(loaded.associates[a] for _, a in parts if a != owner.id)]
    prefs = await effective_for(people)
    zones = {pid: prefs[aid][PreferenceKey.TIME_ZONE].value for pid, aid in parts}
    return prefs[owner.id][PreferenceKey.LANGUAGE].value, zones


def compose(
    p: Planned,
    settings: Settings,
    language: str,
    zone: str | None = None,
    *,
    dtstamp: datetime | None = None,
    calendars: CalendarCache | None = None,
) -> Rendered:
    """Compose the mail of one plan, with signed reply links on a REQUEST.

    Times are written in ``zone`` (the recipient's, when known), else the meeting's;
    ``calendars`` with one ``dtstamp`` shares the calendar part between the recipients.
    """
    recipient = _recipient(p.snapshot, p.email)
    links = None
    if p.method == itip.REQUEST and settings.secret_key:
        links = reply_links(
            f"{settings.base_url}/reply/",
            settings.secret_key.reveal().encode(),
            p.snapshot.uid,
            p.email,
            utcnow() + timedelta(days=settings.reply_link_days),
        )
    return render_invitation(
        p.snapshot,
        p.method,
        recipient,
        organizer_language=language,
        recipient_tz=zone,
        changes=p.changed,
        reply_links=links,
        message_id_domain=settings.mail_from_domain,
        recurrence_id=p.recurrence_id,
        dtstamp=dtstamp,
        calendars=calendars,
    )


SUPERSEDABLE = (itip.REQUEST, itip.CANCEL)


def _unsent(now: datetime) -> Q:
    """Queued rows no live worker holds (never claimed, or the lease ran out)."""
    free = Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
    return Q(free, status=MailStatus.QUEUED)


def supersedes(newer_rid: datetime | None, older_rid: datetime | None) -> bool:
    """Tell whether a newer mail makes an older one obsolete (same meeting and recipient)."""
    return newer_rid is None or newer_rid == older_rid


async def supersede(
    followup_id: int,
    recipient: str,
    recurrence_id: datetime | None,
    now: datetime,
    candidates: list[MailOutbox] | None = None,
) -> list[MailOutbox]:
    """Mark the unsent mails a new one for this recipient makes obsolete; return them.

    ``candidates`` are the unsent rows of the meeting already loaded (``queue`` loads
    them once per change); without them they are queried.
    """
    if candidates is None:
        candidates = list(
            await MailOutbox.filter(
                _unsent(now),
                followup_id=followup_id,
                recipient=recipient,
                method__in=SUPERSEDABLE,
            )
        )
    old = [
        r
        for r in candidates
        if r.followup_id == followup_id
        and r.recipient == recipient
        and r.method in SUPERSEDABLE
        and supersedes(recurrence_id, r.recurrence_id)
    ]
    if old:
        await MailOutbox.filter(_unsent(now), id__in=[r.id for r in old]).update(
            status=MailStatus.SUPERSEDED,
            last_error="superseded by a newer mail",
            claimed_by=None,
            claimed_until=None,
        )
        for r in old:
            candidates.remove(r)
    return old


async def enqueue(
    message: Message | Rendered,
    *,
    followup_id: int,
    participant_id: int | None,
    uid: str,
    method: str,
    sequence: int,
    recipient: str,
    settings: Settings,
    recurrence_id: datetime | None = None,
    delay: float = 0.0,
    unsent: list[MailOutbox] | None = None,
    save: bool = True,
) -> MailOutbox:
    """Write one outbox row holding the whole message (sent later by the worker).

    With ``save=False`` the row is returned unsaved (``queue`` inserts a change's rows in
    one statement).

    A REQUEST or CANCEL supersedes the older unsent mails it makes obsolete and takes over
    the earliest due time among them, so a burst of edits becomes one mail sent no later
    than the first of the burst would have been; ``delay`` not-before-dates the row (the
    debounce of non-significant updates).
    """
    if isinstance(message, Rendered):
        text, message_id, author = message.text, message.message_id, message.sender
    else:
        text, message_id = message.as_string(), str(message["Message-ID"]).strip()
        author = _address(str(message["From"]))
    sender = settings.mail_envelope_from or author
    now = utcnow()
    due = now + timedelta(seconds=delay)
    if method in SUPERSEDABLE:
        for old in await supersede(followup_id, recipient, recurrence_id, now, unsent):
            due = min(due, max(old.next_attempt_at, now))
    row = MailOutbox(
        next_attempt_at=due,
        followup_id=followup_id,
        participant_id=participant_id,
        uid=uid,
        method=method,
        sequence=sequence,
        recurrence_id=recurrence_id,
        sender=sender,
        recipient=recipient,
        message_id=message_id,
        message=text,
    )
    if save:
        await row.save()
    return row


def _address(header: str) -> str:
    from email.utils import parseaddr

    return parseaddr(header)[1]


async def queue(
    plans: list[Planned],
    settings: Settings,
    loaded: SnapshotRows | None = None,
    *,
    fresh: bool = False,
) -> list[MailOutbox]:
    """Compose and queue every planned mail (same transaction as the change, one INSERT).

    ``loaded``: the rows the plans' snapshot was built from (saves reading them again);
    ``fresh``: the follow-up was just created, so it has no unsent mails to supersede."""
    language, zones = await _preferences(plans, loaded)
    unsent: list[MailOutbox] = []
    if not fresh:  # what ``supersede`` reads of the meeting's unsent mails
        unsent = list(
            await MailOutbox.filter(
                _unsent(utcnow()),
                followup_id__in={p.followup_id for p in plans},
                method__in=SUPERSEDABLE,
            ).only("id", "followup_id", "recipient", "method", "recurrence_id", "next_attempt_at")
        )
    rows: list[MailOutbox] = []
    stamp, calendars = utcnow().replace(microsecond=0), CalendarCache()
    for p in plans:
        snapshot = p.snapshot
        zone = zones.get(p.participant_id) if p.participant_id is not None else None
        message = compose(p, settings, language, zone, dtstamp=stamp, calendars=calendars)
        rows.append(
            await enqueue(
                message,
                followup_id=p.followup_id,
                participant_id=p.participant_id,
                uid=snapshot.uid,
                method=p.method,
                sequence=snapshot.sequence,
                recipient=p.email,
                settings=settings,
                recurrence_id=p.recurrence_id,
                delay=settings.mail_update_debounce_seconds if p.debounce else 0.0,
                unsent=unsent,
                save=False,
            )
        )
    await MailOutbox.bulk_create(rows)
    return rows
