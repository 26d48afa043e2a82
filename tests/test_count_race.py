"""The per-document counts on a real PostgreSQL (tests/pg.py), where writers run concurrently at READ
COMMITTED:

* a new document's recount (what ``add`` does, archive.index.counts.refresh) and a crawl's change of a
  source it cites, interleaved both ways on two connections, step by step: the counts always end equal to a
  recount (archive.index.counts, "A recount racing a state change");
* a role that may only SELECT runs ``status --json`` and ``lookup``, and reads the right counts (reads never
  write, even when deltas have piled up).
"""
from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Connection, text

from archive import Archive
from archive.index import counts as doc_counts
from archive.index.db import make_engine

BASE = "http://127.0.0.1:9"
SOURCE = f"{BASE}/shared.html"


@pytest.fixture
def archive(pg_cluster: object, tmp_path: Path) -> Iterator[Archive]:
    """A PostgreSQL index holding one document whose claims cite SOURCE (pending)."""
    first = tmp_path / "first.jsonl"
    first.write_text(json.dumps({"text": "The first list cites the shared source.", "sources": [SOURCE]}) + "\n")
    opened = Archive.open(str(tmp_path / "home"), pg_cluster.database("race"))  # type: ignore[attr-defined]
    opened.add([str(first)])
    try:
        yield opened
    finally:
        opened.close()


def _new_document(conn: Connection, doc: str) -> None:
    """What ``add`` writes for a new document of one claim citing SOURCE, then its recount."""
    conn.execute(text("INSERT INTO documents (id, kind, status, added_at, claim_count) "
                      "VALUES (:d, 'claims', 'extracted', now(), 1)"), {"d": doc})
    conn.execute(text("INSERT INTO claims (id, document_id, position, text) VALUES (:c, :d, 0, 'A new claim.')"),
                 {"c": f"{doc}.1", "d": doc})
    conn.execute(text("INSERT INTO citations (claim_id, source_id, position) "
                      "SELECT :c, id, 0 FROM sources WHERE url = :u"), {"c": f"{doc}.1", "u": SOURCE})
    doc_counts.refresh(conn, doc)


def _change_state(conn: Connection) -> None:
    """What a crawl's settling of SOURCE does: an UPDATE of its state (the trigger adds the deltas)."""
    conn.execute(text("UPDATE sources SET state = 'archived' WHERE url = :u"), {"u": SOURCE})


def _in_background(work: Callable[[], None]) -> tuple[threading.Thread, list[Exception]]:
    errors: list[Exception] = []

    def run() -> None:
        try:
            work()
        except Exception as exc:  # noqa: BLE001 - handed to the test thread, which asserts there is none
            errors.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, errors


def _finished_or_waiting(thread: threading.Thread, conn: Connection) -> str:
    """Wait until ``thread`` ends or its statement waits on a lock (seen in pg_stat_activity): which."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if not thread.is_alive():
            return "finished"
        waiting = conn.execute(text("SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() "
                                    "AND wait_event_type = 'Lock'")).scalar()
        conn.rollback()
        if waiting:
            return "waiting"
        time.sleep(0.02)
    raise AssertionError("neither finished nor waiting on a lock")


def _stored(archive: Archive, doc: str) -> dict[str, dict[str, int]]:
    with archive.reading() as conn:
        return doc_counts.counts(conn, [doc])[doc]


def test_a_recount_after_an_uncommitted_state_change(archive: Archive) -> None:
    """The crawl changes SOURCE's state first and commits only after the add has recounted: the recount
    waits for that commit and counts the new state (it used to count the old one, and the trigger, which
    ran before the new document existed for it, added nothing: pending forever)."""
    engine = archive.engine()
    with engine.connect() as crawl, engine.connect() as add, engine.connect() as watch:
        _change_state(crawl)  # uncommitted

        def adding() -> None:
            _new_document(add, "d2")
            add.commit()

        thread, errors = _in_background(adding)
        seen = _finished_or_waiting(thread, watch)
        crawl.commit()
        thread.join(30)
        assert not errors, errors
    assert seen == "waiting"
    assert _stored(archive, "d2") == {"source": {"archived": 1}, "claim": {"archived": 1}}


def test_a_state_change_during_an_uncommitted_recount(archive: Archive) -> None:
    """The add recounts first and commits only after the crawl's change: the change waits for the new
    document, and its trigger then counts it."""
    engine = archive.engine()
    with engine.connect() as crawl, engine.connect() as add, engine.connect() as watch:
        _new_document(add, "d2")  # uncommitted: counted with SOURCE pending

        def crawling() -> None:
            _change_state(crawl)
            crawl.commit()

        thread, errors = _in_background(crawling)
        seen = _finished_or_waiting(thread, watch)
        add.commit()
        thread.join(30)
        assert not errors, errors
    assert seen == "waiting"
    assert _stored(archive, "d2") == {"source": {"archived": 1}, "claim": {"archived": 1}}
    first = next(d["id"] for d in archive.documents() if d["id"] != "d2")
    assert _stored(archive, first)["source"] == {"archived": 1}


def test_a_read_only_role_reads_status_and_lookup(archive: Archive, pg_cluster: object) -> None:
    """``status --json`` and ``lookup`` as a role granted SELECT only, with more delta rows than a fold
    leaves: the counts are the sums, and nothing is written (PostgreSQL would refuse it)."""
    with archive.engine().begin() as conn:
        for i in range(doc_counts.FOLD_AT // 2 + 5):  # two delta rows per change: piled beyond FOLD_AT
            conn.execute(text("UPDATE sources SET state = :s WHERE url = :u"),
                         {"s": "gone" if i % 2 == 0 else "archived", "u": SOURCE})
        piled = conn.execute(text("SELECT COUNT(*) FROM document_counts")).scalar()
    assert piled is not None and piled > doc_counts.FOLD_AT
    database = archive.home.db_url.rsplit("/", 1)[1]
    pg_cluster.execute("DROP ROLE IF EXISTS reader", "CREATE ROLE reader LOGIN",  # type: ignore[attr-defined]
                       f"GRANT CONNECT ON DATABASE {database} TO reader")
    pg_cluster.execute("GRANT USAGE ON SCHEMA public TO reader",  # type: ignore[attr-defined]
                       "GRANT SELECT ON ALL TABLES IN SCHEMA public TO reader", database=database)
    reader = archive.home.db_url.replace("//postgres@", "//reader@")
    check = make_engine(reader)
    with check.connect() as conn, pytest.raises(Exception, match="permission denied"):
        conn.execute(text("DELETE FROM document_counts"))  # the role really cannot write
    check.dispose()

    def citevault(*args: str) -> object:
        proc = subprocess.run([sys.executable, "-m", "archive.cli", "--home", str(archive.home.root), "--db",
                               reader, *args, "--json"], capture_output=True, text=True, timeout=60, check=False)
        assert proc.returncode == 0, proc.stderr
        return json.loads(proc.stdout)

    (status,) = citevault("status")  # type: ignore[misc]
    assert status["states"] == {"gone": 1} and status["sources"] == 1
    (found,) = citevault("lookup", SOURCE)  # type: ignore[misc]
    assert found["sources"][0]["state"] == "gone"
    with archive.reading() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM document_counts")).scalar() == piled  # nothing folded
