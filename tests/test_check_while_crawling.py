"""Quote checks while crawling: the recorder (in its own process, as a crawl runs it) hands what it has
committed to a checker process (archive.crawl.checker), so verdicts exist before any end-of-crawl pass
runs; on SQLite and on PostgreSQL. A checker that cannot work, or dies, is an error in the crawl's
summary, never a failed crawl.

No Scrapy here: the recorder's calls are made by hand, as crawler/middlewares.py and the spider make them
(a crawl end to end, with its defaults, is in tests/test_verification_e2e.py); no time is measured
(bench/crawl_vs_wget.py).
"""
from __future__ import annotations

import json
import os
import signal
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

AT = datetime(2025, 3, 1, 12, tzinfo=UTC)
PAGE = ("<html><body><article><h1>Harbor</h1><p>The council approved the harbor wall budget on Tuesday, "
        "after a long debate about the storm barrier.</p><p>Repairs start in May.</p></article></body></html>")


def _crawl_by_hand(home: Path, *, check: bool, db: str | None = None) -> dict[str, int]:
    from archive import clock
    from archive.api import Archive
    from archive.crawl import frontier
    from archive.crawl.recorder_process import RecorderProcess
    from archive.ids import capture_id
    from archive.recheck.outcomes import classify_response
    from archive.warc.builder import HttpExchange

    archive = Archive.open(str(home), db)
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
    assert stats.errors == [], stats.errors
    try:
        from sqlalchemy import text

        with engine.connect() as conn:
            return {v: n for v, n in conn.execute(text("SELECT verdict, count(*) FROM verifications GROUP BY verdict"))}
    finally:
        archive.close()


def _home(tmp_path: Path, name: str, db: str | None = None) -> Path:
    from tests.helpers import citevault

    home = tmp_path / name
    claims = tmp_path / f"{name}.jsonl"
    claims.write_text("".join(json.dumps(c) + "\n" for c in (
        {"text": 'The paper says "approved the harbor wall budget on Tuesday".',
         "quote": "approved the harbor wall budget on Tuesday", "sources": ["http://harbor.invalid/a"]},
        {"text": 'It adds "repairs start in June".', "quote": "repairs start in June",
         "sources": ["http://harbor.invalid/b"]},
    )), encoding="utf-8")
    added = citevault(home, *(["--db", db] if db else []), "add", str(claims))
    assert added.code == 0, added
    return home


def test_recorder_checks_what_it_records(tmp_path: Path) -> None:
    home = _home(tmp_path, "checked")
    assert _crawl_by_hand(home, check=True) == {"found": 1, "misquoted": 1}  # May, not June


def test_without_check_the_recorder_leaves_verdicts_to_the_end(tmp_path: Path) -> None:
    home = _home(tmp_path, "unchecked")
    assert _crawl_by_hand(home, check=False) == {}


def test_on_postgresql_too(pg_cluster: Any, tmp_path: Path) -> None:
    db = str(pg_cluster.database("checker"))
    home = _home(tmp_path, "pg", db)
    assert _crawl_by_hand(home, check=True, db=db) == {"found": 1, "misquoted": 1}


def test_a_checker_that_cannot_open_the_index_reports_it(tmp_path: Path) -> None:
    from archive.crawl.checker import Checker
    from archive.home import DataHome

    home = DataHome.resolve(tmp_path / "gone")  # e.g. removed under a running crawl
    checker = Checker(home, "crawl")  # the child opens its own engine
    checker.submit(["s1", "s2"])
    checker.close()
    checker.close()
    assert checker.checked == 0
    assert len(checker.errors) == 1 and checker.errors[0].startswith("no archive at"), checker.errors


def test_a_checker_that_dies_is_an_error_not_a_failure(tmp_path: Path) -> None:
    from archive.crawl.checker import Checker
    from archive.home import DataHome

    checker = Checker(DataHome.resolve(tmp_path / "home"), "crawl")
    checker.submit(["s1"])
    child = checker._child
    assert child is not None
    os.kill(child.pid, signal.SIGKILL)  # it waits for the end of its input: it cannot have answered yet
    child.wait()
    checker.submit(["s2"])  # a write into a closed pipe: logged
    checker.close()
    assert checker.checked == 0
    assert any("ended before it finished" in e for e in checker.errors), checker.errors
