"""Reconcile: compare each calendar with the service and repair the drift.

Owns ``followups sync --full``.  Per account: first the database side (follow-ups that
belong in the calendar but have no object state are queued, ones that left are queued for
removal), then the server side: a sync-collection REPORT since the stored token (RFC 6578
section 3; one request when nothing changed) or, where the server has none, a PROPFIND
ETag listing (RFC 4918 section 9.1).  Drift is repaired through the outbox, never
directly: an object deleted in a calendar app is created again, one changed there is put
back as the service has it (a PUT on the old ETag, so the worker merges into the edited
copy and our fields win), and an object of ours - known by name, or by a UID of this
service - that the service no longer has is deleted.  Objects with jobs in flight are
left to the worker.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tortoise.transactions import in_transaction

from config.settings import Settings
from orm import models as m
from orm.outbox import utcnow
from orm.outbox_models import OutboxStatus
from orm.sync_models import CalendarAccount, CalendarObject, JobOp, ObjectState, SyncJob
from sync import outbox
from sync.account_client import client_for
from sync.client import CalendarClient, SyncResult
from sync.errors import AddressRefused, AuthError, CalDAVError, TransientError

UID_SUFFIX = "@followups"


@dataclass
class Report:
    """What a reconcile of one account found and queued."""

    account_id: int
    mode: str = ""
    requests: int = 0
    queued_new: int = 0
    restored: list[str] = field(default_factory=list)
    reverted: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    @property
    def drift(self) -> int:
        """Return how many objects the calendar had wrong."""
        return len(self.restored) + len(self.reverted) + len(self.removed)


async def _listing(
    client: CalendarClient, account: CalendarAccount, report: Report
) -> tuple[dict[str, str], set[str], bool]:
    """Return (changed name -> ETag, deleted names, full) from the server."""
    if account.supports_sync is not False:
        try:
            result: SyncResult = await client.sync_collection(account.sync_token)
        except (AuthError, AddressRefused, TransientError):  # not a sync-collection refusal
            raise
        except CalDAVError:
            account.supports_sync = False
        else:
            account.supports_sync, account.sync_token = True, result.token
            report.mode = "sync-collection" + (" (full)" if result.full else "")
            return result.changed, set(result.deleted), result.full
    account.sync_token = None  # type: ignore[assignment]
    report.mode = "etag-listing"
    return await client.list_etags(), set(), True


async def _ours(client: CalendarClient, names: list[str]) -> dict[str, str]:
    """Return name -> UID of the unknown objects whose UID this service made."""
    if not names:
        return {}
    from icalendar import Calendar

    found: dict[str, str] = {}
    for name, (data, _) in (await client.multiget(names)).items():
        try:
            uids = {str(c.get("UID", "")) for c in Calendar.from_ical(data).walk() if "UID" in c}
        except ValueError:
            continue
        uid = next(iter(uids), "")
        if len(uids) == 1 and uid.endswith(UID_SUFFIX):
            found[name] = uid
    return found


async def reconcile_account(
    account: CalendarAccount, settings: Settings, client: CalendarClient | None = None
) -> Report:
    """Compare one calendar with the service and queue the repairs; return the report."""
    report = Report(account.id)
    async with in_transaction():
        since = outbox.window_start(account, settings.caldav_initial_window_days)
        missing, _ = await outbox.queue_missing(account, since)
    report.queued_new = len(missing)
    own = client is None
    client = client or client_for(account, settings)
    start = client.request_count
    try:
        changed, deleted, full = await _listing(client, account, report)
        rows = {
            o.name: o
            for o in await CalendarObject.filter(account_id=account.id).only(*outbox.LIGHT)
        }
        busy = set(
            await SyncJob.filter(account_id=account.id, status=OutboxStatus.QUEUED).values_list(
                "name", flat=True
            )
        )
        unknown = [n for n in changed if n not in rows]
        foreign = await _ours(client, unknown)
    finally:
        report.requests = client.request_count - start
        if own:
            await client.aclose()
    restore: list[int] = []
    revert: list[int] = []
    remove: list[tuple[str, int, str, str | None]] = []
    for name, obj in rows.items():
        if name in busy or obj.state != ObjectState.SYNCED:
            continue
        gone = name in deleted or (full and name not in changed)
        if obj.wanted and gone:
            restore.append(obj.followup_id)
            report.restored.append(name)
        elif obj.wanted and name in changed and changed[name] != obj.etag:
            revert.append(obj.followup_id)
            report.reverted.append(name)
        elif not obj.wanted and name in changed:
            remove.append((name, obj.followup_id, obj.uid, changed[name]))
    for name, uid in foreign.items():
        alive = await outbox._flat(
            m.FollowUp.filter(outbox.PUSHED, uid=uid).values_list("id", flat=True)
        )
        if not alive or alive[0] not in await outbox.desired_ids(account):
            remove.append((name, alive[0] if alive else 0, uid, changed[name]))
    async with in_transaction():
        await _repair(account, rows, restore, revert, remove, report)
        await CalendarAccount.filter(id=account.id).update(
            sync_token=account.sync_token,
            supports_sync=account.supports_sync,
            reconciled_at=utcnow(),
        )
    return report


async def _repair(
    account: CalendarAccount,
    rows: dict[str, CalendarObject],
    restore: list[int],
    revert: list[int],
    remove: list[tuple[str, int, str, str | None]],
    report: Report,
) -> None:
    if restore:
        await CalendarObject.filter(account_id=account.id, followup_id__in=restore).update(
            etag=None, pushed_ics=None
        )
    if restore or revert:
        await outbox.requeue(account, [*restore, *revert])
    for name, fid, uid, etag in remove:
        if name in rows:
            await CalendarObject.filter(id=rows[name].id).update(etag=etag)
        else:
            await CalendarObject.create(
                account_id=account.id,
                followup_id=fid,
                uid=uid,
                name=name,
                wanted=False,
                etag=etag,
            )
        await outbox.enqueue(account.id, fid, name, JobOp.DELETE, None)
        report.removed.append(name)
