"""Indexes shaped like the lists the API offers (filter columns, then the sort key).

* ``activities`` of a company, person, sale or project: ``WHERE <link>_id = ? ORDER BY
  sort_at DESC, id DESC`` reads ``(<link>_id, sort_at, id)`` backwards, and its
  ``totalCount`` counts the same index.  Partial (``WHERE <link>_id IS NOT NULL``): most
  follow-ups link to one record or none, so the indexes hold only the rows they serve.
* ``todo``: an owner's open single tasks and planned calls by deadline:
  ``(owner_id, done, deadline, id) WHERE rrule IS NULL``.

Raw SQL (the same on SQLite and PostgreSQL): Tortoise models cannot declare a partial
index, and no model field changes.
"""

from typing import Any

from tortoise import migrations
from tortoise.migrations import operations as ops

INDEXES = {
    **{
        f"followup_{link}_sort": f"({link}_id, sort_at, id) WHERE {link}_id IS NOT NULL"
        for link in ("company", "person", "sale", "project")
    },
    "followup_owner_todo": "(owner_id, done, deadline, id) WHERE rrule IS NULL",
}


async def forward(apps: Any, schema_editor: Any) -> None:
    for name, definition in INDEXES.items():
        await schema_editor.client.execute_script(f"CREATE INDEX {name} ON followup {definition}")


async def backward(apps: Any, schema_editor: Any) -> None:
    for name in INDEXES:
        await schema_editor.client.execute_script(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("models", "0005_busy_owner_indexes")]

    initial = False

    operations = [ops.RunPython(forward, backward)]
