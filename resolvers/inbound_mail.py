"""Replies coming back: iMIP REPLY/COUNTER, delivery failures, and reply-link answers.

Owns applying what ``mail.inbound`` parsed and ``mail.replies`` decided to the stored
meeting: a PARTSTAT for the whole meeting (the participant's status) or for one
occurrence (a status history entry with its RECURRENCE-ID), stale replies ignored, a
COUNTER stored as a ``Proposal``, a bounce of our own mail marking that delivery failed.
Every entry point (HTTP, CLI, GraphQL) runs ``receive`` inside one transaction; each
outcome (``mail.outcomes``) says what happened and, when refused, why.  The IMAP intake
gets ``receive_in_mailbox`` from ``app`` at start-up.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from icalendar import Calendar
from tortoise.transactions import in_transaction

from calcore.itip import normalize_address
from calcore.model import PartStat
from mail import replies
from mail.inbound import Bounce, MailParseError, parse_message
from mail.outcomes import APPLIED, BOUNCE, IGNORED, PROPOSAL, REJECTED, Outcome
from mail.reply_links import ReplyClaims
from orm import changes, live, occurrences
from orm import models as m
from orm.outbox import utcnow
from orm.outbox_models import MailOutbox, MailReply, MailStatus, Proposal
from resolvers.enums import InboundOutcomeCode as Code
from resolvers.enums import StatusVia
from resolvers.errors import DomainError, Forbidden

__all__ = [
    "APPLIED",
    "BOUNCE",
    "IGNORED",
    "PROPOSAL",
    "REJECTED",
    "Outcome",
    "answer_by_link",
    "receive",
    "receive_in_mailbox",
]
STATUS = {
    PartStat.NEEDS_ACTION: m.ParticipantStatus.INVITED,
    PartStat.ACCEPTED: m.ParticipantStatus.ACCEPTED,
    PartStat.TENTATIVE: m.ParticipantStatus.TENTATIVE,
    PartStat.DECLINED: m.ParticipantStatus.DECLINED,
}


def _reject(code: Code, reason: str, followup_id: int | None = None) -> Outcome:
    return Outcome(REJECTED, reason, code.value, followup_id)


async def receive(
    raw: bytes,
    *,
    max_bytes: int,
    via: StatusVia = StatusVia.EMAIL,
    viewer: m.Associate | None = None,
) -> list[Outcome]:
    """Process one raw RFC 5322 message; ``viewer`` (GraphQL) must organise or be admin."""
    try:
        msg = parse_message(raw, max_bytes=max_bytes)
    except MailParseError as exc:
        return [_reject(Code.UNREADABLE, exc.reason)]
    if msg.bounce is not None:
        return await bounced(msg.bounce, viewer)
    if not msg.itip:
        if msg.calendars:
            return [
                _reject(
                    Code.NOT_ITIP,
                    "the calendar is not a scheduling message (no METHOD)",
                )
            ]
        return [_reject(Code.NO_CALENDAR, "the message carries no iCalendar part")]
    out: list[Outcome] = []
    for found in msg.itip:
        out += await respond(found.calendar, msg.sender or "", via=via, viewer=viewer)
    return out


async def receive_in_mailbox(
    raw: bytes, max_bytes: int, viewer: m.Associate | None
) -> list[Outcome]:
    """``receive`` for a mailbox of the IMAP intake (``viewer``: the mailbox's associate).

    A refusal (a meeting the mailbox's associate does not organise) is a REJECTED outcome
    and rolls back what the message did; the intake records it and goes on.
    """
    try:
        async with in_transaction():
            return await receive(raw, max_bytes=max_bytes, viewer=viewer)
    except DomainError as exc:
        code = Code.FORBIDDEN if isinstance(exc, Forbidden) else Code.REFUSED
        return [_reject(code, str(exc))]


def _authorise(viewer: m.Associate | None, row: m.FollowUp) -> None:
    if viewer is not None and not viewer.is_admin and viewer.id != row.owner_id:
        raise Forbidden("only the organiser or an administrator may process this reply")


async def respond(
    calendar: Calendar, sender: str, *, via: StatusVia, viewer: m.Associate | None = None
) -> list[Outcome]:
    """Apply one REPLY or COUNTER calendar from ``sender``."""
    uid = replies.response_uid(calendar)
    row = await m.FollowUp.get_or_none(uid=uid) if uid else None
    if row is not None:
        _authorise(viewer, row)
    elif viewer is not None and not viewer.is_admin:
        raise Forbidden("only the organiser or an administrator may process this reply")
    meeting = await stored_meeting(row) if row is not None else None
    if row is not None and meeting is None:
        return [
            _reject(
                Code.NO_ORGANIZER,
                "the meeting's organiser has no e-mail address",
                row.id,
            )
        ]
    decisions = replies.decide(calendar, sender, meeting)
    if row is None:
        return [_outcome_of_reject(d) for d in decisions if isinstance(d, replies.Reject)]
    out: list[Outcome] = []
    async with changes.track(row.id):
        for decision in decisions:
            out.append(await _apply(row, decision, via))
    return out


def _outcome_of_reject(d: replies.Reject, fid: int | None = None) -> Outcome:
    return _reject(Code(d.code.value), d.reason, fid)


async def stored_meeting(row: m.FollowUp) -> replies.StoredMeeting | None:
    """Return the neutral view ``mail.replies.decide`` needs, None without organiser mail."""
    owner = await m.Associate.get(id=row.owner_id)
    if not owner.email:
        return None
    people = await m.Participant.filter(followup_id=row.id, organiser=False).order_by("id")
    stamps: dict[int, dict[datetime | None, replies.ReplyStamp]] = {}
    for r in await MailReply.filter(followup_id=row.id).order_by("id"):
        stamps.setdefault(r.participant_id, {})[r.recurrence_id] = replies.ReplyStamp(
            r.sequence, r.dtstamp
        )
    attendees = tuple(
        replies.StoredAttendee(p.email, stamps.get(p.id, {})) for p in people if p.email
    )
    overrides = frozenset(
        o.recurrence_id for o in await m.Occurrence.filter(series_id=row.id, cancelled=False)
    )
    return replies.StoredMeeting(
        uid=row.uid,
        sequence=row.sequence,
        organizer_email=owner.email,
        attendees=attendees,
        recurring=row.rrule is not None,
        override_ids=overrides,
        is_occurrence=_occurrence_test(row) if row.rrule else None,
        tzid=row.tzid,
    )


def _occurrence_test(row: m.FollowUp) -> Callable[[datetime], bool]:
    from calcore.recurrence import is_occurrence

    local = occurrences.anchor(row).astimezone(ZoneInfo(row.tzid))
    rdates = [datetime.fromisoformat(v) for v in row.rdates]
    exdates = [datetime.fromisoformat(v) for v in row.exdates]
    return lambda rid: is_occurrence(local, row.rrule, rdates, exdates, rid)


async def _participant(row: m.FollowUp, email: str) -> m.Participant | None:
    for p in await m.Participant.filter(followup_id=row.id, organiser=False):
        if p.email and normalize_address(p.email) == normalize_address(email):
            return p
    return None


async def _apply(row: m.FollowUp, d: replies.Decision, via: StatusVia) -> Outcome:
    if isinstance(d, replies.Reject):
        return _outcome_of_reject(d, row.id)
    p = await _participant(row, d.attendee_email)
    if p is None:  # decide() checked the invitation; the row vanished meanwhile
        return _reject(Code.NOT_INVITED, f"{d.attendee_email} is not invited", row.id)
    if isinstance(d, replies.IgnoreStale):
        return Outcome(
            IGNORED,
            d.reason,
            Code.STALE.value,
            row.id,
            p.id,
            recurrence_id=d.recurrence_id,
        )
    if isinstance(d, replies.CounterProposal):
        proposal = await Proposal.create(
            followup_id=row.id,
            participant_id=p.id,
            attendee_email=p.email,
            recurrence_id=d.recurrence_id,
            start_at=d.start,
            end_at=d.end,
            location=d.location,
            comment=d.comment,
            sequence=d.stamp.sequence,
        )
        await _stamp(row, p, d.recurrence_id, d.stamp, "COUNTER")
        return Outcome(
            PROPOSAL,
            f"{p.email} proposes {d.start.isoformat()}",
            None,
            row.id,
            p.id,
            proposal.id,
            d.recurrence_id,
        )
    status = STATUS.get(d.partstat)
    if status is None:
        return _reject(Code.BAD_PARTSTAT, f"PARTSTAT {d.partstat.value} is not supported", row.id)
    await set_answer(p, status, d.recurrence_id, via=via)
    await _stamp(row, p, d.recurrence_id, d.stamp, "REPLY")
    where = f" for {d.recurrence_id.isoformat()}" if d.recurrence_id else ""
    return Outcome(
        APPLIED,
        f"{p.email} {d.partstat.value}{where}",
        None,
        row.id,
        p.id,
        recurrence_id=d.recurrence_id,
    )


async def _stamp(
    row: m.FollowUp,
    p: m.Participant,
    rid: datetime | None,
    stamp: replies.ReplyStamp,
    method: str,
) -> None:
    await MailReply.create(
        followup_id=row.id,
        participant_id=p.id,
        recurrence_id=rid,
        sequence=stamp.sequence,
        dtstamp=stamp.dtstamp,
        method=method,
    )


async def set_answer(
    p: m.Participant, status: m.ParticipantStatus, rid: datetime | None, *, via: StatusVia
) -> None:
    """Record an answer: the status for the whole meeting, history only for one occurrence."""
    if rid is None:
        await m.Participant.filter(id=p.id).update(
            status=status, status_set_by_id=None, status_set_at=utcnow()
        )
    await m.StatusChange.create(
        participant_id=p.id, status=status, via=via.value, recurrence_id=rid
    )


async def bounced(bounce: Bounce, viewer: m.Associate | None) -> list[Outcome]:
    """Record a delivery report on our mail: FAILED for failed recipients, DELAYED for delayed.

    ``Action: delayed`` (4.x.x: the reporting MTA keeps trying) never fails a delivery,
    and a delay report does not overwrite a FAILED; a report naming only delivered or
    relayed recipients changes nothing.
    """
    if bounce.informational:
        return [Outcome(IGNORED, "the delivery report names no failed or delayed recipient")]
    failed = {normalize_address(r) for r in bounce.failed_recipients}
    delayed = {normalize_address(r): code for r, code in bounce.delayed}
    named = failed | set(delayed)
    rows: list[MailOutbox] = []
    if bounce.original_message_id:
        rows = await MailOutbox.filter(message_id=bounce.original_message_id)
    if not rows and bounce.original_uid:
        rows = await MailOutbox.filter(uid=bounce.original_uid).order_by("-id")
        rows = [r for r in rows if normalize_address(r.recipient) in named][:1]
    if named:
        rows = [r for r in rows if normalize_address(r.recipient) in named]
    if not rows:
        return [_reject(Code.UNKNOWN_BOUNCE, "the bounce is not about a mail we sent")]
    out: list[Outcome] = []
    for r in rows:
        if viewer is not None and not viewer.is_admin:
            row = await m.FollowUp.get_or_none(id=r.followup_id)
            if row is None or row.owner_id != viewer.id:
                raise Forbidden("only the organiser or an administrator may process this bounce")
        address = normalize_address(r.recipient)
        if address in delayed and address not in failed:
            error = f"delayed: {delayed[address] or 'delivery delayed'}"
            await MailOutbox.filter(
                id=r.id, status__in=(MailStatus.SENT, MailStatus.DELAYED)
            ).update(status=MailStatus.DELAYED, last_error=error)
        else:
            error = f"bounced: {bounce.status or 'delivery failed'}"
            await MailOutbox.filter(id=r.id).update(
                status=MailStatus.FAILED, last_error=error, claimed_by=None, claimed_until=None
            )
            await live.delivery_failed(r.followup_id)
        out.append(Outcome(BOUNCE, f"{r.recipient} {error}", None, r.followup_id, r.participant_id))
    return out


async def answer_by_link(claims: ReplyClaims) -> Outcome:
    """Apply the answer of a verified reply link (POST only)."""
    row = await m.FollowUp.get_or_none(uid=claims.uid)
    if row is None:
        return _reject(Code.UNKNOWN_UID, "the meeting no longer exists")
    p = await _participant(row, claims.attendee_email)
    if p is None:
        return _reject(Code.NOT_INVITED, "you are no longer invited to this meeting", row.id)
    async with changes.track(row.id):
        await set_answer(p, STATUS[claims.partstat], claims.recurrence_id, via=StatusVia.LINK)
    return Outcome(APPLIED, f"{p.email} {claims.partstat.value}", None, row.id, p.id)
