"""Which in-process workers run beside the web app, and starting them.

The workers themselves (``mail.worker``, ``mail.imap_intake``, ``sync.worker``) only know
how to run until told to stop; choosing and starting them is composition, so it is here,
and so is handing the IMAP intake what it needs from ``resolvers`` (``intake_hooks``).
"""

from __future__ import annotations

from app.background import Background, LeaseHolder
from config.settings import Settings
from mail import outbox as mail_outbox
from mail.imap_intake import ImapIntake, IntakeHooks
from mail.worker import MailWorker
from orm import live
from orm.leases import Lease
from resolvers import calendar_pull, inbound_mail, mailbox_hosts
from sync import outbox as sync_outbox
from sync.errors import UNREACHABLE
from sync.pull import PullHooks
from sync.worker import SyncWorker


def intake_hooks() -> IntakeHooks:
    """What the IMAP intake applies mail with, reaches hosts and reads passwords through."""
    return IntakeHooks(
        receive=inbound_mail.receive_in_mailbox,
        address=mailbox_hosts.intake_address,
        password=mailbox_hosts.password_of,
        unreachable=UNREACHABLE,
    )


def install_change_handlers(settings: Settings) -> None:
    """Register the mail and CalDAV change handlers (idempotent): a pulled change that a
    worker process applies queues its invitations and calendar writes as a request would."""
    mail_outbox.install(settings)
    sync_outbox.install()
    live.install()


def pull_hooks(settings: Settings) -> PullHooks:
    """What the sync worker applies changes pulled from calendars with."""
    install_change_handlers(settings)
    return PullHooks(apply=calendar_pull.apply, create=calendar_pull.create)


def start_mail(settings: Settings) -> Background | None:
    """The mail worker, when SMTP is configured and MAIL_WORKER is on."""
    if not settings.mail_configured or not settings.mail_worker:
        return None
    return Background(MailWorker(settings), "mail-worker")


def start_intake(settings: Settings) -> Background | None:
    """The IMAP intake, when IMAP_WORKER is on (mailboxes are found in the DB).

    It keeps an IDLE connection per mailbox open, so of several processes on one database
    only the holder of the ``imap-intake`` lease runs it.
    """
    if not settings.imap_worker:
        return None
    intake = ImapIntake(settings, intake_hooks())
    lease = Lease(settings.database_url, "imap-intake")
    return Background(LeaseHolder(intake, lease), "imap-intake")


def start_sync(settings: Settings) -> Background | None:
    """The CalDAV sync worker, unless SYNC_WORKER is off."""
    if not settings.sync_worker:
        return None
    return Background(SyncWorker(settings, pull=pull_hooks(settings)), "sync-worker")


def start_all(settings: Settings) -> list[Background]:
    """Every enabled worker, in the order they are stopped in reverse."""
    started = (start_mail(settings), start_sync(settings), start_intake(settings))
    return [b for b in started if b is not None]
