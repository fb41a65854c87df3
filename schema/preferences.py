"""Preferences: the effective values and where they came from; setting them per level."""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING

import strawberry

from resolvers import enums
from resolvers import preferences as prefs
from resolvers.context import Info
from resolvers.preference_keys import SPECS
from resolvers.preference_keys import PreferenceKey as Key
from schema import ids
from schema.errors import UserError, atomically

if TYPE_CHECKING:
    from orm import models as m

PreferenceKey = strawberry.enum(Key)
PreferenceScope = strawberry.enum(enums.PreferenceScope)


@strawberry.enum
class PreferenceSource(Enum):
    DEFAULT = "DEFAULT"
    SYSTEM = "SYSTEM"
    GROUP = "GROUP"
    ASSOCIATE = "ASSOCIATE"


@strawberry.type
class PreferenceValue:
    key: PreferenceKey  # type: ignore[valid-type]
    value: str
    source: PreferenceSource
    description: str


@strawberry.type
class PreferencePayload:
    preferences: list[PreferenceValue] | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


async def _effective(associate: m.Associate) -> list[PreferenceValue]:
    values = (await prefs.effective_for([associate]))[associate.id]
    return [
        PreferenceValue(
            key=v.key,
            value=v.value,
            source=PreferenceSource(v.source),
            description=SPECS[k].description,
        )
        for k, v in values.items()
    ]


@strawberry.type
class PreferenceQuery:
    @strawberry.field(description="Effective preferences of an associate (default: the viewer).")
    async def preferences(
        self, info: Info, associate_id: strawberry.ID | None = None
    ) -> list[PreferenceValue]:
        key = None if associate_id is None else ids.decode(associate_id, "Associate", "associateId")
        return await _effective(
            await prefs.target_associate(info.context.viewer, key, associate_id)
        )


_TARGET_TYPES = {
    enums.PreferenceScope.GROUP: "UserGroup",
    enums.PreferenceScope.ASSOCIATE: "Associate",
}


@strawberry.type
class PreferenceMutation:
    @strawberry.mutation(
        description="Set a preference for the system, a user group or an associate; "
        "value null clears it. Returns the viewer's effective preferences."
    )
    async def set_preference(
        self,
        info: Info,
        key: PreferenceKey,  # type: ignore[valid-type]
        scope: PreferenceScope,  # type: ignore[valid-type]
        value: str | None,
        target_id: strawberry.ID | None = None,
    ) -> PreferencePayload:
        async def job() -> PreferencePayload:
            type_name = _TARGET_TYPES.get(scope)
            target = None
            if target_id is not None:
                target = ids.decode(target_id, type_name or "System", "targetId")
            elif scope is enums.PreferenceScope.ASSOCIATE:
                target = info.context.viewer.id
            await prefs.set_value(info.context.viewer, key, scope, target, value)
            return PreferencePayload(preferences=await _effective(info.context.viewer))

        return await atomically(job, lambda errors: PreferencePayload(errors=errors))
