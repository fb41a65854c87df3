"""Partial indexes for free/busy over an associate's own follow-ups (``busy_sql.links``).

``(owner_id, end_at)`` finds an owner's follow-ups ending after a window starts, but
reads each of them from the table to check it is busy, a single one and starts before
the window ends; ``(owner_id, rrule)`` reads every series of the owner.  These two hold
only busy single follow-ups and busy series, with the columns the query compares, so
the table is read only for the rows in the window:

* ``followup_owner_busy_single``  ``(owner_id, end_at, start_at, id) WHERE busy AND rrule
  IS NULL``;
* ``followup_owner_busy_series``  ``(owner_id, series_end, sort_at, id) WHERE busy AND
  rrule IS NOT NULL``.

Raw SQL (the same on SQLite and PostgreSQL): Tortoise models cannot declare a partial
index, and no model field changes.
"""

from typing import Any

from tortoise import migrations
from tortoise.migrations import operations as ops

INDEXES = {
    "followup_owner_busy_single": "(owner_id, end_at, start_at, id) WHERE busy AND rrule IS NULL",
    "followup_owner_busy_series": (
        "(owner_id, series_end, sort_at, id) WHERE busy AND rrule IS NOT NULL"
    ),
}


async def forward(apps: Any, schema_editor: Any) -> None:
    for name, definition in INDEXES.items():
        await schema_editor.client.execute_script(f"CREATE INDEX {name} ON followup {definition}")


async def backward(apps: Any, schema_editor: Any) -> None:
    for name in INDEXES:
        await schema_editor.client.execute_script(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("models", "0004_busy_spans")]

    initial = False

    operations = [ops.RunPython(forward, backward)]
