"""Setting preference values (who may set what); resolution itself is ``orm.preferences``."""

from __future__ import annotations

from orm.models import Associate, Preference, PreferenceScope
from orm.preferences import SYSTEM_KEY, Effective, effective_for, scope_key
from resolvers.errors import Forbidden, NotFound, ValidationFailed
from resolvers.preference_keys import PreferenceKey, normalise

__all__ = [
    "SYSTEM_KEY",
    "Effective",
    "effective_for",
    "scope_key",
    "set_value",
    "target_associate",
]


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


async def target_associate(viewer: Associate, key: int | None, ident: str | None) -> Associate:
    """The associate whose preferences are asked for: ``key``'s, or the viewer."""
    if key is None:
        return viewer
    row = await Associate.get_or_none(id=key)
    if row is None:
        raise NotFound("Associate", ident, "associateId")
    return row
