"""Relay global IDs: encoding, and decoding untrusted ones into typed database keys."""

from __future__ import annotations

from collections.abc import Sequence

from strawberry import relay

from resolvers.errors import NotFound, ValidationFailed


def encode(type_name: str, key: object) -> str:
    return str(relay.GlobalID(type_name, str(key)))


def decode_raw(value: str, type_name: str, path: str) -> str:
    """The node key inside a global ID of ``type_name``; typed error otherwise."""
    try:
        gid = relay.GlobalID.from_id(value)
    except Exception as exc:  # strawberry raises several kinds for garbage
        raise ValidationFailed(path, f"{path} is not a valid ID") from exc
    if gid.type_name != type_name:
        raise ValidationFailed(path, f"{path} must be the ID of a {type_name}")
    return gid.node_id


def decode(value: str, type_name: str, path: str) -> int:
    """The integer primary key inside a global ID of ``type_name``."""
    raw = decode_raw(value, type_name, path)
    if not raw.isdigit() or len(raw) > 18:
        raise NotFound(type_name, value, path)
    return int(raw)


def decode_many(values: Sequence[str], type_name: str, path: str, limit: int) -> list[int]:
    if len(values) > limit:
        raise ValidationFailed(path, f"{path} takes at most {limit} IDs")
    return [decode(v, type_name, f"{path}.{i}") for i, v in enumerate(values)]
