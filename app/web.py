"""The Starlette application: GraphQL (and GraphiQL) at /graphql behind bearer tokens.

Middleware, outermost first: security headers, request ID, logs, metrics and tracing
(``app.observability``, which also answers /ready and /metrics), CORS (when configured),
the body deadline,
admission (authentication, per-associate and per-address caps), load shedding, the body
size limit.  Every refusal is JSON ``{"errors": [{"message", "extensions": {"code"}}]}``,
including strawberry's own (bad JSON, wrong content type) and unexpected failures.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from cross_web import HTTPException
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse, process_result
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionResult

from app import graphiql, live_ws, mail_routes, metrics, observability, workers
from app.admission import UNAUTHENTICATED, Admission
from app.guards import (
    BodyDeadline,
    BodyLimit,
    LoadShedding,
    SecurityHeaders,
    error_body,
    send_error,
)
from config.settings import Settings, get_settings
from orm import db, live
from resolvers import live_feed
from resolvers.context import Context
from schema import code_document_error, schema
from sync import outbox as sync_outbox


class BadRequest(HTTPException):
    """A request strawberry cannot parse, with our error code."""

    def __init__(self, reason: str, code: str = "BAD_REQUEST") -> None:
        super().__init__(400, reason)
        self.code = code


class FollowUpsGraphQL(GraphQL[Context, None]):
    """Strawberry's ASGI view with our per-request context and JSON refusals."""

    graphql_transport_ws_handler_class = live_ws.LiveHandler

    def __init__(self, settings: Settings) -> None:
        super().__init__(
            schema,
            graphql_ide="graphiql",
            allow_queries_via_get=False,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            connection_init_wait_timeout=live_ws.INIT_TIMEOUT,
            max_subscriptions_per_connection=settings.live_max_subscriptions_per_token,
        )
        self.settings = settings

    async def process_result(self, request: Any, result: ExecutionResult) -> GraphQLHTTPResponse:
        """The answer; errors of the document (a syntax error too) carry their code."""
        for error in result.errors or []:
            if not (error.extensions or {}).get("code"):
                code_document_error(error)
        return process_result(result)

    async def get_context(self, request: Any, response: Any) -> Context:
        if request.scope["type"] == "websocket":  # the viewer comes with connection_init
            return Context(viewer=None, settings=self.settings)  # type: ignore[arg-type]
        return Context(viewer=request.scope["state"]["viewer"], settings=self.settings)

    def decode_json(self, data: str | bytes) -> object:
        """The request body: a JSON object, else 400 (bad UTF-8, bad or too deep JSON)."""
        try:
            value = json.loads(data)
        except (ValueError, RecursionError):  # JSONDecodeError and UnicodeDecodeError
            raise BadRequest("the body is not valid JSON (UTF-8)", "INVALID_JSON") from None
        if not isinstance(value, dict):
            raise BadRequest("the body must be a JSON object", "INVALID_JSON")
        return value

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await self.run(WebSocket(scope, receive=receive, send=send))
            return
        try:
            response = await self.run(Request(scope, receive))
        except HTTPException as exc:
            code = getattr(exc, "code", "BAD_REQUEST")
            body = error_body(exc.reason, code)
            response = Response(body, exc.status_code, media_type="application/json")
        await response(scope, receive, send)


class Authenticated:
    """Serve the GraphiQL page to anyone; everything else needs a valid bearer token."""

    def __init__(self, inner: FollowUpsGraphQL) -> None:
        self.inner = inner

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":  # authenticated by its connection_init (app.live_ws)
            await self.inner(scope, receive, send)
            return
        request = Request(scope, receive)
        if request.method == "GET" and "text/html" in request.headers.get("accept", ""):
            await graphiql.page()(scope, receive, send)
            return
        if scope.get("state", {}).get("viewer") is None:  # set by app.admission
            message = "a valid bearer token is required"
            await send_error(send, 401, message, "UNAUTHENTICATED", extra=UNAUTHENTICATED)
            return
        await self.inner(scope, receive, send)


async def health(_: Request) -> PlainTextResponse:
    return PlainTextResponse("ok")


async def internal_error(_: Request, __: Exception) -> Response:
    """What an unexpected failure answers (the traceback goes to the log, not the client)."""
    return Response(error_body("internal error", "INTERNAL"), 500, media_type="application/json")


def create_app(settings: Settings | None = None, *, manage_db: bool = True) -> Starlette:
    """The ASGI app; with ``manage_db`` it connects (and migrates) on start-up."""
    settings = settings or get_settings()
    observability.install(schema)
    metrics.install()
    mail_routes.install(settings)
    sync_outbox.install()
    live.install()

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        if manage_db:
            await db.migrate(settings.database_url, settings.sqlite_busy_timeout_ms)
            await db.connect(
                settings.database_url,
                settings.sqlite_busy_timeout_ms,
                db.Pool(*settings.database_pool),
            )
        running = workers.start_all(settings) if manage_db else []
        if manage_db:
            await live_feed.start(settings)
        try:
            yield
        finally:
            await live_feed.stop()
            for background in reversed(running):
                await background.stop()
            if manage_db:
                await db.close()

    graphql = Authenticated(FollowUpsGraphQL(settings))
    middleware = [
        Middleware(SecurityHeaders),
        Middleware(observability.Observability, settings=settings),  # also /ready, /metrics
        Middleware(
            BodyDeadline,
            seconds=settings.request_body_timeout,
            min_rate=settings.request_body_min_rate,
        ),
        Middleware(Admission, settings=settings),
        Middleware(LoadShedding, limit=settings.max_concurrent_requests),
        Middleware(
            BodyLimit,
            max_bytes=settings.max_body_bytes,
            per_path={"/mail/inbound": settings.max_inbound_mail_bytes},
        ),
    ]
    if settings.cors_origins:
        middleware.insert(
            1,
            Middleware(
                CORSMiddleware,
                allow_origins=list(settings.cors_origins),
                allow_methods=["GET", "POST"],
                allow_headers=["Authorization", "Content-Type"],
                max_age=600,
            ),
        )
    return Starlette(
        debug=settings.debug,
        routes=[
            Route("/health", health),
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            graphiql.assets(),
            *mail_routes.routes(settings),
        ],
        middleware=middleware,
        exception_handlers={Exception: internal_error},
        lifespan=lifespan,
    )
