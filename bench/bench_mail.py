"""Benchmark: 500 invitation mails to a local aiosmtpd, one reused connection vs one each.

Both runs send the same 500 messages built by ``mail.compose.compose_invitation``; ours
goes through ``mail.smtp.SmtpTransport`` (one session per batch of ``MAIL_BATCH_SIZE``,
default 50), the baseline opens a new aiosmtplib connection per message.  Prints both
throughputs and the ratio (target: at least 2x).  Run: ``.venv/bin/python bench/bench_mail.py``.
"""

from __future__ import annotations

import asyncio
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiosmtplib

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from calcore.model import Attendee, EventSnapshot, Kind, Person
from config.settings import Settings
from mail.compose import compose_invitation
from mail.smtp import SmtpTransport
from tests.mail.flow.smtp_server import SmtpServer

N = 500
BATCH = 50


def messages() -> list[tuple[str, bytes]]:
    start = datetime(2026, 3, 2, 9, tzinfo=UTC)
    out = []
    for i in range(N):
        who = Attendee(email=f"guest{i}@example.com", name=f"Guest {i}")
        snap = EventSnapshot(
            uid=f"bench-{i}@followups", kind=Kind.MEETING, title=f"Meeting {i}",
            start=start, end=start + timedelta(hours=1), location="Room 1",
            organizer=Person("ann@example.com", "Ann"), attendees=(who,),
        )  # fmt: skip
        msg = compose_invitation(snap, "REQUEST", who, message_id_domain="bench.invalid")
        out.append((who.email, msg.as_bytes()))
    return out


async def ours(settings: Settings, mails: list[tuple[str, bytes]]) -> float:
    transport = SmtpTransport(settings)
    t0 = time.perf_counter()
    for i in range(0, len(mails), BATCH):
        async with transport.session() as session:
            for rcpt, data in mails[i : i + BATCH]:
                await session.send("ann@example.com", rcpt, data)
    return time.perf_counter() - t0


async def baseline(settings: Settings, mails: list[tuple[str, bytes]]) -> float:
    t0 = time.perf_counter()
    for rcpt, data in mails:
        await aiosmtplib.send(
            data, sender="ann@example.com", recipients=[rcpt],
            hostname=settings.smtp_host, port=settings.smtp_port, start_tls=False,
        )  # fmt: skip
    return time.perf_counter() - t0


async def main() -> None:
    server = SmtpServer()
    server.start()
    try:
        settings = Settings(smtp_host="127.0.0.1", smtp_port=server.port, smtp_starttls=False)
        mails = messages()
        await ours(settings, mails[:50])  # warm up
        await baseline(settings, mails[:50])
        t_ours, t_base = [], []
        for _ in range(3):  # interleaved rounds against machine noise
            t_base.append(await baseline(settings, mails))
            t_ours.append(await ours(settings, mails))
        best_ours, best_base = min(t_ours), min(t_base)
        print(f"{N} invitation mails to a local aiosmtpd")
        print(f"  reused connection (batches of {BATCH}): {N / best_ours:8.1f} mails/s")
        print(f"  one connection per message:          {N / best_base:8.1f} mails/s")
        print(f"  ratio: {best_base / best_ours:.2f}x (target >= 2x)")
    finally:
        server.stop()


if __name__ == "__main__":
    asyncio.run(main())
