"""Operations: request IDs, JSON logs, liveness and readiness, Prometheus metrics, tracing."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from tortoise.connection import get_connection

from app import tracing
from app.observability import configure_logging
from app.web import create_app
from config.settings import Secret, Settings
from orm.outbox_models import MailOutbox, MailStatus
from resolvers.auth import create_token
from tests.helpers import associate

QUERY = "query Prefs { preferences { key value } }"


def _client(settings: Settings, address: str = "127.0.0.1") -> httpx.AsyncClient:
    app = create_app(settings, manage_db=False)
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://test")


@pytest.fixture
async def token(db: str) -> str:
    return await create_token(await associate("Ann"))


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# -- request IDs and logs ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sent", "kept"),
    [("abc-123.X:y_z", True), ("x" * 129, False), ("has space", False), ("", False), (None, False)],
)
async def test_request_id_is_taken_when_sane_and_returned(
    settings: Settings, db: str, sent: str | None, kept: bool
) -> None:
    headers = {} if sent is None else {"X-Request-ID": sent}
    async with _client(settings) as c:
        for path in ("/health", "/graphql", "/ready", "/no-such-page"):
            answer = (
                await c.post(path, headers=headers)
                if path == "/graphql"
                else await c.get(path, headers=headers)
            )
            returned = answer.headers["x-request-id"]
            if kept:
                assert returned == sent
            else:
                assert re.fullmatch(r"[0-9a-f]{32}", returned), returned


@pytest.fixture
def json_log(settings: Settings) -> Iterator[io.StringIO]:
    stream = io.StringIO()
    root = logging.getLogger()
    level = root.level
    handler = configure_logging(
        settings.model_copy(update={"log_format": "json", "log_level": "DEBUG"}), stream
    )
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


async def test_json_log_lines_carry_the_request_id(
    settings: Settings, token: str, json_log: io.StringIO
) -> None:
    async with _client(settings) as c:
        answer = await c.post(
            "/graphql", json={"query": QUERY}, headers={**_auth(token), "X-Request-ID": "req-42"}
        )
    assert answer.status_code == 200 and answer.headers["x-request-id"] == "req-42"
    lines = [json.loads(line) for line in json_log.getvalue().splitlines()]
    mine = [line for line in lines if line.get("request_id") == "req-42"]
    # the SQL of the request (tortoise logs it at DEBUG) and the request line itself
    assert any(line["logger"].startswith("tortoise") for line in mine), lines
    (done,) = [line for line in mine if line["logger"] == "followups.http"]
    assert done["level"] == "INFO" and "POST /graphql 200" in done["message"]
    assert done["operation"] == "Prefs" and done["outcome"] == "ok"
    assert {"time", "level", "logger", "message"} <= done.keys()


async def test_an_unexpected_failure_answers_500_with_the_request_id_and_logs_it(
    settings: Settings, db: str, json_log: io.StringIO, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app import health

    def broken(_: Settings) -> Any:
        async def endpoint(scope: Any, receive: Any, send: Any) -> None:
            raise RuntimeError("secret detail")

        return endpoint

    monkeypatch.setattr(health, "ready", broken)
    async with _client(settings) as c:
        answer = await c.get("/ready", headers={"X-Request-ID": "req-500"})
    assert answer.status_code == 500 and answer.headers["x-request-id"] == "req-500"
    assert answer.json()["errors"][0]["extensions"]["code"] == "INTERNAL"
    assert "secret detail" not in answer.text
    assert answer.headers["x-content-type-options"] == "nosniff"  # security headers kept
    lines = [json.loads(line) for line in json_log.getvalue().splitlines()]
    (failure,) = [line for line in lines if line["message"] == "unhandled error"]
    assert failure["request_id"] == "req-500" and "secret detail" in failure["exc_info"]
    (done,) = [line for line in lines if line["message"].startswith("GET /ready")]
    assert "GET /ready 500" in done["message"] and done["request_id"] == "req-500"


# -- liveness and readiness ------------------------------------------------------------


async def test_health_and_ready(settings: Settings, db: str) -> None:
    async with _client(settings, address="203.0.113.9") as c:
        assert (await c.get("/health")).text == "ok"
        ready = await c.get("/ready")
    assert ready.status_code == 200, ready.text
    assert ready.json() == {"status": "ready"}


async def test_ready_is_503_with_a_reason_while_a_migration_is_pending(
    settings: Settings, db: str
) -> None:
    conn = get_connection("default")
    _, rows = await conn.execute_query(
        "SELECT app, name FROM tortoise_migrations ORDER BY applied_at DESC, name DESC LIMIT 1"
    )
    app_label, name = rows[0]["app"], rows[0]["name"]
    await conn.execute_query(
        "DELETE FROM tortoise_migrations WHERE app = $1 AND name = $2"
        if db.startswith("postgres")
        else "DELETE FROM tortoise_migrations WHERE app = ? AND name = ?",
        [app_label, name],
    )
    try:
        async with _client(settings) as c:
            answer = await c.get("/ready")
        assert answer.status_code == 503
        body = answer.json()
        assert body["status"] == "unavailable"
        assert f"{app_label}.{name}" in body["reason"] and "migrate" in body["reason"]
    finally:
        await conn.execute_query(
            "INSERT INTO tortoise_migrations (app, name, applied_at) VALUES "
            + ("($1, $2, $3)" if db.startswith("postgres") else "(?, ?, ?)"),
            [app_label, name, datetime.now(UTC)],
        )
    async with _client(settings) as c:
        assert (await c.get("/ready")).status_code == 200


# -- metrics ---------------------------------------------------------------------------


def _sample(text: str, name: str, **labels: str) -> float:
    shown = ",".join(f'{k}="{v}"' for k, v in labels.items())
    pattern = re.escape(f"{name}{{{shown}}}" if labels else name) + r" ([0-9.e+]+)"
    found = re.search(r"^" + pattern + "$", text, re.M)
    return float(found.group(1)) if found else 0.0


async def _queue_mail(status: MailStatus) -> None:
    await MailOutbox.create(
        status=status,
        next_attempt_at=datetime.now(UTC),
        followup_id=1,
        uid="u@x",
        method="REQUEST",
        sender="a@example.com",
        recipient="b@example.com",
        message_id="<m@x>",
        message="x",
    )


async def test_metrics_count_operations_outcomes_and_queues(settings: Settings, token: str) -> None:
    await _queue_mail(MailStatus.QUEUED)
    await _queue_mail(MailStatus.QUEUED)
    await _queue_mail(MailStatus.FAILED)
    async with _client(settings) as c:
        before = (await c.get("/metrics")).text
        assert (await c.post("/graphql", json={"query": QUERY}, headers=_auth(token))).json()[
            "data"
        ]
        bad = await c.post("/graphql", json={"query": "query Oops { nope }"}, headers=_auth(token))
        assert bad.json()["errors"]
        assert (await c.post("/graphql", json={"query": QUERY})).status_code == 401
        logging.getLogger("followups.sync").warning("calendar account 1 refused: test")
        answer = await c.get("/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    text = answer.text
    total = "followups_graphql_requests_total"

    def grew(name: str, **labels: str) -> float:
        return _sample(text, name, **labels) - _sample(before, name, **labels)

    assert grew(total, operation="Prefs", outcome="ok") == 1
    assert grew(total, operation="Oops", outcome="error") == 1
    assert grew(total, operation="none", outcome="refused") == 1
    assert grew("followups_graphql_request_duration_seconds_count", operation="Prefs") == 1
    assert grew("followups_worker_failures_total", worker="sync") == 1
    assert _sample(text, "followups_mail_outbox", state="QUEUED") == 2
    assert _sample(text, "followups_mail_outbox", state="FAILED") == 1
    assert _sample(text, "followups_caldav_sync_jobs", state="QUEUED") == 0
    assert "followups_caldav_sync_jobs{" in text and "followups_imap_messages_total{" in text
    assert _sample(text, "followups_database_up") == 1


async def test_metrics_only_on_loopback_without_a_token(settings: Settings, db: str) -> None:
    async with _client(settings, address="203.0.113.9") as c:
        refused = await c.get("/metrics")
    assert refused.status_code == 403
    assert refused.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    async with _client(settings, address="::1") as c:
        assert (await c.get("/metrics")).status_code == 200


async def test_metrics_token_is_required_when_set(settings: Settings, db: str) -> None:
    guarded = settings.model_copy(update={"metrics_token": Secret("scrape-me")})
    async with _client(guarded, address="203.0.113.9") as c:
        assert (await c.get("/metrics")).status_code == 401
        wrong = await c.get("/metrics", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        right = await c.get("/metrics", headers={"Authorization": "Bearer scrape-me"})
    assert right.status_code == 200 and "followups_graphql_requests" in right.text
    async with _client(guarded) as c:  # loopback too needs it once it is set
        assert (await c.get("/metrics")).status_code == 401


# -- tracing ---------------------------------------------------------------------------


@pytest.fixture
def spans() -> Iterator[Any]:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    assert tracing.configure(provider)
    try:
        yield exporter
    finally:
        assert not tracing.configure()  # no OTEL_* variables in the tests: off again


@pytest.fixture
async def traced(settings: Settings, token: str) -> AsyncIterator[httpx.AsyncClient]:
    async with _client(settings) as c:
        yield c


async def test_requests_are_spans_named_by_operation(
    spans: Any, traced: httpx.AsyncClient, token: str
) -> None:
    parent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    answer = await traced.post(
        "/graphql", json={"query": QUERY}, headers={**_auth(token), "traceparent": parent}
    )
    assert answer.status_code == 200
    await traced.get("/health")
    finished = {span.name: span for span in spans.get_finished_spans()}
    span = finished["query Prefs"]
    assert span.attributes["graphql.operation.name"] == "Prefs"
    assert span.attributes["http.response.status_code"] == 200
    assert format(span.context.trace_id, "032x") == "0af7651916cd43dd8448eb211c80319c"
    assert "GET /health" in finished
