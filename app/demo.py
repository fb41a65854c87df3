"""Demo data: a small CRM with associates, contacts, rooms and a week of follow-ups.

The follow-ups are in the week of Monday 2 March 2026 (``DEMO_WEEK``, UTC), the dates of
the README's examples, whose IDs name these records (tests/test_readme_examples.py).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from config.settings import get_settings
from orm import models as m
from resolvers import followups, participants
from resolvers.auth import create_token
from resolvers.preference_keys import PreferenceKey

#: Monday 08:00 UTC of the demo's week
DEMO_WEEK = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


async def _pref(key: PreferenceKey, scope_key: str, scope: m.PreferenceScope, value: str) -> None:
    await m.Preference.get_or_create(
        key=key.value, scope_key=scope_key, defaults={"scope": scope, "value": value}
    )


async def load_demo() -> str:
    """Create the demo records (once) and return a fresh token for the demo admin."""
    admin = await m.Associate.get_or_none(email="ada@example.com")
    if admin is not None:
        return await create_token(admin, "demo")
    sales = await m.UserGroup.create(name="Sales")
    support = await m.UserGroup.create(name="Support")
    admin = await m.Associate.create(
        name="Ada Admin", email="ada@example.com", group=sales, is_admin=True
    )
    bjorn = await m.Associate.create(name="Bjørn Berg", email="bjorn@example.com", group=sales)
    camilla = await m.Associate.create(
        name="Camilla Dahl", email="camilla@example.com", group=support
    )
    await _pref(PreferenceKey.TIME_ZONE, "system", m.PreferenceScope.SYSTEM, "Europe/Oslo")
    await _pref(
        PreferenceKey.MEETING_DURATION, f"group:{support.id}", m.PreferenceScope.GROUP, "30"
    )
    await _pref(
        PreferenceKey.TIME_ZONE,
        f"associate:{camilla.id}",
        m.PreferenceScope.ASSOCIATE,
        "Europe/Copenhagen",
    )
    await _pref(
        PreferenceKey.LANGUAGE, f"associate:{camilla.id}", m.PreferenceScope.ASSOCIATE, "da"
    )

    acme = await m.Company.create(name="Acme AS", country="NO")
    nordic = await m.Company.create(name="Nordisk Handel ApS", country="DK")
    kari = await m.Person.create(first_name="Kari", last_name="Nordmann", company=acme)
    await m.EmailAddress.create(person=kari, address="kari@acme.example", position=0)
    await m.PhoneNumber.create(person=kari, number="22 33 44 55", kind=m.PhoneKind.DIRECT)
    await m.PhoneNumber.create(person=kari, number="+47 912 34 567", kind=m.PhoneKind.MOBILE)
    jens = await m.Person.create(first_name="Jens", last_name="Hansen", company=nordic)
    await m.EmailAddress.create(person=jens, address="jens@nordisk.example", position=0)
    await m.PhoneNumber.create(person=jens, number="33 12 34 56", kind=m.PhoneKind.DIRECT)
    await m.PhoneNumber.create(company=acme, number="22 00 00 00", kind=m.PhoneKind.WORK)

    project = await m.Project.create(name="Website relaunch")
    await m.ProjectMember.create(project=project, person=kari)
    await m.ProjectMember.create(project=project, associate=bjorn)
    sale = await m.Sale.create(title="Acme annual licence", company=acme, person=kari)
    selection = await m.Selection.create(name="Newsletter Q1")
    await m.SelectionMember.create(selection=selection, person=jens)
    rooms = await m.ResourceGroup.create(name="Meeting rooms")
    await m.Resource.create(name="Fjord room", kind=m.ResourceKind.ROOM, group=rooms)
    await m.Resource.create(
        name="Board room", kind=m.ResourceKind.ROOM, group=rooms, allow_double_booking=False
    )
    await m.Resource.create(name="Projector", kind=m.ResourceKind.EQUIPMENT)
    external = await m.ActivityType.create(name="Meeting (external)", colour="#d9534f")
    await m.ActivityType.create(name="Meeting (internal)", colour="#5bc0de")
    phone = await m.ActivityType.create(
        name="Phone call", colour="#5cb85c", default_kind=m.Kind.CALL
    )
    todo = await m.ActivityType.create(name="To do", colour="#f0ad4e", default_kind=m.Kind.TASK)

    monday = DEMO_WEEK
    renewal = await followups.create(
        admin,
        {
            "title": "Licence renewal with Acme",
            "type_id": external.id,
            "company_id": acme.id,
            "person_id": kari.id,
            "sale_id": sale.id,
            "location": "Acme, Oslo",
            "start_at": monday + timedelta(days=1, hours=1),
        },
    )
    await followups.create(
        admin,
        {
            "title": "Website kick-off",
            "project_id": project.id,
            "start_at": monday + timedelta(days=2, hours=4),
            "end_at": monday + timedelta(days=2, hours=6),
        },
    )
    await followups.create(
        admin,
        {
            "title": "Send the quote",
            "type_id": todo.id,
            "sale_id": sale.id,
            "deadline": monday + timedelta(days=3, hours=8),
        },
    )
    await followups.create(
        admin,
        {
            "title": "Call Jens about the order",
            "type_id": phone.id,
            "person_id": jens.id,
            "company_id": nordic.id,
            "deadline": monday + timedelta(days=4, hours=8),
        },
    )
    await followups.create(
        admin,
        {
            "title": "Dentist",
            "private": True,
            "start_at": monday + timedelta(days=3, hours=6),
        },
    )
    await participants.save(
        admin,
        renewal.id,
        renewal.version,
        [participants.Wanted(associate_id=bjorn.id), participants.Wanted(person_id=kari.id)],
        [],
        None,
        get_settings(),
    )
    return await create_token(admin, "demo")
