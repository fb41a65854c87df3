"""What one inbound mail (or one calendar in it) did: the outcome every intake route reports.

Applying mail to the stored meetings is ``resolvers.inbound_mail``; the routes (HTTP, CLI,
GraphQL, the IMAP intake) only read these.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

APPLIED, IGNORED, REJECTED, PROPOSAL, BOUNCE = (
    "APPLIED", "IGNORED", "REJECTED", "PROPOSAL", "BOUNCE",
)  # fmt: skip


@dataclass(frozen=True)
class Outcome:
    """What one component (or the whole message) did."""

    kind: str
    reason: str
    code: str | None = None
    followup_id: int | None = None
    participant_id: int | None = None
    proposal_id: int | None = None
    recurrence_id: datetime | None = None
