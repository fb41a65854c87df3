"""The Starlette application: GraphQL (and GraphiQL) at /graphql behind bearer tokens."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse
from starlette.routing import Route
from starlette.types import Receive, Scope, Send
from strawberry.asgi import GraphQL

from app.auth import authenticate
from app.settings import Settings, get_settings
from orm import db
from resolvers.context import Context
from schema import schema


class FollowUpsGraphQL(GraphQL[Context, None]):
    """Strawberry's ASGI view with our per-request context."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(schema, graphql_ide="graphiql", allow_queries_via_get=False)
        self.settings = settings

    async def get_context(self, request: Any, response: Any) -> Context:
        return Context(viewer=request.scope["state"]["viewer"], settings=self.settings)


class Authenticated:
    """Serve the GraphiQL page to anyone; everything else needs a valid bearer token."""

    def __init__(self, inner: FollowUpsGraphQL) -> None:
        self.inner = inner

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
        scope.setdefault("state", {})["viewer"] = viewer
        await self.inner(scope, receive, send)


async def health(_: Request) -> PlainTextResponse:
    return PlainTextResponse("ok")


def create_app(settings: Settings | None = None, *, manage_db: bool = True) -> Starlette:
    """The ASGI app; with ``manage_db`` it connects (and migrates) on start-up."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        if manage_db:
            await db.migrate(settings.database_url)
            await db.connect(settings.database_url)
        try:
            yield
        finally:
            if manage_db:
                await db.close()

    graphql = Authenticated(FollowUpsGraphQL(settings))
    return Starlette(
        debug=settings.debug,
        routes=[Route("/health", health), Route("/graphql", graphql, methods=["GET", "POST"])],
        lifespan=lifespan,
    )
