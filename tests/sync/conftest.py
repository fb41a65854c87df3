"""Fixtures for the CalDAV transport tests: real Radicale and Xandikos on loopback.

- ``radicale_server`` / ``xandikos_server``: session-scoped ``DavServer`` subprocesses
  (temp storage, free 127.0.0.1 port). Radicale has htpasswd (plain) auth for user
  ``alice``; Xandikos has no authentication of its own (its ``--htpasswd`` needs TLS via
  ``--autocert``), so wrong-password tests run on Radicale only (``has_auth``).
- ``dav_server``: parametrized over both servers; a test marked
  ``synchelp.on_cyrus_too`` also runs on Cyrus, as user
  ``ann`` (``CyrusDav``; ``dav_server.as_user("bob")`` is another user's home there).
- ``calendar_url``: a fresh calendar collection (MKCALENDAR) per test on ``dav_server``.
- ``client``: a ``CalendarClient`` on ``calendar_url``, closed after the test.
- ``own_radicale``: a function-scoped Radicale the test may ``stop()``/``start()``.
- ``cyrus_server``: a session-scoped Cyrus IMAP CalDAV server (RFC 6638 implicit
  scheduling) with users ``ann``, ``bob`` and ``cem`` (``tests/sync/cyrus.py``); skipped
  when Cyrus is not installed, a failure under ``CI=true``.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest

from sync.client import CalendarClient
from tests.helpers import LOOPBACK
from tests.sync.cyrus import CyrusServer, available
from tests.sync.servers import DavServer

USERNAME = "alice"
PASSWORD = "s3cret-pw"
SERVERS = ["radicale", "xandikos"]


def _server(kind: str) -> Iterator[DavServer]:
    server = DavServer(kind=kind, username=USERNAME, password=PASSWORD, has_auth=kind == "radicale")
    server.start()
    try:
        yield server
    finally:
        server.stop()
        server.cleanup()


@pytest.fixture(scope="session")
def radicale_server() -> Iterator[DavServer]:
    """Start one Radicale for the session."""
    yield from _server("radicale")


@pytest.fixture(scope="session")
def xandikos_server() -> Iterator[DavServer]:
    """Start one Xandikos for the session."""
    yield from _server("xandikos")


@pytest.fixture(params=SERVERS)
def dav_server(request: pytest.FixtureRequest) -> Iterator[DavServer]:
    """Run the test on each real server."""
    if request.param == "cyrus":
        cyrus: CyrusServer = request.getfixturevalue("cyrus_server")
        view = cyrus.dav("ann")
        try:
            yield view
        finally:  # the next test may use the same UIDs (Cyrus keeps them unique per user)
            view.remove_calendars()
            cyrus.clear_defaults()
        return
    server: DavServer = request.getfixturevalue(f"{request.param}_server")
    server.start()  # no-op unless a test left it stopped
    yield server


@pytest.fixture
def calendar_url(dav_server: DavServer) -> str:
    """Create a fresh, empty calendar collection for the test."""
    return dav_server.make_calendar(f"test-{uuid.uuid4().hex[:12]}")


@pytest.fixture
async def client(dav_server: DavServer, calendar_url: str) -> AsyncIterator[CalendarClient]:
    """Return a CalendarClient bound to the fresh calendar."""
    async with CalendarClient(
        dav_server.base_url,
        dav_server.username,
        dav_server.password,
        timeout=10.0,
        calendar_url=calendar_url,
        policy=LOOPBACK,
    ) as cal:
        yield cal


@pytest.fixture
def own_radicale() -> Iterator[DavServer]:
    """Start a private Radicale that the test may stop and start again."""
    yield from _server("radicale")


@pytest.fixture(scope="session")
def cyrus_server() -> Iterator[CyrusServer]:
    """Start one Cyrus (CalDAV with implicit scheduling) for the session."""
    if not available():
        message = "Cyrus IMAP is not installed (run tests/servers/install-cyrus.sh)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    server = CyrusServer(users=("ann", "bob", "cem"))
    server.start()
    try:
        yield server
    finally:
        server.stop()
        server.cleanup()
