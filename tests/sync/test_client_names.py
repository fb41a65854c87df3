"""object_name: stable, unique and URL/file-system safe for any UID."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest

from sync.client import object_name

SAFE = re.compile(r"^[a-z0-9_-]{1,100}\.ics$")
ODD_UIDS = [
    "plain-uid@example.com",
    "a/b/../../etc/passwd",
    "../../",
    "with spaces and ? # % & = + ;",
    "ünïcødé-日本語-😀",
    "x" * 10_000,
    "UPPER@Example.COM",
    "upper@example.com",
    ".hidden",
    "\x00\r\n\t",
    "-",
]


@pytest.mark.parametrize("uid", ODD_UIDS)
def test_name_is_safe_and_stable(uid: str) -> None:
    name = object_name(uid)
    assert SAFE.match(name), name
    assert quote(name, safe="") == name
    assert not name.startswith((".", "-"))
    assert object_name(uid) == name


def test_names_are_unique() -> None:
    names = {object_name(uid) for uid in ODD_UIDS}
    assert len(names) == len(ODD_UIDS)
    # the readable prefix collapses these, the digest keeps them apart
    assert object_name("a/b") != object_name("a b") != object_name("a_b")
    assert object_name("x" * 10_000) != object_name("x" * 10_001)


def test_readable_prefix_is_kept() -> None:
    assert object_name("meeting-42@crm.example").startswith("meeting-42_crm_example-")


def test_empty_uid_is_refused() -> None:
    with pytest.raises(ValueError):
        object_name("")
