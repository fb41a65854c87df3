"""Bulk data generator for the performance benchmarks (issue 4).

Builds N follow-ups for A associates and R resources over three years into a fresh,
migrated database: meetings with associate and contact participants (an organiser row,
answers ACCEPTED / INVITED / TENTATIVE / DECLINED) and room bookings, tasks and calls,
some private, some free (``busy = false``), 10% recurring series (DAILY or WEEKLY, in
Europe/Oslo, started up to five years back, most with a COUNT, some open-ended, a few
with moved or cancelled occurrences).

Everything is random but seeded; densities are per associate and per resource, so a
100k run (200 associates, 20 resources) and a 1M run (2,000 associates, 200 resources)
give every calendar the same expected load, and only the table sizes differ.

Speed: PostgreSQL gets ``COPY`` (asyncpg ``copy_records_to_table``), SQLite one
transaction of ``executemany`` through the stdlib driver.  The schema is built by the
project's own migrations first.

    .venv/bin/python bench/gen_data.py sqlite:///tmp/perf.sqlite3 --followups 100000
    .venv/bin/python bench/gen_data.py postgres://postgres@127.0.0.1:5432/perf_1m
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from orm import db as orm_db  # noqa: E402

#: The three years of data; the benchmark window sits half a year before the end.
SPAN_START = datetime(2024, 6, 3, tzinfo=UTC)
SPAN_END = datetime(2027, 6, 7, tzinfo=UTC)
NOW = datetime(2026, 12, 7, tzinfo=UTC)  # a Monday: "today" of the generated diary
ZONE = ZoneInfo("Europe/Oslo")
CHUNK = 50_000
#: Extra meetings in the fortnight from NOW for the last associate (the diary benchmark).
DIARY_ITEMS = 18

FOLLOWUP_COLS = (
    "id", "kind", "owner_id", "title", "agenda", "location", "start_at", "end_at",
    "deadline", "sort_at", "busy", "alarm_minutes", "private", "done", "done_at", "uid",
    "sequence", "version", "tzid", "rrule", "rdates", "exdates", "series_end",
    "created_at", "updated_at", "company_id", "person_id", "project_id", "sale_id", "type_id",
    "all_day",
)  # fmt: skip
PARTICIPANT_COLS = (
    "id", "followup_id", "associate_id", "person_id", "email", "status", "status_set_at",
    "email_invitation", "organiser", "status_set_by_id",
)  # fmt: skip
BOOKING_COLS = ("id", "followup_id", "resource_id", "start_at", "end_at")
OCCURRENCE_COLS = (
    "id", "series_id", "recurrence_id", "start_at", "end_at", "deadline", "title", "agenda",
    "location", "cancelled", "done", "done_at", "sequence",
)  # fmt: skip
STATUSES = ("ACCEPTED",) * 6 + ("INVITED",) * 2 + ("TENTATIVE", "DECLINED")


@dataclass
class Batch:
    followups: list[tuple[Any, ...]] = field(default_factory=list)
    participants: list[tuple[Any, ...]] = field(default_factory=list)
    bookings: list[tuple[Any, ...]] = field(default_factory=list)
    occurrences: list[tuple[Any, ...]] = field(default_factory=list)


@dataclass
class Sizes:
    followups: int
    associates: int
    resources: int

    @property
    def persons(self) -> int:
        return self.associates * 2

    @property
    def companies(self) -> int:
        return self.associates

    @property
    def sales(self) -> int:
        return self.associates * 2

    @property
    def projects(self) -> int:
        return max(1, self.associates // 4)


def _links(rnd: random.Random, sizes: Sizes) -> tuple[Any, Any, Any, Any]:
    """(company, person, project, sale) as a CRM links them.

    85% of follow-ups belong to a company, 60% to one of its persons as well; 15% to a
    sale and 10% to a project.  Drawn from their own generator, so the rest of the data
    is what it was before links existed.
    """
    company = person = project = sale = None
    if rnd.random() < 0.85:
        if rnd.random() < 0.7:
            person = rnd.randint(1, sizes.persons)
            company = 1 + person % sizes.companies
        else:
            company = rnd.randint(1, sizes.companies)
    if rnd.random() < 0.15:
        sale = rnd.randint(1, sizes.sales)
    if rnd.random() < 0.10:
        project = rnd.randint(1, sizes.projects)
    return company, person, project, sale


def _workday_start(rnd: random.Random, lo: datetime, hi: datetime) -> datetime:
    """A random quarter-hour on a weekday between 08:00 and 15:45 local time."""
    span_days = (hi - lo).days
    while True:
        day = (lo + timedelta(days=rnd.randrange(span_days))).astimezone(ZONE).date()
        if day.weekday() < 5:
            break
    minutes = 8 * 60 + 15 * rnd.randrange(32)
    local = datetime(day.year, day.month, day.day, minutes // 60, minutes % 60, tzinfo=ZONE)
    return local.astimezone(UTC)


def _series(rnd: random.Random, start: datetime, length: timedelta) -> tuple[str, datetime | None]:
    """An RRULE and the end of its last occurrence (None: open-ended)."""
    daily = rnd.random() < 0.2
    if daily:
        step, rule = timedelta(days=1), "FREQ=DAILY"
    else:
        step, rule = timedelta(weeks=1), "FREQ=WEEKLY"
    if rnd.random() < 0.04:
        return rule, None
    count = rnd.randint(3, 20) if daily else rnd.randint(4, 52)
    local = start.astimezone(ZONE)
    last = (local.replace(tzinfo=None) + step * (count - 1)).replace(tzinfo=ZONE)
    if rnd.random() < 0.5:
        return f"{rule};COUNT={count}", last.astimezone(UTC) + length
    until = last.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"{rule};UNTIL={until}", last.astimezone(UTC) + length


def generate(sizes: Sizes, seed: int = 4) -> Iterator[Batch]:
    """Yield the rows in batches of about CHUNK follow-ups."""
    rnd = random.Random(seed)
    linker = random.Random(seed + 1)
    created = SPAN_START
    series_from = NOW - timedelta(days=5 * 365)
    fid = pid = bid = oid = 0
    batch = Batch()
    for _ in range(sizes.followups):
        fid += 1
        owner = rnd.randint(1, sizes.associates)
        recurring = rnd.random() < 0.10
        roll = rnd.random()
        kind = "MEETING" if roll < 0.65 else ("TASK" if roll < 0.85 else "CALL")
        start = end = deadline = None
        rrule = series_end = None
        if recurring:
            start = _workday_start(rnd, series_from, SPAN_END)
        else:
            start = _workday_start(rnd, SPAN_START, SPAN_END)
        length = timedelta(minutes=rnd.choice((15, 30, 30, 60, 60, 60, 90, 120)))
        if kind == "TASK":
            deadline = start + length
            if rnd.random() < 0.7:
                start = None  # an untimed task: not in the diary, not busy
        elif kind == "CALL":
            length = timedelta(minutes=15)
            if rnd.random() < 0.5:
                deadline, start = start, None  # a planned call
        if start is not None:
            end = start + length
        anchor = start or deadline
        assert anchor is not None
        if recurring:
            rrule, series_end = _series(rnd, anchor, length)
        busy = rnd.random() >= 0.08
        private = rnd.random() < 0.1
        done = (anchor < NOW) and rnd.random() < 0.8
        batch.followups.append(
            (
                fid, kind, owner, f"{kind.title()} {fid}", "", "", start, end, deadline,
                anchor, busy, None, private, done, anchor if done else None,
                f"gen-{fid}@followups.bench", 0, 1, "Europe/Oslo", rrule, "[]", "[]",
                series_end, created, created, *_links(linker, sizes), None,
            )
        )  # fmt: skip
        if recurring and rnd.random() < 0.1:
            step = timedelta(days=1) if "DAILY" in (rrule or "") else timedelta(weeks=1)
            for k in rnd.sample(range(1, 4), rnd.randint(1, 2)):
                oid += 1
                rid = anchor + step * k
                cancelled = rnd.random() < 0.5
                moved = None if cancelled or start is None else rid + timedelta(hours=1)
                batch.occurrences.append(
                    (
                        oid, fid, rid, moved, moved + length if moved else None, None,
                        None, None, None, cancelled, False, None, 1,
                    )
                )  # fmt: skip
        if kind == "MEETING":
            invited = rnd.choices((0, 1, 2, 3, 4), (30, 35, 20, 10, 5))[0]
            guests = {rnd.randint(1, sizes.associates) for _ in range(invited)} - {owner}
            contacts = {rnd.randint(1, sizes.persons) for _ in range(rnd.choice((0, 0, 1, 2)))}
            if guests or contacts:
                pid += 1
                batch.participants.append(
                    (pid, fid, owner, None, None, "ACCEPTED", None, False, True, None)
                )
            for guest in sorted(guests):
                pid += 1
                status = rnd.choice(STATUSES)
                batch.participants.append(
                    (pid, fid, guest, None, None, status, None, False, False, None)
                )
            for person in sorted(contacts):
                pid += 1
                status = rnd.choice(STATUSES)
                batch.participants.append(
                    (pid, fid, None, person, None, status, None, True, False, None)
                )
            rooms = rnd.choices((0, 1, 2), (65, 30, 5))[0]
            for room in sorted({rnd.randint(1, sizes.resources) for _ in range(rooms)}):
                bid += 1
                batch.bookings.append((bid, fid, room, start, end))
        if len(batch.followups) >= CHUNK:
            yield batch
            batch = Batch()
    # the diary benchmark's associate (the last one): a busy fortnight from NOW, 48 more
    # meetings, each with two or three associates and a contact person
    heavy = sizes.associates
    for i in range(DIARY_ITEMS):
        fid += 1
        start = NOW + timedelta(days=(i // 5) % 14 + 7 * (i // 70), hours=7 + i % 5 * 2)
        end = start + timedelta(hours=1)
        batch.followups.append(
            (
                fid, "MEETING", heavy, f"Customer meeting {i}", "Agenda", "Room", start, end,
                None, start, True, 15, i % 7 == 0, False, None, f"gen-{fid}@followups.bench",
                0, 1, "Europe/Oslo", None, "[]", "[]", None, created, created,
                1 + i % sizes.companies, 1 + i % sizes.persons, None, None, None,
            )
        )  # fmt: skip
        pid += 1
        batch.participants.append(
            (pid, fid, heavy, None, None, "ACCEPTED", None, False, True, None)
        )
        for guest in sorted(
            {1 + (i * 7 + k * 13) % (sizes.associates - 1) for k in range(2 + i % 2)}
        ):
            pid += 1
            batch.participants.append(
                (pid, fid, guest, None, None, "ACCEPTED", None, False, False, None)
            )
        pid += 1
        batch.participants.append(
            (pid, fid, None, 1 + i % sizes.persons, None, "INVITED", None, True, False, None)
        )
    yield batch


def _base_rows(sizes: Sizes) -> dict[str, tuple[tuple[str, ...], list[tuple[Any, ...]]]]:
    groups = [(i, f"Group {i}") for i in range(1, 11)]
    associates = [
        (i, f"Associate {i}", f"a{i}@followups.bench", False, True, 1 + i % 10)
        for i in range(1, sizes.associates + 1)
    ]
    rgroups = [(1, "Rooms"), (2, "Equipment")]
    resources = [
        (i, f"Room {i}", "ROOM", f"room{i}@followups.bench", True, True, 1)
        for i in range(1, sizes.resources + 1)
    ]
    companies = [(i, f"Company {i}", "NO") for i in range(1, sizes.companies + 1)]
    persons = [
        (i, "Person", str(i), 1 + i % sizes.companies, "NO") for i in range(1, sizes.persons + 1)
    ]
    sales = [(i, f"Sale {i}", 1 + i % sizes.companies, None) for i in range(1, sizes.sales + 1)]
    projects = [(i, f"Project {i}") for i in range(1, sizes.projects + 1)]
    return {
        "user_group": (("id", "name"), groups),
        "associate": (("id", "name", "email", "is_admin", "active", "group_id"), associates),
        "resource_group": (("id", "name"), rgroups),
        "resource": (
            ("id", "name", "kind", "email", "allow_double_booking", "active", "group_id"),
            resources,
        ),
        "company": (("id", "name", "country"), companies),
        "person": (("id", "first_name", "last_name", "company_id", "country"), persons),
        "sale": (("id", "title", "company_id", "person_id"), sales),
        "project": (("id", "name"), projects),
    }


def _tables(batch: Batch) -> list[tuple[str, tuple[str, ...], list[tuple[Any, ...]]]]:
    return [
        ("followup", FOLLOWUP_COLS, [(*r, False) for r in batch.followups]),  # not all-day
        ("participant", PARTICIPANT_COLS, batch.participants),
        ("resource_booking", BOOKING_COLS, batch.bookings),
        ("occurrence", OCCURRENCE_COLS, batch.occurrences),
    ]


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return str(value)  # Tortoise's format: '2026-12-07 09:00:00+00:00'
    if isinstance(value, bool):
        return int(value)
    return value


def _fill_sqlite(path: str, sizes: Sizes, seed: int) -> dict[str, int]:
    counts: dict[str, int] = {}
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("BEGIN")

    def insert(table: str, cols: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        names = ", ".join(f'"{c}"' for c in cols)
        marks = ", ".join("?" * len(cols))
        conn.executemany(
            f'INSERT INTO "{table}" ({names}) VALUES ({marks})',
            ([_sqlite_value(v) for v in row] for row in rows),
        )
        counts[table] = counts.get(table, 0) + len(rows)

    for table, (cols, rows) in _base_rows(sizes).items():
        insert(table, cols, rows)
    for batch in generate(sizes, seed):
        for table, cols, rows in _tables(batch):
            insert(table, cols, rows)
    conn.execute("COMMIT")
    conn.execute("ANALYZE")
    conn.close()
    return counts


async def _fill_postgres(url: str, sizes: Sizes, seed: int) -> dict[str, int]:
    import asyncpg

    counts: dict[str, int] = {}
    conn = await asyncpg.connect(url.replace("postgres://", "postgresql://"))
    try:
        async with conn.transaction():
            for table, (cols, rows) in _base_rows(sizes).items():
                await conn.copy_records_to_table(table, records=rows, columns=list(cols))
                counts[table] = len(rows)
            for batch in generate(sizes, seed):
                for table, cols, rows in _tables(batch):
                    if rows:
                        await conn.copy_records_to_table(table, records=rows, columns=list(cols))
                        counts[table] = counts.get(table, 0) + len(rows)
            for table in (
                "user_group", "associate", "resource_group", "resource", "company", "person",
                "sale", "project", "followup", "participant", "resource_booking", "occurrence",
            ):  # fmt: skip
                await conn.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f'(SELECT COALESCE(MAX(id), 0) + 1 FROM "{table}"), false)'
                )
        # What autovacuum does after a bulk load (PostgreSQL 13+ vacuums on inserts too):
        # statistics, and the visibility map that lets index-only scans skip the heap.
        await conn.execute("VACUUM ANALYZE")
    finally:
        await conn.close()
    return counts


async def build(url: str, sizes: Sizes, seed: int = 4) -> dict[str, int]:
    """Migrate the (empty) database at ``url`` and fill it; returns rows per table."""
    await orm_db.migrate(url)
    await orm_db.close()
    if url.startswith("sqlite://"):
        return _fill_sqlite(url.removeprefix("sqlite://"), sizes, seed)
    return await _fill_postgres(url, sizes, seed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url", help="sqlite://path or postgres://... of an empty database")
    parser.add_argument("--followups", type=int, default=1_000_000)
    parser.add_argument("--associates", type=int, default=None, help="default followups/500")
    parser.add_argument("--resources", type=int, default=None, help="default followups/5000")
    parser.add_argument("--seed", type=int, default=4)
    args = parser.parse_args()
    sizes = Sizes(
        args.followups,
        args.associates or max(25, args.followups // 500),
        args.resources or max(5, args.followups // 5000),
    )
    started = time.perf_counter()
    counts = asyncio.run(build(args.url, sizes, args.seed))
    print(f"{counts} in {time.perf_counter() - started:.1f}s")


if __name__ == "__main__":
    main()
