"""Request IDs, structured logs and the per-request observation (metrics, trace span).

``configure_logging`` sets the process's log format (``LOG_FORMAT=text|json``) and level
(``LOG_LEVEL``); every record carries the request ID of the request it belongs to
(a ``contextvars`` variable, so tasks and awaited calls of a request see it).
``Observability`` is an ASGI middleware just inside the security headers: it takes the
client's ``X-Request-ID`` when sane (else makes one), returns it in the response header,
times the request, records its metrics and span, and answers ``/ready`` and ``/metrics``
itself (so load shedding and admission never stand between a probe and its answer).
``OperationObserver`` is the GraphQL extension that names the operation and its outcome.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.extensions import SchemaExtension

from app import guards, health, metrics, tracing
from config.settings import Settings

REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)
_SANE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_NAME = re.compile(r"^[_A-Za-z][_0-9A-Za-z]{0,63}$")
_HANDLER_NAME = "followups"
_EXTRA = ("method", "path", "status", "duration_ms", "operation", "outcome")
_PROBES = ("/health", "/ready", "/metrics")
log = logging.getLogger("followups.http")


@dataclass
class RequestInfo:
    """What one request turned out to be (set by the GraphQL extension, read at the end)."""

    request_id: str
    operation: str | None = None  # the GraphQL operation's name ("anonymous" when none)
    outcome: str | None = None  # "ok" or "error" (GraphQL errors in the answer)
    span: Any = None


CURRENT: ContextVar[RequestInfo | None] = ContextVar("request_info", default=None)


def request_id_from(scope: Scope) -> str:
    """The client's ``X-Request-ID`` when it is sane (1-128 of ``A-Za-z0-9._:-``), else new."""
    for key, value in scope.get("headers", []):
        if key == b"x-request-id":
            text = value.decode("latin-1").strip()
            if _SANE_ID.match(text):
                return text
            break
    return uuid.uuid4().hex


class _RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = REQUEST_ID.get() or "-"
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, request_id (and exc_info)."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None) or REQUEST_ID.get()
        if request_id and request_id != "-":
            line["request_id"] = request_id
        for key in _EXTRA:
            if hasattr(record, key):
                line[key] = getattr(record, key)
        if record.exc_info:
            line["exc_info"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"


def configure_logging(settings: Settings, stream: Any = None) -> logging.Handler:
    """Send every log record to ``stream`` (stderr) in the configured format and level.

    Idempotent: a second call replaces the handler the first one installed.
    """
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
        root.removeHandler(old)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.addFilter(_RequestIdFilter())
    formatter = JsonFormatter() if settings.log_format == "json" else logging.Formatter(TEXT_FORMAT)
    handler.setFormatter(formatter)
    handler.setLevel(settings.log_level)
    root.addHandler(handler)
    root.setLevel(settings.log_level)
    return handler


class OperationObserver(SchemaExtension):
    """Name the request's GraphQL operation and outcome (for metrics, the span and logs)."""

    def on_operation(self) -> Iterator[None]:
        yield
        info = CURRENT.get()
        if info is None:
            return
        context = self.execution_context
        name = context.operation_name
        info.operation = metrics.operation_label(name)
        result = context.result
        info.outcome = "error" if result is not None and getattr(result, "errors", None) else "ok"
        kind = getattr(context.operation_type, "value", None)
        tracing.name_operation(info.span, kind, name if name and _NAME.match(name) else None)


def install(schema: Any) -> None:
    """Add ``OperationObserver`` to the schema's extensions (idempotent)."""
    if OperationObserver not in schema.extensions:
        schema.extensions = (*schema.extensions, OperationObserver)


def _log_request(scope: Scope, status: int, info: RequestInfo, started: float) -> None:
    """One line per request (probes at DEBUG), with the operation when there was one."""
    path = scope.get("path", "")
    fields: dict[str, Any] = {
        "method": scope.get("method", ""),
        "path": path if not path.startswith("/reply/") else "/reply/{token}",
        "status": status,
        "duration_ms": round((time.perf_counter() - started) * 1000, 1),
    }
    message = f"{fields['method']} {fields['path']} {status} {fields['duration_ms']:.1f} ms"
    if info.operation is not None:
        fields |= {"operation": info.operation, "outcome": info.outcome}
        message += f" {info.operation} {info.outcome}"
    log.log(logging.DEBUG if path in _PROBES else logging.INFO, message, extra=fields)


class Observability:
    """Request ID, timing, metrics and span of every HTTP request; ``/ready``, ``/metrics``."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        info = RequestInfo(request_id_from(scope))
        id_token, info_token = REQUEST_ID.set(info.request_id), CURRENT.set(info)
        header = (b"x-request-id", info.request_id.encode())
        status = 500
        started_response = False
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status, started_response
            if message["type"] == "http.response.start":
                status, started_response = message["status"], True
                message["headers"] = [*message.get("headers", []), header]
                tracing.set_status(info.span, status)
            await send(message)

        try:
            with tracing.request_span(scope) as span:
                info.span = span
                path = scope.get("path", "")
                if path == "/ready":
                    await health.ready(self.settings)(scope, receive, send_with_id)
                elif path == "/metrics":
                    await metrics.endpoint(self.settings)(scope, receive, send_with_id)
                else:
                    await self.app(scope, receive, send_with_id)
        except Exception:
            # Answered here, not by Starlette's outermost handler, so that the 500 carries
            # the request ID and its traceback is logged under it.
            log.exception("unhandled error")
            if started_response:
                raise
            await guards.send_error(send_with_id, 500, "internal error", "INTERNAL")
        finally:
            metrics.observe(scope, status, info.operation, info.outcome, started)
            _log_request(scope, status, info, started)
            CURRENT.reset(info_token)
            REQUEST_ID.reset(id_token)
