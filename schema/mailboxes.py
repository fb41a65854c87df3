"""IMAP mailboxes in GraphQL: the intake's configuration and the outcome of each message.

Declarations only; the rules are in ``resolvers.mailboxes``.  The password is write-only
(``passwordSet`` says whether one is stored).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Self

import strawberry

from resolvers import mailboxes
from resolvers.context import Info
from resolvers.enums import MailboxState, MessageOutcome
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
MailboxMessageOutcome = described(
    MessageOutcome,
    name="MailboxMessageOutcome",
    description="What one calendar mail read from a mailbox did, all its parts taken together.",
    values={
        "APPLIED": "Something took effect: an answer was recorded, a counter proposal stored "
        "or a bounce marked a delivery failed (other parts may have been refused).",
        "IGNORED": "Nothing to do: e.g. a stale answer, or a delivery report naming no failed "
        "recipient.",
        "REJECTED": "Every part was refused (reason says why): e.g. an unknown meeting, a "
        "sender who is not invited, or a meeting the mailbox's associate does not organise.",
    },
)


@strawberry.type(description="What one calendar mail found in a mailbox did.")
class MailboxMessage:
    uid: int = strawberry.field(description="IMAP UID of the message in the folder.")
    message_id: str | None = strawberry.field(
        description="Message-ID header; null when the mail had none."
    )
    outcome: str = strawberry.field(
        description="What the message did: APPLIED, IGNORED or REJECTED.",
        deprecation_reason="Use outcomeKind (the MailboxMessageOutcome enum).",
    )
    outcome_kind: MailboxMessageOutcome = strawberry.field(  # type: ignore[valid-type]
        description="What the message did."
    )
    reason: str = strawberry.field(
        description="Why it had that outcome, in English: the reasons of its parts joined by "
        "'; ' (at most 4,000 characters)."
    )
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
            outcome_kind=MessageOutcome(row.outcome),
            reason=row.reason,
            follow_up_id=fid,
            processed_at=row.processed_at,
        )


@strawberry.type(description="An IMAP mailbox whose replies, counters and bounces are read.")
class Mailbox:
    id: strawberry.ID = strawberry.field(description="Global ID of the mailbox.")
    shared: bool = strawberry.field(
        description="True for the installation's shared mailbox, configured by the IMAP_* "
        "settings (read-only here); false for an associate's own mailbox."
    )
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

    @strawberry.field(
        description="The latest handled calendar mails, newest first (mails without a "
        "calendar or delivery report are not recorded)."
    )
    async def messages(
        self,
        first: Annotated[
            int,
            strawberry.argument(
                description="How many to return; values below 1 count as 1, above 200 as 200."
            ),
        ] = 20,
    ) -> list[MailboxMessage]:
        return [MailboxMessage.from_model(r) for r in await mailboxes.messages(self.row, first)]


@strawberry.input(
    description="An IMAP mailbox's settings. Creating one needs host, username and password; "
    "in an update, fields left out (or null) stay as they are."
)
class MailboxInput:
    host: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="IMAP server host name or IP address. It must resolve to a public "
        "address (or one CALDAV_ALLOWED_HOSTS opens), else VALIDATION 'server unreachable'.",
    )
    port: int | None = strawberry.field(
        default=strawberry.UNSET, description="IMAP server TCP port, 1..65535; default 993."
    )
    tls: bool | None = strawberry.field(
        default=strawberry.UNSET,
        description="True: implicit TLS (IMAPS, usually port 993); false: plain IMAP. "
        "Default true.",
    )
    username: str | None = strawberry.field(
        default=strawberry.UNSET, description="IMAP login name (1 to 255 characters)."
    )
    password: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="IMAP password; not empty. Stored encrypted with SECRET_KEY (VALIDATION "
        "when it is unset) and never shown again.",
    )
    folder: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="The folder to poll (1 to 255 characters); default INBOX. Changing host, "
        "username or folder starts reading that mailbox afresh.",
    )

    def to_domain(self) -> mailboxes.MailboxInput:
        data = mailboxes.MailboxInput()
        for name in ("host", "port", "tls", "username", "password", "folder"):
            value = getattr(self, name)
            if value is not strawberry.UNSET and value is not None:
                setattr(data, name, value)
        return data


@strawberry.type(description="Result of createMailbox or updateMailbox: the mailbox, or errors.")
class MailboxPayload:
    mailbox: Mailbox | None = strawberry.field(
        default=None, description="The mailbox as saved; null when errors is not empty."
    )
    errors: list[UserError] = strawberry.field(
        default_factory=list, description="Why nothing was saved; empty on success."
    )


@strawberry.type(description="Result of deleteMailbox: the deleted mailbox's ID, or errors.")
class DeleteMailboxPayload:
    deleted_id: strawberry.ID | None = strawberry.field(
        default=None, description="Global ID of the deleted mailbox; null when errors is not empty."
    )
    errors: list[UserError] = strawberry.field(
        default_factory=list, description="Why nothing was deleted; empty on success."
    )


@strawberry.type
class MailboxQuery:
    @strawberry.field(
        description="Your mailboxes; administrators may ask for an associate's, or for the "
        "shared one (others get an empty list)."
    )
    async def mailboxes(
        self,
        info: Info,
        associate_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(
                description="An Associate whose mailboxes to list (administrators only; for "
                "anyone else an empty list); null: your own."
            ),
        ] = None,
        shared: Annotated[
            bool,
            strawberry.argument(
                description="True: list the shared mailbox of the IMAP_* settings instead "
                "(administrators only; empty when it is not configured)."
            ),
        ] = False,
    ) -> list[Mailbox]:
        who = ids.decode(associate_id, "Associate", "associateId") if associate_id else None
        rows = await mailboxes.listing(info.context.viewer, who, shared)
        return [Mailbox.from_model(r) for r in rows]


@strawberry.type
class MailboxMutation:
    @strawberry.mutation(
        description="Add an IMAP mailbox for yourself (administrators: for an associate); the "
        "intake then reads replies, counter proposals and bounces from it. At most 5 "
        "mailboxes per associate (VALIDATION beyond)."
    )
    async def create_mailbox(
        self,
        info: Info,
        input: Annotated[
            MailboxInput,
            strawberry.argument(description="The settings; host, username and password needed."),
        ],
        associate_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(
                description="The Associate it is for (administrators only; NOT_FOUND for "
                "anyone else); null: yourself."
            ),
        ] = None,
    ) -> MailboxPayload:
        async def work() -> MailboxPayload:
            who = ids.decode(associate_id, "Associate", "associateId") if associate_id else None
            row = await mailboxes.create(
                info.context.viewer, input.to_domain(), info.context.settings, who
            )
            return MailboxPayload(mailbox=Mailbox.from_model(row))

        return await atomically(work, lambda e: MailboxPayload(errors=e))

    @strawberry.mutation(
        description="Change a mailbox (yours; administrators: anyone's); its state goes back "
        "to OK, so a FAILED one is tried again. The shared mailbox cannot be changed here "
        "(VALIDATION); an unknown or someone else's mailbox is NOT_FOUND."
    )
    async def update_mailbox(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The Mailbox to change.")],
        input: Annotated[MailboxInput, strawberry.argument(description="The fields to change.")],
    ) -> MailboxPayload:
        async def work() -> MailboxPayload:
            key = ids.decode(id, "Mailbox", "id")
            row = await mailboxes.update(
                info.context.viewer, key, input.to_domain(), info.context.settings
            )
            return MailboxPayload(mailbox=Mailbox.from_model(row))

        return await atomically(work, lambda e: MailboxPayload(errors=e))

    @strawberry.mutation(
        description="Stop reading a mailbox (yours; administrators: anyone's) and forget its "
        "recorded outcomes; the mail on the server stays as it is. The shared mailbox cannot "
        "be deleted (VALIDATION)."
    )
    async def delete_mailbox(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The Mailbox to delete.")],
    ) -> DeleteMailboxPayload:
        async def work() -> DeleteMailboxPayload:
            key = await mailboxes.delete(info.context.viewer, ids.decode(id, "Mailbox", "id"))
            return DeleteMailboxPayload(deleted_id=strawberry.ID(ids.encode("Mailbox", key)))

        return await atomically(work, lambda e: DeleteMailboxPayload(errors=e))
