"""X-Forwarded-For is believed only from the proxies named in TRUSTED_PROXIES.

A real uvicorn server on loopback, configured by ``app.server.uvicorn_options``, in front of
an app that answers the client address it was given (the address the per-address caps and
the logs use).
"""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import httpx
import pytest
import uvicorn

from app.server import uvicorn_options
from config.settings import Settings


async def _client_address(scope: Any, receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    body = str(scope["client"][0]).encode()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": body})


async def _seen_address(settings: Settings) -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    options = uvicorn_options(settings, "127.0.0.1", port)
    server = uvicorn.Server(uvicorn.Config(_client_address, **options))
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            await asyncio.sleep(0.01)
        async with httpx.AsyncClient() as client:
            answer = await client.get(
                f"http://127.0.0.1:{port}/", headers={"X-Forwarded-For": "203.0.113.9"}
            )
        return answer.text
    finally:
        server.should_exit = True
        await task


async def test_forwarded_for_from_loopback_is_ignored_by_default() -> None:
    assert await _seen_address(Settings(_env_file=None)) == "127.0.0.1"  # type: ignore[call-arg]


async def test_forwarded_for_is_believed_from_a_named_proxy() -> None:
    settings = Settings(trusted_proxies=("127.0.0.0/8",))
    assert await _seen_address(settings) == "203.0.113.9"


def test_a_malformed_proxy_entry_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="not-an-ip"):
        Settings(trusted_proxies=("10.0.0.1", "not-an-ip"))
