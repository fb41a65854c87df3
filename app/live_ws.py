"""The graphql-transport-ws handler of /graphql: the bearer token from connection_init.

A connection whose ``connection_init`` payload holds no valid ``Authorization: Bearer``
token is closed with 4401 (strawberry's default refusal is 4403).  Once accepted the
token is checked again every LIVE_TOKEN_CHECK_SECONDS: a revoked or expired token (or a
deactivated associate) closes the connection with 4401 and ends its subscriptions.
Idle connections are bounded by uvicorn's websocket pings (``--ws-ping-interval``).
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta

from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import ConnectionInitMessage

from resolvers.auth import authenticate, hash_token
from resolvers.context import Context

UNAUTHORIZED = 4401
#: How long a connection may wait before sending connection_init.
INIT_TIMEOUT = timedelta(seconds=10)


class LiveHandler(BaseGraphQLTransportWSHandler[Context, None]):
    header = ""
    checker: asyncio.Task[None] | None = None

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        payload = message.get("payload") or {}
        header = payload.get("Authorization") if isinstance(payload, dict) else None
        viewer = await authenticate(header) if isinstance(header, str) else None
        if viewer is None:
            if self.connection_init_timeout_task:
                self.connection_init_timeout_task.cancel()
            await self.websocket.close(code=UNAUTHORIZED, reason="a valid bearer token is required")
            return
        assert isinstance(header, str)
        self.header = header
        self.context.viewer = viewer
        self.context.token = hash_token(header.partition(" ")[2].strip())
        await super().handle_connection_init(message)
        if self.connection_acknowledged and self.checker is None:
            self.checker = asyncio.create_task(self._check_token())

    async def _check_token(self) -> None:
        every = self.context.settings.live_token_check_seconds
        while True:
            await asyncio.sleep(every)
            if await authenticate(self.header) is None:
                await self.websocket.close(code=UNAUTHORIZED, reason="the token was revoked")
                return

    async def shutdown(self) -> None:
        if self.checker is not None:
            self.checker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.checker
        await super().shutdown()
