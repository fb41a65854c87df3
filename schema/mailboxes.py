"""IMAP mailboxes in GraphQL: the intake's configuration and the outcome of each message.

Declarations only; the rules are in ``resolvers.mailboxes``.  The password is write-only
(``passwordSet`` says whether one is stored).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Self

import strawberry

from resolvers import mailboxes
from resolvers.context import Info
from resolvers.enums import MailboxState
from schema import ids
from schema.enums import described
from schema.errors import UserError, atomically

if TYPE_CHECKING:
    from orm.intake_models import Mailbox as MailboxRow
    from orm.intake_models import MailboxMessage as MessageRow
else:
    MailboxRow = object  # the row type only annotates; schema loads no rows

MailboxStateEnum = described(
    MailboxState,
    name="MailboxState",
    description="State of an inbound mailbox after its last poll; FAILED: e.g. login refused.",
)


@strawberry.type(description="What one calendar mail found in a mailbox did.")
class MailboxMessage:
    uid: int = strawberry.field(description="IMAP UID of the message in the folder.")
    message_id: str | None = strawberry.field(
        description="Message-ID header; null when the mail had none."
    )
    outcome: str = strawberry.field(description="APPLIED, IGNORED or REJECTED")
    reason: str = strawberry.field(description="Why it had that outcome, in English.")
    follow_up_id: strawberry.ID | None = strawberry.field(
        description="Global ID of the FollowUp it concerned; null when none was matched."
    )
    processed_at: datetime = strawberry.field(description="When it was read (UTC, ISO 8601).")

    @classmethod
    def from_model(cls, row: MessageRow) -> Self:
        fid = strawberry.ID(ids.encode("FollowUp", row.followup_id)) if row.followup_id else None
        return cls(
            uid=row.uid,
            message_id=row.message_id,
            outcome=row.outcome,
            reason=row.reason,
            follow_up_id=fid,
            processed_at=row.processed_at,
        )


@strawberry.type(description="An IMAP mailbox whose replies, counters and bounces are read.")
class Mailbox:
    id: strawberry.ID = strawberry.field(description="Global ID of the mailbox.")
    shared: bool = strawberry.field(description="The mailbox of the IMAP_* settings")
    host: str = strawberry.field(description="IMAP server host name.")
    port: int = strawberry.field(description="IMAP server TCP port.")
    tls: bool = strawberry.field(description="True: implicit TLS (IMAPS); false: plain IMAP.")
    username: str = strawberry.field(description="IMAP login name.")
    folder: str = strawberry.field(description="The IMAP folder that is polled.")
    password_set: bool = strawberry.field(
        description="True when a password is stored (it is never returned)."
    )
    state: MailboxStateEnum = strawberry.field(  # type: ignore[valid-type]
        description="Result of the last poll."
    )
    last_error: str | None = strawberry.field(
        description="Error of the last failed poll; null when it succeeded."
    )
    checked_at: datetime | None = strawberry.field(
        description="When it was last polled (UTC, ISO 8601); null: never."
    )
    last_uid: int = strawberry.field(
        description="Highest IMAP UID read so far; later polls read only newer messages."
    )
    row: strawberry.Private[MailboxRow]

    @classmethod
    def from_model(cls, row: MailboxRow) -> Self:
        return cls(
            id=strawberry.ID(ids.encode("Mailbox", row.id)),
            shared=row.shared,
            host=row.host,
            port=row.port,
            tls=row.tls,
            username=row.username,
            folder=row.folder,
            password_set=bool(row.secret_enc) or row.shared,
            state=row.state,
            last_error=row.last_error,
            checked_at=row.checked_at,
            last_uid=row.last_uid,
            row=row,
        )

    @strawberry.field(description="The latest handled messages, newest first.")
    async def messages(self, first: int = 20) -> list[MailboxMessage]:
        return [MailboxMessage.from_model(r) for r in await mailboxes.messages(self.row, first)]


@strawberry.input
class MailboxInput:
    host: str | None = strawberry.UNSET
    port: int | None = strawberry.UNSET
    tls: bool | None = strawberry.field(default=strawberry.UNSET, description="IMAPS (993)")
    username: str | None = strawberry.UNSET
    password: str | None = strawberry.field(
        default=strawberry.UNSET, description="Stored encrypted; never shown again"
    )
    folder: str | None = strawberry.UNSET

    def to_domain(self) -> mailboxes.MailboxInput:
        data = mailboxes.MailboxInput()
        for name in ("host", "port", "tls", "username", "password", "folder"):
            value = getattr(self, name)
            if value is not strawberry.UNSET and value is not None:
                setattr(data, name, value)
        return data


@strawberry.type
class MailboxPayload:
    mailbox: Mailbox | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class DeleteMailboxPayload:
    deleted_id: strawberry.ID | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class MailboxQuery:
    @strawberry.field(
        description="Your mailboxes; administrators may ask for an associate's, or for the "
        "shared one (others get an empty list)."
    )
    async def mailboxes(
        self, info: Info, associate_id: strawberry.ID | None = None, shared: bool = False
    ) -> list[Mailbox]:
        who = ids.decode(associate_id, "Associate", "associateId") if associate_id else None
        rows = await mailboxes.listing(info.context.viewer, who, shared)
        return [Mailbox.from_model(r) for r in rows]


@strawberry.type
class MailboxMutation:
    @strawberry.mutation(
        description="Add an IMAP mailbox for yourself (administrators: for an associate)."
    )
    async def create_mailbox(
        self, info: Info, input: MailboxInput, associate_id: strawberry.ID | None = None
    ) -> MailboxPayload:
        async def work() -> MailboxPayload:
            who = ids.decode(associate_id, "Associate", "associateId") if associate_id else None
            row = await mailboxes.create(
                info.context.viewer, input.to_domain(), info.context.settings, who
            )
            return MailboxPayload(mailbox=Mailbox.from_model(row))

        return await atomically(work, lambda e: MailboxPayload(errors=e))

    @strawberry.mutation(description="Change a mailbox; a FAILED one is tried again.")
    async def update_mailbox(
        self, info: Info, id: strawberry.ID, input: MailboxInput
    ) -> MailboxPayload:
        async def work() -> MailboxPayload:
            key = ids.decode(id, "Mailbox", "id")
            row = await mailboxes.update(
                info.context.viewer, key, input.to_domain(), info.context.settings
            )
            return MailboxPayload(mailbox=Mailbox.from_model(row))

        return await atomically(work, lambda e: MailboxPayload(errors=e))

    @strawberry.mutation(description="Stop reading a mailbox (its mail stays as it is).")
    async def delete_mailbox(self, info: Info, id: strawberry.ID) -> DeleteMailboxPayload:
        async def work() -> DeleteMailboxPayload:
            key = await mailboxes.delete(info.context.viewer, ids.decode(id, "Mailbox", "id"))
            return DeleteMailboxPayload(deleted_id=strawberry.ID(ids.encode("Mailbox", key)))

        return await atomically(work, lambda e: DeleteMailboxPayload(errors=e))
