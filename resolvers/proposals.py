"""Counter proposals (RFC 5546 section 3.2.7): the organiser accepts or declines them.

Owns the two decisions on a stored ``Proposal``: accepting moves the meeting (or the one
occurrence) to the proposed time and place through the ordinary update path, so the
change handlers queue the new REQUEST with the bumped SEQUENCE; declining queues a
DECLINECOUNTER (section 3.2.8, built by ``calcore.itip.declinecounter``) to the attendee.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid
from typing import Any

from calcore import itip
from calcore.model import Attendee, EventSnapshot
from config.settings import Settings
from mail.outbox import enqueue
from orm import changes
from orm import models as m
from orm.outbox import utcnow
from orm.outbox_models import Proposal, ProposalStatus
from orm.snapshots import snapshot
from resolvers import all_day
from resolvers import followups as writes
from resolvers import series_edits as edits
from resolvers.errors import NotFound, ValidationFailed


async def _pending(viewer: m.Associate, proposal_id: int) -> tuple[Proposal, m.FollowUp]:
    proposal = await Proposal.get_or_none(id=proposal_id)
    if proposal is None:
        raise NotFound("Proposal", proposal_id, "id")
    try:
        row = await writes.editable(viewer, proposal.followup_id)
    except NotFound:
        raise NotFound("Proposal", proposal_id, "id") from None
    if proposal.status is not ProposalStatus.PENDING:
        raise ValidationFailed("id", f"the proposal is already {proposal.status.value.lower()}")
    return proposal, row


async def accept(viewer: m.Associate, proposal_id: int, settings: Settings) -> Proposal:
    """Move the meeting (or occurrence) to the proposed time; a REQUEST follows."""
    proposal, row = await _pending(viewer, proposal_id)
    data: dict[str, Any] = {"start_at": proposal.start_at}
    if proposal.end_at is not None:
        data["end_at"] = proposal.end_at
    if row.all_day:
        data = all_day.moved_to(row, proposal.start_at, proposal.end_at)
    if proposal.location:
        data["location"] = proposal.location
    async with changes.track(row.id):
        if proposal.recurrence_id is None:
            await writes.update(
                viewer, row.id, row.version, data, settings.max_occurrences_per_series
            )
        else:
            await edits.update_this(row, proposal.recurrence_id, row.version, data)
    await Proposal.filter(id=proposal.id).update(
        status=ProposalStatus.ACCEPTED, decided_at=utcnow()
    )
    return await Proposal.get(id=proposal.id)


async def decline(
    viewer: m.Associate, proposal_id: int, comment: str | None, settings: Settings
) -> Proposal:
    """Keep the meeting as it is and tell the attendee with a DECLINECOUNTER."""
    proposal, row = await _pending(viewer, proposal_id)
    if comment is not None and len(comment) > 2000:
        raise ValidationFailed("comment", "the comment is longer than 2000 characters")
    await Proposal.filter(id=proposal.id).update(
        status=ProposalStatus.DECLINED, decided_at=utcnow()
    )
    snap = await snapshot(row)
    if settings.mail_configured and snap.organizer is not None:
        attendee = next(
            (a for a in snap.attendees if itip.same_address(a.email, proposal.attendee_email)),
            Attendee(email=proposal.attendee_email),
        )
        message = compose_declinecounter(
            snap, attendee, proposal.recurrence_id, comment, settings.mail_from_domain
        )
        await enqueue(
            message,
            followup_id=row.id,
            participant_id=proposal.participant_id,
            uid=snap.uid,
            method=itip.DECLINECOUNTER,
            sequence=snap.sequence,
            recipient=attendee.email,
            settings=settings,
            recurrence_id=proposal.recurrence_id,
        )
    return await Proposal.get(id=proposal.id)


def compose_declinecounter(
    snap: EventSnapshot,
    attendee: Attendee,
    recurrence_id: datetime | None,
    comment: str | None,
    domain: str,
) -> EmailMessage:
    """Wrap the DECLINECOUNTER calendar in a short iMIP mail (RFC 6047 section 2.4)."""
    assert snap.organizer is not None
    message = itip.declinecounter(snap, attendee, recurrence_id=recurrence_id, comment=comment)
    organizer = snap.organizer
    msg = EmailMessage(policy=policy.SMTP)
    msg["Subject"] = f"Proposal declined: {snap.title}"
    msg["From"] = formataddr((organizer.name or "", organizer.email))
    msg["To"] = formataddr((attendee.name or "", attendee.email))
    msg["Date"] = format_datetime(datetime.now(UTC))
    msg["Message-ID"] = make_msgid(domain=domain)
    text = f'{organizer.name or organizer.email} keeps the meeting "{snap.title}" as it is.'
    if comment:
        text += f"\n\n{comment}"
    msg.set_content(text + "\n", charset="utf-8", cte="quoted-printable")
    msg.add_alternative(message.to_ical(), maintype="text", subtype="calendar")
    for part in msg.walk():
        if part.get_content_type() == "text/calendar":
            part.replace_header(
                "Content-Type", "text/calendar; method=DECLINECOUNTER; charset=UTF-8"
            )
    return msg
