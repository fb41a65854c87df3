"""GraphiQL works without internet: the page and its assets come from the service itself.

The browser test runs the real service (``followups demo`` then ``followups serve`` on a
loopback port) and opens the link the demo prints in headless Chromium with every
network request outside this origin blocked; the page must render GraphiQL and load the
schema with the token from the link.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from app.graphiql import ASSETS
from tests.templates import migrated_sqlite

BIN = Path(sys.executable).parent


async def test_page_loads_nothing_from_elsewhere(http: httpx.AsyncClient) -> None:
    page = await http.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert "script-src 'self'" in page.headers["content-security-policy"]
    refs = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert refs and all(ref.startswith(("/graphiql/", "data:")) for ref in refs), refs
    assert "<script>" not in page.text  # no inline script: the CSP allows none
    for ref in refs:
        if ref.startswith("/graphiql/"):
            asset = await http.get(ref)
            assert asset.status_code == 200, ref
            assert asset.content == (ASSETS / ref.removeprefix("/graphiql/")).read_bytes()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def served(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """The real service on a loopback port with demo data; yields the printed link and log."""
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": migrated_sqlite(tmp_path_factory, tmp_path / "demo.sqlite3"),
        "PORT": str(port),
        "BASE_URL": f"http://127.0.0.1:{port}",
        "SMTP_HOST": "",
    }
    demo = subprocess.run(
        [str(BIN / "followups"), "demo"], env=env, capture_output=True, text=True, timeout=120
    )
    assert demo.returncode == 0, demo.stderr
    link = re.search(r"GraphiQL with that token: (\S+)", demo.stdout)
    assert link, demo.stdout
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [str(BIN / "followups"), "serve"], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            pytest.fail(f"the service did not start: {log.read_text()}")
        yield link.group(1), log
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_graphiql_renders_and_loads_the_schema_offline(
    served: tuple[str, Path], tmp_path: Path
) -> None:
    chromium = shutil.which("chromium")
    if chromium is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("chromium is required in CI (tests/servers/install-chromium.sh)")
        pytest.skip("chromium is not installed")
    link, log = served
    origin = link.split("/graphql", 1)[0]
    dom = subprocess.run(
        [
            chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
            "--no-first-run", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}",
            # nothing but this origin is reachable: what the page needs must come from it
            f"--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE {origin.split('//')[1].split(':')[0]}",
            "--virtual-time-budget=15000", "--dump-dom", link,
        ],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert "graphiql-editors" in dom.stdout, dom.stdout[-2000:]
    assert 'id="token-form" hidden' in dom.stdout  # the token came from the link
    served_log = log.read_text()
    # the schema (introspection) and nothing else was asked for, with the token: 200, not 401
    assert re.search(r"POST /graphql 200 [0-9.]+ ms IntrospectionQuery ok", served_log), served_log
    assert " 401" not in served_log, served_log
