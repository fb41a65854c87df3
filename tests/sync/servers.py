"""Real CalDAV servers (Radicale, Xandikos from PyPI) run as loopback subprocesses.

Like python-caldav's test suite (``caldav/testing.py``) these are the real servers in a
temporary storage folder; unlike it they run as child processes, so a test can stop one
(connection refused) and start it again on the same port and storage.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from sync.dav_xml import mkcalendar_body

HOST = "127.0.0.1"
STARTUP_SECONDS = 30.0


def free_port() -> int:
    """Return a free TCP port on the loopback interface."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


class ServerProcess:
    """Stopping, cleaning up and reading the log of a test server's process."""

    process: subprocess.Popen[bytes] | None
    workdir: Path
    #: the file in ``workdir`` the process writes its output to
    log_name = "server.log"
    #: seconds to wait for a polite stop before killing
    stop_seconds = 10

    def stop(self) -> None:
        """Stop the server process; its storage stays."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=self.stop_seconds)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None

    def cleanup(self) -> None:
        """Remove the server's storage folder (after stop)."""
        shutil.rmtree(self.workdir, ignore_errors=True)

    def log_tail(self) -> str:
        """Return the end of the server log (for failure messages)."""
        path = self.workdir / self.log_name
        return path.read_text(errors="replace")[-2000:] if path.exists() else ""


@dataclass
class DavServer(ServerProcess):
    """A CalDAV server subprocess with its storage, port and account."""

    kind: str
    username: str
    password: str
    has_auth: bool
    port: int = field(default_factory=free_port)
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="dav-")))
    process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        """Return the server root URL."""
        return f"http://{HOST}:{self.port}/"

    @property
    def principal_url(self) -> str:
        """Return the account's principal URL."""
        return f"{self.base_url}{self.username}/"

    @property
    def home_url(self) -> str:
        """Return the URL under which test calendars are made."""
        if self.kind == "xandikos":
            return f"{self.principal_url}calendars/"
        return self.principal_url

    def as_user(self, name: str) -> DavServer:
        """Return the account another associate's (or a room's) calendar is in.

        Here the one account holds every calendar; a server with one home per user
        (``CyrusDav``) returns that user's."""
        return self

    def command(self) -> list[str]:
        """Return the command line that starts the server."""
        if self.kind == "radicale":
            users = self.workdir / "users"
            users.write_text(f"{self.username}:{self.password}\n")
            return [
                sys.executable, "-m", "radicale",
                "--config", "",
                "--server-hosts", f"{HOST}:{self.port}",
                "--storage-filesystem-folder", str(self.workdir / "collections"),
                "--auth-type", "htpasswd",
                "--auth-htpasswd-filename", str(users),
                "--auth-htpasswd-encryption", "plain",
                "--auth-delay", "0",
                "--rights-type", "owner_only",
                "--logging-level", "warning",
            ]  # fmt: skip
        return [
            sys.executable, "-m", "xandikos.web",
            "--directory", str(self.workdir / "store"),
            "--defaults",
            "--current-user-principal", f"/{self.username}/",
            "--listen-address", HOST,
            "--port", str(self.port),
            "--no-detect-systemd",
        ]  # fmt: skip

    def start(self) -> None:
        """Start the server (same port, same storage) and wait until it answers."""
        if self.process is not None and self.process.poll() is None:
            return
        log = (self.workdir / "server.log").open("ab")
        self.process = subprocess.Popen(
            self.command(), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
        log.close()
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.kind} exited at start: {self.log_tail()}")
            with contextlib.suppress(httpx.TransportError):
                httpx.request("OPTIONS", self.base_url, timeout=1.0)
                return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"{self.kind} did not answer in {STARTUP_SECONDS}s: {self.log_tail()}")

    def auth(self) -> httpx.BasicAuth:
        """Return the account's credentials for raw httpx calls."""
        return httpx.BasicAuth(self.username, self.password)

    def make_calendar(self, name: str, components: tuple[str, ...] = ("VEVENT", "VTODO")) -> str:
        """MKCALENDAR a fresh collection under the account's home; return its URL."""
        with httpx.Client(auth=self.auth(), timeout=10.0) as http:
            # Radicale creates the principal collection on the first authenticated request
            http.request("PROPFIND", self.principal_url, headers={"Depth": "0"})
            url = f"{self.home_url}{name}/"
            response = http.request(
                "MKCALENDAR",
                url,
                content=mkcalendar_body(name, components),
                headers={"Content-Type": "application/xml; charset=utf-8"},
            )
            if response.status_code != 201:
                raise RuntimeError(f"MKCALENDAR {url}: {response.status_code} {response.text}")
        return url
