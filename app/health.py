"""Liveness and readiness.

``/health`` (liveness) answers ``ok`` while the process serves HTTP, touching nothing.
``/ready`` (readiness) answers 200 ``{"status": "ready"}`` when the database answers and
every migration is applied, else 503 ``{"status": "unavailable", "reason": ...}`` (the
database did not answer within ``READY_TIMEOUT_SECONDS``, refused the query, or
migrations are pending: ``followups migrate``).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from starlette.responses import Response
from starlette.types import ASGIApp

from config.settings import Settings

READY_TIMEOUT_SECONDS = 5.0


async def readiness(settings: Settings) -> str | None:
    """None when ready, else why not (one line)."""
    from tortoise import connections
    from tortoise.exceptions import ConfigurationError

    from orm import migrator
    from orm.db import apps_config

    try:
        connection = connections.get("default")
    except (ConfigurationError, KeyError):
        return "database not connected"
    try:
        async with asyncio.timeout(READY_TIMEOUT_SECONDS):
            await connection.execute_query("SELECT 1")
            pending = await migrator.pending(apps_config())
    except TimeoutError:
        return f"database did not answer within {READY_TIMEOUT_SECONDS:g} s"
    except Exception as exc:
        return "database unreachable: " + (" ".join(str(exc).split()) or type(exc).__name__)
    if pending:
        return (
            f"{len(pending)} migration(s) not applied (first: {pending[0]}); run followups migrate"
        )
    return None


def ready(settings: Settings) -> ASGIApp:
    """The ``/ready`` ASGI app."""

    async def app(scope: Any, receive: Any, send: Any) -> None:
        reason = await readiness(settings)
        body: dict[str, str] = (
            {"status": "ready"}
            if reason is None
            else {
                "status": "unavailable",
                "reason": reason,
            }
        )
        status = 200 if reason is None else 503
        response = Response(json.dumps(body), status, media_type="application/json")
        await response(scope, receive, send)

    return app
