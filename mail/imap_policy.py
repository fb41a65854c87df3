"""The outbound address policy for IMAP hosts that users give (one function, one job).

TODO(merge): delegate to ``sync/address_policy.py`` (the CalDAV outbound policy with its
``CALDAV_ALLOWED_HOSTS`` allow-list, written in parallel) so that mailbox hosts pass the
same rules as CalDAV servers; until then only the shape of host and port is checked.
"""

from __future__ import annotations

import re

from resolvers.errors import ValidationFailed

_HOST = re.compile(r"^[A-Za-z0-9.\-:\[\]]{1,255}$")


def check_host(host: str, port: int) -> None:
    """Raise ``ValidationFailed`` when the service must not connect to ``host:port``."""
    if not host or not _HOST.match(host) or host.startswith("-"):
        raise ValidationFailed("host", "host must be a host name or an IP address")
    if not 1 <= port <= 65535:
        raise ValidationFailed("port", "port must be between 1 and 65535")
