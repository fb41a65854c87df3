"""The settings: every documented variable is read, bad values are one line naming it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any, get_args

import pytest
from pydantic import ValidationError

from config.settings import Secret, Settings, load_settings, variable

ROOT = Path(__file__).resolve().parents[1]


def _documented() -> set[str]:
    """Every variable named in the first column of a README table."""
    names: set[str] = set()
    for line in (ROOT / "README.md").read_text().splitlines():
        if line.startswith("| `"):
            first = line.split("|")[1]
            names.update(re.findall(r"`([A-Z][A-Z0-9_]+)`", first))
    return names


FIELDS = {variable(name): name for name in Settings.model_fields}
SPECIAL = {
    "DATABASE_URL": "postgres://someone@db.example:5432/other",
    "BASE_URL": "https://followups.example/",
    "DEFAULT_PAGE_SIZE": "51",
    "CALDAV_ALLOWED_HOSTS": "dav.internal, 10.0.0.0/8",
    "CORS_ORIGINS": "https://app.example,https://b.example",
    "TRUSTED_PROXIES": "10.0.0.5, 192.168.0.0/16",
    "LOG_FORMAT": "json",
    "LOG_LEVEL": "debug",
}


def _other_value(field: str) -> str:
    """A valid value for a field's variable that differs from its default."""
    info = Settings.model_fields[field]
    default = info.get_default(call_default_factory=True)
    if isinstance(default, bool):
        return "false" if default else "true"
    if isinstance(default, int):
        return str(default + 1)
    if isinstance(default, float):
        return str(default + 1.5)
    if isinstance(default, Secret):
        return "s3cret-value"
    choices = get_args(info.annotation)
    if choices:
        return next(c for c in choices if c != default)
    return default + "-other"


def _shown(value: Any) -> Any:
    return value.reveal() if isinstance(value, Secret) else value


def test_readme_and_settings_name_the_same_variables() -> None:
    documented = _documented()
    assert documented - FIELDS.keys() == set(), "README names variables the code does not read"
    assert FIELDS.keys() - documented == set(), "settings missing from README's tables"


@pytest.mark.parametrize("name", sorted(_documented()))
def test_every_documented_variable_is_read(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    field = FIELDS[name]
    monkeypatch.delenv(name, raising=False)
    before = _shown(getattr(load_settings(), field))
    monkeypatch.setenv(name, SPECIAL.get(name) or _other_value(field))
    after = _shown(getattr(load_settings(), field))
    assert after != before, name


def test_values_are_parsed_into_their_types(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in SPECIAL.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("DEBUG", "yes")
    monkeypatch.setenv("MAX_PAGE_SIZE", "")  # empty: the default
    settings = load_settings()
    assert settings.base_url == "https://followups.example"
    assert settings.caldav_allowed_hosts == ("dav.internal", "10.0.0.0/8")
    assert settings.cors_origins == ("https://app.example", "https://b.example")
    assert settings.log_level == "DEBUG" and settings.debug is True
    assert settings.max_page_size == 200 and settings.default_page_size == 51


def test_settings_built_in_code_are_checked_frozen_and_keep_secrets() -> None:
    settings = Settings(
        database_url="unused", caldav_allowed_hosts=("127.0.0.1",), secret_key=Secret("k")
    )
    assert settings.secret_key.reveal() == "k"
    assert "k'" not in repr(settings) and "**********" in repr(settings)
    with pytest.raises(ValidationError):
        settings.max_page_size = 5  # type: ignore[misc]
    with pytest.raises(ValidationError, match="DEFAULT_PAGE_SIZE"):
        Settings(default_page_size=300)
    with pytest.raises(ValidationError):
        Settings(caldav_allowed_hosts=("not a host",))
    with pytest.raises(ValidationError):
        Settings(no_such_setting=1)  # type: ignore[call-arg]


BAD = [
    ("MAX_PAGE_SIZE", "abc", "MAX_PAGE_SIZE: must be an integer (got 'abc')"),
    ("MAX_PAGE_SIZE", "-5", "MAX_PAGE_SIZE: must be at least 1 (got '-5')"),
    ("DEFAULT_PAGE_SIZE", "300", "DEFAULT_PAGE_SIZE: must not exceed MAX_PAGE_SIZE (300 > 200)"),
    ("DEBUG", "maybe", "DEBUG: must be true or false (got 'maybe')"),
    ("PORT", "70000", "PORT: must be at most 65535 (got '70000')"),
    ("CALDAV_TIMEOUT", "0", "CALDAV_TIMEOUT: must be greater than 0 (got '0')"),
    ("IMAP_TIMEOUT", "nan", "IMAP_TIMEOUT: must be a finite number (got 'nan')"),
    ("REQUEST_BODY_TIMEOUT_SECONDS", "x", "REQUEST_BODY_TIMEOUT_SECONDS: must be a number"),
    ("CALDAV_ALLOWED_HOSTS", "ok.example,bad host", "CALDAV_ALLOWED_HOSTS: not a host name"),
    ("CALDAV_ALLOWED_HOSTS", "10.0.0.0/33", "CALDAV_ALLOWED_HOSTS: not a CIDR network"),
    ("DATABASE_URL", "mysql://x/y", "DATABASE_URL: must start with sqlite://"),
    ("BASE_URL", "followups.example", "BASE_URL: must start with http:// or https://"),
    ("LOG_FORMAT", "xml", "LOG_FORMAT: must be one of 'text' or 'json' (got 'xml')"),
    ("GRAPHQL_INTROSPECTION", "2", "GRAPHQL_INTROSPECTION: must be true or false (got '2')"),
]


def _run(command: str, name: str, value: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": f"sqlite://{tmp_path}/db.sqlite3", name: value}
    return subprocess.run(
        [sys.executable, "-m", "app", command],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(("name", "value", "message"), BAD, ids=[f"{n}={v}" for n, v, _ in BAD])
def test_a_bad_value_is_one_line_naming_the_variable(
    name: str, value: str, message: str, tmp_path: Path
) -> None:
    done = _run("migrate", name, value, tmp_path)
    assert done.returncode == 1, done
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"followups: {message}"), lines[0]
    assert not (tmp_path / "db.sqlite3").exists()  # refused before touching the database


def test_serve_refuses_a_bad_value_before_starting(tmp_path: Path) -> None:
    done = _run("serve", "MAX_PAGE_SIZE", "abc", tmp_path)
    assert done.returncode == 1
    assert done.stderr.strip() == "followups: MAX_PAGE_SIZE: must be an integer (got 'abc')"
