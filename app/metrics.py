"""Prometheus metrics at ``GET /metrics`` (text exposition format).

In-process (per process, reset on restart):
- ``followups_graphql_requests_total{operation, outcome}``: GraphQL requests by operation
  name (``anonymous`` without one, ``other`` beyond ``MAX_OPERATION_NAMES`` names or for odd
  ones) and outcome (``ok``, ``error``: errors in the answer, ``refused``: answered 4xx
  before running, e.g. 401/429; ``failed``: 5xx);
- ``followups_graphql_request_duration_seconds{operation}``: their latency histogram;
- ``followups_http_requests_total{route, status}``: every HTTP request by route;
- ``followups_worker_failures_total{worker}``: warnings and errors the mail, sync and IMAP
  workers of this process logged (refused sends, unreachable servers, crashed batches).

From the database at each scrape (true for every process sharing it):
- ``followups_mail_outbox{state}``, ``followups_caldav_sync_jobs{state}``: rows by state;
- ``followups_imap_messages_total{outcome}``: IMAP intake messages by outcome;
- ``followups_imap_mailboxes{state}``: configured mailboxes by state (``FAILED``: refused).

Access: with ``METRICS_TOKEN`` set, a request must carry ``Authorization: Bearer <it>``;
without, only loopback clients (127.0.0.0/8, ::1) are answered (403 otherwise).
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import time
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from starlette.responses import Response
from starlette.types import ASGIApp, Scope

from app.guards import error_body
from config.settings import Settings

MAX_OPERATION_NAMES = 200
REGISTRY = CollectorRegistry(auto_describe=True)
REQUESTS = Counter(
    "followups_graphql_requests",
    "GraphQL requests by operation name and outcome",
    ["operation", "outcome"],
    registry=REGISTRY,
)
LATENCY = Histogram(
    "followups_graphql_request_duration_seconds",
    "GraphQL request latency, from the first byte read to the last byte sent",
    ["operation"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
    registry=REGISTRY,
)
HTTP = Counter(
    "followups_http_requests",
    "HTTP requests by route and status",
    ["route", "status"],
    registry=REGISTRY,
)
WORKER_FAILURES = Counter(
    "followups_worker_failures",
    "warnings and errors logged by the mail, sync and IMAP workers of this process",
    ["worker"],
    registry=REGISTRY,
)
_ROUTES = ("/graphql", "/health", "/ready", "/metrics", "/mail/inbound")
_PREFIXES = {"/reply/": "/reply/{token}", "/graphiql/": "/graphiql/{asset}"}
_WORKERS = {"followups.mail": "mail", "followups.sync": "sync", "followups.imap": "imap"}
_names: set[str] = set()


def operation_label(name: str | None) -> str:
    """The label of an operation name: bounded in number and spelling."""
    if not name:
        return "anonymous"
    if name in _names:
        return name
    if len(_names) >= MAX_OPERATION_NAMES or not (name.isidentifier() and len(name) <= 64):
        return "other"
    _names.add(name)
    return name


def _route(path: str) -> str:
    if path in _ROUTES:
        return path
    return next((label for prefix, label in _PREFIXES.items() if path.startswith(prefix)), "other")


def observe(
    scope: Scope, status: int, operation: str | None, outcome: str | None, started: float
) -> None:
    """Count one finished HTTP request (and, on /graphql, its operation)."""
    route = _route(scope.get("path", ""))
    HTTP.labels(route, str(status)).inc()
    if route != "/graphql" or scope.get("method") != "POST":
        return
    if status >= 500:
        outcome = "failed"
    elif outcome is None:
        outcome = "refused"  # answered before any GraphQL ran (401, 429, 400, 413 ...)
    label = operation or "none"
    REQUESTS.labels(label, outcome).inc()
    LATENCY.labels(label).observe(time.perf_counter() - started)


class WorkerFailures(logging.Handler):
    """Count the warnings and errors the workers log, by worker."""

    def emit(self, record: logging.LogRecord) -> None:
        worker = _WORKERS.get(record.name)
        if worker is not None:
            WORKER_FAILURES.labels(worker).inc()


def install() -> None:
    """Count worker failures from this process's logs (idempotent)."""
    logger = logging.getLogger("followups")
    if not any(isinstance(h, WorkerFailures) for h in logger.handlers):
        logger.addHandler(WorkerFailures(logging.WARNING))
    if logger.getEffectiveLevel() > logging.WARNING:
        logger.setLevel(logging.WARNING)  # counted even when LOG_LEVEL hides them


async def _grouped(table: str, column: str) -> dict[str, int]:
    """Rows of ``table`` counted by ``column`` (both names are ours, never a client's)."""
    from tortoise import connections

    sql = f"SELECT {column} AS k, COUNT(*) AS n FROM {table} GROUP BY {column}"
    _, rows = await connections.get("default").execute_query(sql)
    return {str(row["k"]): int(row["n"]) for row in rows}


async def database_families() -> list[Any]:
    """The metrics read from the database (every process's work, not just this one's)."""
    from orm.intake_models import MailboxState
    from orm.outbox_models import MailStatus, OutboxStatus

    families: list[Any] = []
    tables: list[tuple[str, str, str, str, Any]] = [
        ("followups_mail_outbox", "mail outbox rows by state", "mail_outbox", "status", MailStatus),
        (
            "followups_caldav_sync_jobs",
            "CalDAV sync jobs by state",
            "sync_job",
            "status",
            OutboxStatus,
        ),
        (
            "followups_imap_mailboxes",
            "IMAP intake mailboxes by state",
            "mailbox",
            "state",
            MailboxState,
        ),
    ]
    for name, text, table, column, states in tables:
        gauge = GaugeMetricFamily(name, text, labels=["state"])
        found = await _grouped(table, column)
        known: list[str] = [member.value for member in states]
        for state in known + sorted(set(found) - set(known)):
            gauge.add_metric([state], found.get(state, 0))
        families.append(gauge)
    intake = CounterMetricFamily(
        "followups_imap_messages", "IMAP intake messages handled, by outcome", labels=["outcome"]
    )
    found = await _grouped("mailbox_message", "outcome")
    for outcome in sorted({"APPLIED", "IGNORED", "REJECTED"} | set(found)):
        intake.add_metric([outcome], found.get(outcome, 0))
    families.append(intake)
    return families


class _Families:
    def __init__(self, families: list[Any]) -> None:
        self.families = families

    def collect(self) -> list[Any]:
        return self.families


def _loopback(scope: Scope) -> bool:
    host = (scope.get("client") or ("", 0))[0]
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _allowed(scope: Scope, settings: Settings) -> tuple[int, str] | None:
    """None when the scrape may be answered, else the status and reason to refuse it."""
    token = settings.metrics_token.reveal()
    if not token:
        return None if _loopback(scope) else (403, "metrics are served to loopback clients only")
    given = dict(scope.get("headers", [])).get(b"authorization", b"").decode("latin-1")
    scheme, _, value = given.partition(" ")
    if scheme.lower() == "bearer" and hmac.compare_digest(value.strip(), token):
        return None
    return (401, "a valid metrics bearer token is required")


def endpoint(settings: Settings) -> ASGIApp:
    """The ``/metrics`` ASGI app: the in-process registry plus the database's numbers."""

    async def app(scope: Scope, receive: Any, send: Any) -> None:
        refusal = _allowed(scope, settings)
        if scope.get("method") not in ("GET", "HEAD"):
            refusal = (405, "use GET")
        if refusal is not None:
            status, reason = refusal
            code = {401: "UNAUTHENTICATED", 403: "FORBIDDEN", 405: "BAD_REQUEST"}[status]
            response = Response(error_body(reason, code), status, media_type="application/json")
            await response(scope, receive, send)
            return
        body = generate_latest(REGISTRY)
        try:
            extra = CollectorRegistry(auto_describe=False)
            extra.register(_Families(await database_families()))  # type: ignore[arg-type]
            body += generate_latest(extra)
            up = 1
        except Exception:  # the database is down: the in-process metrics still answer
            logging.getLogger("followups.metrics").warning("metrics: database unreadable")
            up = 0
        body += (
            b"# HELP followups_database_up 1 when the database answered this scrape\n"
            b"# TYPE followups_database_up gauge\n"
            b"followups_database_up " + str(up).encode() + b"\n"
        )
        await Response(body, 200, media_type=CONTENT_TYPE_LATEST)(scope, receive, send)

    return app
