"""A real SMTP server (aiosmtpd) on loopback that records what it receives."""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes


@dataclass
class Sink:
    """The aiosmtpd handler: keeps every message and counts sessions (EHLOs)."""

    messages: list[Received] = field(default_factory=list)
    sessions: int = 0

    async def handle_EHLO(self, server: Any, session: Any, envelope: Any, hostname: str,
                          responses: list[str]) -> list[str]:  # fmt: skip
        self.sessions += 1
        session.host_name = hostname
        return responses

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:  # fmt: skip
        if address.startswith("reject@"):
            return "550 5.1.1 no such user"
        if address.startswith("later@"):
            return "451 4.2.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        data = envelope.original_content or envelope.content
        self.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos), bytes(data)))
        return "250 OK"


class SmtpServer:
    """Start/stop on a fixed free port, so a test can take SMTP down and up again."""

    def __init__(self, *, password: str | None = None, require_auth: bool = False) -> None:
        self.port = free_port()
        self.require_auth = require_auth
        self.sink = Sink()
        self.password = password
        self.controller: Controller | None = None

    def _auth(self, server: Any, session: Any, envelope: Any, mechanism: str,
              auth_data: Any) -> AuthResult:  # fmt: skip
        ok = getattr(auth_data, "password", b"") == (self.password or "").encode()
        return AuthResult(success=ok, handled=False)

    def start(self) -> None:
        kwargs: dict[str, Any] = {}
        if self.password is not None:
            kwargs = {
                "authenticator": self._auth,
                "auth_require_tls": False,
                "auth_required": self.require_auth,
            }
        self.controller = Controller(self.sink, hostname="127.0.0.1", port=self.port, **kwargs)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None
