"""Limits, tokens and the web guards: refused before running, typed, and recovering."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from app.guards import LoadShedding, RateLimiter
from app.web import create_app
from config.settings import Settings
from orm import models as m
from resolvers.auth import create_token
from tests.helpers import Gql, associate, client_for, gid


def app_client(**limits: Any) -> httpx.AsyncClient:
    app = create_app(Settings(database_url="unused", **limits), manage_db=False)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")


async def test_too_deep_too_costly_too_many_aliases_are_refused(db: str) -> None:
    me = await associate("Ann")
    async with app_client(max_query_depth=3, max_query_cost=500, max_aliases=3) as c:
        gql = Gql(c, await create_token(me))
        deep = await gql.raw(
            '{ diary(associateIds: [], from: "2026-01-01T00:00:00Z", to: "2026-01-02T00:00:00Z") { person { company { phones { link } } } } }'
        )
        assert any("exceeds maximum operation depth" in e["message"] for e in deep["errors"])
        costly = await gql.raw(
            "{ companies(first: 200) { nodes { name phones { number dial link } } } }"
        )
        assert [e["extensions"]["code"] for e in costly["errors"]] == ["QUERY_TOO_COSTLY"]
        aliases = await gql.raw("{ a: me { name } b: me { name } c: me { name } d: me { name } }")
        assert "aliases" in aliases["errors"][0]["message"].lower()
        fine = await gql.raw("{ companies(first: 10) { nodes { name } } }")
        assert "errors" not in fine


async def test_too_many_operations_and_introspection_switch(db: str) -> None:
    me = await associate("Ann")
    async with app_client(max_operations=2, introspection=False) as c:
        gql = Gql(c, await create_token(me))
        many = await gql.raw(
            "query A { me { name } } query B { me { name } } query C { me { name } }"
        )
        assert many["errors"][0]["extensions"]["code"] == "TOO_MANY_OPERATIONS"
        schema = await gql.raw("{ __schema { types { name } } }")
        assert "introspection" in schema["errors"][0]["message"].lower()


async def test_body_limit(db: str) -> None:
    me = await associate("Ann")
    async with app_client(max_body_bytes=2000) as c:
        token = await create_token(me)
        big = await c.post(
            "/graphql",
            json={"query": "{ me { name } }", "x": "y" * 5000},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert (
            big.status_code == 413 and big.json()["errors"][0]["extensions"]["code"] == "TOO_LARGE"
        )


async def test_rate_limit_kicks_in_and_recovers(db: str) -> None:
    me = await associate("Ann")
    async with app_client(rate_limit_per_minute=600, rate_limit_burst=3) as c:
        token = await create_token(me)
        codes = [
            (
                await c.post(
                    "/graphql",
                    json={"query": "{ me { name } }"},
                    headers={"Authorization": f"Bearer {token}"},
                )
            ).status_code
            for _ in range(6)
        ]
        assert codes[:3] == [200, 200, 200] and 429 in codes[3:]
        limited = await c.post(
            "/graphql",
            json={"query": "{ me { name } }"},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert limited.status_code == 429 and limited.headers["retry-after"]
        assert limited.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
        await asyncio.sleep(0.25)  # 10 per second refill
        again = await c.post(
            "/graphql",
            json={"query": "{ me { name } }"},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert again.status_code == 200


def test_rate_limiter_buckets_are_per_token() -> None:
    limiter = RateLimiter(per_minute=60, burst=2)
    assert [limiter.allow("a", 0.0), limiter.allow("a", 0.0)] == [0.0, 0.0]
    assert limiter.allow("a", 0.0) > 0 and limiter.allow("b", 0.0) == 0.0
    assert limiter.allow("a", 1.0) == 0.0


async def test_load_shedding_refuses_beyond_the_limit_and_recovers() -> None:
    gate = asyncio.Event()

    async def slow(scope: Any, receive: Any, send: Any) -> None:
        await gate.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    shed = LoadShedding(slow, limit=2)
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=shed), base_url="http://t")
    pending = [asyncio.create_task(client.get("/graphql")) for _ in range(2)]
    await asyncio.sleep(0.05)
    refused = await client.get("/graphql")
    assert refused.status_code == 503 and refused.headers["retry-after"] == "1"
    gate.set()
    assert [r.status_code for r in await asyncio.gather(*pending)] == [200, 200]
    assert (await client.get("/graphql")).status_code == 200


async def test_cors_and_security_headers(db: str) -> None:
    async with app_client(cors_origins=("https://app.example",)) as c:
        ok = await c.options(
            "/graphql",
            headers={
                "Origin": "https://app.example",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization",
            },
        )
        assert ok.headers["access-control-allow-origin"] == "https://app.example"
        evil = await c.options(
            "/graphql",
            headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
        )
        assert "access-control-allow-origin" not in evil.headers
        page = await c.get("/health")
        assert page.headers["x-content-type-options"] == "nosniff"
        assert page.headers["x-frame-options"] == "DENY"


async def test_tokens_list_last_used_expiry_and_revocation(http: Any) -> None:
    ann = await associate("Ann")
    admin = await associate("Root", is_admin=True)
    gql = await client_for(http, ann)
    created = await gql(
        'mutation { createApiToken(name: "laptop", expiresInDays: 30) { token apiToken { id name expiresAt } errors { code } } }'
    )
    token = created["createApiToken"]["token"]
    laptop = Gql(http, token)
    assert (await laptop("{ me { name } }"))["me"]["name"] == "Ann"
    listed = (await gql("{ apiTokens { name lastUsedAt revokedAt } }"))["apiTokens"]
    assert {t["name"] for t in listed} == {"laptop", ""} and all(t["lastUsedAt"] for t in listed)
    other = await client_for(http, await associate("Eve"))
    assert (
        await other(
            "query($a: ID!) { apiTokens(associateId: $a) { name } }",
            {"a": gid("Associate", ann.id)},
        )
    )["apiTokens"] == []
    root = await client_for(http, admin)
    revoked = await root(
        "mutation($t: ID!) { revokeApiToken(id: $t) { apiToken { revokedAt } errors { code } } }",
        {"t": created["createApiToken"]["apiToken"]["id"]},
    )
    assert revoked["revokeApiToken"]["apiToken"]["revokedAt"]
    denied = await http.post(
        "/graphql", json={"query": "{ me { name } }"}, headers={"Authorization": f"Bearer {token}"}
    )
    assert denied.status_code == 401
    old = await create_token(ann, "old", timedelta(days=1))
    await m.ApiToken.filter(name="old").update(expires_at=datetime.now(UTC) - timedelta(seconds=1))
    expired = await http.post(
        "/graphql", json={"query": "{ me { name } }"}, headers={"Authorization": f"Bearer {old}"}
    )
    assert expired.status_code == 401


@pytest.mark.parametrize("debug", [False, True])
def test_unexpected_errors_are_masked_outside_debug(debug: bool) -> None:
    from graphql import GraphQLError

    from schema import DomainErrors

    error = GraphQLError(
        "boom at SELECT * FROM secret", path=["diary"], original_error=RuntimeError("SELECT *")
    )
    shown = DomainErrors._format(error, debug)
    assert ("SELECT" in shown.message) is debug
