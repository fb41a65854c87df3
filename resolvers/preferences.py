"""Preference resolution (associate > group > system > default) and setting values."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from orm.models import Associate, Preference, PreferenceScope
from resolvers.errors import Forbidden, NotFound, ValidationFailed
from resolvers.preference_keys import SPECS, PreferenceKey, normalise


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
        for key, spec in SPECS.items():
            found = next(((src, lv[key.value]) for src, lv in levels if key.value in lv), None)
            source, value = found if found else ("DEFAULT", spec.default)
            values[key] = Effective(key, value, source)
        result[person.id] = values
    return result


async def _check_target(viewer: Associate, scope: PreferenceScope, target_id: int | None) -> None:
    from orm.models import UserGroup

    if scope is PreferenceScope.SYSTEM:
        if target_id is not None:
            raise ValidationFailed("targetId", "a system preference takes no target")
        if not viewer.is_admin:
            raise Forbidden("only administrators set system preferences")
    elif scope is PreferenceScope.GROUP:
        if target_id is None or not await UserGroup.exists(id=target_id):
            raise NotFound("UserGroup", target_id)
        if not viewer.is_admin:
            raise Forbidden("only administrators set user group preferences")
    else:
        if target_id is None or not await Associate.exists(id=target_id):
            raise NotFound("Associate", target_id)
        if target_id != viewer.id and not viewer.is_admin:
            raise Forbidden("only administrators set another associate's preferences")


async def set_value(
    viewer: Associate,
    key: PreferenceKey,
    scope: PreferenceScope,
    target_id: int | None,
    value: str | None,
) -> None:
    """Set (or with ``value=None`` clear) one preference at one level."""
    await _check_target(viewer, scope, target_id)
    skey = scope_key(scope, target_id)
    if value is None:
        await Preference.filter(key=key.value, scope_key=skey).delete()
        return
    try:
        canonical = normalise(key, value)
    except ValueError as exc:
        raise ValidationFailed("value", f"{key.value} {exc}") from exc
    updated = await Preference.filter(key=key.value, scope_key=skey).update(value=canonical)
    if not updated:
        await Preference.create(key=key.value, scope=scope, scope_key=skey, value=canonical)
