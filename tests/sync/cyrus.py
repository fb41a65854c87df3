"""A real RFC 6638 (implicit scheduling) CalDAV server: Cyrus IMAP's httpd on loopback.

Installed from Debian's packages by ``tests/servers/install-cyrus.sh`` (``make test`` runs
it); started here as a plain process, never the system service:

- a temporary directory holds ``imapd.conf``, ``cyrus.conf``, the config directory
  (mailbox list, DAV databases), the mail partition and a SASL password file (sasldb,
  ``saslpasswd2 -f``), all removed after the session;
- ``cyrus.conf`` runs only two services, both on free 127.0.0.1 ports: ``http``
  (``httpmodules: caldav``, ``caldav_allowscheduling: on``) and ``imap``, which the
  fixture uses once as the admin to create the users' mailboxes (Cyrus's httpd does not
  create a user's INBOX; once it exists, the first CalDAV request creates the user's
  ``Default`` calendar, scheduling Inbox and Outbox);
- ``defaultdomain: example.com`` makes each user's calendar-user address
  ``mailto:<user>@example.com``, which is what Cyrus matches ORGANIZER/ATTENDEE against;
- run as root, the services switch to the ``cyrus`` user (Cyrus refuses to run as root),
  so the directory belongs to ``cyrus``; run as another user, they stay that user.

Cyrus logs to syslog only; start-up problems surface as "did not answer".
"""

from __future__ import annotations

import contextlib
import imaplib
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from sync.dav_xml import href_path, parse_multistatus
from tests.sync.servers import HOST, STARTUP_SECONDS, ServerProcess, free_port

MASTER = Path("/usr/lib/cyrus/bin/master")
SASLPASSWD = shutil.which("saslpasswd2") or "/usr/sbin/saslpasswd2"
DOMAIN = "example.com"
ADMIN = "cyrusadmin"
PASSWORD = "cyrus-pw"


def available() -> bool:
    """Tell whether Cyrus (master, httpd) and saslpasswd2 are installed."""
    return MASTER.exists() and (MASTER.parent / "httpd").exists() and Path(SASLPASSWD).exists()


@dataclass
class CyrusUser:
    """One Cyrus user seen like a ``DavServer`` account (base URL, credentials)."""

    base_url: str
    username: str
    password: str
    has_auth: bool = True

    @property
    def email(self) -> str:
        """Return the user's calendar-user address (without ``mailto:``)."""
        return f"{self.username}@{DOMAIN}"

    @property
    def calendar_url(self) -> str:
        """Return the user's default calendar."""
        return f"{self.base_url}dav/calendars/user/{self.username}/Default/"

    @property
    def inbox_url(self) -> str:
        """Return the user's scheduling Inbox (RFC 6638 section 2.2)."""
        return f"{self.base_url}dav/calendars/user/{self.username}/Inbox/"

    def auth(self) -> httpx.BasicAuth:
        """Return the user's credentials for raw httpx calls."""
        return httpx.BasicAuth(self.username, self.password)


@dataclass
class CyrusServer(ServerProcess):
    """Cyrus master with an http (CalDAV) and an imap service in a temp directory."""

    log_name = "master.log"
    stop_seconds = 15

    users: tuple[str, ...]
    port: int = field(default_factory=free_port)
    imap_port: int = field(default_factory=free_port)
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="cyrus-")))
    process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        """Return the server root URL."""
        return f"http://{HOST}:{self.port}/"

    def user(self, name: str) -> CyrusUser:
        """Return one of the users."""
        assert name in self.users, name
        return CyrusUser(self.base_url, name, PASSWORD)

    def _configure(self) -> None:
        d = self.workdir
        for sub in ("conf/db", "conf/socket", "conf/lock", "spool"):
            (d / sub).mkdir(parents=True, exist_ok=True)
        root = os.geteuid() == 0
        user = "cyrus" if root else pwd.getpwuid(os.geteuid()).pw_name
        conf = d / "imapd.conf"
        conf.write_text(
            "\n".join(
                [
                    f"configdirectory: {d}/conf",
                    f"partition-default: {d}/spool",
                    "defaultpartition: default",
                    "servername: localhost",
                    f"defaultdomain: {DOMAIN}",
                    f"cyrus_user: {user}",
                    f"admins: {ADMIN}",
                    "allowplaintext: yes",
                    "sasl_pwcheck_method: auxprop",
                    "sasl_auxprop_plugin: sasldb",
                    f"sasl_sasldb_path: {d}/sasldb2",
                    "sasl_mech_list: PLAIN",
                    "httpmodules: caldav",
                    "httpallowcompress: no",
                    "caldav_allowscheduling: on",
                    "caldav_create_default: yes",
                    "caldav_create_sched: yes",
                    "autocreate_quota: 0",
                    "virtdomains: off",
                    "unixhierarchysep: yes",
                    f"lmtpsocket: {d}/conf/socket/lmtp",
                    f"idlesocket: {d}/conf/socket/idle",
                    f"notifysocket: {d}/conf/socket/notify",
                    "syslog_prefix: cyrus-test",
                    "",
                ]
            )
        )
        (d / "cyrus.conf").write_text(
            f'START {{\n  recover cmd="ctl_cyrusdb -C {conf} -r"\n}}\n'
            "SERVICES {\n"
            f'  http cmd="httpd -C {conf}" listen="{HOST}:{self.port}" prefork=0 maxchild=20\n'
            f'  imap cmd="imapd -C {conf}" listen="{HOST}:{self.imap_port}" prefork=0 maxchild=4\n'
            "}\nEVENTS {\n}\n"
        )
        for name in (ADMIN, *self.users):
            subprocess.run(
                [SASLPASSWD, "-p", "-c", "-f", str(d / "sasldb2"), "-u", "localhost", name],
                input=PASSWORD.encode(),
                check=True,
                capture_output=True,
            )
        if root:
            subprocess.run(["chown", "-R", "cyrus", str(d)], check=True)
            d.chmod(0o755)

    def start(self) -> None:
        """Configure, start Cyrus, create the users' mailboxes and calendars."""
        self._configure()
        log = (self.workdir / "master.log").open("ab")
        self.process = subprocess.Popen(
            [
                str(MASTER),
                "-C", str(self.workdir / "imapd.conf"),
                "-M", str(self.workdir / "cyrus.conf"),
                "-p", str(self.workdir / "master.pid"),
                "-D",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=self.workdir,
        )  # fmt: skip
        log.close()
        try:
            self._wait_and_provision()
        except Exception:
            self.stop()
            raise

    def _wait_and_provision(self) -> None:
        deadline = time.monotonic() + STARTUP_SECONDS
        last: Exception | None = None
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"cyrus master exited at start: {self.log_tail()}")
            try:
                imap = imaplib.IMAP4(HOST, self.imap_port, timeout=5)
                break
            except OSError as exc:
                last = exc
                time.sleep(0.1)
        else:
            raise RuntimeError(f"cyrus did not answer in {STARTUP_SECONDS}s: {last}")
        try:
            imap.login(ADMIN, PASSWORD)
            for name in self.users:
                typ, data = imap.create(f"user/{name}")
                if typ != "OK":
                    raise RuntimeError(f"cyrus: CREATE user/{name}: {data!r}")
        finally:
            with contextlib.suppress(Exception):
                imap.logout()
        for name in self.users:  # the first DAV request makes Default, Inbox and Outbox
            user = self.user(name)
            response = httpx.request(
                "PROPFIND", user.calendar_url, auth=user.auth(), headers={"Depth": "0"}, timeout=20
            )
            if response.status_code != 207:
                raise RuntimeError(f"cyrus calendar of {name}: {response.status_code}")

    def hrefs(self, url: str, user: CyrusUser) -> list[str]:
        """Return the object names in a collection (Depth 1 PROPFIND)."""
        response = httpx.request(
            "PROPFIND", url, auth=user.auth(), headers={"Depth": "1"}, timeout=20
        )
        assert response.status_code == 207, response.text
        paths = [href_path(r.href) for r in parse_multistatus(response.content).responses]
        return sorted(p.rsplit("/", 1)[-1] for p in paths if not p.endswith("/"))
