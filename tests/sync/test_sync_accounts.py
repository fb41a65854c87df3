"""Account life cycle against real Radicale: changed credentials are tried, first-push
window, and what deleting an account does to the objects in its calendar."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from app.settings import Secret, Settings
from orm.sync_models import AccountState, CalendarAccount, SyncJob
from tests.helpers import associate, client_for
from tests.sync import synchelp as h
from tests.sync.servers import DavServer


@pytest.fixture
def settings() -> Settings:
    return Settings(database_url="unused", secret_key=Secret("sync-test-secret"))


def z(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


async def test_wrong_new_password_is_tested_and_shown(
    http: httpx.AsyncClient, settings: Settings, radicale_server: DavServer
) -> None:
    ann = await associate("Ann")
    gql = await client_for(http, ann)
    cal = radicale_server.make_calendar(f"pw-{id(gql)}")
    acc = await h.add_account(gql, radicale_server, cal)
    wrong = await gql(h.UPDATE_ACCOUNT, {"id": acc, "input": {"password": "not-it"}})
    payload = wrong["updateCalendarAccount"]
    assert not payload["errors"], payload
    assert payload["account"]["state"] == "FAILED"
    assert "401" in payload["account"]["lastError"], payload
    row = await CalendarAccount.get()
    assert row.state is AccountState.FAILED and row.failed_at is not None
    fu = (
        await gql(
            h.CREATE, {"input": {"title": "Held", "start": z(datetime.now(UTC) + timedelta(days=1))}}
        )
    )["createFollowUp"]["followUp"]
    assert (await h.drain(settings)).claimed == 0  # nothing is tried with refused credentials
    right = await gql(
        h.UPDATE_ACCOUNT, {"id": acc, "input": {"password": radicale_server.password}}
    )
    account = right["updateCalendarAccount"]["account"]
    assert account["state"] == "OK" and account["lastError"] is None
    assert (await h.drain(settings)).synced == 1
    assert h.server_copy(radicale_server, cal, fu["uid"]) is not None
    assert await SyncJob.filter(status="QUEUED").count() == 0
