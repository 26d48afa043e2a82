"""kill -9 in the middle of a crawl: closed WARCs stay valid, the .open file is repaired on the next start,
the index matches the WARCs, and the next crawl captures what is missing and nothing twice."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path
from typing import Any

from tests.helpers import CLI, citevault, db, read_records, warc_files, warcio_check

SOURCES = 80


def _response_uris(home: Path) -> Counter[str]:
    return Counter(r["uri"] for f in warc_files(home) for r in read_records(f) if r["type"] == "response")


def test_kill_9_then_resume(site_url: str, tmp_path: Path) -> None:
    claims = tmp_path / "slow.jsonl"
    urls = [f"{site_url}/slow?seconds=0.4&n={n}" for n in range(SOURCES)]
    claims.write_text("".join(json.dumps({"text": f"Claim {n}.", "sources": [u]}) + "\n" for n, u in enumerate(urls)))
    home = tmp_path / "home"
    assert citevault(home, "add", str(claims)).code == 0

    # Small WARC files so some are closed (renamed) before the kill; flush often so some rows are indexed.
    proc = subprocess.Popen(
        [*CLI, "--home", str(home), "crawl", "-s", "CITEVAULT_WARC_MAX_SIZE=1000000"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the crawl ended before it could be killed: make it slower"
        conn = db(home)
        done = conn.execute("SELECT COUNT(*) FROM sources WHERE state = 'archived'").fetchone()[0]
        conn.close()
        # Kill mid-file: some sources indexed, and a WARC file still being written.
        if done >= 10 and any(f.name.endswith(".open") for f in warc_files(home)):
            break
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)

    open_files = [f for f in warc_files(home) if f.name.endswith(".open")]
    assert open_files, "the crawl was killed before it wrote anything: make it slower"
    for f in warc_files(home):
        if not f.name.endswith(".open"):
            assert warcio_check(f).returncode == 0, f
    archived_before = db(home).execute("SELECT COUNT(*) FROM sources WHERE state = 'archived'").fetchone()[0]
    assert 0 < archived_before < SOURCES

    result = citevault(home, "crawl")
    assert result.code == 0, result
    assert "repaired" in result.err, result

    files = warc_files(home)
    assert files and not any(f.name.endswith(".open") for f in files)
    for f in files:
        check = warcio_check(f)
        assert check.returncode == 0, check.stdout
    seen = _response_uris(home)
    assert all(seen[u] == 1 for u in urls), {u: seen[u] for u in urls if seen[u] != 1}
    conn = db(home)
    assert [r[0] for r in conn.execute("SELECT DISTINCT state FROM sources")] == ["archived"]
    # The index holds exactly the response records the WARCs hold.
    indexed = Counter(r["url"] for r in conn.execute("SELECT url FROM captures WHERE record_type = 'response'"))
    assert indexed == seen
