"""Stable, safe calendar object names derived from iCalendar UIDs.

Owns the rule "UID -> resource name in the collection". RFC 4791 §5.3.2 lets the
client choose the resource name; a name derived only from the UID makes a retried
create hit the same URL (so ``If-None-Match: *`` answers 412 instead of making a
duplicate). UIDs are arbitrary text (RFC 5545 §3.8.4.7): slashes, dots, unicode,
kilobytes long, so the name is a short sanitized prefix (for humans reading server
logs) plus a base32 SHA-256 digest of the whole UID (for uniqueness), plus ``.ics``.
The name contains only ``[a-z0-9_-]`` and ``.ics``: safe in a URL path segment, on
case-insensitive file systems and on every server we know.
"""

from __future__ import annotations

import base64
import hashlib
import re

PREFIX_CHARS = 40
DIGEST_CHARS = 32  # 160 bits of SHA-256
_UNSAFE = re.compile(r"[^a-z0-9_-]+")


def object_name(uid: str) -> str:
    """Return the resource name for a UID: same UID, same name; different UID, different name."""
    if not uid:
        raise ValueError("a calendar object needs a non-empty UID")
    digest = hashlib.sha256(uid.encode("utf-8")).digest()
    tag = base64.b32encode(digest).decode("ascii").lower().rstrip("=")[:DIGEST_CHARS]
    prefix = _UNSAFE.sub("_", uid.lower()).strip("_-")[:PREFIX_CHARS].strip("_-")
    return f"{prefix}-{tag}.ics" if prefix else f"{tag}.ics"
