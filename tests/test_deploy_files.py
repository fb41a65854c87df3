"""The deployment files say what the code does: every command they run exists, every
package and file the image needs is copied, and every setting they pass is one we read."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from app.cli import build_parser
from config.settings import Settings
from config.settings import variable as env_name

ROOT = Path(__file__).resolve().parents[1]


def _settings_read() -> set[str]:
    return {env_name(name) for name in Settings.model_fields}


def test_compose_services_run_real_commands_with_real_settings() -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    parser = build_parser()
    known = _settings_read()
    for name, service in compose["services"].items():
        if "command" in service:
            program, *argv = service["command"]
            assert program == "followups", name
            parser.parse_args(argv)  # exits on an unknown command or flag
        for variable in service.get("environment", {}):
            if name != "db":
                assert variable in known, f"{name}: {variable} is not a setting"


def test_image_copies_every_package() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    copied = set(re.findall(r"^COPY (\S+) ", dockerfile, re.M))
    pyproject = (ROOT / "pyproject.toml").read_text()
    include = re.search(r"include = \[(.*?)\]", pyproject)
    assert include
    packages = {p.strip('" *') for p in include.group(1).split(",")}
    assert packages <= copied, packages - copied
