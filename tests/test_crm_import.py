"""``followups import``: CSV and JSON upserts by external_id, bad rows alone, dry runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from orm import models as m
from resolvers import crm_import, followups

ROOT = Path(__file__).resolve().parent.parent
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

COMPANIES = """external_id,name,country,phones
C1,Acme AS,NO,WORK:22 00 00 00
C2,"Nordisk Handel, ApS",dk,
"""


async def _import(kind: str, content: str, fmt: str = "csv", dry_run: bool = False) -> Any:
    rows = crm_import.read_rows(kind, content, fmt)
    return await crm_import.run_import(kind, rows, dry_run)


def _counts(summary: Any) -> tuple[int, int, int, int]:
    return summary.created, summary.updated, summary.unchanged, summary.failed


async def test_csv_and_json_import_and_reimport_without_duplicates(db: str) -> None:
    assert _counts(await _import("company", COMPANIES)) == (2, 0, 0, 0)
    persons = [
        {"external_id": "P1", "first_name": "Kari", "last_name": "Nordmann",
         "company_external_id": "C1", "emails": ["kari@acme.example"],
         "phones": ["MOBILE:+47 912 34 567", {"number": "22 33 44 55", "kind": "DIRECT"}]},
        {"external_id": "P2", "first_name": "Jens", "company_external_id": "C2"},
    ]
    assert _counts(await _import("person", json.dumps(persons, indent=1), "json")) == (2, 0, 0, 0)
    kari = await m.Person.get(external_id="P1")
    acme = await m.Company.get(external_id="C1")
    assert kari.company_id == acme.id
    assert [e.address for e in await m.EmailAddress.filter(person_id=kari.id)] == ["kari@acme.example"]
    phones = await m.PhoneNumber.filter(person_id=kari.id).order_by("position")
    assert [(p.number, p.kind) for p in phones] == [("+47 912 34 567", m.PhoneKind.MOBILE), ("22 33 44 55", m.PhoneKind.DIRECT)]
    assert (await m.Company.get(external_id="C2")).name == "Nordisk Handel, ApS"

    # the nightly re-import: same data unchanged, one change updated, nothing duplicated
    assert _counts(await _import("company", COMPANIES)) == (0, 0, 2, 0)
    assert _counts(await _import("person", json.dumps(persons), "json")) == (0, 0, 2, 0)
    persons[1]["last_name"] = "Hansen"
    assert _counts(await _import("person", json.dumps(persons), "json")) == (0, 1, 1, 0)
    changed = COMPANIES.replace("Acme AS,NO", "Acme Group AS,NO")
    assert _counts(await _import("company", changed)) == (0, 1, 1, 0)
    assert await m.Company.all().count() == 2 and await m.Person.all().count() == 2
    assert await m.PhoneNumber.filter(person_id=kari.id).count() == 2
    assert (await m.Person.get(external_id="P2")).last_name == "Hansen"
    assert (await m.Company.get(external_id="C1")).name == "Acme Group AS"

    projects = "external_id,name,member_person_external_ids\nPR1,Relaunch,P1;P2\n"
    assert _counts(await _import("project", projects)) == (1, 0, 0, 0)
    project = await m.Project.get(external_id="PR1")
    assert await m.ProjectMember.filter(project_id=project.id).count() == 2
    assert _counts(await _import("project", projects.replace("P1;P2", "P2"))) == (0, 1, 0, 0)
    assert await m.ProjectMember.filter(project_id=project.id).count() == 1


async def test_every_kind_imports(db: str) -> None:
    files = [
        ("user_group", "external_id,name\nG1,Sales\n"),
        ("associate", "external_id,name,email,user_group_external_id,is_admin\nA1,Bob,bob@example.com,G1,false\n"),
        ("company", COMPANIES),
        ("person", "external_id,last_name,company_external_id\nP1,Nordmann,C1\n"),
        ("sale", "external_id,title,company_external_id,person_external_id\nS1,Licence,C1,P1\n"),
        ("selection", "external_id,name,member_person_external_ids,member_company_external_ids\nSE1,Q1,P1,C2\n"),
        ("project", "external_id,name,member_associate_external_ids\nPR1,Relaunch,A1\n"),
        ("resource_group", "external_id,name\nRG1,Rooms\n"),
        ("resource", "external_id,name,kind,resource_group_external_id,allow_double_booking\nR1,Fjord,room,RG1,no\n"),
        ("activity_type", "external_id,name,colour,default_kind\nT1,Call,#5CB85C,CALL\n"),
    ]
    for kind, content in files:
        summary = await _import(kind, content)
        assert summary.failed == 0, (kind, summary.errors)
    bob = await m.Associate.get(external_id="A1")
    assert bob.group_id == (await m.UserGroup.get(external_id="G1")).id and not bob.is_admin
    sale = await m.Sale.get(external_id="S1")
    assert sale.person_id == (await m.Person.get(external_id="P1")).id
    assert await m.SelectionMember.all().count() == 2
    room = await m.Resource.get(external_id="R1")
    assert room.kind is m.ResourceKind.ROOM and room.allow_double_booking is False
    assert (await m.ActivityType.get(external_id="T1")).colour == "#5cb85c"


async def test_bad_rows_are_reported_with_lines_and_good_rows_applied(db: str) -> None:
    content = (
        "external_id,name,country\n"
        "C1,Acme,NO\n"
        ",No key,NO\n"
        "C3,,NO\n"
        "C4,Bad country,Norway\n"
        '"C5","Multi\nline",SE\n'
        "C6,Last,DK\n"
    )
    summary = await _import("company", content)
    assert _counts(summary) == (2, 0, 0, 4)
    assert [(e.line, e.column) for e in summary.errors] == [
        (3, "external_id"), (4, "name"), (5, "country"), (6, "name"),
    ]
    assert sorted(await m.Company.all().values_list("external_id", flat=True)) == ["C1", "C6"]
    persons = '[{"external_id": "P1", "last_name": "A", "company_external_id": "C1"},\n {"external_id": "P2", "last_name": "B", "company_external_id": "NOPE"},\n {"external_id": "P3", "emails": ["x@y.example"]},\n {"external_id": "P4", "last_name": "D", "emails": ["ok@y.example", "broken"]}]'
    summary = await _import("person", persons, "json")
    assert _counts(summary) == (1, 0, 0, 3)
    assert [(e.line, e.column) for e in summary.errors] == [(2, "company_external_id"), (3, "last_name"), (4, "emails.1")]
    assert "NOPE" in summary.errors[0].message
    assert await m.Person.all().count() == 1 and await m.EmailAddress.all().count() == 0
    lines = list(crm_import.describe(summary))
    assert lines[0] == "person: 4 rows: 1 created, 0 updated, 0 unchanged, 3 failed"
    assert lines[1].startswith("  line 2: company_external_id: no company")


async def test_dry_run_writes_nothing(db: str) -> None:
    await _import("company", COMPANIES)
    before = await m.Company.all().order_by("id").values()
    changed = COMPANIES.replace("Acme AS", "Renamed") + "C3,New,SE\nC4,,NO\n"
    summary = await _import("company", changed, dry_run=True)
    assert _counts(summary) == (1, 1, 1, 1) and summary.dry_run
    assert await m.Company.all().order_by("id").values() == before
    assert await m.PhoneNumber.all().count() == 1


async def test_deactivating_an_associate_by_import_keeps_followups(db: str) -> None:
    await _import("associate", "external_id,name,email\nA1,Bob,bob@example.com\n")
    bob = await m.Associate.get(external_id="A1")
    meeting = await followups.create(bob, {"title": "Bob's", "start_at": T0})
    summary = await _import("associate", "external_id,name,email,active\nA1,Bob,bob@example.com,false\n")
    assert _counts(summary) == (0, 1, 0, 0)
    bob = await m.Associate.get(external_id="A1")
    assert bob.active is False
    assert (await m.FollowUp.get(id=meeting.id)).owner_id == bob.id


def test_unknown_columns_and_kinds_refuse_the_file() -> None:
    import pytest

    with pytest.raises(crm_import.FileRefused, match="unknown column"):
        crm_import.read_rows("company", "external_id,nmae\nC1,x\n", "csv")
    with pytest.raises(crm_import.FileRefused, match="external_id"):
        crm_import.read_rows("company", "name\nx\n", "csv")
    with pytest.raises(crm_import.FileRefused, match="line 2"):
        crm_import.read_rows("company", '[{"external_id": "C1"},\n {"external_id": ]', "json")
    with pytest.raises(crm_import.FileRefused, match="unknown kind"):
        crm_import.kind_of("widgets")
    assert crm_import.kind_of("user-groups") == "user_group"


async def test_command_line_prints_progress_and_summary(db: str, tmp_path: Path) -> None:
    path = tmp_path / "companies.csv"
    path.write_text(COMPANIES + "C3,,NO\n", encoding="utf-8")
    env = {**os.environ, "DATABASE_URL": db}
    command = [sys.executable, "-m", "app", "import", "companies", str(path)]
    done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stderr  # a row failed
    assert done.stdout.splitlines() == [
        "company: 3 rows: 2 created, 0 updated, 0 unchanged, 1 failed",
        "  line 4: name: name must not be empty",
    ]
    assert "import company: 3/3 rows" in done.stderr.splitlines()  # plain lines: not a TTY
    assert await m.Company.all().count() == 2
    dry = subprocess.run([*command[:-1], str(path), "--dry-run"], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert "(dry run: nothing written)" in dry.stdout
    assert await m.Company.all().count() == 2


def test_progress_bar_on_a_terminal_and_lines_otherwise() -> None:
    import io

    from app.progress import Progress

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    tty = Tty()
    bar = Progress("import company", 4, tty)
    for done in range(1, 5):
        bar(done)
    bar.close()
    assert tty.getvalue().startswith("\rimport company [")
    assert tty.getvalue().endswith("] 4/4 rows 100%\n")
    plain = io.StringIO()
    lines = Progress("import company", 3, plain, every=3600)
    for done in range(1, 4):
        lines(done)
    lines.close()
    assert plain.getvalue() == "import company: 1/3 rows\nimport company: 3/3 rows\n"
