"""The outbound address policy for IMAP hosts that users give, and the intake's hooks.

Mailbox hosts pass the same rules as CalDAV servers (``sync.address_policy``: public
unicast addresses only unless ``CALDAV_ALLOWED_HOSTS`` opens them), checked when a
mailbox is saved and again on every connection, so DNS rebinding finds nothing to
rebind; a refusal reads ``server unreachable``, the same as any transport failure.
"""

from __future__ import annotations

import re

from config.settings import Settings
from mail.imap_intake import HostRefused, PasswordUnavailable
from orm.intake_models import Mailbox
from resolvers.errors import ValidationFailed
from sync import address_policy, secrets
from sync.errors import UNREACHABLE

_HOST = re.compile(r"^[A-Za-z0-9.\-:\[\]]{1,255}$")


def check_shape(host: str, port: int) -> None:
    """Raise ``ValidationFailed`` unless ``host`` and ``port`` look like a host and a port."""
    if not host or not _HOST.match(host) or host.startswith("-"):
        raise ValidationFailed("host", "host must be a host name or an IP address")
    if not 1 <= port <= 65535:
        raise ValidationFailed("port", "port must be between 1 and 65535")


async def permitted_address(host: str, port: int, settings: Settings) -> str:
    """The address to connect to for ``host:port``; ``OutboundRefused`` when there is none."""
    found = await address_policy.from_settings(settings).check_host(host.strip("[]"), port)
    return str(found[0])


async def check_host(host: str, port: int, settings: Settings) -> None:
    """Raise ``ValidationFailed`` when the service must not connect to ``host:port``."""
    check_shape(host, port)
    try:
        await permitted_address(host, port, settings)
    except (address_policy.OutboundRefused, OSError, ValueError) as exc:
        raise ValidationFailed("host", UNREACHABLE) from exc


async def intake_address(host: str, port: int, settings: Settings) -> str:
    """``permitted_address`` for the IMAP intake: a refusal is ``HostRefused``."""
    try:
        return await permitted_address(host, port, settings)
    except address_policy.OutboundRefused as exc:
        raise HostRefused(str(exc)) from exc


def password_of(row: Mailbox, settings: Settings) -> str:
    """The mailbox password: the shared one from the settings, else the stored one."""
    if row.shared:
        return settings.imap_password.reveal()
    try:
        return secrets.decrypt(row.secret_enc, settings) if row.secret_enc else ""
    except secrets.SecretUnavailable as exc:
        raise PasswordUnavailable(str(exc)) from exc
