"""Calendar accounts as an attacker uses them: environment secrets and SSRF (issue 10, 1-2).

- ``passwordEnv`` is an administrator's tool, limited to CALDAV_PASSWORD_ names, and a
  row stored earlier with another name never sends that variable anywhere;
- the server address passes the outbound address policy at create/update and on every
  connection; "unreachable" reads the same for every cause; a refused account ends
  FAILED in the worker instead of retrying forever.
Targets are loopback servers that record what reached them; other addresses are judged
by the policy alone and never connected to.
"""

from __future__ import annotations

import base64
import ipaddress
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from app.web import create_app
from config.settings import Secret, Settings
from orm import models as m
from orm.sync_models import AccountState, CalendarAccount, SyncJob
from sync import address_policy as ap
from sync import secrets
from sync.errors import UNREACHABLE
from tests.helpers import Gql, associate, client_for, gid
from tests.sync import synchelp as h
from tests.sync.recording import RecordingServer
from tests.sync.servers import DavServer, free_port

MARKER = "leaked-secret-value-7f3a"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
TEST = """mutation($id: ID!) { testCalendarAccount(id: $id) {
  result { ok status message } errors { code message path } } }"""


def make_settings(*allowed: str, **extra: Any) -> Settings:
    extra.setdefault("caldav_timeout", 1.0)
    return Settings(
        database_url="unused",
        secret_key=Secret("sync-test-secret"),
        caldav_allowed_hosts=allowed,
        **extra,
    )


@asynccontextmanager
async def api(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, manage_db=False)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as client:
        yield client


async def create(gql: Gql, **input: Any) -> dict[str, Any]:
    body = await gql(h.CREATE_ACCOUNT, {"input": {"username": "alice", **input}})
    return dict(body["createCalendarAccount"])


def basic(password: str) -> bytes:
    return base64.b64encode(f"alice:{password}".encode())


# -- passwordEnv ---------------------------------------------------------------------------


async def test_non_admin_may_not_name_an_environment_variable(
    db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CALDAV_PASSWORD_X", MARKER)
    async with api(make_settings("127.0.0.1")) as http, RecordingServer() as target:
        gql = await client_for(http, await associate("Eve"))
        for name in ["SECRET_KEY", "CALDAV_PASSWORD_X"]:
            got = await create(gql, serverUrl=target.url, passwordEnv=name, calendarUrl="/c/")
            assert got["account"] is None
            assert got["errors"] == [
                {
                    "code": "FORBIDDEN",
                    "message": "only administrators may set passwordEnv",
                    "path": ["passwordEnv"],
                }
            ]
        assert await CalendarAccount.all().count() == 0
        mine = await create(gql, serverUrl=target.url, password="pw", calendarUrl="/c/")
        acc = mine["account"]["id"]
        changed = await gql(h.UPDATE_ACCOUNT, {"id": acc, "input": {"passwordEnv": "SECRET_KEY"}})
        assert changed["updateCalendarAccount"]["errors"][0]["code"] == "FORBIDDEN"
        row = await CalendarAccount.get()
        assert row.secret_env is None and row.secret_enc
    assert target.connections == 0


@pytest.mark.parametrize(
    "name",
    ["SECRET_KEY", "DATABASE_URL", "SMTP_PASSWORD", "CALDAV_PASSWORD_", "caldav_password_x", "X-Y"],
)
async def test_admin_may_name_only_prefixed_variables(db: str, name: str) -> None:
    async with api(make_settings("127.0.0.1")) as http, RecordingServer() as target:
        gql = await client_for(http, await associate("Ada", is_admin=True))
        got = await create(gql, serverUrl=target.url, passwordEnv=name, calendarUrl="/c/")
        assert got["account"] is None
        (error,) = got["errors"]
        assert error["code"] == "VALIDATION" and error["path"] == ["passwordEnv"]
        assert "CALDAV_PASSWORD_" in error["message"] or "variable name" in error["message"]
        assert await CalendarAccount.all().count() == 0
    assert target.connections == 0


async def test_admin_with_prefixed_variable_works_on_radicale(
    db: str, radicale_server: DavServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CALDAV_PASSWORD_ALICE", radicale_server.password)
    settings = make_settings("127.0.0.1", caldav_timeout=10.0)
    cal = radicale_server.make_calendar(f"env-{free_port()}")
    async with api(settings) as http:
        admin = await associate("Ada", is_admin=True)
        gql = await client_for(http, admin)
        got = await create(
            gql, serverUrl=radicale_server.base_url, passwordEnv="CALDAV_PASSWORD_ALICE"
        )  # no calendarUrl: discovery runs with the variable's password
        assert not got["errors"], got
        assert got["account"]["passwordSource"] == "ENVIRONMENT"
        acc = got["account"]["id"]
        await gql(h.UPDATE_ACCOUNT, {"id": acc, "input": {"calendarUrl": cal}})
        result = (await gql(TEST, {"id": acc}))["testCalendarAccount"]["result"]
        assert result["ok"] and result["status"] == 207
        fu = (await gql(h.CREATE, {"input": {"title": "Env", "start": T0.isoformat()}}))[
            "createFollowUp"
        ]["followUp"]
        assert (await h.drain(settings)).synced == 1
        assert h.server_copy(radicale_server, cal, fu["uid"]) is not None

        # the owner (not an admin) may not send that password to another server
        bob = await associate("Bob")
        await CalendarAccount.all().update(associate_id=bob.id)
        as_bob = await client_for(http, bob)
        async with RecordingServer() as elsewhere:
            moved = await as_bob(
                h.UPDATE_ACCOUNT,
                {"id": acc, "input": {"serverUrl": elsewhere.url, "calendarUrl": "/c/"}},
            )
            assert moved["updateCalendarAccount"]["errors"][0]["code"] == "FORBIDDEN"
            assert (await CalendarAccount.get()).server_url == radicale_server.base_url
            own = await as_bob(
                h.UPDATE_ACCOUNT,
                {
                    "id": acc,
                    "input": {"serverUrl": elsewhere.url, "calendarUrl": "/c/", "password": "b"},
                },
            )
            assert not own["updateCalendarAccount"]["errors"]
            await as_bob(TEST, {"id": acc})
        assert elsewhere.received and basic(radicale_server.password) not in elsewhere.received
        assert basic("b") in elsewhere.received


async def test_stored_bad_variable_name_never_leaves_the_process(
    db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A row stored before the rule, naming SECRET_KEY: its value reaches no server."""
    monkeypatch.setenv("SECRET_KEY", MARKER)
    settings = make_settings("127.0.0.1")
    async with api(settings) as http, RecordingServer() as target:
        ann = await associate("Ann")
        row = await CalendarAccount.create(
            associate_id=ann.id,
            server_url=target.url,
            username="alice",
            secret_env="SECRET_KEY",
            calendar_url=target.url + "cal/",
        )
        with pytest.raises(secrets.SecretUnavailable) as caught:
            secrets.resolve(None, "SECRET_KEY", settings)
        assert MARKER not in str(caught.value)
        gql = await client_for(http, ann)
        result = (await gql(TEST, {"id": gid("CalendarAccount", row.id)}))["testCalendarAccount"]
        assert result["result"]["ok"] is False
        assert "CALDAV_PASSWORD_" in result["result"]["message"]
        assert MARKER not in str(result)
        await gql(h.CREATE, {"input": {"title": "Leak?", "start": T0.isoformat()}})
        await h.drain(settings)
        failed = await CalendarAccount.get()
        assert failed.state is AccountState.FAILED and MARKER not in (failed.last_error or "")
        assert (await h.drain(settings)).claimed == 0  # waits for an update, no retries
    assert MARKER.encode() not in target.received
    assert basic(MARKER) not in target.received
    assert target.connections == 0


# -- the outbound address policy -------------------------------------------------------


REFUSED_URLS = [
    "http://127.0.0.1:5432/",
    "http://127.0.0.1:6379/",
    "http://[::1]:8080/",
    "http://0x7f000001/",
    "http://2130706433/",
    "http://017700000001/",
    "http://127.1:8080/",
    "http://[::ffff:127.0.0.1]/",
    "http://10.0.0.1/",
    "http://192.168.1.1:8443/",
    "https://169.254.169.254/latest/meta-data/",
    "http://100.64.0.1/",
    "http://localhost:5432/",
    "http://no-such-host.invalid/",
]


async def test_non_public_servers_are_refused_with_one_message(db: str) -> None:
    async with api(make_settings()) as http:
        gql = await client_for(http, await associate("Eve"))
        messages = set()
        for url in REFUSED_URLS:
            for extra in ({}, {"calendarUrl": "/cal/"}):  # with and without discovery
                got = await create(gql, serverUrl=url, password="pw", **extra)
                assert got["account"] is None, url
                (error,) = got["errors"]
                assert error["code"] == "VALIDATION" and error["path"] == ["serverUrl"], url
                messages.add(error["message"])
        # a public server with a calendar on loopback: refused too, never contacted
        got = await create(
            gql, serverUrl="http://93.184.216.34/", calendarUrl="http://127.0.0.1:6379/c/"
        )
        messages.add(got["errors"][0]["message"])
        assert messages == {UNREACHABLE}
        assert await CalendarAccount.all().count() == 0


async def _probe(gql: Gql, owner: m.Associate, url: str) -> dict[str, Any]:
    row = await CalendarAccount.create(
        associate_id=owner.id, server_url=url, username="alice", calendar_url=url + "cal/"
    )
    body = await gql(TEST, {"id": gid("CalendarAccount", row.id)})
    return dict(body["testCalendarAccount"]["result"])


@pytest.mark.parametrize("allowed", [(), ("127.0.0.1",)], ids=["policy", "allow-listed"])
async def test_unreachable_reads_the_same_for_every_cause(
    db: str, allowed: tuple[str, ...]
) -> None:
    """Open, closed, silent and non-HTTP ports answer one text: no port scanner."""
    async with (
        api(make_settings(*allowed, caldav_timeout=0.5)) as http,
        RecordingServer(mode="close") as hangs_up,
        RecordingServer(mode="silent") as silent,
    ):
        ann = await associate("Ann")
        gql = await client_for(http, ann)
        closed = free_port()
        results = [
            await _probe(gql, ann, f"http://127.0.0.1:{port}/")
            for port in (closed, hangs_up.port, silent.port, 5432)
        ]
    assert all(r == {"ok": False, "status": None, "message": UNREACHABLE} for r in results)
    assert hangs_up.connections == silent.connections == (1 if allowed else 0)


async def test_allow_listed_radicale_works(db: str, radicale_server: DavServer) -> None:
    settings = make_settings("127.0.0.1", caldav_timeout=10.0)
    cal = radicale_server.make_calendar(f"allow-{free_port()}")
    async with api(settings) as http:
        gql = await client_for(http, await associate("Ann"))
        got = await create(
            gql, serverUrl=radicale_server.base_url, password=radicale_server.password
        )
        assert not got["errors"], got  # discovery ran through the policy
        acc = got["account"]["id"]
        await gql(h.UPDATE_ACCOUNT, {"id": acc, "input": {"calendarUrl": cal}})
        assert (await gql(TEST, {"id": acc}))["testCalendarAccount"]["result"]["ok"]
        fu = (await gql(h.CREATE, {"input": {"title": "Allowed", "start": T0.isoformat()}}))[
            "createFollowUp"
        ]["followUp"]
        assert (await h.drain(settings)).synced == 1
        assert h.server_copy(radicale_server, cal, fu["uid"]) is not None
    # the same server without the allow-list: refused at once
    async with api(make_settings()) as http:
        gql = await client_for(http, await associate("Cid"))
        got = await create(gql, serverUrl=radicale_server.base_url, password="x")
        assert got["errors"][0]["message"] == UNREACHABLE


async def test_worker_fails_a_refused_account_instead_of_retrying(
    db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A name that passed at creation and rebinds to loopback: FAILED, jobs wait."""
    dns = {"rebind.test": "93.184.216.34"}

    async def rebinding(host: str, port: int) -> list[ap.IPAddress]:
        return [ipaddress.ip_address(dns[host])]

    monkeypatch.setattr(ap, "resolve", rebinding)
    settings = make_settings()
    async with api(settings) as http, RecordingServer() as target:
        gql = await client_for(http, await associate("Eve"))
        url = f"http://rebind.test:{target.port}/"
        got = await create(gql, serverUrl=url, password="pw", calendarUrl=url + "cal/")
        assert not got["errors"], got  # public at creation
        dns["rebind.test"] = "127.0.0.1"
        await gql(h.CREATE, {"input": {"title": "Rebind", "start": T0.isoformat()}})
        result = await h.drain(settings)
        assert result.accounts_failed == 1
        row = await CalendarAccount.get()
        assert row.state is AccountState.FAILED
        assert (row.last_error or "").startswith(f"PUT: {UNREACHABLE} url={url}cal/")
        await h.make_due()
        assert (await h.drain(settings)).claimed == 0
        assert await SyncJob.filter(status="QUEUED").count() == 1
    assert target.connections == 0


def test_loopback_postgres_port_is_really_open() -> None:
    """The 'non-HTTP open port' case above is real: PostgreSQL listens on 5432."""
    with socket.create_connection(("127.0.0.1", 5432), timeout=2):
        pass
