"""The index on a real PostgreSQL (``--db``): add, two crawls at once, lookup and status.

A private cluster is started in a temporary folder (Debian's postgresql package, installed by .ci/run);
the test is skipped where PostgreSQL is not installed.
"""
from __future__ import annotations

import glob
import json
import os
import shutil
import socket
import subprocess
import time
from collections import Counter
from pathlib import Path
from typing import Any, Iterator

import pytest

from tests.helpers import citevault, crawls_at_once

pytest.importorskip("psycopg")
BINARIES = sorted(glob.glob("/usr/lib/postgresql/*/bin"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if not BINARIES:
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql)")
    import tempfile

    bindir = BINARIES[-1]
    # Not under pytest's tmp dir: its parents are private to root, and the server runs as "postgres".
    data = Path(tempfile.mkdtemp(prefix="citevault-pg-"))
    port = _free_port()
    as_postgres = ["su", "postgres", "-c"] if os.geteuid() == 0 else ["sh", "-c"]
    if os.geteuid() == 0:
        shutil.chown(data, "postgres")
    subprocess.run([*as_postgres, f"{bindir}/initdb -D {data} -A trust -U postgres"], check=True,
                   capture_output=True, timeout=120)
    subprocess.run([*as_postgres, f"{bindir}/pg_ctl -D {data} -w -o '-c listen_addresses=127.0.0.1 -p {port} "
                    f"-k {data}' -l {data}/log start"], check=True, capture_output=True, timeout=120)
    try:
        url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
        yield url
    finally:
        subprocess.run([*as_postgres, f"{bindir}/pg_ctl -D {data} -m immediate stop"], capture_output=True, timeout=60)
        shutil.rmtree(data, ignore_errors=True)


def test_two_crawls_on_postgres(postgres: str, site_url: str, site_server: Any, tmp_path: Path) -> None:
    tag = f"pg-{time.time_ns()}"
    urls = [f"{site_url}/slow?seconds=0.2&{tag}={n}" for n in range(40)]
    claims = tmp_path / "pg.jsonl"
    claims.write_text("".join(json.dumps({"text": f"Claim {n} about the harbor budget.", "sources": [u]}) + "\n"
                              for n, u in enumerate(urls)))
    home = tmp_path / "home"
    db = ["--db", postgres]
    added = citevault(home, *db, "add", str(claims), "--json")
    assert added.code == 0, added
    crawls_at_once(home, 2, *db)
    fetched = Counter(r.path for r in site_server.requests if f"{tag}=" in r.path)
    assert len(fetched) == 40 and set(fetched.values()) == {1}, fetched
    found = citevault(home, *db, "lookup", "harbor budget", "--json", "--limit", "100")
    assert found.code == 0 and len(found.json()) == 40, found
    assert {s["state"] for c in found.json() for s in c["sources"]} == {"archived"}
    status = citevault(home, *db, "status", "--json")
    assert status.code == 0 and status.json()[0]["states"] == {"archived": 40}, status
    assert not (home / "citevault.sqlite").exists()  # the index lives in PostgreSQL
    # Rebuilt from the WARC files through the SQLAlchemy writer (archive.integrity.writers.EngineRows); the
    # quote checks are derived data, recomputed by `check`.
    rebuilt = citevault(home, *db, "reindex", "--force")
    assert rebuilt.code == 0, rebuilt
    assert citevault(home, *db, "check").code == 0
    again = citevault(home, *db, "lookup", "harbor budget", "--json", "--limit", "100")
    assert again.code == 0 and again.json() == found.json(), again
