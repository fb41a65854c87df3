"""Preferences: the effective values and where they came from; setting them per level."""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING, Annotated

import strawberry

from resolvers import enums
from resolvers import preferences as prefs
from resolvers.context import Info
from resolvers.preference_keys import SPECS
from resolvers.preference_keys import PreferenceKey as Key
from schema import ids
from schema.enums import described
from schema.errors import UserError, atomically

if TYPE_CHECKING:
    from orm import models as m

PreferenceKey = described(
    Key,
    "A setting of an associate, resolved associate > user group > system > default.",
    {
        Key.MEETING_DURATION.name: "Length of a new meeting (and of a timed task) given no "
        f"end, in minutes: 1..1440. Default {SPECS[Key.MEETING_DURATION].default}.",
        Key.CALL_DURATION.name: "Length of a call given no end (makeCall, callPhone, a call "
        f"logged with a start), in minutes: 1..1440. Default {SPECS[Key.CALL_DURATION].default}.",
        Key.PHONE_LINK_FORMAT.name: "Template of the call links of phone numbers: a URI "
        "scheme, %p for the number (E.164 where the country is known) and optionally "
        "{firstName}, {lastName}, {fullName}, {companyName}, {personId}, {companyId}, "
        "{country}; e.g. tel:%p or callto:%p (javascript:, data: and the like are refused). "
        f"Default {SPECS[Key.PHONE_LINK_FORMAT].default}.",
        Key.TIME_ZONE.name: "IANA time zone, e.g. Europe/Oslo: new follow-ups repeat and "
        "take all-day dates on its wall clock; working hours and invitation mails use it. "
        f"Default {SPECS[Key.TIME_ZONE].default}.",
        Key.LANGUAGE.name: "Language of recurrence summaries and of invitation mails: en, da "
        f"or no (nb is taken as no). Default {SPECS[Key.LANGUAGE].default}.",
        Key.WORKING_HOURS.name: "When firstFreeSlots may place meetings, local time in "
        "TIME_ZONE: DAY[-DAY] HH:MM-HH:MM, several joined by ';' (MO-TH 08:00-16:00;FR "
        f"08:00-12:00); days not named are off. Default {SPECS[Key.WORKING_HOURS].default}.",
    },
)
PreferenceScope = described(enums.PreferenceScope, "The level a preference value is set at.")


@strawberry.enum(description="Where an effective preference value comes from.")
class PreferenceSource(Enum):
    DEFAULT = strawberry.enum_value("DEFAULT", description="Set nowhere: the built-in default.")
    SYSTEM = strawberry.enum_value("SYSTEM", description="The installation-wide value.")
    GROUP = strawberry.enum_value("GROUP", description="The value of the associate's user group.")
    ASSOCIATE = strawberry.enum_value("ASSOCIATE", description="The associate's own value.")


@strawberry.type(description="One preference of an associate as it applies, and its origin.")
class PreferenceValue:
    key: PreferenceKey = strawberry.field(  # type: ignore[valid-type]
        description="Which preference."
    )
    value: str = strawberry.field(
        description="The effective value as text, in canonical form (minutes as digits, "
        "e.g. 60; working hours in upper case)."
    )
    source: PreferenceSource = strawberry.field(description="Which level the value comes from.")
    description: str = strawberry.field(
        description="What the key means and what values it takes, in English."
    )


@strawberry.type(description="The answer of setPreference: the viewer's preferences, or errors.")
class PreferencePayload:
    preferences: list[PreferenceValue] | None = strawberry.field(
        default=None,
        description="The viewer's effective preferences after the change (also when "
        "another level or associate was set); null when errors is not empty.",
    )
    errors: list[UserError] = strawberry.field(
        default_factory=list,
        description="Why nothing was set: VALIDATION (a bad value, path value; a targetId "
        "with SYSTEM), NOT_FOUND (the target), FORBIDDEN (system and group values and "
        "other associates' are for administrators); empty on success.",
    )


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
        self,
        info: Info,
        associate_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(
                description="Global ID of the Associate (default: the viewer); an unknown one "
                "is a NOT_FOUND error."
            ),
        ] = None,
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
        key: Annotated[
            PreferenceKey,  # type: ignore[valid-type]
            strawberry.argument(description="Which preference."),
        ],
        scope: Annotated[
            PreferenceScope,  # type: ignore[valid-type]
            strawberry.argument(
                description="The level: SYSTEM and GROUP for administrators only; ASSOCIATE "
                "for yourself (administrators: anyone)."
            ),
        ],
        value: Annotated[
            str | None,
            strawberry.argument(
                description="The new value, checked per key (at most 1000 characters; a "
                "wrong one is a VALIDATION error saying what is expected); null clears the "
                "value at this level, so the next level applies."
            ),
        ],
        target_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(
                description="GROUP: the global ID of the UserGroup (required); ASSOCIATE: of "
                "the Associate (default: the viewer); SYSTEM: leave it out."
            ),
        ] = None,
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
