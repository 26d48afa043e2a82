"""Bad input: one line on stderr, exit 1, no traceback, and the archive exactly as it was."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from tests.helpers import citevault, db, warc_files

GOOD = "A first claim that cites nothing."


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("errors") / "home"
    good = home.parent / "good.txt"
    good.write_text(GOOD + "\n")
    result = citevault(home, "add", str(good))
    assert result.code == 0, result
    return home


def _snapshot(home: Path) -> tuple[list[tuple[str, str]], list[tuple]]:
    files = [(f.name, hashlib.sha256(f.read_bytes()).hexdigest()) for f in warc_files(home)]
    conn = db(home)
    rows = [tuple(r) for t in ("documents", "claims", "sources", "citations", "captures")
            for r in conn.execute(f"SELECT * FROM {t} ORDER BY 1")]
    conn.close()
    return files, rows


def _bad_inputs(tmp: Path) -> dict[str, tuple[list[str], str]]:
    (tmp / "empty.md").write_bytes(b"")
    (tmp / "binary.html").write_bytes(bytes(range(256)) * 8)
    (tmp / "broken.json").write_text('[{"text": "ok", "sources": []}, {"text": ')
    (tmp / "broken.jsonl").write_text('{"text": "fine"}\n{"text": unquoted}\n')
    (tmp / "broken.csv").write_text("title,link\nno text column,http://127.0.0.1/x\n")
    (tmp / "shape.json").write_text('{"nothing": 1}')
    (tmp / "report.docx").write_bytes(b"PK\x03\x04 not really a docx")
    return {
        "missing": ([str(tmp / "nope.html")], "no such file"),
        "empty": ([str(tmp / "empty.md")], "empty"),
        "binary": ([str(tmp / "binary.html")], "binary"),
        "json": ([str(tmp / "broken.json")], "broken.json"),
        "jsonl": ([str(tmp / "broken.jsonl")], "line 2"),
        "csv": ([str(tmp / "broken.csv")], "text"),
        "shape": ([str(tmp / "shape.json")], "shape.json"),
        "ftp": (["ftp://127.0.0.1/file.txt"], "unsupported scheme 'ftp:'"),
        "file-url": (["file:///etc/hostname"], "unsupported scheme 'file:'"),
        "docx": ([str(tmp / "report.docx")], "unsupported file type"),
        "directory": ([str(tmp)], "not a regular file"),
    }


@pytest.mark.parametrize("case", ["missing", "empty", "binary", "json", "jsonl", "csv", "shape", "ftp",
                                  "file-url", "docx", "directory"])
def test_bad_add_input(home: Path, tmp_path: Path, case: str) -> None:
    args, message = _bad_inputs(tmp_path)[case]
    before = _snapshot(home)
    result = citevault(home, "add", *args)
    assert result.code == 1, result
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result
    assert message.lower() in lines[0].lower(), result
    assert "Traceback" not in result.err
    assert _snapshot(home) == before


def test_a_bad_input_among_good_ones_adds_nothing(home: Path, tmp_path: Path) -> None:
    good = tmp_path / "other.txt"
    good.write_text("Another claim, never added.\n")
    before = _snapshot(home)
    result = citevault(home, "add", str(good), str(tmp_path / "missing.csv"))
    assert result.code == 1 and "missing.csv" in result.err, result
    assert _snapshot(home) == before


@pytest.mark.parametrize("args, message", [
    (["show", "nope.1"], "no claim 'nope.1'"),
    (["show", "nope.1", "--json"], "no claim 'nope.1'"),
    (["cat", "00000000-0000-0000-0000-000000000000"], "no capture"),
    (["claims", "0123456789abcdef"], "no document"),
])
def test_unknown_ids(home: Path, args: list[str], message: str) -> None:
    result = citevault(home, *args)
    assert result.code == 1, result
    assert result.err.strip().splitlines() == [f"Error: {result.err.strip()[7:]}"] and message in result.err
    assert result.out == ""


def test_no_archive_yet(tmp_path: Path) -> None:
    result = citevault(tmp_path / "nothing-here", "lookup", "anything")
    assert result.code == 1 and "no archive at" in result.err, result
    assert not (tmp_path / "nothing-here").exists()


def test_usage_error_exits_2(home: Path) -> None:
    result = citevault(home, "show")
    assert result.code == 2, result


def test_add_twice_is_idempotent(home: Path, tmp_path: Path) -> None:
    good = home.parent / "good.txt"
    first = citevault(home, "add", str(good), "--json").json()
    before = _snapshot(home)
    again = citevault(home, "add", str(good), "--json")
    assert again.code == 0 and again.json() == first
    assert _snapshot(home)[1] == before[1]
    assert first[0]["claims"] == 1 and first[0]["sourced_claims"] == 0
    listing = json.loads(citevault(home, "claims", "--json").out)
    assert [c["text"] for c in listing] == [GOOD] and listing[0]["state"] == "unsourced"


def test_cat_of_a_claim_id_says_what_it_wants(home: Path) -> None:
    claim = json.loads(citevault(home, "claims", "--json").out)[0]["id"]
    result = citevault(home, "cat", claim)
    assert result.code == 1 and result.out == "", result
    assert "is a claim, not a capture" in result.err and f"citevault show {claim}" in result.err, result


@pytest.mark.parametrize("args", [["status"], ["lookup", "anything"], ["add", "GOOD"]])
def test_an_unreachable_database_is_one_line(tmp_path: Path, args: list[str]) -> None:
    """A PostgreSQL index nobody listens for (port 1 on loopback): one line naming the cause, not an
    "internal error" to report, and no data home left behind."""
    pytest.importorskip("psycopg")
    (tmp_path / "good.txt").write_text(GOOD + "\n")
    args = [str(tmp_path / "good.txt") if arg == "GOOD" else arg for arg in args]
    result = citevault(tmp_path / "h", "--db", "postgresql+psycopg://citevault@127.0.0.1:1/none", *args)
    assert result.code == 1, result
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: cannot use the index database: "), result
    assert "refused" in lines[0] and "internal error" not in lines[0]
    assert not (tmp_path / "h").exists() or not list((tmp_path / "h").rglob("*.warc.gz"))
