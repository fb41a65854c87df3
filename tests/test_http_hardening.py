"""HTTP-level holes: bad bodies, wrong-token floods, token caps, reply-link methods, CSP,
schema suggestions with introspection off."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from app import csp
from app.web import create_app
from calcore.model import PartStat
from config.settings import Secret, Settings
from mail.reply_links import reply_links
from orm import models as m
from resolvers.auth import create_token
from tests.helpers import Gql, QueryCounter, associate
from tests.templates import migrated_sqlite

ROOT = Path(__file__).resolve().parent.parent


def client(address: str = "127.0.0.1", **limits: Any) -> httpx.AsyncClient:
    app = create_app(Settings(database_url="unused", **limits), manage_db=False)
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://t")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


BAD_BODIES = [
    (b'{"query": "{ me { name } }", "x": "\xff\xfe"}', "application/json", "INVALID_JSON"),
    (b"[" * 100_000 + b"]" * 100_000, "application/json", "INVALID_JSON"),
    (b'{"query": "{ me { name } }"', "application/json", "INVALID_JSON"),
    (b'[{"query": "{ me { name } }"}]', "application/json", "INVALID_JSON"),
    (b'"{ me { name } }"', "application/json", "INVALID_JSON"),
    (b"1", "application/json", "INVALID_JSON"),
    (b"null", "application/json", "INVALID_JSON"),
    (b'{"query": 1}', "application/json", "BAD_REQUEST"),
    (b'{"query": "{ me { name } }", "variables": []}', "application/json", "BAD_REQUEST"),
    (b'{"query": "{ me { name } }"}', "text/plain", "BAD_REQUEST"),
    (b'{"query": "{ me { name } }"}', "", "BAD_REQUEST"),
    (b"query=%7Bme%7D", "application/x-www-form-urlencoded", "BAD_REQUEST"),
]


@pytest.mark.parametrize(("body", "content_type", "code"), BAD_BODIES)
async def test_bad_bodies_get_400_with_a_code(
    db: str, body: bytes, content_type: str, code: str
) -> None:
    token = await create_token(await associate("Ann"))
    async with client() as c:
        headers = {**bearer(token), "Content-Type": content_type}
        answer = await c.post("/graphql", content=body, headers=headers)
    assert answer.status_code == 400, answer.text
    assert answer.headers["content-type"] == "application/json"
    assert answer.json()["errors"][0]["extensions"]["code"] == code


async def test_suggestions_do_not_list_the_schema_without_introspection(db: str) -> None:
    token = await create_token(await associate("Ann"))
    typo = "{ mee { name } }"
    enum = 'mutation($k: PreferenceKey!) { setPreference(key: $k, scope: ASSOCIATE, value: "x") { errors { code } } }'
    async with client(introspection=True) as c:
        open_ = Gql(c, token)
        assert "Did you mean 'me'" in (await open_.raw(typo))["errors"][0]["message"]
    async with client(introspection=False) as c:
        closed = Gql(c, token)
        for query, variables in ((typo, {}), (enum, {"k": "PHONE_LINK_FORMT"})):
            errors = (await closed.raw(query, variables))["errors"]
            assert errors, query
            for error in errors:
                assert "Did you mean" not in error["message"], error
                assert "'me'" not in error["message"]
                assert "PHONE_LINK_FORMAT" not in error["message"]


async def test_wrong_token_floods_are_throttled_per_address_without_db_work(db: str) -> None:
    ann = await associate("Ann")
    good = await create_token(ann)
    me = {"query": "{ me { name } }"}
    async with client("10.0.0.1", auth_failures_per_minute=5) as flood:
        assert (await flood.post("/graphql", json=me, headers=bearer(good))).status_code == 200
        wrong = [
            (await flood.post("/graphql", json=me, headers=bearer(f"fu_wrong{i}"))).status_code
            for i in range(5)
        ]
        assert wrong == [401] * 5
        with QueryCounter() as counter:
            throttled = await flood.post("/graphql", json=me, headers=bearer("fu_wrong-again"))
        assert throttled.status_code == 429 and int(throttled.headers["retry-after"]) >= 1
        assert throttled.json()["errors"][0]["extensions"]["code"] == "AUTH_THROTTLED"
        assert counter.count == 0
        # a token that worked recently still passes; a new one from that address waits
        assert (await flood.post("/graphql", json=me, headers=bearer(good))).status_code == 200
        fresh = await create_token(ann)
        assert (await flood.post("/graphql", json=me, headers=bearer(fresh))).status_code == 429


async def test_rate_and_concurrency_are_per_associate_not_per_token(db: str) -> None:
    ann = await associate("Ann")
    first, second = await create_token(ann), await create_token(ann)
    bob = await create_token(await associate("Bob"))
    me = {"query": "{ me { name } }"}
    async with client(rate_limit_per_minute=1, rate_limit_burst=2) as c:
        assert (await c.post("/graphql", json=me, headers=bearer(first))).status_code == 200
        assert (await c.post("/graphql", json=me, headers=bearer(second))).status_code == 200
        limited = await c.post("/graphql", json=me, headers=bearer(second))
        assert limited.status_code == 429
        assert limited.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
        assert (await c.post("/graphql", json=me, headers=bearer(bob))).status_code == 200


CREATE = """mutation($days: Int) { createApiToken(name: "t", expiresInDays: $days) {
  token apiToken { id expiresAt } errors { code message path } } }"""


async def test_tokens_per_associate_are_capped(db: str) -> None:
    ann = await associate("Ann")
    async with client(max_tokens_per_associate=3) as c:
        gql = Gql(c, await create_token(ann))  # the first of three
        made = [(await gql(CREATE, {"days": 1}))["createApiToken"] for _ in range(2)]
        assert all(p["token"] and not p["errors"] for p in made)
        refused = (await gql(CREATE, {"days": 1}))["createApiToken"]
        assert refused["token"] is None
        assert [e["code"] for e in refused["errors"]] == ["VALIDATION"]
        assert "at most 3" in refused["errors"][0]["message"]
        assert await m.ApiToken.filter(associate_id=ann.id).count() == 3
        for days in (0, -1):
            wrong = (await gql(CREATE, {"days": days}))["createApiToken"]
            assert [e["path"] for e in wrong["errors"]] == [["expiresInDays"]]
        revoke = "mutation($t: ID!) { revokeApiToken(id: $t) { errors { code } } }"
        await gql(revoke, {"t": made[0]["apiToken"]["id"]})
        again = (await gql(CREATE, {"days": 1}))["createApiToken"]
        assert again["token"] and not again["errors"]
        assert (await gql(CREATE, {"days": 1}))["createApiToken"]["errors"]
        # an expired token does not count either
        await (
            m.ApiToken.filter(associate_id=ann.id, expires_at__not_isnull=True)
            .limit(1)
            .update(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
        assert not (await gql(CREATE, {"days": 1}))["createApiToken"]["errors"]


def test_cli_token_days_must_be_positive(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    url = migrated_sqlite(tmp_path_factory, tmp_path / "cli.sqlite3")
    env = {**os.environ, "DATABASE_URL": url}
    cli = [sys.executable, "-m", "app.cli"]
    subprocess.run([*cli, "demo"], env=env, cwd=ROOT, check=True, capture_output=True)
    for days in ("0", "-3"):
        run = subprocess.run(
            [*cli, "token", "ada@example.com", "--days", days],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        assert run.returncode != 0 and run.stdout == "", (days, run.stdout)
        assert len(run.stderr.strip().splitlines()) == 1 and "--days" in run.stderr
    ok = subprocess.run(
        [*cli, "token", "ada@example.com", "--days", "1"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert ok.returncode == 0 and ok.stdout.startswith("fu_")


SECRET = b"reply-link-secret"


async def test_reply_links_change_nothing_but_by_the_form(db: str) -> None:
    ann = await associate("Ann")
    start = datetime(2026, 3, 2, 9, tzinfo=UTC)
    row = await m.FollowUp.create(
        kind=m.Kind.MEETING,
        owner=ann,
        title="Kick-off",
        start_at=start,
        end_at=start + timedelta(hours=1),
        sort_at=start,
        uid="kick-off@test",
    )
    bob = await m.Participant.create(followup=row, email="bob@example.com")
    links = reply_links(
        "/reply/", SECRET, row.uid, "bob@example.com", datetime.now(UTC) + timedelta(days=1)
    )
    accept = links[PartStat.ACCEPTED]
    settings = {"secret_key": Secret(SECRET.decode())}
    async with client(**settings) as c:
        for method in ("GET", "HEAD", "OPTIONS"):
            answer = await c.request(method, accept)
            assert answer.status_code in (200, 405), (method, answer.status_code)
            assert (await m.Participant.get(id=bob.id)).status is m.ParticipantStatus.INVITED
        page = await c.get(accept)
        assert page.headers["content-security-policy"] == csp.REPLY_PAGE
        assert "frame-ancestors 'none'" in csp.REPLY_PAGE and "form-action 'self'" in csp.REPLY_PAGE
        assert 'name="confirm" value="yes"' in page.text
        for bare in ({}, {"content": b"confirm=no"}, {"json": {"confirm": "yes"}}):
            refused = await c.post(accept, **bare)  # type: ignore[arg-type]
            assert refused.status_code == 400, bare
            assert (await m.Participant.get(id=bob.id)).status is m.ParticipantStatus.INVITED
        assert await m.StatusChange.filter(participant_id=bob.id).count() == 0
        done = await c.post(accept, data={"confirm": "yes"})
        assert done.status_code == 200 and done.headers["content-security-policy"] == csp.REPLY_PAGE
    assert (await m.Participant.get(id=bob.id)).status is m.ParticipantStatus.ACCEPTED


async def test_other_routes_refuse_state_changes_by_other_methods(db: str) -> None:
    token = await create_token(await associate("Ann"))
    mutation = 'mutation { createApiToken(name: "x") { token } }'
    async with client(inbound_mail_secret=Secret("s")) as c:
        for method in ("GET", "HEAD", "OPTIONS", "PUT", "DELETE"):
            answer = await c.request(
                method, "/graphql", params={"query": mutation}, headers=bearer(token)
            )
            assert answer.status_code in (400, 405), (method, answer.status_code)
            inbound = await c.request(method, "/mail/inbound", headers={"X-Inbound-Secret": "s"})
            assert inbound.status_code == 405, method
    assert await m.ApiToken.all().count() == 1


async def test_html_pages_and_api_answers_carry_a_content_security_policy(db: str) -> None:
    async with client() as c:
        page = await c.get("/graphql", headers={"Accept": "text/html"})
        api = await c.post("/graphql", json={"query": "{ me { name } }"})
    policy = page.headers["content-security-policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["default-src"] == "'none'" and directives["frame-ancestors"] == "'none'"
    assert directives["script-src"] == "'self'"  # no inline script, nothing from elsewhere
    assert "<script>" not in page.text
    assert not re.findall(r'(?:src|href)="(https?://[^"]+)', page.text)
    assert api.status_code == 401 and api.headers["content-security-policy"] == csp.API
