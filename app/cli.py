"""The ``followups`` command: serve, migrate, demo data, schema export and API tokens."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

from config.settings import SettingsError, get_settings
from orm import db


async def _with_db(work: Callable[[], Awaitable[None]]) -> None:
    settings = get_settings()
    url, wait = settings.database_url, settings.sqlite_busy_timeout_ms
    try:
        await db.migrate(url, wait)
    finally:
        await db.close()
    await db.connect(url, wait, db.Pool(*settings.database_pool))
    try:
        await work()
    finally:
        await db.close()


def cmd_serve(args: argparse.Namespace) -> None:
    from app.server import serve

    settings = get_settings()
    if args.workers < 1:
        sys.exit("--workers must be at least 1")
    if args.workers > 1 and settings.database_url.startswith("sqlite://"):
        sys.exit(
            "followups serve: --workers above 1 needs PostgreSQL (DATABASE_URL=postgres://...);"
            " SQLite admits one writer at a time, so more processes only queue on its lock"
        )
    serve(settings, args.host or settings.host, args.port or settings.port, args.workers)


def cmd_migrate(_: argparse.Namespace) -> None:
    async def run() -> None:
        try:
            await db.migrate(get_settings().database_url)
        finally:
            await db.close()  # an open SQLite connection's thread keeps the process alive

    asyncio.run(run())
    print("database is up to date")


def cmd_demo(_: argparse.Namespace) -> None:
    from app.demo import load_demo

    async def work() -> None:
        token = await load_demo()
        print("Demo data loaded. API token for the demo admin (Ada Admin):")
        print(f"  Authorization: Bearer {token}")
        print(f"GraphiQL with that token: {get_settings().base_url}/graphql#token={token}")

    asyncio.run(_with_db(work))


def cmd_token(args: argparse.Namespace) -> None:
    from tortoise.transactions import in_transaction

    from orm.models import Associate
    from resolvers.auth import TooManyTokens, create_token

    if args.days is not None and args.days < 1:
        sys.exit("--days must be at least 1 (leave it out for a token that does not expire)")

    async def work() -> None:
        query = Associate.filter(email__iexact=args.associate)
        if args.associate.isdigit():
            query = Associate.filter(id=int(args.associate))
        associate = await query.first()
        if associate is None:
            sys.exit(f"no associate with id or e-mail {args.associate!r}")
        lifetime = timedelta(days=args.days) if args.days is not None else None
        try:
            async with in_transaction():
                limit = get_settings().max_tokens_per_associate
                token = await create_token(associate, args.name, lifetime, limit)
        except TooManyTokens as exc:
            sys.exit(str(exc))
        print(token)

    asyncio.run(_with_db(work))


def cmd_import(args: argparse.Namespace) -> None:
    from app.progress import Progress
    from resolvers import crm_import

    try:
        kind = crm_import.kind_of(args.kind)
        fmt = args.format or ("json" if args.file.lower().endswith(".json") else "csv")
        content = Path(args.file).read_text(encoding="utf-8-sig")
        rows = crm_import.read_rows(kind, content, fmt)
    except (crm_import.FileRefused, UnicodeDecodeError) as exc:
        sys.exit(f"followups import: {args.file}: {exc}")
    failed: list[int] = []

    async def work() -> None:
        progress = Progress(f"import {kind}", len(rows))
        try:
            summary = await crm_import.run_import(kind, rows, args.dry_run, progress)
        finally:
            progress.close()
        for line in crm_import.describe(summary):
            print(line)
        failed.append(summary.failed)

    asyncio.run(_with_db(work))
    if failed and failed[0]:
        sys.exit(1)


def cmd_export_schema(args: argparse.Namespace) -> None:
    from schema import schema

    text = schema.as_str() + "\n"
    if args.output == "-":
        sys.stdout.write(text)
    else:
        Path(args.output).write_text(text, encoding="utf-8")
        print(f"wrote {args.output}")


def cmd_mail_worker(args: argparse.Namespace) -> None:
    from app.mail_cli import run_worker

    asyncio.run(_with_db(lambda: run_worker(get_settings(), once=args.once)))


def cmd_mail_in(_: argparse.Namespace) -> None:
    from app.mail_cli import receive_stdin

    codes: list[int] = []

    async def work() -> None:
        codes.append(await receive_stdin(get_settings()))

    asyncio.run(_with_db(work))
    sys.exit(max(codes) if codes else 1)


def cmd_imap_intake(_: argparse.Namespace) -> None:
    from app.mail_cli import run_intake

    asyncio.run(_with_db(lambda: run_intake(get_settings())))


def cmd_sync_worker(args: argparse.Namespace) -> None:
    from app.sync_cli import run_worker

    asyncio.run(_with_db(lambda: run_worker(get_settings(), once=args.once)))


def cmd_sync(args: argparse.Namespace) -> None:
    from app.sync_cli import run_full, run_pull

    codes: list[int] = []

    async def work() -> None:
        if args.pull:
            codes.append(await run_pull(get_settings()))
        if args.full:
            codes.append(await run_full(get_settings()))

    if not args.full and not args.pull:
        sys.exit("usage: followups sync --full | --pull")
    asyncio.run(_with_db(work))
    sys.exit(max(codes) if codes else 1)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="followups", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the HTTP service (GraphiQL at /graphql)")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument(
        "--workers",
        type=int,
        default=1,
        help="API processes on one port (PostgreSQL; set REDIS_URL to share the limits)",
    )
    serve.set_defaults(func=cmd_serve)
    sub.add_parser("migrate", help="bring the database schema up to date").set_defaults(
        func=cmd_migrate
    )
    sub.add_parser("demo", help="load demo data and print an API token").set_defaults(func=cmd_demo)
    export = sub.add_parser("export-schema", help="write the GraphQL schema (SDL)")
    export.add_argument("output", nargs="?", default="schema.graphql")
    export.set_defaults(func=cmd_export_schema)
    token = sub.add_parser("token", help="create an API token for an associate")
    token.add_argument("associate", help="associate id or e-mail address")
    token.add_argument("--name", default="cli")
    token.add_argument("--days", type=int, help="expire after this many days")
    token.set_defaults(func=cmd_token)
    load = sub.add_parser(
        "import", help="create or update CRM records from a CSV or JSON file (see README)"
    )
    load.add_argument("kind", help="companies, persons, projects, sales, selections, ...")
    load.add_argument("file")
    load.add_argument("--dry-run", action="store_true", help="validate and report, write nothing")
    load.add_argument("--format", choices=("csv", "json"), help="default: from the file name")
    load.set_defaults(func=cmd_import)
    worker = sub.add_parser("mail-worker", help="send queued invitation mails (until stopped)")
    worker.add_argument("--once", action="store_true", help="send one batch and exit")
    worker.set_defaults(func=cmd_mail_worker)
    sub.add_parser(
        "mail-in", help="process one inbound mail (REPLY, COUNTER or bounce) read from stdin"
    ).set_defaults(func=cmd_mail_in)
    sub.add_parser(
        "imap-intake", help="read the configured IMAP mailboxes and apply replies (until stopped)"
    ).set_defaults(func=cmd_imap_intake)
    sync_worker = sub.add_parser("sync-worker", help="push queued CalDAV writes (until stopped)")
    sync_worker.add_argument("--once", action="store_true", help="run one batch and exit")
    sync_worker.set_defaults(func=cmd_sync_worker)
    sync = sub.add_parser("sync", help="compare every calendar with the service and repair drift")
    sync.add_argument("--full", action="store_true", help="reconcile all calendar accounts")
    sync.add_argument(
        "--pull", action="store_true", help="take in what calendar apps changed (one pass)"
    )
    sync.set_defaults(func=cmd_sync)
    return parser


def _operational_errors() -> tuple[type[BaseException], ...]:
    """What an operator's mistake raises (a bad URL, path or database): shown as one line."""
    import asyncpg
    from tortoise.exceptions import BaseORMException

    from orm.migrator import MigrationFailed

    return (MigrationFailed, BaseORMException, asyncpg.PostgresError, OSError, ValueError)


#: Commands that log (LOG_FORMAT, LOG_LEVEL); the others print their one answer only.
LONG_RUNNING = {"serve", "mail-worker", "sync-worker", "imap-intake"}


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    try:
        settings = get_settings()  # every command refuses a bad environment before anything
    except SettingsError as exc:
        sys.exit(f"followups: {exc}")
    if args.command in LONG_RUNNING:
        from app.observability import configure_logging

        configure_logging(settings)
    try:
        args.func(args)
    except _operational_errors() as exc:
        message = " ".join(str(exc).split()) or type(exc).__name__
        sys.exit(f"followups {args.command}: {message}")


if __name__ == "__main__":
    main()
