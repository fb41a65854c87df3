"""Calendar account passwords and tokens: encrypted at rest, or a reference to the environment.

A secret given through the API is encrypted with Fernet (AES-128-CBC + HMAC-SHA256, from
``cryptography``) under a key derived from the SECRET_KEY setting; a secret given by
reference stores only the name of an environment variable that the worker reads.  Neither
is ever returned by the API.  Only names with the CALDAV_PASSWORD_ENV_PREFIX prefix
(default ``CALDAV_PASSWORD_``) may be read, checked when a name is stored and again when
it is read, so no other variable of the process environment (SECRET_KEY, DATABASE_URL,
...) can ever be sent to a server, even from a row stored before the rule.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re

from cryptography.fernet import Fernet, InvalidToken

from config.settings import Settings

ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]{0,199}$")
_CONTEXT = b"followups/caldav-account-secret/v1\x00"


class SecretUnavailable(Exception):
    """Raise when an account secret cannot be recovered (key changed, variable unset)."""


def _fernet(settings: Settings) -> Fernet:
    key = settings.secret_key.reveal()
    if not key:
        raise SecretUnavailable("SECRET_KEY is not set: stored calendar passwords are unreadable")
    digest = hashlib.sha256(_CONTEXT + key.encode("utf-8")).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def can_encrypt(settings: Settings) -> bool:
    """Tell whether passwords can be stored (SECRET_KEY is set)."""
    return bool(settings.secret_key)


def encrypt(secret: str, settings: Settings) -> str:
    """Return the stored form of a password or token."""
    return _fernet(settings).encrypt(secret.encode("utf-8")).decode("ascii")


def decrypt(stored: str, settings: Settings) -> str:
    """Return the password from its stored form; raise SecretUnavailable if it cannot."""
    try:
        return _fernet(settings).decrypt(stored.encode("ascii")).decode("utf-8")
    except InvalidToken as exc:
        raise SecretUnavailable(
            "the stored password does not decrypt (SECRET_KEY changed?)"
        ) from exc


def env_name_problem(name: str, settings: Settings) -> str | None:
    """Return why a variable may not hold a calendar password, or None when it may."""
    prefix = settings.caldav_password_env_prefix
    if not ENV_NAME.match(name):
        return "passwordEnv must be a variable name (A-Z0-9_)"
    if not prefix or not name.startswith(prefix) or name == prefix:
        return f"passwordEnv must name a variable starting with {prefix or '(none allowed)'}"
    return None


def resolve(secret_enc: str | None, secret_env: str | None, settings: Settings) -> str:
    """Return an account's password from the encrypted value or the named variable."""
    if secret_env:
        problem = env_name_problem(secret_env, settings)
        if problem is not None:
            raise SecretUnavailable(f"{problem}; the password of this account is not read")
        value = os.environ.get(secret_env)
        if value is None:
            raise SecretUnavailable(f"environment variable {secret_env} is not set")
        return value
    if secret_enc:
        return decrypt(secret_enc, settings)
    return ""
