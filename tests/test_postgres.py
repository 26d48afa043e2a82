"""The index on a real PostgreSQL (``--db``): add, two crawls at once, lookup and status.

The session's private cluster (tests/pg.py, Debian's postgresql package, installed by .ci/run); skipped
where PostgreSQL is not installed.
"""
from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import citevault, crawls_at_once


@pytest.fixture
def postgres(pg_cluster: Any) -> str:
    """A new migrated database on the session's private cluster (tests/conftest.py)."""
    return str(pg_cluster.database("crawls"))


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
