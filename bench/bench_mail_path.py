"""Benchmark: invitation mails through the service's whole path vs a bare aiosmtplib loop.

The path: compose each invitation and write its outbox row (``mail.outbox.compose`` and
``enqueue``, ten mails per transaction as a mutation would), while a *separate worker
process* (``MailWorker.run``, as ``followups mail-worker``) claims, sends over one SMTP
connection per batch and marks the rows sent; timed from the first row written to the
last row SENT.  The baseline: one aiosmtplib connection sending the same number of
pre-built messages in a loop.  Both go to the same aiosmtpd sink; each pass runs both
sides (in alternating order) and prints the ratio path/bare; min/median/max at the end
(target: median >= 0.5).  Run: ``.venv/bin/python bench/bench_mail_path.py [--engine
sqlite|postgres] [--mails 500] [--passes 5]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiosmtplib

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from calcore.model import Attendee, EventSnapshot, Kind, Person  # noqa: E402
from config.settings import Secret, Settings  # noqa: E402
from mail import outbox  # noqa: E402
from orm import db  # noqa: E402
from orm.outbox_models import MailOutbox, MailStatus  # noqa: E402
from tests.mail.flow.smtp_server import SmtpServer  # noqa: E402

PER_TRANSACTION = 10
START = datetime(2026, 3, 2, 9, tzinfo=UTC)


def settings_for(port: int, url: str) -> Settings:
    return Settings(
        database_url=url,
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_starttls=False,
        secret_key=Secret("bench"),
        mail_poll_seconds=0.01,
        mail_batch_size=50,
    )


def plans(n: int, tag: str) -> list[outbox.Planned]:
    out = []
    organizer = Person("ann@example.com", "Ann")
    for i in range(n):
        who = Attendee(email=f"guest{i}@example.com", name=f"Guest {i}")
        snap = EventSnapshot(
            uid=f"bench-{tag}-{i}@followups", kind=Kind.MEETING, title=f"Meeting {i}",
            start=START, end=START + timedelta(hours=1), location="Room 1",
            organizer=organizer, attendees=(who,),
        )  # fmt: skip
        out.append(outbox.Planned(i + 1, None, who.email, "REQUEST", snap))
    return out


async def path_pass(s: Settings, n: int) -> float:
    """Queue ``n`` mails (compose + row) while the worker process drains; seconds to all SENT."""
    from tortoise.transactions import in_transaction

    todo = plans(n, uuid.uuid4().hex[:8])
    t0 = time.perf_counter()
    for i in range(0, n, PER_TRANSACTION):
        async with in_transaction():
            await outbox.queue(todo[i : i + PER_TRANSACTION], s)
    while await MailOutbox.filter(status=MailStatus.QUEUED).exists():
        await asyncio.sleep(0.002)
    took = time.perf_counter() - t0
    assert await MailOutbox.filter(status=MailStatus.FAILED).count() == 0
    await MailOutbox.all().delete()
    return took


async def bare_pass(s: Settings, mails: list[tuple[str, bytes]]) -> float:
    t0 = time.perf_counter()
    client = aiosmtplib.SMTP(hostname=s.smtp_host, port=s.smtp_port, start_tls=False)
    await client.connect()
    for rcpt, data in mails:
        await client.sendmail("ann@example.com", [rcpt], data)
    await client.quit()
    return time.perf_counter() - t0


def bare_mails(s: Settings, n: int) -> list[tuple[str, bytes]]:
    return [
        (p.email, outbox.compose(p, s, "en").as_bytes()) for p in plans(n, "bare")
    ]


async def worker_main(url: str, port: int) -> None:
    """The separate worker process: send until stdin closes."""
    from mail.worker import MailWorker

    s = settings_for(port, url)
    await db.connect(url)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_reader(sys.stdin.fileno(), stop.set)
    try:
        await MailWorker(s, name="bench-worker").run(stop)
    finally:
        await db.close()


async def database(engine: str) -> tuple[str, object | None]:
    if engine == "sqlite":
        return f"sqlite://{tempfile.mkdtemp(prefix='bench-mail-')}/bench.sqlite3", None
    import asyncpg

    admin_url = os.environ.get("TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test")
    admin = await asyncpg.connect(admin_url.replace("postgres://", "postgresql://"))
    name = f"bench_mail_{uuid.uuid4().hex[:8]}"
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    return admin_url.rsplit("/", 1)[0] + f"/{name}", name


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--mails", type=int, default=500)
    parser.add_argument("--passes", type=int, default=5)
    args = parser.parse_args()
    url, pg_name = await database(args.engine)
    await db.migrate(url)
    await db.close()
    await db.connect(url)
    server = SmtpServer()
    server.start()
    s = settings_for(server.port, url)
    worker = subprocess.Popen(
        [sys.executable, __file__, "--worker", url, str(server.port)],
        stdin=subprocess.PIPE,
        cwd=ROOT,
    )
    try:
        mails = bare_mails(s, args.mails)
        await path_pass(s, 50)  # warm up both sides
        await bare_pass(s, mails[:50])
        ratios, path_rates, bare_rates = [], [], []
        for i in range(args.passes):
            if i % 2:
                t_path = await path_pass(s, args.mails)
                t_bare = await bare_pass(s, mails)
            else:
                t_bare = await bare_pass(s, mails)
                t_path = await path_pass(s, args.mails)
            path_rates.append(args.mails / t_path)
            bare_rates.append(args.mails / t_bare)
            ratios.append(t_bare / t_path)
            print(
                f"pass {i + 1}: path {path_rates[-1]:7.1f} mails/s, bare {bare_rates[-1]:7.1f}"
                f" mails/s, ratio {ratios[-1]:.2f}"
            )
        print(f"{args.mails} mails per pass, {args.engine}, worker in a separate process")
        print(
            f"ratio path/bare: min {min(ratios):.2f}  median {statistics.median(ratios):.2f}"
            f"  max {max(ratios):.2f}  (target >= 0.5)"
        )
        print(
            f"path median {statistics.median(path_rates):.0f} mails/s, "
            f"bare median {statistics.median(bare_rates):.0f} mails/s"
        )
    finally:
        if worker.stdin:
            worker.stdin.close()
        worker.wait(30)
        server.stop()
        await db.close()
        if pg_name:
            import asyncpg

            admin_url = os.environ.get(
                "TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test"
            )
            admin = await asyncpg.connect(admin_url.replace("postgres://", "postgresql://"))
            await admin.execute(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')
            await admin.close()


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--worker":
        asyncio.run(worker_main(sys.argv[2], int(sys.argv[3])))
    else:
        asyncio.run(main())
