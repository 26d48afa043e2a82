"""Per-document counts (archive.index.counts, migration 0007) against a recount from every row, on both index
backends: after add, a crawl, source state changes (as a re-check makes them), a second document citing the
same source, folding, reindex and the migration of an index that had none. And the document page's claims,
paged in SQL, return every claim exactly once across the pages.

Nothing here is timed (bench/lookup.py times status and the page on a million claims).
"""
from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from archive import Archive
from archive.index import counts as doc_counts
from archive.index import writes
from tests.conftest import backend_db

BASE = "http://127.0.0.1:9"  # nothing listens: a crawl fails every source (connection refused)


def _claim_list(path: Path, n: int, sources: int, offset: int = 0) -> Path:
    """``n`` claims citing one to three of ``sources`` URLs (claim 3 cites none: unsourced)."""
    with path.open("w", encoding="utf-8") as out:
        for i in range(n):
            urls = [] if i == 3 else [f"{BASE}/s{(i + k + offset) % sources}.html" for k in range(1 + i % 3)]
            out.write(json.dumps({"text": f"Claim number {i} of the list.", "sources": urls}) + "\n")
    return path


@pytest.fixture
def archive(tmp_path: Path, index_backend: str, request: pytest.FixtureRequest) -> Iterator[Archive]:
    opened = Archive.open(str(tmp_path / "home"), backend_db(index_backend, request))
    opened.add([str(_claim_list(tmp_path / "first.jsonl", 40, 12))])
    try:
        yield opened
    finally:
        opened.close()


def _recount(archive: Archive) -> dict[str, dict[str, dict[str, int]]]:
    """The counts from every claim and source, the slow way: what the table must always sum to."""
    out: dict[str, dict[str, dict[str, int]]] = {}
    with archive.reading() as conn:
        for (doc,) in conn.execute(text("SELECT id FROM documents")):
            sources = Counter(state for (state,) in conn.execute(text(
                "SELECT s.state FROM sources s WHERE s.id IN (SELECT ci.source_id FROM citations ci "
                "JOIN claims c ON c.id = ci.claim_id WHERE c.document_id = :d)"), {"d": doc}))
            claims = Counter(str(c["state"]) for c in archive.claims(doc))
            out[doc] = {doc_counts.SOURCE: dict(sources), doc_counts.CLAIM: dict(claims)}
    return out


def _stored(archive: Archive) -> dict[str, dict[str, dict[str, int]]]:
    with archive.reading() as conn:
        docs = [d for (d,) in conn.execute(text("SELECT id FROM documents"))]
        return doc_counts.counts(conn, docs)


def _assert_right(archive: Archive) -> None:
    expected = _recount(archive)
    assert _stored(archive) == expected
    for entry in archive.status():  # what status prints is the table's
        doc = entry["document"]["id"]
        assert entry["states"] == expected[doc][doc_counts.SOURCE]
        assert entry["sources"] == sum(expected[doc][doc_counts.SOURCE].values())
        detail = archive.document_detail(doc, limit=5)
        assert detail.claim_count == sum(expected[doc][doc_counts.CLAIM].values())
        assert {k: v for k, v in detail.coverage["states"].items() if v} == expected[doc][doc_counts.CLAIM]


def _set_states(archive: Archive, states: dict[str, str]) -> None:
    """Source states as a re-check leaves them (the trigger counts any UPDATE, whoever makes it)."""
    with archive.engine().begin() as conn:
        for url, state in states.items():
            conn.execute(text("UPDATE sources SET state = :s WHERE url = :u"), {"s": state, "u": url})


def test_counts_follow_add_crawl_recheck_and_a_shared_source(archive: Archive, tmp_path: Path) -> None:
    _assert_right(archive)
    (doc,) = [d["id"] for d in archive.documents()]
    assert _stored(archive)[doc] == {"source": {"pending": 12}, "claim": {"pending": 39, "unsourced": 1}}

    # a crawl in a child process (Scrapy's reactor cannot restart): every source fails
    code = ("import sys; from archive import Archive; "
            "Archive.open(sys.argv[1], sys.argv[3] or None).crawl([sys.argv[2]])")
    proc = subprocess.run([sys.executable, "-c", code, str(archive.home.root), doc, archive.home.db_url or ""],
                          capture_output=True, text=True, timeout=180, check=False)
    assert proc.returncode == 0, proc.stderr
    assert _stored(archive)[doc]["source"] == {"failed": 12}
    _assert_right(archive)

    # re-checks: some archived, one changed, one gone, one back to archived again
    _set_states(archive, {f"{BASE}/s{i}.html": "archived" for i in range(8)})
    _set_states(archive, {f"{BASE}/s1.html": "changed", f"{BASE}/s2.html": "gone", f"{BASE}/s9.html": "archived"})
    _set_states(archive, {f"{BASE}/s2.html": "archived"})
    _assert_right(archive)

    # a second document citing some of the same sources: its counts start from their current states,
    # and a later change of a shared source moves both documents
    archive.add([str(_claim_list(tmp_path / "second.jsonl", 9, 12, offset=5))])
    _assert_right(archive)
    _set_states(archive, {f"{BASE}/s6.html": "gone", f"{BASE}/s11.html": "archived"})
    _assert_right(archive)


def test_fold_keeps_the_sums(archive: Archive) -> None:
    (doc,) = [d["id"] for d in archive.documents()]
    for i in range(doc_counts.FOLD_AT // 4 + 10):  # each change of s0 (cited by 3 claims) adds deltas
        _set_states(archive, {f"{BASE}/s0.html": "archived" if i % 2 else "gone"})
    with archive.reading() as conn:
        piled = conn.execute(text("SELECT COUNT(*) FROM document_counts WHERE document_id = :d"), {"d": doc}).scalar()
    assert piled is not None and piled > doc_counts.FOLD_AT
    _assert_right(archive)  # a read sums the rows, and writes nothing
    with archive.reading() as conn:
        rows = conn.execute(text("SELECT COUNT(*) FROM document_counts WHERE document_id = :d"), {"d": doc}).scalar()
    assert rows == piled
    with archive.engine().begin() as conn:  # the end of a crawl folds
        writes.finish_crawl(conn, "no-such-crawl", datetime.now(UTC), {})
    _assert_right(archive)
    with archive.reading() as conn:
        rows = conn.execute(text("SELECT COUNT(*) FROM document_counts WHERE document_id = :d"), {"d": doc}).scalar()
    assert rows is not None and rows <= 6  # one row per (kind, state) left


def test_reindex_rebuilds_the_counts(archive: Archive) -> None:
    _set_states(archive, {f"{BASE}/s{i}.html": "archived" for i in range(5)})  # not in the WARCs: pending again
    archive.reindex(force=True)
    _assert_right(archive)
    (doc,) = [d["id"] for d in archive.documents()]
    assert _stored(archive)[doc]["source"] == {"pending": 12}


def test_a_migrated_index_counts_as_a_new_one(archive: Archive) -> None:
    """An index at 0006 (no counts) upgraded to 0007: the migration fills the table from the rows."""
    from archive.index.db import upgrade

    _set_states(archive, {f"{BASE}/s{i}.html": "failed" for i in range(4)} | {f"{BASE}/s5.html": "gone"})
    before = _stored(archive)
    engine = archive.engine()
    from alembic import command
    from alembic.config import Config

    from archive.index.db import MIGRATIONS_DIR

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0006_scale_out")
        assert "document_counts" not in {n for (n,) in conn.execute(text(
            "SELECT name FROM sqlite_master WHERE type = 'table'" if conn.dialect.name == "sqlite" else
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"))}
    upgrade(engine)
    assert _stored(archive) == before
    _assert_right(archive)
    _set_states(archive, {f"{BASE}/s0.html": "archived"})  # the migrated trigger counts too
    _assert_right(archive)


@pytest.mark.parametrize("size", [1, 7, 40])
def test_pages_return_every_claim_once(archive: Archive, size: int) -> None:
    (doc,) = [d["id"] for d in archive.documents()]
    everything = [c["id"] for c in archive.claims(doc)]
    assert len(everything) == 40
    seen: list[str] = []
    offset = 0
    while True:
        page = archive.document_detail(doc, offset=offset, limit=size)
        assert page.claim_count == 40 and len(page.claims) <= size
        assert set(page.details) == {c["id"] for c in page.claims}
        if not page.claims:
            break
        seen += [c["id"] for c in page.claims]
        offset += size
    assert seen == everything  # in reading order, each once
    assert archive.document_detail(doc, offset=40, limit=size).claims == []
    states = {c["id"]: c["state"] for c in archive.claims(doc)}
    assert {c["id"]: c["state"] for c in archive.document_detail(doc, offset=3, limit=size).claims} == \
        {k: states[k] for k in everything[3:3 + size]}
