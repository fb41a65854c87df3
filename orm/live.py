"""The live change log: one row per change, written in the transaction of the change.

``LiveHandler`` is the ``orm.changes`` handler: every tracked change of a follow-up (a
mutation, a reply mail, a CalDAV pull) writes one ``LiveChange`` with the associates and
resources it concerned before and after (``LiveParty``).  The workers add their failures
(``delivery_failed``, ``sync_failed``) the same way.  On PostgreSQL the writer also
``pg_notify('followups_live')``s, which PostgreSQL delivers at commit, so a listener
reads the row only once it is committed; writers take a transaction-level advisory lock
first, so that ids commit in order and a reader's ``id > cursor`` skips none.  Rows older
than LIVE_RETENTION_HOURS are pruned (``prune``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient, TransactionalDBClient
from tortoise.transactions import in_transaction

from orm import changes
from orm.changes import Change
from orm.live_models import LiveChange, LiveKind, LiveParty, PartyKind
from orm.outbox import utcnow

CHANNEL = "followups_live"
#: pg_advisory_xact_lock key of the writers of the log ("live" in ASCII).
WRITE_LOCK = 0x6C697665


def _postgres(db: BaseDBAsyncClient) -> bool:
    return db.capabilities.dialect == "postgres"


#: One PostgreSQL statement for the whole record: the write lock first (so that ids commit
#: in order), the notification (PostgreSQL delivers it at commit), the change, its parties.
_PG_RECORD = f"""WITH c AS (
    INSERT INTO live_change (at, kind, followup_id, occurrence_start, account_id)
    SELECT $1::timestamptz, $2::varchar, $3::int, $4::timestamptz, $5::int
    FROM (SELECT pg_advisory_xact_lock({WRITE_LOCK}), pg_notify('{CHANNEL}', '')) AS turn
    RETURNING id
), p AS (
    INSERT INTO live_change_party (change_id, party, party_id)
    SELECT c.id, x.party, x.party_id FROM c, unnest($6::varchar[], $7::int[]) AS x(party, party_id)
)
SELECT id FROM c"""
_SQLITE_RECORD = (
    "INSERT INTO live_change (at, kind, followup_id, occurrence_start, account_id)"
    " VALUES (?, ?, ?, ?, ?) RETURNING id"
)
_SQLITE_PARTY = "INSERT INTO live_change_party (change_id, party, party_id) VALUES (?, ?, ?)"


async def record(
    kind: LiveKind,
    *,
    followup_id: int | None = None,
    occurrence: datetime | None = None,
    account_id: int | None = None,
    associates: Iterable[int] = (),
    resources: Iterable[int] = (),
) -> LiveChange:
    """Write one change (call inside the change's transaction) and notify the listeners.

    Inside a transaction it writes on that transaction's connection (no savepoint: a
    failure fails the change anyway); on PostgreSQL in one statement, on SQLite in two.
    """
    parties = [(PartyKind.ASSOCIATE.value, a) for a in sorted(set(associates))] + [
        (PartyKind.RESOURCE.value, r) for r in sorted(set(resources))
    ]
    current = LiveChange._meta.db
    if isinstance(current, TransactionalDBClient):
        return await _write(current, kind, followup_id, occurrence, account_id, parties)
    async with in_transaction() as db:
        return await _write(db, kind, followup_id, occurrence, account_id, parties)


async def _write(
    db: BaseDBAsyncClient,
    kind: LiveKind,
    followup_id: int | None,
    occurrence: datetime | None,
    account_id: int | None,
    parties: list[tuple[str, int]],
) -> LiveChange:
    at = utcnow()
    values: list[Any] = [at, kind.value, followup_id, occurrence, account_id]
    if _postgres(db):
        kinds, ids = [k for k, _ in parties], [i for _, i in parties]
        found = await db.execute_query_dict(_PG_RECORD, [*values, kinds, ids])
    else:
        found = await db.execute_query_dict(_SQLITE_RECORD, values)
        if parties:
            await db.execute_many(_SQLITE_PARTY, [[found[0]["id"], k, i] for k, i in parties])
    row = LiveChange(
        at=at,
        kind=kind,
        followup_id=followup_id,
        occurrence_start=occurrence,
        account_id=account_id,
    )
    row.id = found[0]["id"]
    row._saved_in_db = True
    return row


class LiveHandler:
    """The ``orm.changes`` handler that writes the live change log."""

    async def __call__(self, change: Change) -> None:
        if change.before is None and change.after is None:
            return
        if change.before is None:
            kind = LiveKind.CREATED
        elif change.after is None:
            kind = LiveKind.DELETED
        else:
            kind = LiveKind.UPDATED
        people, rooms = change.parties_before
        if change.after_rows is not None:  # loaded with the snapshot after the change
            now_people, now_rooms = change.after_rows.parties
            people, rooms = (*people, *now_people), (*rooms, *now_rooms)
        elif change.after is not None:
            now_people, now_rooms = await changes.parties(change.followup_id)
            people, rooms = (*people, *now_people), (*rooms, *now_rooms)
        await record(
            kind,
            followup_id=change.followup_id,
            occurrence=change.occurrence,
            associates=people,
            resources=rooms,
        )


HANDLER = LiveHandler()


def install() -> None:
    """Register the live handler (idempotent)."""
    changes.register(HANDLER)


async def delivery_failed(followup_id: int) -> None:
    """A mail of this follow-up failed for good: tell its owner (and its diary)."""
    people, rooms = await changes.parties(followup_id)
    owner = await _owner(followup_id)
    await record(
        LiveKind.DELIVERY_FAILED,
        followup_id=followup_id,
        associates=[owner] if owner is not None else people,
        resources=rooms if owner is None else (),
    )


async def _owner(followup_id: int) -> int | None:
    from orm.models import FollowUp

    found = await FollowUp.filter(id=followup_id).values_list("owner_id", flat=True)
    return found[0] if found else None  # type: ignore[return-value]


async def sync_failed(
    account_id: int,
    associate_id: int | None,
    resource_id: int | None,
    followup_id: int | None = None,
) -> None:
    """A calendar account's push or pull failed: tell whose calendar it is."""
    await record(
        LiveKind.SYNC_FAILED,
        followup_id=followup_id,
        account_id=account_id,
        associates=[associate_id] if associate_id is not None else (),
        resources=[resource_id] if resource_id is not None else (),
    )


async def prune(
    retention_hours: float, now: datetime | None = None, db: BaseDBAsyncClient | None = None
) -> int:
    """Delete the changes older than the retention; return how many (on ``db``, a client
    of its own, if given; else the shared pool)."""
    cutoff = (now or utcnow()) - timedelta(hours=retention_hours)
    async with db._in_transaction() if db is not None else in_transaction() as tx:
        old = await LiveChange.filter(at__lt=cutoff).order_by("-id").using_db(tx).first()
        if old is None:
            return 0
        await LiveParty.filter(change_id__lte=old.id).using_db(tx).delete()
        return await LiveChange.filter(id__lte=old.id).using_db(tx).delete()


async def oldest_kept(retention_hours: float, now: datetime | None = None) -> int | None:
    """The id of the oldest change within the retention (None: none)."""
    cutoff = (now or utcnow()) - timedelta(hours=retention_hours)
    row = await LiveChange.filter(at__gte=cutoff).order_by("id").first()
    return row.id if row else None


async def last_id() -> int:
    """The newest change's id (0: none yet): where a new feed starts."""
    row = await LiveChange.all().order_by("-id").first()
    return row.id if row else 0
