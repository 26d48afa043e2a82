"""Hostile and broken sources: each one recorded as a capture with a clear reason, the crawl going on.

One crawl of every case (module fixture, small limits so it is quick), then one assertion per case.
"""
from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Any

import psutil
import pytest

from tests.helpers import CLI, citevault, db, read_records, warc_files, warcio_check

CASES = {
    # path (or full URL with {host}): (expected state, expected error or None)
    "/slow?seconds=6": ("failed", "timeout"),
    "/redirect/loop": ("failed", "redirect loop"),
    "/chain/15": ("failed", "too many redirects"),
    "/big?mb=3": ("failed", "too large"),
    "/stream?mb=3": ("failed", "too large"),
    "/gzip-bomb": ("failed", "too large when decompressed"),
    "/malformed-headers": ("failed", "malformed response"),
    "/truncated": ("failed", "truncated response"),
    "/flaky?key=hostile": ("archived", None),
    "/status/503": ("failed", None),
    "/status/410": ("gone", None),
    "/private/secret.html": ("failed", "blocked by robots.txt"),
    "/pdf": ("archived", None),
    "/big?mb=1.5": ("archived", None),  # under the limit; over 1 MiB, so it reaches the recorder on its own
    "/image.png": ("archived", None),
    # TLS to a plain-HTTP port. "localhost", not the site's own host:port: Scrapy keys robots.txt by
    # host:port, so a failed https robots.txt on the same host:port would stand in for the http one.
    "https://localhost:{port}/pages/1.html": ("failed", "tls error"),
    "http://127.0.0.1:9/refused": ("failed", "connection refused"),
    "http://no-such-host.invalid/x": ("failed", "dns lookup failed"),
}
SETTINGS = ["-s", "DOWNLOAD_TIMEOUT=2", "-s", "DOWNLOAD_MAXSIZE=2000000", "-s", "RETRY_TIMES=1"]


def _url(base: str, case: str) -> str:
    port = base.rsplit(":", 1)[1]
    return case.format(port=port) if "://" in case else base + case


@pytest.fixture(scope="module")
def hostile(site_url: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("hostile")
    claims = tmp / "hostile.jsonl"
    claims.write_text("".join(
        json.dumps({"text": f"Claim {n} cites a difficult source.", "sources": [_url(site_url, case)]}) + "\n"
        for n, case in enumerate(CASES)
    ))
    home = tmp / "home"
    result = citevault(home, "archive", str(claims), *SETTINGS)
    return {"home": home, "result": result, "base": site_url}


def test_crawl_survives_and_summarises(hostile: dict[str, Any]) -> None:
    result = hostile["result"]
    assert result.code == 0, result
    assert "Traceback" not in result.err
    assert "citevault: done in" in result.err and "failed" in result.err, result


@pytest.mark.parametrize("case", list(CASES))
def test_each_case_recorded(hostile: dict[str, Any], case: str) -> None:
    url = _url(hostile["base"], case)
    state, error = CASES[case]
    conn = db(hostile["home"])
    source = conn.execute("SELECT id, state FROM sources WHERE url = ?", (url,)).fetchone()
    assert source is not None, url
    assert source["state"] == state, url
    captures = conn.execute("SELECT * FROM captures WHERE source_id = ? ORDER BY fetched_at", (source["id"],)).fetchall()
    assert captures, f"no capture for {url}"
    last = captures[-1]
    if error is not None:
        assert last["error"] == error and last["http_status"] is None, dict(last)
        assert last["record_type"] == "metadata"
    else:
        assert last["error"] is None and last["http_status"] is not None, dict(last)


def test_retry_keeps_the_failed_attempt(hostile: dict[str, Any]) -> None:
    url = _url(hostile["base"], "/flaky?key=hostile")
    statuses = [r["http_status"] for r in db(hostile["home"]).execute(
        "SELECT http_status FROM captures WHERE url = ? ORDER BY fetched_at", (url,))]
    assert statuses == [500, 200]


def test_every_redirect_hop_recorded_until_the_limit(hostile: dict[str, Any]) -> None:
    base = hostile["base"]
    hops = {r["url"] for r in db(hostile["home"]).execute("SELECT url FROM captures WHERE url LIKE ?",
                                                         (f"{base}/chain/%",))}
    assert len(hops) == 11  # the first request and REDIRECT_MAX_TIMES (10) redirects were answered


def test_binary_types_archived_as_is(hostile: dict[str, Any], site_server: Any) -> None:
    records = {r["uri"]: r for f in warc_files(hostile["home"]) for r in read_records(f) if r["type"] == "response"}
    for path, mime in (("/pdf", "application/pdf"), ("/image.png", "image/png"),
                       ("/big?mb=1.5", "application/octet-stream")):
        record = records[hostile["base"] + path]
        assert record["body"] == site_server.served_body(path)
        assert record["http"].get_header("Content-Type") == mime


def test_gzip_bomb_bytes_kept_compressed(hostile: dict[str, Any]) -> None:
    records = [r for f in warc_files(hostile["home"]) for r in read_records(f)
               if r["type"] == "response" and r["uri"].endswith("/gzip-bomb")]
    assert len(records) == 1 and len(records[0]["body"]) < 200_000  # what came off the wire, not 50 MiB


def test_warcs_valid_after_hostile_crawl(hostile: dict[str, Any]) -> None:
    for f in warc_files(hostile["home"]):
        check = warcio_check(f)
        assert check.returncode == 0, check.stdout


def test_size_limit_keeps_memory_flat(site_url: str, tmp_path: Path) -> None:
    """A 300 MiB body without Content-Length against a 20 MB limit: aborted, and the crawl stays small."""
    claims = tmp_path / "big.jsonl"
    claims.write_text(json.dumps({"text": "Huge.", "sources": [f"{site_url}/stream?mb=300"]}) + "\n")
    home = tmp_path / "home"
    assert citevault(home, "add", str(claims)).code == 0
    proc = subprocess.Popen([*CLI, "--home", str(home), "crawl", "-s", "DOWNLOAD_MAXSIZE=20000000"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = 0
    watched = psutil.Process(proc.pid)
    deadline = time.monotonic() + 120
    while proc.poll() is None and time.monotonic() < deadline:
        try:
            peak = max(peak, watched.memory_info().rss)
        except psutil.NoSuchProcess:
            break
        time.sleep(0.02)
    proc.communicate(timeout=30)
    assert proc.returncode == 0
    assert peak < 250 * 1024 * 1024, f"peak RSS {peak / 1e6:.0f} MB"
    row = db(home).execute("SELECT error FROM captures WHERE record_type = 'metadata'").fetchone()
    assert row["error"] == "too large"


def test_robots_obeyed_for_concurrent_first_requests(site_url: str, site_server: Any, tmp_path: Path) -> None:
    """20 disallowed URLs queued at once: all wait for robots.txt and all are refused (see crawler/robots.py:
    Scrapy's own middleware let all but the first through under the asyncio reactor)."""
    claims = tmp_path / "private.jsonl"
    claims.write_text("".join(
        json.dumps({"text": f"Secret {n}.", "sources": [f"{site_url}/private/secret.html?n={n}"]}) + "\n"
        for n in range(20)
    ))
    before = len(site_server.requests_for("/private/secret.html"))
    home = tmp_path / "home"
    result = citevault(home, "archive", str(claims))
    assert result.code == 0, result
    assert len(site_server.requests_for("/private/secret.html")) == before
    states = [r["state"] for r in db(home).execute("SELECT state FROM sources")]
    assert states == ["failed"] * 20
