"""Test helpers: run the real CLI as a subprocess, read WARCs back with warcio, query the real index."""
from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from warcio.archiveiterator import ArchiveIterator

CLI = [sys.executable, "-m", "archive.cli"]


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)

    def __str__(self) -> str:  # shown as the assertion message
        return f"exit {self.code}\n--- stdout\n{self.out}\n--- stderr\n{self.err}"


def _cli_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment the CLI runs in: the data home and database only ever come from the arguments."""
    env = {**os.environ, "PYTHONWARNINGS": "ignore", **(extra or {})}
    env.pop("CITEVAULT_HOME", None)
    env.pop("CITEVAULT_DB", None)
    return env


def citevault(home: Path, *args: str, timeout: float = 180, binary: bool = False,
              env: dict[str, str] | None = None) -> Result:
    """Run the CLI; ``env`` adds variables (e.g. ``CITEVAULT_NOW`` to make days pass)."""
    proc = subprocess.run([*CLI, "--home", str(home), *args], capture_output=True, timeout=timeout,
                          env=_cli_env(env))
    out = proc.stdout if binary else proc.stdout.decode("utf-8", "replace")
    return Result(proc.returncode, out, proc.stderr.decode("utf-8", "replace"))  # type: ignore[arg-type]


def crawls_at_once(home: Path, count: int, *args: str, timeout: float = 180) -> None:
    """Start ``count`` ``citevault [ARGS] crawl --due`` processes together on one data home (``args``, e.g.
    ``--db URL``, go before the command) and wait for all; each must exit 0."""
    procs = [subprocess.Popen([*CLI, "--home", str(home), *args, "crawl", "--due"], stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, env=_cli_env()) for _ in range(count)]
    for proc in procs:
        _, err = proc.communicate(timeout=timeout)
        assert proc.returncode == 0, err


def warc_files(home: Path) -> list[Path]:
    return sorted((home / "warcs").glob("*.warc.gz*"))


def read_records(path: Path) -> list[dict[str, Any]]:
    """Every record of a WARC, digests checked by warcio, payload read (content-decoding NOT applied)."""
    out = []
    with path.open("rb") as fh:
        it = ArchiveIterator(fh, check_digests="raise")
        for record in it:
            body = record.raw_stream.read()
            out.append({
                "type": record.rec_type,
                "headers": dict(record.rec_headers.headers),
                "http": record.http_headers,
                "uri": record.rec_headers.get_header("WARC-Target-URI"),
                "body": body,
                "offset": it.get_record_offset(),
            })
    return out


def warcio_check(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "warcio.cli", "check", "-v", str(path)],
                          capture_output=True, text=True, timeout=120)


def db(home: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(home / "citevault.sqlite")
    conn.row_factory = sqlite3.Row
    return conn
