"""Docs are part of the product: every command and setting is documented, every help has an example."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from archive.cli.main import cli

ROOT = Path(__file__).parent.parent
README = (ROOT / "README.md").read_text()


@pytest.mark.parametrize("name", sorted(cli.list_commands(None)))  # type: ignore[arg-type]
def test_command_documented_with_example(name: str) -> None:
    assert f"`citevault {name}" in README, f"README has no row for `citevault {name}`"
    result = CliRunner().invoke(cli, [name, "--help"])
    assert result.exit_code == 0, result.output
    assert f"citevault {name}" in result.output, f"`citevault {name} --help` shows no example"


def test_every_setting_documented() -> None:
    settings = re.findall(r"^(CITEVAULT_[A-Z_]+)\s*=", (ROOT / "crawler" / "settings.py").read_text(), re.M)
    assert settings
    for name in settings:
        assert f"`{name}`" in README, f"{name} is not in README's settings table"


def test_readme_test_command_is_what_ci_runs() -> None:
    command = "python3 -m pip install -e '.[test]' && python3 -m pytest -q"
    assert command in README
    assert command in (ROOT / ".ci" / "run").read_text()
