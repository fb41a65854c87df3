"""Helpers for the sync service tests: accounts through GraphQL, server copies, the worker."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from icalendar import Calendar

from config.settings import Secret, Settings
from orm.outbox import utcnow
from orm.sync_models import SyncJob
from sync.names import object_name
from sync.worker import BatchResult, SyncWorker
from tests.helpers import LOOPBACK_HOSTS, Gql
from tests.sync.servers import DavServer

#: run the test on Radicale, Xandikos and the RFC 6638 server (Cyrus, as user ``ann``)
on_cyrus_too = pytest.mark.parametrize(
    "dav_server", ["radicale", "xandikos", "cyrus"], indirect=True
)


def sync_settings(**extra: Any) -> Settings:
    """Settings for the sync tests: a secret key, and the loopback servers allowed."""
    base: dict[str, Any] = dict(
        database_url="unused",
        secret_key=Secret("sync-test-secret"),
        caldav_allowed_hosts=LOOPBACK_HOSTS,
    )
    return Settings(**(base | extra))


CREATE_ACCOUNT = """mutation($input: CalendarAccountInput!, $a: ID, $r: ID) {
  createCalendarAccount(input: $input, associateId: $a, resourceId: $r) {
    account { id state lastError passwordSource calendarUrl }
    errors { code message path } } }"""
UPDATE_ACCOUNT = """mutation($id: ID!, $input: CalendarAccountInput!) {
  updateCalendarAccount(id: $id, input: $input) {
    account { id state lastError } errors { code message path } } }"""
CREATE = """mutation($input: FollowUpInput!) { createFollowUp(input: $input) {
  followUp { id uid version sequence } errors { code message path } } }"""
UPDATE = """mutation($id: ID!, $v: Int!, $input: FollowUpInput!, $scope: EditScope! = THIS) {
  updateFollowUp(id: $id, version: $v, input: $input, scope: $scope) {
    followUp { id version sequence } errors { code message path } } }"""
DELETE = """mutation($id: ID!, $scope: EditScope! = THIS) { deleteFollowUp(id: $id, scope: $scope) {
  deletedId errors { code message } } }"""
SAVE = """mutation($f: ID!, $v: Int!, $p: [ParticipantInput!]!, $r: [ID!]) {
  saveParticipants(followUpId: $f, version: $v, participants: $p, resourceIds: $r) {
    followUp { id version } errors { code message path } } }"""
SYNC_STATE = """query($id: ID!) { node(id: $id) { ... on FollowUp {
  calendarSync { account { id } state error syncedAt } } } }"""


async def add_account(
    gql: Gql, server: DavServer, url: str, password: str | None = None, **extra: Any
) -> str:
    """Create an account on ``url`` through GraphQL; return its ID."""
    data = {
        "serverUrl": server.base_url,
        "username": server.username,
        "password": server.password if password is None else password,
        "calendarUrl": url,
    }
    body = await gql(CREATE_ACCOUNT, {"input": data, **extra})
    payload = body["createCalendarAccount"]
    assert not payload["errors"], payload
    return str(payload["account"]["id"])


def server_copy(server: DavServer, url: str, uid: str) -> Calendar | None:
    """Return the server's copy of the object of ``uid`` (None when absent)."""
    response = httpx.get(url + object_name(uid), auth=server.auth(), timeout=10)
    if response.status_code == 404:
        return None
    assert response.status_code == 200, response.text
    return Calendar.from_ical(response.content)


def master(cal: Calendar) -> Any:
    """Return the component without RECURRENCE-ID."""
    return next(c for c in cal.walk() if c.name in ("VEVENT", "VTODO") and "RECURRENCE-ID" not in c)


async def drain(settings: Settings, name: str = "test-worker") -> BatchResult:
    """Run a worker until nothing is claimable (retries made due at once)."""
    worker = SyncWorker(settings, name=name)
    try:
        return await worker.run_until_idle(max_batches=50)
    finally:
        await worker.aclose()


async def make_due() -> None:
    """Skip the backoff of every queued job."""
    await SyncJob.filter(status="QUEUED").update(next_attempt_at=utcnow())
