"""Benchmark: invitation mails through the service's whole path vs a bare aiosmtplib loop.

The path, as a mutation creating meetings runs it: before the clock starts the meetings
and their participants are rows (``--invitees`` per meeting; the organiser is an
associate with preferences); timed, each meeting goes through the real change path in
its own transaction (``orm.changes.created`` -> the installed handlers: the
``MailHandler``'s snapshot, plan, compose, one INSERT of the outbox rows; the live change
log; commit), while a *separate
worker process* (``MailWorker.run``, as ``followups mail-worker``) claims, sends and
marks the rows sent; the clock stops when the last row is SENT.  The baseline: one
aiosmtplib connection sending the same number of pre-composed messages in a loop.  Both
go to the same aiosmtpd sink, which runs in a process of its own (as a real SMTP server
would; in the bench's process it would compete with whichever side runs there).  Each
pass runs both sides (in alternating order) and prints the ratio path/bare;
min/median/max at the end (target: median >= 0.5).  Run: ``.venv/bin/python
bench/bench_mail_path.py [--engine sqlite|postgres] [--mails 500] [--passes 5]
[--invitees 5]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
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
from orm import db, live  # noqa: E402
from orm import models as m  # noqa: E402
from orm.outbox_models import MailOutbox, MailStatus  # noqa: E402
from tests.mail.flow.smtp_server import SmtpServer, free_port  # noqa: E402

START = datetime(2026, 3, 2, 9, tzinfo=UTC)
ORGANISER = "ann@example.com"


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


async def meetings(n: int, invitees: int) -> list[int]:
    """Write meetings with ``invitees`` participants each (``n`` mails in all); their ids."""
    owner = await m.Associate.get_or_none(email=ORGANISER)
    if owner is None:
        owner = await m.Associate.create(name="Ann Organiser", email=ORGANISER)
    ids = []
    for i in range(0, n, invitees):
        row = await m.FollowUp.create(
            kind=m.Kind.MEETING, owner=owner, title=f"Meeting {i}", location="Room 1",
            uid=f"bench-{uuid.uuid4().hex}@followups", start_at=START,
            end_at=START + timedelta(hours=1), sort_at=START,
        )  # fmt: skip
        await m.Participant.create(followup=row, associate=owner, organiser=True)
        await m.Participant.bulk_create(
            [
                m.Participant(
                    followup=row, email=f"guest{i + k}@example.com", email_invitation=True
                )
                for k in range(min(invitees, n - i))
            ]
        )
        ids.append(row.id)
    return ids


async def path_pass(n: int, invitees: int) -> tuple[float, float]:
    """Run ``n`` mails through the change path while the worker drains.

    Returns the seconds until all are SENT and the seconds the change side took.
    """
    from tortoise.transactions import in_transaction

    from orm import changes

    todo = await meetings(n, invitees)
    t0 = time.perf_counter()
    for fid in todo:
        async with in_transaction():
            await changes.created(fid)
    queued = time.perf_counter() - t0
    while await MailOutbox.filter(status=MailStatus.QUEUED).exists():
        # every 10 ms (at most 10 ms late): a tighter poll takes CPU from the worker
        await asyncio.sleep(0.01)
    took = time.perf_counter() - t0
    assert await MailOutbox.filter(status=MailStatus.FAILED).count() == 0
    assert await MailOutbox.filter(status=MailStatus.SENT).count() == n
    await MailOutbox.all().delete()
    return took, queued


async def bare_pass(s: Settings, mails: list[tuple[str, bytes]]) -> float:
    t0 = time.perf_counter()
    client = aiosmtplib.SMTP(hostname=s.smtp_host, port=s.smtp_port, start_tls=False)
    await client.connect()
    for rcpt, data in mails:
        await client.sendmail(ORGANISER, [rcpt], data)
    await client.quit()
    return time.perf_counter() - t0


def bare_mails(s: Settings, n: int) -> list[tuple[str, bytes]]:
    """Pre-composed messages like the path's (one invitee per meeting)."""
    organizer = Person(ORGANISER, "Ann Organiser")
    out = []
    for i in range(n):
        who = Attendee(email=f"guest{i}@example.com", name=f"Guest {i}")
        snap = EventSnapshot(
            uid=f"bench-bare-{i}@followups", kind=Kind.MEETING, title=f"Meeting {i}",
            start=START, end=START + timedelta(hours=1), location="Room 1",
            organizer=organizer, attendees=(who,),
        )  # fmt: skip
        plan = outbox.Planned(i + 1, None, who.email, "REQUEST", snap)
        out.append((who.email, outbox.compose(plan, s, "en").text.encode()))
    return out


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


def sink_main(port: int) -> None:
    """The separate SMTP sink process (aiosmtpd): receive until stdin closes."""
    server = SmtpServer()
    server.port = port
    server.start()
    try:
        sys.stdin.read()
    finally:
        server.stop()


def wait_for_port(port: int, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), 0.5).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


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
    parser.add_argument("--invitees", type=int, default=5, help="mails per meeting (change)")
    args = parser.parse_args()
    url, pg_name = await database(args.engine)
    await db.migrate(url)
    await db.close()
    await db.connect(url)
    port = free_port()
    procs = [
        subprocess.Popen([sys.executable, __file__, "--sink", str(port)], stdin=subprocess.PIPE),
    ]
    wait_for_port(port)
    s = settings_for(port, url)
    outbox.install(s)
    live.install()  # the live change log, as serve and the workers register it
    procs.append(
        subprocess.Popen(
            [sys.executable, __file__, "--worker", url, str(port)],
            stdin=subprocess.PIPE,
            cwd=ROOT,
        )
    )
    try:
        mails = bare_mails(s, args.mails)
        await path_pass(50, args.invitees)  # warm up both sides
        await bare_pass(s, mails[:50])
        print("load average at start: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
        ratios, path_rates, bare_rates = [], [], []
        for i in range(args.passes):
            if i % 2:
                t_path, t_queue = await path_pass(args.mails, args.invitees)
                t_bare = await bare_pass(s, mails)
            else:
                t_bare = await bare_pass(s, mails)
                t_path, t_queue = await path_pass(args.mails, args.invitees)
            path_rates.append(args.mails / t_path)
            bare_rates.append(args.mails / t_bare)
            ratios.append(t_bare / t_path)
            print(
                f"pass {i + 1}: path {path_rates[-1]:7.1f} mails/s (changes done after"
                f" {t_queue:.2f} s of {t_path:.2f} s), bare {bare_rates[-1]:7.1f} mails/s,"
                f" ratio {ratios[-1]:.2f}"
            )
        print(
            f"{args.mails} mails per pass, {args.invitees} per meeting, {args.engine},"
            " worker and SMTP sink in separate processes"
        )
        print(
            f"ratio path/bare: min {min(ratios):.2f}  median {statistics.median(ratios):.2f}"
            f"  max {max(ratios):.2f}  (target >= 0.5)"
        )
        print(
            f"path median {statistics.median(path_rates):.0f} mails/s, "
            f"bare median {statistics.median(bare_rates):.0f} mails/s"
        )
        print("load average at end: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    finally:
        outbox.uninstall()
        for proc in reversed(procs):
            if proc.stdin:
                proc.stdin.close()
            proc.wait(30)
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
        if os.environ.get("BENCH_PROFILE_WORKER"):  # cProfile output of the worker process
            import cProfile

            cProfile.run(
                "asyncio.run(worker_main(sys.argv[2], int(sys.argv[3])))",
                os.environ["BENCH_PROFILE_WORKER"],
            )
        else:
            asyncio.run(worker_main(sys.argv[2], int(sys.argv[3])))
    elif len(sys.argv) == 3 and sys.argv[1] == "--sink":
        sink_main(int(sys.argv[2]))
    else:
        asyncio.run(main())
