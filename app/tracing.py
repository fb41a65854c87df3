"""OpenTelemetry tracing, when the packages are installed and asked for.

Off unless ``opentelemetry-sdk`` is importable (``pip install 'followups[tracing]'``) and
``OTEL_EXPORTER_OTLP_ENDPOINT`` or ``OTEL_TRACES_EXPORTER`` is set (the standard
OpenTelemetry variables: ``OTEL_TRACES_EXPORTER=otlp`` (the default) needs
``opentelemetry-exporter-otlp-proto-http``, ``console`` prints spans, ``none`` turns
tracing off; ``OTEL_SERVICE_NAME`` defaults to ``followups``).  Each HTTP request is one
server span (continuing an incoming W3C ``traceparent``), renamed after its GraphQL
operation (``query Diary``) with ``graphql.operation.name``/``.type`` attributes.
Without tracing every function here is a no-op.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager, nullcontext
from typing import Any

log = logging.getLogger("followups.tracing")
_tracer: Any = None


def configure(provider: Any = None) -> bool:
    """Trace with ``provider`` (tests), else as the environment says; tell whether on."""
    global _tracer
    if provider is None:
        provider = _provider_from_environment()
    _tracer = provider.get_tracer("followups") if provider is not None else None
    return _tracer is not None


def _provider_from_environment() -> Any:
    exporter_name = os.environ.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    if not exporter_name and not os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        return None
    if exporter_name == "none":
        return None
    try:
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter
    except ImportError:
        log.warning("tracing asked for but opentelemetry-sdk is not installed")
        return None
    exporter: Any
    if exporter_name == "console":
        exporter = ConsoleSpanExporter()
    else:
        try:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        except ImportError:
            log.warning("OTLP tracing needs opentelemetry-exporter-otlp-proto-http; tracing off")
            return None
        exporter = OTLPSpanExporter()
    name = os.environ.get("OTEL_SERVICE_NAME") or "followups"
    provider = TracerProvider(resource=Resource.create({"service.name": name}))
    provider.add_span_processor(BatchSpanProcessor(exporter))
    return provider


@contextmanager
def request_span(scope: MutableMapping[str, Any]) -> Iterator[Any]:
    """A server span for one HTTP request (None when tracing is off)."""
    if _tracer is None:
        with nullcontext():
            yield None
        return
    from opentelemetry import propagate
    from opentelemetry.trace import SpanKind

    headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope.get("headers", [])}
    method, path = scope.get("method", "GET"), scope.get("path", "")
    with _tracer.start_as_current_span(
        f"{method} {path}",
        context=propagate.extract(headers),
        kind=SpanKind.SERVER,
        attributes={"http.request.method": method, "url.path": path},
    ) as span:
        yield span


def name_operation(span: Any, kind: str | None, name: str | None) -> None:
    """Name the request's span after its GraphQL operation."""
    if span is None:
        return
    kind = (kind or "query").lower()
    span.update_name(f"{kind} {name}" if name else kind)
    span.set_attribute("graphql.operation.type", kind)
    if name:
        span.set_attribute("graphql.operation.name", name)


def set_status(span: Any, status: int) -> None:
    """Record the response status on the request's span."""
    if span is None:
        return
    span.set_attribute("http.response.status_code", status)
    if status >= 500:
        from opentelemetry.trace import Status, StatusCode

        span.set_status(Status(StatusCode.ERROR))
