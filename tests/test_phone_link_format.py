"""PHONE_LINK_FORMAT: no script schemes, nothing that breaks out of an attribute."""

from __future__ import annotations

from typing import Any

import pytest

from orm import models as m
from resolvers.phone_links import build_link, check_format
from tests.helpers import associate, client_for, gid, snapshot

SET = """mutation($value: String) {
  setPreference(key: PHONE_LINK_FORMAT, scope: ASSOCIATE, value: $value) {
    preferences { key value } errors { code message path } } }"""
PHONES = "query($id: ID!) { node(id: $id) { ... on Person { phones { link } } } }"

REFUSED = [
    "javascript:alert(1)//%p",
    "JavaScript:%p",
    "data:text/html,<script>%p",
    "data:,%p",
    "vbscript:msgbox(%p)",
    "file:///etc/passwd?%p",
    "blob:https://x.example/%p",
    'tel:%p"><img src=x onerror=alert(1)>',
    "tel:%p'onmouseover='alert(1)",
    "tel:%p<",
    "tel:%p>",
    "tel:%p x",
    "tel:%p\\x",
    "tel:%p^`|",
    "tel:%p\x00;x",
    "tel:%p\x7f;x",
    "tel:%p\u2028;x",
    "tel:%p\u00a0;x",
    "java\tscript:%p",
    "tel:%p%zz",
    "tel:%p%",
    "tel:%p{",
]
ACCEPTED = [
    "tel:%p",
    "callto:%p",
    "facetime:%p",
    "sip:%p@pbx.example.com",
    "domycall:%p?who={fullName}&co={companyName}",
    "https://dial.example.com/call?n=%p&c={country}",
    "tel:%p;ext=1%2C2",
]


@pytest.mark.parametrize("value", REFUSED)
def test_refused_formats(value: str) -> None:
    with pytest.raises(ValueError):
        check_format(value)


@pytest.mark.parametrize("value", ACCEPTED)
def test_accepted_formats(value: str) -> None:
    assert check_format(value) == value


async def test_the_api_refuses_with_a_path_and_changes_nothing(http: Any) -> None:
    gql = await client_for(http, await associate("Ann"))
    before = await snapshot()
    for value in REFUSED:
        result = (await gql(SET, {"value": value}))["setPreference"]
        assert [(e["code"], e["path"]) for e in result["errors"]] == [("VALIDATION", ["value"])]
    assert await snapshot() == before
    for value in ACCEPTED:
        result = (await gql(SET, {"value": value}))["setPreference"]
        assert not result["errors"], (value, result)


async def test_a_stored_unsafe_format_renders_as_tel(http: Any) -> None:
    """A value stored before the rule (directly in the database) never reaches a client."""
    me = await associate("Ann")
    await m.Preference.create(
        key="PHONE_LINK_FORMAT", scope=m.PreferenceScope.ASSOCIATE,
        scope_key=f"associate:{me.id}", value='javascript:alert(1)//"><%p',
    )  # fmt: skip
    kari = await m.Person.create(first_name='"><script>', last_name="K")
    await m.PhoneNumber.create(person=kari, number="+47 22 33 44 55")
    data = await (await client_for(http, me))(PHONES, {"id": gid("Person", kari.id)})
    assert data["node"]["phones"][0]["link"] == "tel:+4722334455"


def test_filled_values_are_percent_encoded() -> None:
    link = build_link(
        "domycall:%p?who={fullName}", "+47 22\"<>", {"fullName": "\"><script>'\n"}
    )
    assert link == "domycall:+47%2022%22%3C%3E?who=%22%3E%3Cscript%3E%27%0A"
    check_format(link.replace("+47", "%p"))  # what is left is a valid template literal
