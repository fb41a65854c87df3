"""Busy spans on invitations and bookings, kept by triggers, for free/busy.

Free/busy asks "what of these 25 people and rooms is busy in these two weeks": joining
every invitation and booking of theirs to its follow-up reads their whole history.  So
``participant`` and ``resource_booking`` get a copy of their follow-up's busy span,
indexed per associate, person and resource by its end:

* ``busy_from``   the follow-up's start (a series: its first start);
* ``busy_until``  its end (a series: the end of its last occurrence, open-ended:
  infinity); NULL when it blocks no time (``busy`` false, or untimed);
* ``busy_series`` whether the follow-up is a series (expanded by the reader).

The columns are not in ``orm.models`` (the ORM never writes them); triggers set them when
an invitation or booking is inserted or moved to another follow-up, and spread a
follow-up's change of start, end, busy, rule or series end to its links, whatever code
path makes the change.  ``resolvers.busy_sql`` reads them.
"""

from typing import Any

from tortoise import migrations
from tortoise.migrations import operations as ops

LINKS = ("participant", "resource_booking")
INDEXES = {
    "participant_associate_busy": (
        "participant",
        "associate_id, busy_until, busy_from, busy_series, organiser, status, followup_id",
    ),
    "participant_person_busy": (
        "participant",
        "person_id, busy_until, busy_from, busy_series, organiser, status, followup_id",
    ),
    "resource_booking_busy": (
        "resource_booking",
        "resource_id, busy_until, busy_from, busy_series, followup_id",
    ),
}


def _until(f: str, infinity: str) -> str:
    return (
        f"CASE WHEN {f}.busy AND {f}.start_at IS NOT NULL THEN CASE WHEN {f}.rrule IS NULL "
        f"THEN {f}.end_at ELSE COALESCE({f}.series_end, {infinity}) END END"
    )


def _span(f: str, infinity: str) -> str:
    """busy_from, busy_until, busy_series of the follow-up named ``f``."""
    return f"{f}.start_at, {_until(f, infinity)}, {f}.rrule IS NOT NULL"


def _sqlite() -> list[str]:
    inf = "'9999-12-31 00:00:00+00:00'"
    out = []
    for table in LINKS:
        out += [
            f"ALTER TABLE {table} ADD COLUMN busy_from TIMESTAMP",
            f"ALTER TABLE {table} ADD COLUMN busy_until TIMESTAMP",
            f"ALTER TABLE {table} ADD COLUMN busy_series INT",
            f"UPDATE {table} SET (busy_from, busy_until, busy_series) = (SELECT "
            f"{_span('f', inf)} FROM followup f WHERE f.id = {table}.followup_id)",
        ]
        for event in ("INSERT", "UPDATE OF followup_id"):
            name = f"{table}_busy_span_{event.split()[0].lower()}"
            out.append(
                f"CREATE TRIGGER {name} AFTER {event} ON {table} BEGIN "
                f"UPDATE {table} SET (busy_from, busy_until, busy_series) = (SELECT "
                f"{_span('f', inf)} FROM followup f WHERE f.id = NEW.followup_id) "
                "WHERE id = NEW.id; END"
            )
    sets = "; ".join(
        f"UPDATE {table} SET busy_from = NEW.start_at, busy_until = {_until('NEW', inf)}, "
        f"busy_series = NEW.rrule IS NOT NULL WHERE followup_id = NEW.id"
        for table in LINKS
    )
    out.append(
        "CREATE TRIGGER followup_busy_span AFTER UPDATE OF start_at, end_at, busy, rrule, "
        f"series_end ON followup BEGIN {sets}; END"
    )
    return out


def _postgres() -> list[str]:
    inf = "'infinity'::timestamptz"
    out = []
    for table in LINKS:
        out += [
            f"ALTER TABLE {table} ADD COLUMN busy_from TIMESTAMPTZ, "
            "ADD COLUMN busy_until TIMESTAMPTZ, ADD COLUMN busy_series BOOLEAN",
            f"UPDATE {table} t SET (busy_from, busy_until, busy_series) = (SELECT "
            f"{_span('f', inf)} FROM followup f WHERE f.id = t.followup_id)",
        ]
    out.append(
        "CREATE FUNCTION followup_busy_link() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"SELECT {_span('f', inf)} INTO NEW.busy_from, NEW.busy_until, NEW.busy_series "
        "FROM followup f WHERE f.id = NEW.followup_id; RETURN NEW; END $$"
    )
    for table in LINKS:
        out.append(
            f"CREATE TRIGGER {table}_busy_span BEFORE INSERT OR UPDATE OF followup_id "
            f"ON {table} FOR EACH ROW EXECUTE FUNCTION followup_busy_link()"
        )
    sets = " ".join(
        f"UPDATE {table} SET busy_from = NEW.start_at, busy_until = {_until('NEW', inf)}, "
        f"busy_series = NEW.rrule IS NOT NULL WHERE followup_id = NEW.id;"
        for table in LINKS
    )
    out.append(
        "CREATE FUNCTION followup_busy_spread() RETURNS trigger LANGUAGE plpgsql AS $$ "
        f"BEGIN {sets} RETURN NULL; END $$"
    )
    changed = " OR ".join(
        f"OLD.{c} IS DISTINCT FROM NEW.{c}"
        for c in ("start_at", "end_at", "busy", "rrule", "series_end")
    )
    out.append(
        f"CREATE TRIGGER followup_busy_span AFTER UPDATE ON followup FOR EACH ROW "
        f"WHEN ({changed}) EXECUTE FUNCTION followup_busy_spread()"
    )
    return out


def _sql(dialect: str) -> list[str]:
    out = _sqlite() if dialect == "sqlite" else _postgres()
    return out + [f"CREATE INDEX {name} ON {t} ({cols})" for name, (t, cols) in INDEXES.items()]


def _reverse_sql(dialect: str) -> list[str]:
    out = [f"DROP INDEX IF EXISTS {name}" for name in INDEXES]
    if dialect == "sqlite":
        out.append("DROP TRIGGER IF EXISTS followup_busy_span")
        for table in LINKS:
            out += [f"DROP TRIGGER IF EXISTS {table}_busy_span_{e}" for e in ("insert", "update")]
    else:
        out.append("DROP TRIGGER IF EXISTS followup_busy_span ON followup")
        out += [f"DROP TRIGGER IF EXISTS {t}_busy_span ON {t}" for t in LINKS]
        out += ["DROP FUNCTION IF EXISTS followup_busy_spread()"]
        out += ["DROP FUNCTION IF EXISTS followup_busy_link()"]
    for table in LINKS:
        out += [f"ALTER TABLE {table} DROP COLUMN {c}" for c in ("busy_from", "busy_until")]
        out.append(f"ALTER TABLE {table} DROP COLUMN busy_series")
    return out


async def _run(statements: list[str], schema_editor: Any) -> None:
    for sql in statements:
        await schema_editor.client.execute_script(sql)


async def forward(apps: Any, schema_editor: Any) -> None:
    await _run(_sql(schema_editor.client.capabilities.dialect), schema_editor)


async def backward(apps: Any, schema_editor: Any) -> None:
    await _run(_reverse_sql(schema_editor.client.capabilities.dialect), schema_editor)


class Migration(migrations.Migration):
    dependencies = [("models", "0003_calendar_sync")]

    initial = False

    operations = [ops.RunPython(forward, backward)]
