"""Docs are part of the product: every command and setting is documented, every help has an example."""
from __future__ import annotations

import os
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


def _library_section() -> str:
    start = README.index("### The library")
    return README[start:README.index("\n## ", start)]


def test_readme_library_example_runs(tmp_path: Path) -> None:
    import subprocess
    import sys

    from tests.test_api import ARTICLE

    (code,) = re.findall(r"```python\n(.*?)```", _library_section(), re.DOTALL)
    (tmp_path / "article.html").write_text(ARTICLE.format(base="http://127.0.0.1:9"), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("CITEVAULT_HOME", "CITEVAULT_DB")}
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=180,
                          env={**env, "PYTHONWARNINGS": "ignore"}, check=False)
    assert proc.returncode == 0, proc.stderr
    # nothing listens on port 9: both sources failed, and the claims say so
    assert [line.split(" ", 1)[1] for line in proc.stdout.splitlines()] == ["['failed']"], proc.stdout


def test_readme_names_an_archive_method_for_every_command() -> None:
    from archive.api import Archive

    section = _library_section()
    for name in cli.list_commands(None):  # type: ignore[arg-type]
        assert f"`{name}`" in section, f"README's library section does not map `citevault {name}`"
    named = set(re.findall(r"`([a-z_]+)`", section)) - {"evc", "serve"}  # a home, and the command of the UI
    missing = sorted(n for n in named if not hasattr(Archive, n))
    assert not missing, f"README names methods Archive lacks: {missing}"


def test_architecture_names_every_module() -> None:
    """docs/architecture.md draws the package tree: a module added, moved or renamed must show up in the
    section of its package (``### `archive/crawl/` …``)."""
    page = (ROOT / "docs" / "architecture.md").read_text()
    sections = {}
    for block in page.split("\n### ")[1:]:
        heading, _, body = block.partition("\n")
        for package in re.findall(r"`([a-z/]+/)`", heading):
            sections[package] = body
    missing = []
    for top in ("archive", "crawler"):
        for path in sorted((ROOT / top).rglob("*.py")):
            rel = path.relative_to(ROOT)
            if "migrations" in rel.parts or path.name in ("__init__.py", "__main__.py"):
                continue
            package = rel.parts[0] + "/" + (rel.parts[1] + "/" if len(rel.parts) > 2 and top == "archive" else "")
            body = sections.get(package, "")
            inner = "/".join(rel.parts[1:]) if top == "crawler" else path.name
            if f"`{path.name}`" not in body and f"`{inner}`" not in body and f"{rel.parts[-2]}/{path.name}" not in body:
                missing.append(rel.as_posix())
    assert not missing, f"docs/architecture.md does not name these in their package's section: {missing}"
