"""Mailbox configuration: who may see and change the IMAP mailboxes the intake reads.

An associate configures their own mailbox, an administrator anyone's; for anyone else a
mailbox does not exist (NOT_FOUND).  The shared mailbox comes from the IMAP_* settings:
administrators see it (``shared: true``), nobody changes it through the API.  Passwords
are encrypted with SECRET_KEY (``sync.secrets``, as calendar passwords) and never read
back.  Hosts pass ``resolvers.mailbox_hosts.check_host``.  A change clears a FAILED state, and a
new server, user or folder starts from a fresh IMAP state.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from config.settings import Settings
from orm import models as m
from orm.intake_models import Mailbox, MailboxMessage, MailboxState
from resolvers.errors import NotFound, ValidationFailed
from resolvers.mailbox_hosts import check_host, check_shape
from sync import secrets

MAX_PER_ASSOCIATE = 5
UNSET: Any = object()


@dataclass
class MailboxInput:
    """What a create or update gives; ``UNSET`` fields stay as they are."""

    host: Any = UNSET
    port: Any = UNSET
    tls: Any = UNSET
    username: Any = UNSET
    password: Any = UNSET
    folder: Any = UNSET


def may_manage(viewer: m.Associate, row: Mailbox) -> bool:
    """Tell whether the viewer may see (and, unless shared, change) the mailbox."""
    return viewer.is_admin or (row.associate_id is not None and row.associate_id == viewer.id)


async def get(viewer: m.Associate, key: int, path: str = "id") -> Mailbox:
    row = await Mailbox.get_or_none(id=key)
    if row is None or not may_manage(viewer, row):
        raise NotFound("Mailbox", key, path)
    return row


async def listing(
    viewer: m.Associate, associate_id: int | None = None, shared: bool = False
) -> list[Mailbox]:
    """The viewer's mailboxes, an associate's (administrators), or the shared one."""
    if shared:
        return list(await Mailbox.filter(shared=True)) if viewer.is_admin else []
    who = associate_id if associate_id is not None else viewer.id
    if who != viewer.id and not viewer.is_admin:
        return []
    return list(await Mailbox.filter(associate_id=who, shared=False).order_by("id"))


async def messages(row: Mailbox, limit: int) -> list[MailboxMessage]:
    """The latest outcomes of a mailbox, newest first."""
    return list(
        await MailboxMessage.filter(mailbox_id=row.id)
        .order_by("-id")
        .limit(max(1, min(limit, 200)))
    )


def _apply(row: Mailbox, data: MailboxInput, settings: Settings) -> bool:
    """Copy the input onto the row; return True when it names another mailbox."""
    moved = False
    for name in ("host", "username", "folder"):
        value = getattr(data, name)
        if value is UNSET:
            continue
        text = str(value or "").strip()
        if not text or len(text) > 255:
            raise ValidationFailed(name, f"{name} must be 1 to 255 characters")
        moved |= getattr(row, name, None) != text
        setattr(row, name, text)
    if data.port is not UNSET:
        row.port = int(data.port)
    if data.tls is not UNSET:
        row.tls = bool(data.tls)
    check_shape(row.host, row.port)
    if data.password is not UNSET:
        if not data.password:
            raise ValidationFailed("password", "password must not be empty")
        if not secrets.can_encrypt(settings):
            raise ValidationFailed("password", "SECRET_KEY is not set: passwords cannot be stored")
        row.secret_enc = secrets.encrypt(str(data.password), settings)
    return moved


async def create(
    viewer: m.Associate, data: MailboxInput, settings: Settings, associate_id: int | None = None
) -> Mailbox:
    """Add a mailbox for the viewer (administrators: for an associate)."""
    who = associate_id if associate_id is not None else viewer.id
    if who != viewer.id and (not viewer.is_admin or not await m.Associate.exists(id=who)):
        raise NotFound("Associate", who, "associateId")
    if data.host is UNSET or data.username is UNSET or data.password is UNSET:
        raise ValidationFailed("host", "host, username and password are required")
    if await Mailbox.filter(associate_id=who).count() >= MAX_PER_ASSOCIATE:
        raise ValidationFailed("associateId", f"at most {MAX_PER_ASSOCIATE} mailboxes each")
    row = Mailbox(associate_id=who, shared=False, port=993, tls=True, folder="INBOX")
    _apply(row, data, settings)
    await check_host(row.host, row.port, settings)
    await row.save()
    return row


async def update(viewer: m.Associate, key: int, data: MailboxInput, settings: Settings) -> Mailbox:
    """Change a mailbox; clears FAILED, so the intake tries again."""
    row = await get(viewer, key)
    if row.shared:
        raise ValidationFailed("id", "the shared mailbox is configured by the IMAP_* settings")
    moved = _apply(row, data, settings)
    await check_host(row.host, row.port, settings)
    if moved:
        row.uidvalidity, row.last_uid = None, 0  # type: ignore[assignment]
    row.state, row.last_error = MailboxState.OK, None  # type: ignore[assignment]
    await row.save()
    return row


async def delete(viewer: m.Associate, key: int) -> int:
    """Remove a mailbox and its outcomes (the mail in it stays)."""
    row = await get(viewer, key)
    if row.shared:
        raise ValidationFailed("id", "the shared mailbox is configured by the IMAP_* settings")
    await MailboxMessage.filter(mailbox_id=row.id).delete()
    await row.delete()
    return key
