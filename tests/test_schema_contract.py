"""The checked-in schema.graphql matches the code, and migrations match the models."""

from __future__ import annotations

from pathlib import Path

from tortoise.migrations.autodetector import MigrationAutodetector

from schema import schema

ROOT = Path(__file__).resolve().parent.parent


def test_schema_graphql_is_current() -> None:
    checked_in = (ROOT / "schema.graphql").read_text(encoding="utf-8")
    assert checked_in == schema.as_str() + "\n", (
        "schema.graphql drifted from the code: run `make schema` and commit it"
    )


async def test_migrations_cover_every_model_change(db: str) -> None:
    from tortoise import Tortoise

    from orm.db import tortoise_config

    apps = tortoise_config(db)["apps"]
    detector = MigrationAutodetector(Tortoise.apps, apps)
    writers = await detector.changes()
    assert [w.name for w in writers] == [], "models changed without a migration: makemigrations"
