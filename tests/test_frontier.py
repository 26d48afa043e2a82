"""The frontier claims sources a batch at a time, as the spider pulls them: a source this crawl has already
fetched and settled is never claimed by it again, even when its failure made it due again at once
(its lease was released when it was settled, so only its event of this crawl tells).

No Scrapy here: the spider's calls to the recorder are made by hand (a crawl end to end, with a check that
no URL is fetched twice, is tests/test_crawl.py::test_each_source_fetched_once_per_crawl).
"""
from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

AT = datetime(2025, 3, 1, 12, tzinfo=UTC)


def _home(tmp_path: Path, count: int) -> Path:
    from tests.helpers import citevault

    home = tmp_path / "home"
    claims = tmp_path / "claims.jsonl"
    claims.write_text("".join(json.dumps({"text": f"Claim {i} about the harbor.",
                                          "sources": [f"http://harbor.invalid/{i}"]}) + "\n"
                              for i in range(count)), encoding="utf-8")
    added = citevault(home, "add", str(claims))
    assert added.code == 0, added
    return home


def _due_again(home: Path) -> None:
    """Every failed source due now (as a failure with ``Retry-After: 0`` under a fixed clock would be)."""
    conn = sqlite3.connect(home / "citevault.sqlite")
    try:
        conn.execute("UPDATE sources SET next_due = '2000-01-01 00:00:00.000000' WHERE state = 'failed'")
        conn.commit()
    finally:
        conn.close()


def test_a_settled_source_is_not_claimed_again_by_the_same_crawl(tmp_path: Path) -> None:
    from archive import clock
    from archive.api import Archive
    from archive.crawl import frontier
    from archive.crawl.recorder import Recorder
    from archive.recheck.outcomes import classify_failure

    home = _home(tmp_path, 3)
    archive = Archive.open(str(home))
    engine = archive.engine()
    recorder = Recorder(archive.home, engine, crawl_id="one")
    claimed: list[str] = []
    # one source per batch, each settled (and made due again) before the next batch is claimed
    for target in frontier.claim_sources(engine, "one", clock.schedule_now(), batch=1):
        assert target.source_id is not None
        claimed.append(target.url)
        if len(claimed) > 6:
            break
        recorder.record_failure(target.url, "timeout", record_id=recorder.new_record_id(), source_url=target.url,
                                document_id=None, moment=AT)
        recorder.source_done(target.source_id, classify_failure("timeout"), AT, known=target.known, url=target.url)
        recorder.flush_wait()
        _due_again(home)
    again = frontier.claim_listed(engine, "one", [frontier_id(u) for u in claimed], clock.schedule_now())
    stats = recorder.close()
    assert stats.errors == [], stats.errors
    assert sorted(claimed) == [f"http://harbor.invalid/{i}" for i in range(3)]  # each once
    assert again == []
    # another crawl may fetch them: they are due
    others = [t.url for t in frontier.claim_sources(engine, "two", clock.schedule_now())]
    archive.close()
    assert sorted(others) == sorted(claimed)


def frontier_id(url: str) -> str:
    from archive.ids import source_id

    return source_id(url)
