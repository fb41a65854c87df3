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
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from sync.dav_xml import href_path, parse_multistatus
from tests.sync.servers import HOST, STARTUP_SECONDS, DavServer, ServerProcess, free_port

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


class CyrusDav(DavServer):
    """One Cyrus user seen as a ``DavServer`` (``dav_server`` param ``cyrus``).

    Tests written for Radicale and Xandikos run unchanged: ``make_calendar`` makes a
    collection in the user's calendar home.  Unlike those (one account holds every
    calendar), a participant's or a room's calendar must be in that user's home, or
    Cyrus refuses the second copy of a UID (``unique-scheduling-object-resource``) and
    never sees the participant as an attendee of their own copy: ``as_user``.  The
    process belongs to the session's ``CyrusServer``: ``start``/``stop``/``cleanup`` do
    nothing here.
    """

    def __init__(
        self,
        username: str,
        password: str,
        port: int,
        workdir: Path,
        made: list[tuple[str, str]] | None = None,
    ) -> None:
        super().__init__("cyrus", username, password, True, port=port, workdir=workdir)
        #: (user, URL) of every calendar made through this view and its ``as_user`` ones
        self.made = [] if made is None else made

    @property
    def principal_url(self) -> str:
        """Return the user's principal URL."""
        return f"{self.base_url}dav/principals/user/{self.username}/"

    @property
    def home_url(self) -> str:
        """Return the user's calendar home (where ``make_calendar`` makes collections)."""
        return f"{self.base_url}dav/calendars/user/{self.username}/"

    def as_user(self, name: str) -> DavServer:
        """Return the view of another Cyrus user (same server)."""
        return CyrusDav(name, self.password, self.port, self.workdir, self.made)

    def make_calendar(self, name: str, components: tuple[str, ...] = ("VEVENT", "VTODO")) -> str:
        """MKCALENDAR a fresh collection (the name made unique: Cyrus lives for the session)."""
        url = super().make_calendar(f"{name}-{uuid.uuid4().hex[:6]}", components)
        self.made.append((self.username, url))
        return url

    def remove_calendars(self) -> None:
        """DELETE the calendars made, so that a later test may use the same UIDs again
        (Cyrus keeps a UID unique across all of a user's calendars)."""
        for name, url in self.made:
            httpx.delete(url, auth=httpx.BasicAuth(name, self.password), timeout=20)
        self.made.clear()

    def start(self) -> None:
        """Nothing: the session's ``CyrusServer`` runs the process."""

    def stop(self) -> None:
        """Nothing: the session's ``CyrusServer`` runs the process."""

    def cleanup(self) -> None:
        """Nothing: the storage is the session's ``CyrusServer``'s."""


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

    def dav(self, name: str) -> CyrusDav:
        """Return one of the users as a ``DavServer`` (for tests written for those)."""
        assert name in self.users, name
        return CyrusDav(name, PASSWORD, self.port, self.workdir)

    def clear_defaults(self) -> None:
        """Empty every user's Default calendar and scheduling Inbox (what Cyrus delivered)."""
        for name in self.users:
            user = self.user(name)
            for url in (user.calendar_url, user.inbox_url):
                for item in self.hrefs(url, user):
                    httpx.delete(url + item, auth=user.auth(), timeout=20)

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
