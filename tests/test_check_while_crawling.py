"""Quote checks while crawling: the recorder (in its own process, as a crawl runs it) checks the claims
citing what it has committed, so verdicts exist before any end-of-crawl pass runs.

No Scrapy here: the recorder's calls are made by hand, as crawler/middlewares.py and the spider make them
(a crawl end to end, with its defaults, is in tests/test_verification_e2e.py); no time is measured
(bench/crawl_vs_wget.py).
"""
from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

AT = datetime(2025, 3, 1, 12, tzinfo=UTC)
PAGE = ("<html><body><article><h1>Harbor</h1><p>The council approved the harbor wall budget on Tuesday, "
        "after a long debate about the storm barrier.</p><p>Repairs start in May.</p></article></body></html>")


def _crawl_by_hand(home: Path, *, check: bool) -> dict[str, int]:
    from archive import clock
    from archive.api import Archive
    from archive.crawl import frontier
    from archive.crawl.recorder_process import RecorderProcess
    from archive.ids import capture_id
    from archive.recheck.outcomes import classify_response
    from archive.warc.builder import HttpExchange

    archive = Archive.open(str(home))
    engine = archive.engine()
    recorder = RecorderProcess(archive.home, crawl_id="by-hand", check=check)
    for target in frontier.claim_sources(engine, "by-hand", clock.schedule_now()):
        record_id = recorder.new_record_id()
        exchange = HttpExchange(url=target.url, status=200, reason="OK", protocol="HTTP/1.1", body=PAGE.encode(),
                                response_headers=[("Content-Type", "text/html; charset=utf-8")], fetched_at=AT)
        recorder.record_exchange(exchange, record_id=record_id, source_url=target.url, document_id=None, fresh=True)
        outcome = classify_response(target.url, target.url, 200, {}, PAGE)
        recorder.source_done(target.source_id, outcome, AT, capture_id(record_id), known=target.known, url=target.url)
    stats = recorder.close()
    archive.close()
    assert stats.errors == [], stats.errors
    conn = sqlite3.connect(home / "citevault.sqlite")
    try:
        return dict(conn.execute("SELECT verdict, count(*) FROM verifications GROUP BY verdict").fetchall())
    finally:
        conn.close()


def _home(tmp_path: Path, name: str) -> Path:
    from tests.helpers import citevault

    home = tmp_path / name
    claims = tmp_path / f"{name}.jsonl"
    claims.write_text("".join(json.dumps(c) + "\n" for c in (
        {"text": 'The paper says "approved the harbor wall budget on Tuesday".',
         "quote": "approved the harbor wall budget on Tuesday", "sources": ["http://harbor.invalid/a"]},
        {"text": 'It adds "repairs start in June".', "quote": "repairs start in June",
         "sources": ["http://harbor.invalid/b"]},
    )), encoding="utf-8")
    added = citevault(home, "add", str(claims))
    assert added.code == 0, added
    return home


def test_recorder_checks_what_it_records(tmp_path: Path) -> None:
    home = _home(tmp_path, "checked")
    assert _crawl_by_hand(home, check=True) == {"found": 1, "misquoted": 1}  # May, not June


def test_without_check_the_recorder_leaves_verdicts_to_the_end(tmp_path: Path) -> None:
    home = _home(tmp_path, "unchecked")
    assert _crawl_by_hand(home, check=False) == {}
