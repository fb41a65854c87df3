"""The Starlette application: GraphQL (and GraphiQL) at /graphql behind bearer tokens."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse
from starlette.routing import Route
from starlette.types import Receive, Scope, Send
from strawberry.asgi import GraphQL

from app.auth import authenticate
from app.guards import BodyLimit, LoadShedding, RateLimiter, SecurityHeaders, send_error
from app.settings import Settings, get_settings
from mail import web as mail_web
from orm import db
from resolvers.context import Context
from schema import schema
from sync import outbox as sync_outbox
from sync import worker as sync_worker


class FollowUpsGraphQL(GraphQL[Context, None]):
    """Strawberry's ASGI view with our per-request context."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(schema, graphql_ide="graphiql", allow_queries_via_get=False)
        self.settings = settings

    async def get_context(self, request: Any, response: Any) -> Context:
        return Context(viewer=request.scope["state"]["viewer"], settings=self.settings)


class Authenticated:
    """Serve the GraphiQL page to anyone; everything else needs a valid bearer token."""

    def __init__(self, inner: FollowUpsGraphQL, limiter: RateLimiter) -> None:
        self.inner = inner
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        if request.method == "GET" and "text/html" in request.headers.get("accept", ""):
            await HTMLResponse(self.inner.graphql_ide_html)(scope, receive, send)
            return
        viewer = await authenticate(request.headers.get("authorization"))
        if viewer is None:
            body = {
                "errors": [
                    {
                        "message": "a valid bearer token is required",
                        "extensions": {"code": "UNAUTHENTICATED"},
                    }
                ]
            }
            headers = {"WWW-Authenticate": 'Bearer realm="followups"'}
            await JSONResponse(body, status_code=401, headers=headers)(scope, receive, send)
            return
        wait = self.limiter.allow(request.headers["authorization"].split(None, 1)[-1])
        if wait:
            await send_error(
                send, 429, "too many requests for this token", "RATE_LIMITED", retry=int(wait) + 1
            )
            return
        scope.setdefault("state", {})["viewer"] = viewer
        await self.inner(scope, receive, send)


async def health(_: Request) -> PlainTextResponse:
    return PlainTextResponse("ok")


def create_app(settings: Settings | None = None, *, manage_db: bool = True) -> Starlette:
    """The ASGI app; with ``manage_db`` it connects (and migrates) on start-up."""
    settings = settings or get_settings()
    mail_web.install(settings)
    sync_outbox.install()

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        if manage_db:
            await db.migrate(settings.database_url, settings.sqlite_busy_timeout_ms)
            await db.connect(settings.database_url, settings.sqlite_busy_timeout_ms)
        worker = mail_web.start_worker(settings) if manage_db else None
        syncer = sync_worker.start_background(settings) if manage_db else None
        try:
            yield
        finally:
            if syncer is not None:
                await syncer.stop()
            if worker is not None:
                await worker.stop()
            if manage_db:
                await db.close()

    limiter = RateLimiter(settings.rate_limit_per_minute, settings.rate_limit_burst)
    graphql = Authenticated(FollowUpsGraphQL(settings), limiter)
    middleware = [
        Middleware(SecurityHeaders),
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
            *mail_web.routes(settings),
        ],
        middleware=middleware,
        lifespan=lifespan,
    )
