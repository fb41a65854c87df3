"""Database set-up: the Tortoise config, connecting, migrating and closing."""

from __future__ import annotations

from typing import Any

from tortoise import Tortoise
from tortoise.migrations.api.migrate import migrate as tortoise_migrate

MODELS_MODULE = "orm.models"
MIGRATIONS_MODULE = "orm.migrations"


def tortoise_config(database_url: str) -> dict[str, Any]:
    """The Tortoise config for one database URL (sqlite://path or postgres://...)."""
    return {
        "connections": {"default": database_url},
        "apps": {
            "models": {
                "models": [MODELS_MODULE],
                "migrations": MIGRATIONS_MODULE,
                "default_connection": "default",
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


async def connect(database_url: str) -> None:
    """Open the ORM on ``database_url`` for every task of this process."""
    await Tortoise.init(config=tortoise_config(database_url), _enable_global_fallback=True)


async def migrate(database_url: str) -> None:
    """Bring the database schema up to the latest migration (keeps the data)."""
    await tortoise_migrate(config=tortoise_config(database_url))


async def close() -> None:
    await Tortoise.close_connections()
