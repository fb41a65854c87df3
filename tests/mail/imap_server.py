"""A real Dovecot IMAP server on loopback, started as a plain foreground process.

Installed by ``tests/servers/install-dovecot.sh`` (Debian's ``dovecot-core``, with
``dovecot-imapd`` unpacked beside it).  The config
is written to a temporary directory: a passwd-file with the test users (plain-text
passwords), maildirs under the same directory, one free loopback port, ``ssl = no`` with
plaintext authentication allowed (loopback only).  Nothing outside the directory is used.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from tests.mail.flow.smtp_server import free_port

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
#: Where install-dovecot.sh unpacks Debian's dovecot-imapd (see the script for why).
IMAPD = Path("/opt/followups-tests/dovecot-imapd/usr/lib/dovecot")

CONFIG = """\
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
instance_name = followups-test-{port}
log_path = {root}/dovecot.log
info_log_path = {root}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = {internal}
default_login_user = {login}
first_valid_uid = 1
mail_location = maildir:{root}/mail/%u
mail_uid = {uid}
mail_gid = {gid}
imap_idle_notify_interval = 1 secs
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
  executable = {imapd}/imap-login
}}
service imap {{
  executable = {imapd}/imap
}}
service imap-hibernate {{
  executable = {imapd}/imap-hibernate
}}
service imap-urlauth {{
  executable = {imapd}/imap-urlauth
}}
service imap-urlauth-login {{
  executable = {imapd}/imap-urlauth-login
}}
service imap-urlauth-worker {{
  executable = {imapd}/imap-urlauth-worker
}}
"""


class DovecotServer:
    """One Dovecot instance with the given users (name -> password)."""

    def __init__(self, users: dict[str, str]) -> None:
        self.users = users
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="dovecot-"))
        self.proc: subprocess.Popen[bytes] | None = None

    def _write_config(self) -> Path:
        os.chmod(self.root, 0o755)
        for sub in ("run", "state", "mail", "home"):
            (self.root / sub).mkdir(exist_ok=True)
        passwd = "".join(f"{u}:{{PLAIN}}{p}::::::\n" for u, p in self.users.items())
        (self.root / "passwd").write_text(passwd)
        me = pwd.getpwuid(os.getuid()).pw_name
        root_user = os.getuid() == 0
        # Dovecot refuses uid 0 for mail; as root the mail belongs to the dovecot user.
        owner = pwd.getpwnam("dovecot") if root_user else pwd.getpwuid(os.getuid())
        for sub in ("mail", "home"):
            os.chown(self.root / sub, owner.pw_uid, owner.pw_gid)
        conf = self.root / "dovecot.conf"
        conf.write_text(
            CONFIG.format(
                root=self.root,
                port=self.port,
                imapd=IMAPD if (IMAPD / "imap").exists() else "/usr/lib/dovecot",
                uid=owner.pw_uid,
                gid=owner.pw_gid,
                internal="dovecot" if root_user else me,
                login="dovenull" if root_user else me,
            )
        )
        return conf

    def start(self) -> None:
        conf = self._write_config()
        self.proc = subprocess.Popen(
            [DOVECOT, "-F", "-c", str(conf)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                out = self.proc.stdout.read().decode() if self.proc.stdout else ""
                raise RuntimeError(f"dovecot exited: {out}{self.log()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                    if s.recv(100).startswith(b"* OK"):
                        return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("dovecot did not start: " + self.log())

    def log(self) -> str:
        path = self.root / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
            self.proc = None
        shutil.rmtree(self.root, ignore_errors=True)
