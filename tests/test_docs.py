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


def _console_block(heading: str) -> str:
    """The first ```console block under a README heading."""
    section = README.split(f"\n{heading}\n", 1)[1]
    return section.split("```console\n", 1)[1].split("\n```", 1)[0].strip()


def test_readme_test_command_is_what_ci_runs() -> None:
    command = _console_block("## Run the tests")
    assert "\n" not in command and "pytest" in command, command
    assert command in (ROOT / ".ci" / "run").read_text(), "`.ci/run` must run README's test command verbatim"


def test_readme_setup_paths_use_a_virtual_environment() -> None:
    """Debian's python3 refuses system-wide pip installs (PEP 668): both set-up paths make a venv first."""
    for heading in ("## Archive an article's sources (one command)", "## Run the tests"):
        command = _console_block(heading)
        assert command.startswith("python3 -m venv .venv && . .venv/bin/activate && pip install "), command
    assert "-c constraints.txt" in _console_block("## Run the tests")
    assert (ROOT / "constraints.txt").is_file()
