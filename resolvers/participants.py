"""Participants and resources on a follow-up: the invitation dialog's rules.

One save replaces the whole selection atomically (cancelling the dialog sends nothing).
The organiser (owner) is always a participant.  Statuses keep who set them and when.
A participant gets e-mail invitations only with a valid address and while SMTP is set up.
A resource that refuses double booking is locked (row lock on PostgreSQL, the database
write lock on SQLite) while its overlap is checked, so concurrent bookings cannot both win.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from tortoise.expressions import Q, Subquery

from config.settings import Settings
from orm import models as m
from resolvers import followups, visibility
from resolvers.availability import Entity
from resolvers.bookings import book
from resolvers.enums import EmailUnavailableReason, StatusVia
from resolvers.errors import (
    Forbidden,
    MailNotConfigured,
    NotFound,
    ValidationFailed,
)
from resolvers.loaders import Loaders

EMAIL = re.compile(
    r"^[^@\s<>(),;:\"]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)+$"
)
TOGGLE = {
    m.ParticipantStatus.INVITED: m.ParticipantStatus.ACCEPTED,
    m.ParticipantStatus.TENTATIVE: m.ParticipantStatus.ACCEPTED,
    m.ParticipantStatus.ACCEPTED: m.ParticipantStatus.DECLINED,
    m.ParticipantStatus.DECLINED: m.ParticipantStatus.INVITED,
}


def valid_email(address: str | None) -> bool:
    return bool(address) and len(address or "") <= 254 and bool(EMAIL.match(address or ""))


def email_unavailable(
    address: str | None, organiser: bool, settings: Settings
) -> EmailUnavailableReason | None:
    """Why this participant cannot get an e-mail invitation, or None if they can."""
    if organiser:
        return EmailUnavailableReason.ORGANISER
    if not settings.mail_configured:
        return EmailUnavailableReason.MAIL_NOT_CONFIGURED
    if not address:
        return EmailUnavailableReason.NO_ADDRESS
    if not valid_email(address):
        return EmailUnavailableReason.INVALID_ADDRESS
    return None


@dataclass(frozen=True)
class Wanted:
    associate_id: int | None = None
    person_id: int | None = None
    email_invitation: bool | None = None
    #: someone known by address only (neither an associate nor a contact person): an
    #: attendee of an event imported from a calendar app (``calendar_pull``)
    email: str | None = None


def participant_key(p: m.Participant) -> Any:
    """("a", associate), ("p", person) or ("e", address in lower case)."""
    return _key(p.associate_id, p.person_id, p.email)


def _key(associate_id: int | None, person_id: int | None, email: str | None) -> Any:
    if associate_id:
        return ("a", associate_id)
    if person_id:
        return ("p", person_id)
    return ("e", (email or "").lower())


async def preferred_emails(person_ids: list[int]) -> dict[int, str]:
    """Each person's preferred e-mail address (lowest position), in one query."""
    emails: dict[int, str] = {}
    for e in await m.EmailAddress.filter(person_id__in=person_ids).order_by("-position", "-id"):
        emails[e.person_id] = e.address
    return emails


async def _addresses(wanted: list[Wanted]) -> dict[tuple[str, int], str | None]:
    a_ids = [w.associate_id for w in wanted if w.associate_id]
    p_ids = [w.person_id for w in wanted if w.person_id]
    found: dict[tuple[str, int], str | None] = {}
    for a in await m.Associate.filter(id__in=a_ids, active=True):
        found[("a", a.id)] = a.email
    persons = {p.id for p in await m.Person.filter(id__in=p_ids)}
    emails = await preferred_emails(p_ids)
    for pid in persons:
        found[("p", pid)] = emails.get(pid)
    return found


async def save(
    viewer: m.Associate,
    followup_id: int,
    version: int,
    wanted: list[Wanted],
    resource_ids: list[int],
    all_email: bool | None,
    settings: Settings,
) -> m.FollowUp:
    """Replace the participants and resources of a follow-up in one go.

    A participant known by address only (``Wanted.email``, neither associate nor person)
    is matched on its address, case-insensitively.

    The version is claimed first (a conditional UPDATE, ``followups.touch``): on
    PostgreSQL it row-locks the follow-up, so a concurrent save with the same version
    waits and then gets VERSION_CONFLICT instead of racing on the participant rows.
    """
    row = await followups.editable(viewer, followup_id)
    _refuse_duplicates(wanted, resource_ids)
    row = await followups.touch(row, version)
    addresses = await _addresses(wanted)
    existing = {
        _key(p.associate_id, p.person_id, p.email): p
        for p in await m.Participant.filter(followup_id=row.id)
    }
    keep: set[int] = set()
    for i, w in enumerate(wanted):
        if sum(x is not None for x in (w.associate_id, w.person_id, w.email)) != 1:
            raise ValidationFailed(
                f"participants.{i}", "give exactly one of associateId, personId, email"
            )
        key = _key(w.associate_id, w.person_id, w.email)
        if w.email is not None:
            if not valid_email(w.email):
                raise ValidationFailed(f"participants.{i}.email", "not a valid e-mail address")
            addresses[key] = w.email
        if key not in addresses:
            kind = "Associate" if w.associate_id else "Person"
            raise NotFound(kind, key[1], f"participants.{i}.{kind.lower()}Id")
        if w.associate_id == row.owner_id:
            continue
        address = addresses[key]
        current = existing.get(key)
        flag = w.email_invitation if w.email_invitation is not None else all_email
        if flag is None:
            flag = current.email_invitation if current else False
        if flag:
            reason = email_unavailable(address, False, settings)
            if reason is EmailUnavailableReason.MAIL_NOT_CONFIGURED:
                raise MailNotConfigured("e-mail invitations are off until SMTP is configured")
            if reason is not None and w.email_invitation:
                raise ValidationFailed(
                    f"participants.{i}.emailInvitation",
                    f"this participant cannot get e-mail invitations ({reason.value})",
                )
            flag = reason is None
        if current is None:
            current = await m.Participant.create(
                followup_id=row.id,
                associate_id=w.associate_id,
                person_id=w.person_id,
                email=address,
                email_invitation=flag,
            )
        else:
            await m.Participant.filter(id=current.id).update(email=address, email_invitation=flag)
        keep.add(current.id)
    if keep or resource_ids:
        organiser = existing.get(("a", row.owner_id))
        if organiser is None:
            owner = await m.Associate.get(id=row.owner_id)
            organiser = await m.Participant.create(
                followup_id=row.id,
                associate_id=row.owner_id,
                email=owner.email,
                status=m.ParticipantStatus.ACCEPTED,
                organiser=True,
            )
        keep.add(organiser.id)
    await m.Participant.filter(followup_id=row.id).exclude(id__in=sorted(keep) or [0]).delete()
    await book(row, resource_ids)
    return row


def _refuse_duplicates(wanted: list[Wanted], resource_ids: list[int]) -> None:
    """One VALIDATION error, on the second mention, for anyone or anything given twice."""
    seen: dict[tuple[str, int | str | None], int] = {}
    for i, w in enumerate(wanted):
        field = "associateId" if w.associate_id is not None else "personId"
        key: tuple[str, int | str | None] = (
            field,
            w.associate_id if w.associate_id is not None else w.person_id,
        )
        if w.email is not None and w.associate_id is None and w.person_id is None:
            field, key = "email", ("email", w.email.lower())
        if key[1] is not None and key in seen:
            raise ValidationFailed(
                f"participants.{i}.{field}", f"participant {i} repeats participant {seen[key]}"
            )
        seen[key] = i
    rooms: dict[int, int] = {}
    for i, rid in enumerate(resource_ids):
        if rid in rooms:
            raise ValidationFailed(
                f"resourceIds.{i}", f"resource {i} repeats resource {rooms[rid]}"
            )
        rooms[rid] = i


async def participant_for_change(
    viewer: m.Associate, participant_id: int
) -> tuple[m.Participant, m.FollowUp]:
    """The participant, if the viewer is its organiser (or admin) or the participant."""
    p = await m.Participant.get_or_none(id=participant_id)
    if p is None:
        raise NotFound("Participant", participant_id, "participantId")
    row = await m.FollowUp.get(id=p.followup_id)
    if viewer.is_admin or row.owner_id == viewer.id or p.associate_id == viewer.id:
        return p, row
    if not visibility.sees_details(viewer, row, await m.Participant.filter(followup_id=row.id)):
        raise NotFound("Participant", participant_id, "participantId")
    raise Forbidden("only the organiser or the participant may answer")


async def set_status(
    viewer: m.Associate,
    participant_id: int,
    status: m.ParticipantStatus | None,
    via: StatusVia = StatusVia.API,
) -> m.Participant:
    """Set (or with None toggle) a status; the change is recorded with who and when."""
    p, _ = await participant_for_change(viewer, participant_id)
    if p.organiser:
        raise ValidationFailed("participantId", "the organiser's own status cannot be changed")
    new = TOGGLE[p.status] if status is None else status
    now = followups.now()
    await m.Participant.filter(id=p.id).update(
        status=new, status_set_by_id=viewer.id, status_set_at=now
    )
    await m.StatusChange.create(participant_id=p.id, status=new, set_by_id=viewer.id, via=via.value)
    return await m.Participant.get(id=p.id)


async def set_email_switch(
    viewer: m.Associate, participant_id: int, enabled: bool, settings: Settings
) -> m.Participant:
    """One participant's own e-mail invitation switch."""
    p, row = await participant_for_change(viewer, participant_id)
    if row.owner_id != viewer.id and not viewer.is_admin:
        raise Forbidden("only the organiser switches e-mail invitations")
    if enabled:
        reason = email_unavailable(p.email, p.organiser, settings)
        if reason is EmailUnavailableReason.MAIL_NOT_CONFIGURED:
            raise MailNotConfigured("e-mail invitations are off until SMTP is configured")
        if reason is not None:
            raise ValidationFailed(
                "enabled", f"this participant cannot get e-mail invitations ({reason.value})"
            )
    await m.Participant.filter(id=p.id).update(email_invitation=enabled)
    return await m.Participant.get(id=p.id)


async def set_all_email(
    viewer: m.Associate, followup_id: int, enabled: bool, settings: Settings
) -> m.FollowUp:
    """The switch for everyone but the organiser (those without a valid address stay off)."""
    row = await followups.editable(viewer, followup_id)
    if enabled and not settings.mail_configured:
        raise MailNotConfigured("e-mail invitations are off until SMTP is configured")
    for p in await m.Participant.filter(followup_id=row.id, organiser=False):
        flag = enabled and email_unavailable(p.email, False, settings) is None
        if flag != p.email_invitation:
            await m.Participant.filter(id=p.id).update(email_invitation=flag)
    return row


async def already_on(
    viewer: m.Associate, loaders: Loaders, followup_id: int
) -> tuple[int, set[tuple[Entity, int]]]:
    """The follow-up to leave out of the candidates' busy time, and who is on it already.

    For a follow-up the viewer may not see in full (``visibility``) it is as if none was
    given: (-1, empty), so neither the marks nor the busy flags tell who is on it.
    """
    if not await visibility.sees_followup(viewer, loaders, followup_id):
        return -1, set()
    added: set[tuple[Entity, int]] = set()
    for p in await loaders.by_parent(m.Participant, "followup_id").load(followup_id):
        if p.associate_id:
            added.add((Entity.ASSOCIATE, p.associate_id))
        else:
            added.add((Entity.PERSON, p.person_id or 0))
    for b in await m.ResourceBooking.filter(followup_id=followup_id):
        added.add((Entity.RESOURCE, b.resource_id))
    return followup_id, added


#: Most candidates one source lists (a connection pages through them; totalCount counts
#: at most this many).
MAX_CANDIDATES = 10_000


def _matching(query: Any, entity: Entity, search: str | None) -> Any:
    """``query`` narrowed to rows where every word of ``search`` is in a name or address.

    Case-insensitive substring matches in SQL (``LIKE`` with ``%`` and ``_`` escaped).
    """
    for word in (search or "").split():
        if entity is Entity.PERSON:
            by_email = m.EmailAddress.filter(address__icontains=word).values("person_id")
            query = query.filter(
                Q(first_name__icontains=word)
                | Q(last_name__icontains=word)
                | Q(id__in=Subquery(by_email))
            )
        else:
            query = query.filter(Q(name__icontains=word) | Q(email__icontains=word))
    return query


async def candidates(
    source: str, filters: dict[str, Any], limit: int, search: str | None = None
) -> list[tuple[Entity, Any]]:
    """The people or resources one source of the dialog offers (matching ``search``)."""
    if source == "ASSOCIATES":
        query = _matching(m.Associate.filter(active=True), Entity.ASSOCIATE, search)
        if filters.get("user_group_id"):
            query = query.filter(group_id=filters["user_group_id"])
        return [(Entity.ASSOCIATE, a) for a in await query.order_by("name", "id").limit(limit)]
    if source == "RESOURCES":
        rq = _matching(m.Resource.filter(active=True), Entity.RESOURCE, search)
        if filters.get("resource_group_id"):
            rq = rq.filter(group_id=filters["resource_group_id"])
        return [(Entity.RESOURCE, r) for r in await rq.order_by("name", "id").limit(limit)]
    if source == "CONTACTS":
        company_id = filters.get("company_id")
        if filters.get("person_id"):
            person = await m.Person.get_or_none(id=filters["person_id"])
            if person is None:
                raise NotFound("Person", filters["person_id"], "personId")
            if not company_id and person.company_id is None:
                alone = _matching(m.Person.filter(id=person.id), Entity.PERSON, search)
                return [(Entity.PERSON, p) for p in await alone]
            company_id = company_id or person.company_id
        if not company_id:
            raise ValidationFailed("companyId", "contacts need a companyId or personId")
        staff = _matching(m.Person.filter(company_id=company_id), Entity.PERSON, search)
        return [(Entity.PERSON, p) for p in await staff.order_by("last_name", "id").limit(limit)]
    if source == "PROJECT":
        team = await m.ProjectMember.filter(project_id=filters.get("project_id")).limit(limit)
        return await _members(team, search)
    if source == "SELECTION":
        chosen = await m.SelectionMember.filter(selection_id=filters.get("selection_id")).limit(
            limit
        )
        company_ids = [s.company_id for s in chosen if s.company_id]
        person_ids = {s.person_id for s in chosen if s.person_id}
        person_ids |= {p.id for p in await m.Person.filter(company_id__in=company_ids or [0])}
        rows = _matching(m.Person.filter(id__in=sorted(person_ids) or [0]), Entity.PERSON, search)
        return [(Entity.PERSON, p) for p in await rows.order_by("last_name", "id").limit(limit)]
    raise ValidationFailed("source", f"unknown source {source}")


async def _members(members: list[m.ProjectMember], search: str | None) -> list[tuple[Entity, Any]]:
    a_ids = [x.associate_id for x in members if x.associate_id]
    p_ids = [x.person_id for x in members if x.person_id]
    team = m.Associate.filter(id__in=a_ids or [0], active=True)
    out: list[tuple[Entity, Any]] = [
        (Entity.ASSOCIATE, a)
        for a in await _matching(team, Entity.ASSOCIATE, search).order_by("name", "id")
    ]
    people = _matching(m.Person.filter(id__in=p_ids or [0]), Entity.PERSON, search)
    out += [(Entity.PERSON, p) for p in await people.order_by("last_name", "id")]
    return out
