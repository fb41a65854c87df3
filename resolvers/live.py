"""Reading the live change log: catch-up pages and the rule of who hears of which change.

A cursor is opaque to clients: the id of the last change seen and the time up to which
the client knew everything (``Cursor``).  Changes stay LIVE_RETENTION_HOURS; a cursor
older than that may have missed pruned ones and answers ``CURSOR_EXPIRED`` (reload).
Who hears of a change: everyone asking for the diary of an associate (or resource) it
concerned, as the diary itself (a private follow-up shows redacted, ``schema``'s
``FollowUp.build``); a mail or calendar failure only its associate and administrators.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
from collections.abc import Awaitable, Callable, Hashable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from orm.live_models import LiveChange, LiveKind, LiveParty, PartyKind
from orm.models import Associate, FollowUp, Participant
from orm.occurrences import occurrence_key
from orm.outbox import utcnow
from resolvers import visibility
from resolvers.errors import DomainError, ValidationFailed
from resolvers.loaders import Loaders
from resolvers.visibility import Sight

FAILURES = frozenset({LiveKind.DELIVERY_FAILED, LiveKind.SYNC_FAILED})


class CursorExpired(DomainError):
    """The cursor is older than LIVE_RETENTION_HOURS: changes after it may be gone."""

    code = "CURSOR_EXPIRED"

    def __init__(self, hours: float) -> None:
        super().__init__(
            f"the cursor is older than the {hours:g} hours changes are kept; reload the diary "
            "and continue from the cursor a new followUpChangesSince(after: null) answers"
        )
        self.path = ["after"]


@dataclass(frozen=True)
class Cursor:
    """The last change seen (``change_id``) and when the client last knew everything."""

    change_id: int
    at: datetime

    def encode(self) -> str:
        ms = int(self.at.timestamp() * 1000)
        return base64.urlsafe_b64encode(f"live:{self.change_id}:{ms}".encode()).decode()

    @classmethod
    def decode(cls, value: str, path: str = "after") -> Cursor:
        try:
            raw = base64.urlsafe_b64decode(value.encode("ascii")).decode("ascii")
            tag, change_id, ms = raw.split(":")
            if tag != "live" or len(change_id) > 18 or len(ms) > 18:
                raise ValueError(raw)
            at = datetime.fromtimestamp(int(ms) / 1000, UTC)
            return cls(int(change_id), at)
        except (ValueError, UnicodeError, binascii.Error, OverflowError, OSError):
            raise ValidationFailed(path, f"{path} is not a cursor of this service") from None


@dataclass(eq=False)
class EventShare:
    """What this process's subscribers of one event share: one set of loaders (the
    follow-up, its participants and whatever the answers read, each read once for all),
    lookups made once (``once``) and the answers, one per selection and sight."""

    loaders: Loaders = field(default_factory=Loaders)
    answers: dict[Hashable, Any] = field(default_factory=dict)
    #: The event as the schema's type (the same for every subscriber).
    change: Any = None
    _once: dict[Hashable, asyncio.Future[Any]] = field(default_factory=dict)

    async def once(self, key: Hashable, make: Callable[[], Awaitable[Any]]) -> Any:
        """``make()``'s result, awaited by the first caller with ``key`` and shared."""
        found = self._once.get(key)
        if found is None:
            found = self._once[key] = asyncio.ensure_future(make())
        return await asyncio.shield(found)


@dataclass(frozen=True)
class LiveEvent:
    """One logged change with whom it concerns."""

    change_id: int
    at: datetime
    kind: LiveKind
    followup_id: int | None
    occurrence: datetime | None
    account_id: int | None
    associates: frozenset[int]
    resources: frozenset[int]
    #: The follow-up as the feed read it after the change, shared by every subscriber
    #: (None: deleted, or not read).
    row: FollowUp | None = field(default=None, compare=False)
    #: What the subscribers of this process share for it (set by the feed).
    share: EventShare | None = field(default=None, compare=False)

    @property
    def shows_followup(self) -> bool:
        """Whether the event has a follow-up to show (not deleted)."""
        return self.followup_id is not None and self.kind is not LiveKind.DELETED

    def node_keys(self) -> list[str]:
        """The node keys to show: the occurrence, else (moved out of the rule) the series."""
        assert self.followup_id is not None
        keys = [str(self.followup_id)]
        if self.occurrence is not None:
            keys.insert(0, occurrence_key(self.followup_id, self.occurrence))
        return keys

    async def sight(self, viewer: Associate) -> Sight | None:
        """The viewer's class for the follow-up shown (``visibility.sight``); None when
        there is none to show."""
        if self.row is None or not self.shows_followup:
            return None
        loaders = self.share.loaders if self.share is not None else Loaders()
        return await visibility.sight(viewer, loaders, self.row)

    @property
    def cursor(self) -> Cursor:
        return Cursor(self.change_id, self.at)

    def heard_by(
        self, viewer: Associate, associate_ids: Iterable[int], resource_ids: Iterable[int]
    ) -> bool:
        """Does a viewer asking for these diaries hear of this change?"""
        if not (self.associates & set(associate_ids) or self.resources & set(resource_ids)):
            return False
        if self.kind in FAILURES:
            return viewer.is_admin or viewer.id in self.associates
        return True


def viewer_key(viewer: Associate) -> tuple[str, ...]:
    """The viewer as its row: two connections of one unchanged associate are alike."""
    return tuple(repr(getattr(viewer, f)) for f in sorted(viewer._meta.db_fields))


async def events(change_ids: Iterable[int]) -> list[LiveEvent]:
    """The changes with these ids, in order, each with its parties (two statements)."""
    keys = sorted(set(change_ids))
    if not keys:
        return []
    rows = await LiveChange.filter(id__in=keys).order_by("id")
    return await _with_parties(rows)


async def events_after(
    last: int, limit: int, db: BaseDBAsyncClient | None = None
) -> list[LiveEvent]:
    """The next changes after ``last`` (the feed's read), each with its parties; ``db``:
    the feed's own connection (``orm.db.dedicated_client``), else the shared pool."""
    rows = await LiveChange.filter(id__gt=last).order_by("id").limit(limit).using_db(db)
    return await _with_parties(rows, db)


async def _with_parties(
    rows: list[LiveChange], db: BaseDBAsyncClient | None = None
) -> list[LiveEvent]:
    people: dict[int, set[int]] = {r.id: set() for r in rows}
    rooms: dict[int, set[int]] = {r.id: set() for r in rows}
    if rows:
        found = (
            await LiveParty.filter(change_id__in=list(people))
            .using_db(db)
            .values_list("change_id", "party", "party_id")
        )
        for change_id, party, party_id in found:
            (people if party == PartyKind.ASSOCIATE else rooms)[change_id].add(party_id)
    return [
        LiveEvent(
            r.id,
            r.at,
            r.kind,
            r.followup_id,
            r.occurrence_start,
            r.account_id,
            frozenset(people[r.id]),
            frozenset(rooms[r.id]),
        )
        for r in rows
    ]


async def with_rows(found: list[LiveEvent], db: BaseDBAsyncClient | None = None) -> list[LiveEvent]:
    """The events with their follow-ups read once (one statement for the batch, on ``db``
    if given), each with the ``EventShare`` its subscribers use (its loaders primed with
    that row; on ``db``, a private one's participants too, which its sights read)."""
    keys = {e.followup_id for e in found if e.shows_followup}
    rows = {r.id: r for r in await FollowUp.filter(id__in=list(keys)).using_db(db)} if keys else {}
    private = [k for k, r in rows.items() if r.private] if db is not None else []
    people: dict[int, list[Participant]] = {k: [] for k in private}
    if private:  # on the feed's own connection: the sights need no pool
        for p in await Participant.filter(followup_id__in=private).order_by("id").using_db(db):
            people[p.followup_id].append(p)
    out = []
    for event in found:
        share = EventShare()
        row = rows.get(event.followup_id) if event.followup_id is not None else None
        if row is not None:
            share.loaders.prime([row])
            if row.id in people:  # as ``visibility.sight`` would load them
                share.loaders.by_parent(Participant, "followup_id").prime(row.id, people[row.id])
        out.append(replace(event, row=row, share=share))
    return out


async def current_cursor(db: BaseDBAsyncClient | None = None) -> Cursor:
    """Where a client that knows everything now continues from."""
    row = await LiveChange.all().order_by("-id").using_db(db).first()
    return Cursor(row.id if row else 0, utcnow())


@dataclass(frozen=True)
class Page:
    events: list[LiveEvent]
    end: Cursor
    has_more: bool


async def changes_since(
    viewer: Associate,
    after: Cursor | None,
    associate_ids: list[int],
    resource_ids: list[int],
    first: int,
    retention_hours: float,
) -> Page:
    """The changes after ``after`` that a viewer of these diaries hears of, oldest first.

    ``after`` None: none, and the cursor to continue from now on."""
    now = utcnow()
    if after is None:
        return Page([], await current_cursor(), False)
    if after.at < now - timedelta(hours=retention_hours):
        raise CursorExpired(retention_hours)
    wanted = [(PartyKind.ASSOCIATE, a) for a in associate_ids]
    wanted += [(PartyKind.RESOURCE, r) for r in resource_ids]
    ids: set[int] = set()
    for party in (PartyKind.ASSOCIATE, PartyKind.RESOURCE):
        keys = [k for p, k in wanted if p is party]
        if keys:  # one index range (party, party_id, change_id) per key
            ids.update(
                await LiveParty.filter(
                    party=party, party_id__in=keys, change_id__gt=after.change_id
                )
                .distinct()
                .order_by("change_id")
                .limit(first + 1)
                .values_list("change_id", flat=True)  # type: ignore[arg-type]
            )
    ordered = sorted(ids)
    has_more = len(ordered) > first
    found = await events(ordered[:first])
    heard = [e for e in found if e.heard_by(viewer, associate_ids, resource_ids)]
    if has_more or found:
        last = found[-1]
        end = Cursor(last.change_id, now if not has_more else last.at)
    else:
        end = Cursor(max(after.change_id, 0), now)
    return Page(heard, end, has_more)
