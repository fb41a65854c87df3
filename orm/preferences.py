"""Preference keys, their built-in defaults and resolution (associate > group > system > default).

A query over stored rows, used by resolvers and by the mail and CalDAV handlers alike;
how a value is validated before it is stored is ``resolvers.preference_keys``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum

from orm.models import Associate, Preference, PreferenceScope


class PreferenceKey(str, Enum):
    MEETING_DURATION = "MEETING_DURATION"
    CALL_DURATION = "CALL_DURATION"
    PHONE_LINK_FORMAT = "PHONE_LINK_FORMAT"
    TIME_ZONE = "TIME_ZONE"
    LANGUAGE = "LANGUAGE"
    WORKING_HOURS = "WORKING_HOURS"


#: The built-in value of every key (the DEFAULT level of the resolution).
DEFAULTS: dict[PreferenceKey, str] = {
    PreferenceKey.MEETING_DURATION: "60",
    PreferenceKey.CALL_DURATION: "15",
    PreferenceKey.PHONE_LINK_FORMAT: "tel:%p",
    PreferenceKey.TIME_ZONE: "UTC",
    PreferenceKey.LANGUAGE: "en",
    PreferenceKey.WORKING_HOURS: "MO-FR 08:00-16:00",
}


@dataclass(frozen=True)
class Effective:
    key: PreferenceKey
    value: str
    source: str  # DEFAULT, SYSTEM, GROUP or ASSOCIATE


SYSTEM_KEY = "system"


def scope_key(scope: PreferenceScope, target_id: int | None) -> str:
    if scope is PreferenceScope.SYSTEM:
        return SYSTEM_KEY
    return f"{scope.value.lower()}:{target_id}"


async def effective_for(
    associates: Iterable[Associate],
) -> dict[int, dict[PreferenceKey, Effective]]:
    """Every key's effective value for each associate, in one query."""
    people = list(associates)
    keys = {SYSTEM_KEY}
    keys.update(f"associate:{a.id}" for a in people)
    keys.update(f"group:{a.group_id}" for a in people if a.group_id)
    rows = await Preference.filter(scope_key__in=sorted(keys))
    by_scope: dict[str, dict[str, str]] = {}
    for row in rows:
        by_scope.setdefault(row.scope_key, {})[row.key] = row.value
    result: dict[int, dict[PreferenceKey, Effective]] = {}
    for person in people:
        levels = [
            ("ASSOCIATE", by_scope.get(f"associate:{person.id}", {})),
            ("GROUP", by_scope.get(f"group:{person.group_id}", {}) if person.group_id else {}),
            ("SYSTEM", by_scope.get(SYSTEM_KEY, {})),
        ]
        values: dict[PreferenceKey, Effective] = {}
        for key, default in DEFAULTS.items():
            found = next(((src, lv[key.value]) for src, lv in levels if key.value in lv), None)
            source, value = found if found else ("DEFAULT", default)
            values[key] = Effective(key, value, source)
        result[person.id] = values
    return result
