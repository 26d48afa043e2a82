"""kill -9 in the middle of a crawl: closed WARCs stay valid, the .open file is repaired on the next start,
the index matches the WARCs, and the next crawl captures what is missing and nothing twice.

The crawl is two processes (archive/crawl/recorder_process.py): the crawler and its recorder. Killing both (the
process group), only the crawler, or only the recorder must each leave evidence that the next crawl can
complete.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path
from typing import Callable

import psutil

from tests.helpers import CLI, citevault, db, read_records, warc_files, warcio_check

SOURCES = 80


def _response_uris(home: Path) -> Counter[str]:
    return Counter(r["uri"] for f in warc_files(home) for r in read_records(f) if r["type"] == "response")


def _archived(home: Path) -> int:
    conn = db(home)
    try:
        return conn.execute("SELECT COUNT(*) FROM sources WHERE state = 'archived'").fetchone()[0]
    finally:
        conn.close()


def _start_slow_crawl(site_url: str, tmp_path: Path) -> tuple[Path, list[str], subprocess.Popen[bytes]]:
    claims = tmp_path / "slow.jsonl"
    urls = [f"{site_url}/slow?seconds=0.4&n={n}&case={tmp_path.name}" for n in range(SOURCES)]
    claims.write_text("".join(json.dumps({"text": f"Claim {n}.", "sources": [u]}) + "\n" for n, u in enumerate(urls)))
    home = tmp_path / "home"
    assert citevault(home, "add", str(claims)).code == 0
    # Small WARC files so some are closed (renamed) before the kill; flush often so some rows are indexed.
    proc = subprocess.Popen(
        [*CLI, "--home", str(home), "crawl", "-s", "CITEVAULT_WARC_MAX_SIZE=1000000"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the crawl ended before it could be killed: make it slower"
        # Kill mid-file: some sources indexed, and a WARC file still being written.
        if _archived(home) >= 10 and any(f.name.endswith(".open") for f in warc_files(home)):
            break
        time.sleep(0.05)
    return home, urls, proc


def _recorder_of(proc: subprocess.Popen[bytes]) -> psutil.Process:
    children = [c for c in psutil.Process(proc.pid).children() if "resource_tracker" not in " ".join(c.cmdline())]
    assert len(children) == 1, children
    return children[0]


def _wait_gone(process: psutil.Process, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if process.status() == psutil.STATUS_ZOMBIE:
                return
        except psutil.NoSuchProcess:
            return
        time.sleep(0.05)
    raise AssertionError(f"{process} still running")


def _resume_and_check(home: Path, urls: list[str], *, repaired: bool) -> None:
    """The next crawl completes the job: every source archived, each URL fetched exactly once overall."""
    for f in warc_files(home):
        if not f.name.endswith(".open"):
            assert warcio_check(f).returncode == 0, f
    result = citevault(home, "crawl")
    assert result.code == 0, result
    assert ("repaired" in result.err) is repaired, result
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


def _kill(proc: subprocess.Popen[bytes], target: Callable[[], None]) -> str:
    """Kill, wait for the crawler to exit; returns what it wrote on stderr."""
    target()
    assert proc.stderr is not None
    err = proc.stderr.read().decode()  # EOF once every process holding the pipe is gone
    proc.stderr.close()
    proc.wait(timeout=60)
    return err


def test_kill_9_then_resume(site_url: str, tmp_path: Path) -> None:
    """Both processes killed at once: an .open file stays behind and is repaired by the next crawl."""
    home, urls, proc = _start_slow_crawl(site_url, tmp_path)
    _kill(proc, lambda: os.killpg(proc.pid, signal.SIGKILL))
    assert any(f.name.endswith(".open") for f in warc_files(home)), "killed before anything was written"
    assert 0 < _archived(home) < SOURCES
    _resume_and_check(home, urls, repaired=True)


def test_crawler_killed_recorder_finishes(site_url: str, tmp_path: Path) -> None:
    """Only the crawler killed: the recorder writes what it was sent, closes its file, ends the crawl."""
    home, urls, proc = _start_slow_crawl(site_url, tmp_path)
    recorder = _recorder_of(proc)
    _kill(proc, lambda: os.kill(proc.pid, signal.SIGKILL))
    _wait_gone(recorder)
    assert not any(f.name.endswith(".open") for f in warc_files(home)), "the recorder left its file open"
    conn = db(home)
    finished = conn.execute("SELECT COUNT(*) FROM crawls WHERE finished_at IS NULL").fetchone()[0]
    leased = conn.execute("SELECT COUNT(*) FROM sources WHERE lease_owner IS NOT NULL").fetchone()[0]
    conn.close()
    assert (finished, leased) == (0, 0)
    assert 0 < _archived(home) < SOURCES
    _resume_and_check(home, urls, repaired=False)


def test_recorder_killed_crawl_stops(site_url: str, tmp_path: Path) -> None:
    """Only the recorder killed: the crawl stops with a one-line error and exit 1."""
    home, urls, proc = _start_slow_crawl(site_url, tmp_path)
    err = _kill(proc, lambda: _recorder_of(proc).kill())
    assert proc.returncode == 1, err
    last = err.strip().splitlines()[-1]
    assert last.startswith("Error: crawl stopped: ") and "recorder process" in last, err
    assert "Traceback" not in err, err
    assert 0 < _archived(home) < SOURCES
    _resume_and_check(home, urls, repaired=True)


def test_ctrl_c_twice_keeps_what_was_fetched(site_url: str, tmp_path: Path) -> None:
    """A forced stop (SIGINT twice, as a terminal sends it to the group): what was fetched is recorded,
    the file closed, the leases released; exit 1 with one line; the next crawl fetches the rest."""
    home, urls, proc = _start_slow_crawl(site_url, tmp_path)

    def twice() -> None:
        os.killpg(proc.pid, signal.SIGINT)
        time.sleep(0.3)
        os.killpg(proc.pid, signal.SIGINT)

    err = _kill(proc, twice)
    assert proc.returncode == 1, err
    assert err.strip().splitlines()[-1].startswith("Error: crawl interrupted: "), err
    assert "Traceback" not in err, err
    assert not any(f.name.endswith(".open") for f in warc_files(home))
    conn = db(home)
    leased = conn.execute("SELECT COUNT(*) FROM sources WHERE lease_owner IS NOT NULL").fetchone()[0]
    conn.close()
    assert leased == 0
    assert 0 < _archived(home) < SOURCES
    _resume_and_check(home, urls, repaired=False)
