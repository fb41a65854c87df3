"""Calendar accounts: who may see and change them, discovery, and "test connection".

Owns the rules of issue 7 for accounts: an associate manages their own accounts, an
administrator manages everyone's and the resources' accounts; for anyone else an account
does not exist (NOT_FOUND).  The password is encrypted (``sync.secrets``) or given as the
name of an environment variable (administrators only, names with the configured prefix
only), and never read back; a non-administrator cannot point an account whose password
comes from the environment at another server.  The server's address must pass the
outbound address policy (``sync.address_policy``) at create/update and again on every
connection; "unreachable" reads the same for every cause.  The calendar is given directly or
found by discovery (principal -> calendar-home-set -> calendars, RFC 4791 section 6).
Updating an account clears a FAILED state, so its queued jobs run again - unless the
changed credentials are refused by the server: they are tried at once, and a refusal
leaves the account FAILED with the server's answer.  Network calls
(discovery, test) happen before the database transaction, never inside it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

from tortoise.transactions import in_transaction

from config.settings import Settings
from orm import models as m
from orm.outbox import utcnow
from orm.outbox_models import OutboxStatus
from orm.sync_models import (
    AccountState,
    CalendarAccount,
    CalendarObject,
    CalendarPull,
    ObjectState,
    PullOutcome,
    SyncJob,
)
from resolvers.context import Info
from resolvers.errors import Forbidden, NotFound, ValidationFailed
from resolvers.loaders import custom_loader
from sync import address_policy, secrets
from sync.account_client import client_for
from sync.client import CalendarClient, CalendarInfo
from sync.errors import (
    UNREACHABLE,
    AddressRefused,
    CalDAVError,
    PreconditionFailed,
    TransientError,
)

MAX_ACCOUNTS = 100
log = logging.getLogger("followups.sync")
UNSET: Any = object()


@dataclass
class AccountInput:
    """What a create or update gives; ``UNSET`` fields stay as they are."""

    server_url: Any = UNSET
    username: Any = UNSET
    password: Any = UNSET
    password_env: Any = UNSET
    calendar_url: Any = UNSET
    calendar_name: Any = UNSET
    pull: Any = UNSET
    import_new_events: Any = UNSET
    #: "safe", "unlink", "restore"; None: CALDAV_PULL_DELETE
    pull_delete: Any = UNSET


PULL_DELETE_POLICIES = ("safe", "unlink", "restore")


@dataclass
class TestReport:
    """What the server answered to a connection test, and the calendars found."""

    ok: bool
    status: int | None
    message: str
    principal_url: str | None = None
    calendars: list[CalendarInfo] = field(default_factory=list)


def may_manage(viewer: m.Associate, account: CalendarAccount) -> bool:
    """Tell whether the viewer may see and change the account."""
    return viewer.is_admin or (
        account.associate_id is not None and account.associate_id == viewer.id
    )


async def get(viewer: m.Associate, key: int, path: str = "id") -> CalendarAccount:
    """Return the account; NOT_FOUND when absent or not the viewer's to manage."""
    row = await CalendarAccount.get_or_none(id=key)
    if row is None or not may_manage(viewer, row):
        raise NotFound("CalendarAccount", key, path)
    return row


async def listing(
    viewer: m.Associate, associate_id: int | None = None, resource_id: int | None = None
) -> list[CalendarAccount]:
    """Return the viewer's accounts, or (administrators) an associate's or a resource's."""
    if resource_id is not None:
        if not viewer.is_admin:
            return []
        query = CalendarAccount.filter(resource_id=resource_id)
    else:
        who = associate_id if associate_id is not None else viewer.id
        if who != viewer.id and not viewer.is_admin:
            return []
        query = CalendarAccount.filter(associate_id=who)
    return list(await query.order_by("id").limit(MAX_ACCOUNTS))


def _url(value: str, path: str) -> str:
    value = value.strip()
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValidationFailed(path, f"{path} must be an http(s) URL")
    return value


def _forbidden(path: str, message: str) -> Forbidden:
    error = Forbidden(message)
    error.path = [path]
    return error


def _origin(url: str | None) -> tuple[str, str]:
    parts = urlsplit(url or "")
    return parts.scheme.lower(), parts.netloc.rsplit("@", 1)[-1].lower()


def _origins(row: CalendarAccount) -> set[tuple[str, str]]:
    return {_origin(row.server_url), _origin(row.calendar_url or row.server_url)}


def _keep_environment_secret_home(
    viewer: m.Associate, row: CalendarAccount, before: set[tuple[str, str]]
) -> None:
    """Refuse a non-administrator's move of an account whose password is from the environment.

    Such a password was given by an administrator; it is sent to no other server unless
    a new password replaces it.
    """
    if not viewer.is_admin and row.secret_env and _origins(row) - before:
        raise _forbidden(
            "serverUrl",
            "this account's password is set by an administrator; give a new password "
            "to change its server",
        )


def _apply(
    viewer: m.Associate, row: CalendarAccount, data: AccountInput, settings: Settings
) -> None:
    """Copy validated input onto the row (no network); nothing is saved here."""
    if data.password_env is not UNSET and data.password_env is not None:
        if not viewer.is_admin:
            raise _forbidden("passwordEnv", "only administrators may set passwordEnv")
        problem = secrets.env_name_problem(str(data.password_env), settings)
        if problem is not None:
            raise ValidationFailed("passwordEnv", problem)
    if data.server_url is not UNSET:
        row.server_url = _url(str(data.server_url), "serverUrl")
    if data.username is not UNSET:
        row.username = str(data.username).strip()[:320]
    if data.password is not UNSET and data.password is not None:
        if not secrets.can_encrypt(settings):
            raise ValidationFailed(
                "password", "SECRET_KEY is not set: an administrator may give passwordEnv instead"
            )
        row.secret_enc = secrets.encrypt(str(data.password), settings)
        row.secret_env = None  # type: ignore[assignment]
    if data.password_env is not UNSET and data.password_env is not None:
        row.secret_env = str(data.password_env)
        row.secret_enc = None  # type: ignore[assignment]
    if data.calendar_url is not UNSET:
        given = data.calendar_url
        row.calendar_url = urljoin(row.server_url, _url_or_path(given)) if given else None  # type: ignore[assignment]
    if data.calendar_name is not UNSET:
        row.calendar_name = data.calendar_name or None
    if data.pull is not UNSET and data.pull is not None:
        row.pull = bool(data.pull)
    if data.import_new_events is not UNSET and data.import_new_events is not None:
        if data.import_new_events and not row.import_new_events:
            row.sync_token = None  # type: ignore[assignment]  # the next pull lists everything
        row.import_new_events = bool(data.import_new_events)
    if data.pull_delete is not UNSET:
        if data.pull_delete is not None and data.pull_delete not in PULL_DELETE_POLICIES:
            raise ValidationFailed("pullDelete", "pullDelete must be SAFE, UNLINK or RESTORE")
        row.pull_delete = data.pull_delete


def _url_or_path(value: str) -> str:
    value = value.strip()
    if value.startswith("/") or "://" not in value:
        return value
    return _url(value, "calendarUrl")


async def _check_addresses(row: CalendarAccount, settings: Settings) -> None:
    """Refuse a server (or calendar) whose address the outbound policy refuses."""
    policy = address_policy.from_settings(settings)
    for url in {row.server_url, row.calendar_url or row.server_url}:
        parts = urlsplit(url)
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
            await policy.check_host(parts.hostname or "", port)
        except (address_policy.OutboundRefused, ValueError) as exc:
            log.warning("calendar server %s refused: %s", parts.hostname, exc)
            raise ValidationFailed("serverUrl", UNREACHABLE) from exc


async def _discover(row: CalendarAccount, settings: Settings) -> None:
    """Fill in the calendar URL by discovery when it was not given."""
    await _check_addresses(row, settings)
    if row.calendar_url:
        return
    try:
        async with client_for(row, settings) as client:
            found = await client.discover()
    except secrets.SecretUnavailable as exc:
        raise ValidationFailed("passwordEnv", str(exc)) from exc
    except (TransientError, AddressRefused) as exc:
        raise ValidationFailed("serverUrl", UNREACHABLE) from exc
    except CalDAVError as exc:
        raise ValidationFailed("serverUrl", f"discovery failed: {exc}"[:500]) from exc
    usable = [c for c in found if c.supports_vevent]
    if row.calendar_name:
        usable = [c for c in usable if (c.display_name or "") == row.calendar_name] or [
            c for c in usable if c.url.rstrip("/").endswith("/" + row.calendar_name)
        ]
    if not usable:
        raise ValidationFailed("calendarUrl", "no calendar for events was found on the server")
    row.calendar_url = urljoin(row.server_url, usable[0].url)
    row.calendar_name = row.calendar_name or usable[0].display_name
    row.supports_vtodo = usable[0].supports_vtodo


async def _owner(
    viewer: m.Associate, associate_id: int | None, resource_id: int | None
) -> tuple[int | None, int | None]:
    if resource_id is not None:
        if not viewer.is_admin or not await m.Resource.exists(id=resource_id):
            raise NotFound("Resource", resource_id, "resourceId")
        return None, resource_id
    who = associate_id if associate_id is not None else viewer.id
    if who != viewer.id and (not viewer.is_admin or not await m.Associate.exists(id=who)):
        raise NotFound("Associate", who, "associateId")
    return who, None


async def create(
    viewer: m.Associate,
    data: AccountInput,
    settings: Settings,
    *,
    associate_id: int | None = None,
    resource_id: int | None = None,
) -> CalendarAccount:
    """Create an account (discovering the calendar if needed) and queue its follow-ups."""
    from sync.outbox import queue_missing, window_start

    owner, resource = await _owner(viewer, associate_id, resource_id)
    if data.server_url is UNSET or data.username is UNSET:
        raise ValidationFailed("serverUrl", "serverUrl and username are required")
    row = CalendarAccount(associate_id=owner, resource_id=resource)
    _apply(viewer, row, data, settings)
    await _discover(row, settings)
    async with in_transaction():
        await row.save()
        await queue_missing(row, window_start(row, settings.caldav_initial_window_days))
    return row


async def update(
    viewer: m.Associate, key: int, data: AccountInput, settings: Settings
) -> CalendarAccount:
    """Change an account; clears FAILED so its jobs resume; a new calendar is refilled."""
    from sync.outbox import queue_missing, window_start

    row = await get(viewer, key)
    old_calendar, before = row.calendar_url, _origins(row)
    if (data.server_url is not UNSET or data.calendar_name is not UNSET) and (
        data.calendar_url is UNSET
    ):
        row.calendar_url = None  # type: ignore[assignment]  # discover again
    _apply(viewer, row, data, settings)
    _keep_environment_secret_home(viewer, row, before)
    await _discover(row, settings)
    changed = (data.server_url, data.username, data.password, data.password_env)
    refused = (
        await credentials_refused(row, settings) if any(v is not UNSET for v in changed) else None
    )
    async with in_transaction():
        row.state = AccountState.FAILED if refused else AccountState.OK
        row.last_error = refused  # type: ignore[assignment]
        row.failed_at = utcnow() if refused else None  # type: ignore[assignment]
        moved = row.calendar_url != old_calendar
        if moved:
            row.sync_token = None  # type: ignore[assignment]
            row.supports_sync = row.supports_vtodo = None  # type: ignore[assignment]
            await SyncJob.filter(account_id=row.id, status=OutboxStatus.QUEUED).delete()
            await CalendarObject.filter(account_id=row.id).delete()
        await row.save()
        if moved:
            await queue_missing(row, window_start(row, settings.caldav_initial_window_days))
    return row


async def credentials_refused(row: CalendarAccount, settings: Settings) -> str | None:
    """Try changed credentials once; return the server's refusal, or None.

    Only a refusal of the credentials (401/403, or a password that cannot be read) counts:
    an unreachable server says nothing about them, so the account stays OK and retries.
    """
    try:
        client = client_for(row, settings)
    except secrets.SecretUnavailable as exc:
        return str(exc)[:2000]
    async with client:
        report = await client.test_connection()
    if report.status in (401, 403):
        return f"the server refused the new credentials: {report.reason}"[:2000]
    return None


async def delete(
    viewer: m.Associate, key: int, settings: Settings, *, keep_objects: bool = False
) -> int:
    """Delete an account with its object states and jobs.

    By default our objects are first removed from the calendar (as a user expects when
    disconnecting it); when the server cannot be reached or refuses, nothing is deleted
    here and the error says so (retry, or keep them).  ``keep_objects`` leaves the
    calendar's contents as they are.
    """
    row = await get(viewer, key)
    if not keep_objects:
        await remove_objects(row, settings)
    async with in_transaction():
        await row.delete()
    return key


async def remove_objects(row: CalendarAccount, settings: Settings) -> int:
    """DELETE every object we wrote to the account's calendar; return how many."""
    objects = await CalendarObject.filter(account_id=row.id, etag__isnull=False)
    if not objects:
        return 0
    try:
        client = client_for(row, settings)
    except secrets.SecretUnavailable as exc:
        raise ValidationFailed("keepObjects", f"cannot remove the objects: {exc}") from exc
    limit = asyncio.Semaphore(4)

    async def one(obj: CalendarObject) -> str | None:
        async with limit:
            try:
                await _delete_ours(client, obj)
            except CalDAVError as exc:
                return str(exc)
            await CalendarObject.filter(id=obj.id).delete()
            return None

    async with client:
        errors = [e for e in await asyncio.gather(*(one(o) for o in objects)) if e]
    if errors:
        raise ValidationFailed(
            "keepObjects",
            f"{len(errors)} of {len(objects)} objects could not be removed from the calendar "
            f"(retry, or pass keepObjects: true): {errors[0]}"[:500],
        )
    return len(objects)


async def _delete_ours(client: CalendarClient, obj: CalendarObject) -> None:
    """Delete one object; an edit made meanwhile in a calendar app does not save it."""
    etag = obj.etag
    for _ in range(3):
        try:
            await client.delete(obj.name, etag)
            return
        except PreconditionFailed as exc:
            if exc.server_etag is None:
                return
            etag = exc.server_etag
    raise CalDAVError("the object kept changing on the server", url=client.url)


async def test(viewer: m.Associate, key: int, settings: Settings) -> TestReport:
    """Ask the server who we are and which calendars there are; report its answer."""
    row = await get(viewer, key)
    try:
        client = client_for(row, settings)
    except secrets.SecretUnavailable as exc:
        return TestReport(False, None, str(exc))
    async with client:
        report = await client.test_connection()
        result = TestReport(report.ok, report.status, report.reason, report.principal_url)
        if report.ok:
            try:
                result.calendars = await client.discover()
            except CalDAVError as exc:
                result.message += f"; discovery failed: {exc}"[:300]
            if row.calendar_url:
                try:
                    row.supports_vtodo = await client.supports_vtodo()
                    await CalendarAccount.filter(id=row.id).update(
                        supports_vtodo=row.supports_vtodo
                    )
                except CalDAVError as exc:
                    result.ok = False
                    result.message += f"; the calendar did not answer: {exc}"[:300]
    return result


async def visible(info: Info, node_ids: Iterable[str]) -> list[CalendarAccount | None]:
    """The accounts of Relay node keys the viewer manages (None for the others)."""
    keys = [int(n) if n.isdigit() and len(n) < 18 else -1 for n in node_ids]
    rows = await info.context.loaders.by_id(CalendarAccount).load_many(keys)
    viewer = info.context.viewer
    return [r if r is not None and may_manage(viewer, r) else None for r in rows]


@dataclass
class SyncState:
    """How a follow-up stands in one calendar, as the viewer is told."""

    account: CalendarAccount
    state: ObjectState
    error: str | None
    synced_at: datetime | None


async def sync_states(info: Info, followup_id: int) -> list[SyncState]:
    """The follow-up's states in the calendars the viewer manages (batched per request).

    In a FAILED account an object not yet synced reads FAILED with the account's error.
    """

    async def batch(keys: list[int]) -> list[list[tuple[CalendarObject, CalendarAccount]]]:
        objs = await CalendarObject.filter(followup_id__in=keys, wanted=True).order_by("id")
        found = await info.context.loaders.by_id(CalendarAccount).load_many(
            [o.account_id for o in objs]
        )
        out: dict[int, list[tuple[CalendarObject, CalendarAccount]]] = {k: [] for k in keys}
        for obj, account in zip(objs, found, strict=True):
            if account is not None:
                out[obj.followup_id].append((obj, account))
        return [out[k] for k in keys]

    viewer = info.context.viewer
    pairs = await custom_loader(info.context.loaders, "calendar_sync", batch).load(followup_id)
    result = []
    for obj, account in pairs:
        if not may_manage(viewer, account):
            continue
        state, error = obj.state, obj.error
        if account.state is AccountState.FAILED and state is not ObjectState.SYNCED:
            state, error = ObjectState.FAILED, account.last_error
        result.append(SyncState(account, state, error, obj.synced_at))
    return result


async def pulls_of_account(account: CalendarAccount, first: int) -> list[CalendarPull]:
    """The latest changes pulled from one calendar (the viewer manages it), newest first."""
    return list(
        await CalendarPull.filter(account_id=account.id).order_by("-id").limit(max(0, first))
    )


async def pulls_of_followup(
    info: Info, followup_id: int, first: int, conflicts: bool = False
) -> list[CalendarPull]:
    """What pulls did to a follow-up in the calendars the viewer manages, newest first."""
    query = CalendarPull.filter(followup_id=followup_id)
    if conflicts:  # the open ones (resolveCalendarConflict closes them)
        query = query.filter(outcome=PullOutcome.CONFLICT, resolved_at=None)
    rows = list(await query.order_by("-id").limit(max(0, first) * 4))
    found = await info.context.loaders.by_id(CalendarAccount).load_many(
        [r.account_id for r in rows]
    )
    viewer = info.context.viewer
    kept = [r for r, a in zip(rows, found, strict=True) if a is not None and may_manage(viewer, a)]
    return kept[: max(0, first)]
