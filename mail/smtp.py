"""The SMTP transport: moves queued message bytes with aiosmtplib and classifies failures.

Owns one connection per batch (connect, STARTTLS or implicit TLS, AUTH, then one
MAIL/RCPT/DATA per message on the same connection, QUIT), settings from ``config.settings``.
A 5xx reply for a message is permanent (RFC 5321 section 4.2.1); 4xx replies, timeouts
and dropped connections are transient and retried by the worker.  A refusal of the
configuration itself - STARTTLS required but not offered, AUTH not offered, credentials
refused (535 and other 5xx answers to AUTH) - is a ``SendError`` with ``config=True``:
retrying cannot help until the settings change.  Error texts are stripped of the SMTP
password before anyone records them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiosmtplib

from config.settings import Settings


class SendError(Exception):
    """A message was not accepted; ``permanent`` says whether retrying is pointless.

    ``broken`` means the connection is unusable, so the rest of the batch waits too;
    ``config`` means the server refused our configuration (TLS mode, credentials).
    """

    def __init__(
        self,
        message: str,
        *,
        permanent: bool = False,
        broken: bool = False,
        config: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.permanent = permanent
        self.broken = broken
        self.config = config


def redact(text: str, settings: Settings) -> str:
    """Return ``text`` with the SMTP password (if any) blanked out."""
    secret = settings.smtp_password.reveal()
    return text.replace(secret, "**********") if secret else text


def _describe(exc: BaseException, settings: Settings) -> str:
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        parts = [f"{r.recipient}: {r.code} {r.message}" for r in exc.recipients]
        text = "recipient refused: " + "; ".join(parts)
    elif isinstance(exc, aiosmtplib.SMTPResponseException):
        text = f"SMTP {exc.code} {exc.message}"
    else:
        text = f"{type(exc).__name__}: {exc}"
    return redact(text, settings)


#: Answers to MAIL FROM that mean "authenticate first" (RFC 4954 section 6).
AUTH_CODES = (530, 534, 538)


def config_problem(exc: BaseException, settings: Settings) -> str | None:
    """Return what is wrong with the SMTP settings when ``exc`` says so, else None."""
    text = str(exc)
    if isinstance(exc, aiosmtplib.SMTPAuthenticationError) or (
        isinstance(exc, aiosmtplib.SMTPResponseException)
        and 500 <= exc.code < 600
        and "auth" in text.lower()
    ):
        code = getattr(exc, "code", "")
        return f"the server refused the credentials of SMTP_USER {settings.smtp_user!r} ({code})"
    if "STARTTLS extension not supported" in text:
        return "the server offers no STARTTLS; set SMTP_STARTTLS=false (or SMTP_TLS=true)"
    if "AUTH extension is not supported" in text:
        return "the server offers no AUTH; unset SMTP_USER or enable TLS (SMTP_STARTTLS)"
    return None


class SmtpSession:
    """One open connection; ``send`` delivers one message to one recipient."""

    def __init__(self, client: aiosmtplib.SMTP, settings: Settings) -> None:
        self.client = client
        self.settings = settings

    def connected(self) -> bool:
        """Whether the connection is still open as far as this side has seen (no I/O)."""
        return bool(self.client.is_connected)

    async def alive(self) -> bool:
        """Whether the server still answers on this connection (a NOOP)."""
        try:
            response = await self.client.noop()
        except (aiosmtplib.SMTPException, OSError, TimeoutError):
            return False
        return 200 <= response.code < 300

    async def send(self, sender: str, recipient: str, data: bytes) -> None:
        """Send the message; raise ``SendError`` when the server does not take it."""
        try:
            await self.client.sendmail(sender, [recipient], data)
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [r.code for r in exc.recipients]
            raise SendError(
                _describe(exc, self.settings), permanent=all(500 <= c < 600 for c in codes)
            ) from exc
        except aiosmtplib.SMTPServerDisconnected as exc:
            raise SendError(_describe(exc, self.settings), broken=True) from exc
        except aiosmtplib.SMTPResponseException as exc:
            if exc.code in AUTH_CODES:
                problem = f"the server wants authentication (SMTP_USER) ({exc.code})"
                detail = _describe(exc, self.settings)
                raise SendError(f"configuration: {problem} [{detail}]", config=True) from exc
            raise SendError(
                _describe(exc, self.settings),
                permanent=500 <= exc.code < 600,
                broken=exc.code in (421,),
            ) from exc
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise SendError(_describe(exc, self.settings), broken=True) from exc


class SmtpTransport:
    """Opens SMTP sessions with the configured host, port, TLS mode and credentials."""

    def __init__(self, settings: Settings, *, timeout: float = 30.0) -> None:
        self.settings = settings
        self.timeout = timeout

    def _client(self) -> aiosmtplib.SMTP:
        s = self.settings
        return aiosmtplib.SMTP(
            hostname=s.smtp_host,
            port=s.smtp_port,
            username=s.smtp_user or None,
            password=(s.smtp_password.reveal() or None) if s.smtp_user else None,
            use_tls=s.smtp_tls,
            start_tls=s.smtp_starttls and not s.smtp_tls,
            timeout=self.timeout,
        )

    @asynccontextmanager
    async def session(self) -> AsyncIterator[SmtpSession]:
        """Connect (TLS and AUTH as configured) and yield a session; QUIT at the end."""
        client = self._client()
        try:
            await client.connect()
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            client.close()
            problem = config_problem(exc, self.settings)
            if problem is not None:
                detail = _describe(exc, self.settings)
                raise SendError(f"configuration: {problem} [{detail}]", config=True) from exc
            raise SendError(_describe(exc, self.settings), broken=True) from exc
        try:
            yield SmtpSession(client, self.settings)
        finally:
            try:
                await client.quit()
            except (aiosmtplib.SMTPException, OSError, TimeoutError):
                client.close()
