"""Full-text lookup (archive.index.search) on both backends: every word, ``word*``, "phrases", ranking,
accents and punctuation; a PostgreSQL database migrated from 0004 answers as a new one."""
from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from archive.api import Archive
from tests.conftest import backend_db

CLAIMS = [
    "The harbour budget was approved by seven votes to two.",
    "The budget of the harbour commission grew to 3.5 million euros.",
    "A café owner said the harbour wall is crumbling.",
    "Budgeting rules changed in 2021; the council's e-mail said so.",
    "Nothing about money here, only the weather.",
]


@pytest.fixture(scope="module")
def searched(index_backend: str, request: pytest.FixtureRequest,
             tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Archive, list[str]]]:
    home = tmp_path_factory.mktemp("search") / "home"
    claims = home.with_name("claims.jsonl")
    claims.write_text("".join(json.dumps({"text": t, "sources": [f"https://example.org/s{i}"]}) + "\n"
                              for i, t in enumerate(CLAIMS)))
    archive = Archive.open(str(home), backend_db(index_backend, request))
    (added,) = archive.add([str(claims)])
    try:
        doc = added.document["id"]
        yield archive, [f"{doc}.{n}" for n in range(1, added.claims + 1)]
    finally:
        archive.close()


def _found(archive: Archive, query: str) -> list[int]:
    ids = [c["id"] for c in archive.lookup(query, limit=50)]
    return sorted(int(i.rsplit(".", 1)[1]) - 1 for i in ids)


@pytest.mark.parametrize("query, expected", [
    ("harbour budget", [0, 1]),  # every word must match
    ("HARBOUR", [0, 1, 2]),  # case does not matter
    ("budget*", [0, 1, 3]),  # a prefix
    ('"harbour budget"', [0]),  # a phrase: the words in a row
    ('"budget of the harbour"', [1]),
    ("3.5 million", [1]),  # punctuation splits words, as FTS5's tokenizer does
    ("cafe", [2]),  # accents removed, on both sides
    ("café", [2]),
    ("e-mail council", [3]),
    ("council s", [3]),
    ("harb* wall", [2]),
    ("zeppelin", []),
    ("budget zeppelin", []),
    ('AND OR NOT "', []),  # FTS syntax is words, never operators
    ("* \" ' ()", []),
])
def test_search_semantics(searched: tuple[Archive, list[str]], query: str, expected: list[int]) -> None:
    archive, _ = searched
    assert _found(archive, query) == expected


def test_ranking_puts_the_denser_match_first(searched: tuple[Archive, list[str]]) -> None:
    archive, ids = searched
    assert archive.lookup("harbour budget")[0]["id"] in ids[:2]
    assert len(archive.lookup("the", limit=2)) == 2  # a common word is bounded by the limit


QUERIES = ["harbour budget", "budget*", '"budget of the harbour"', "cafe", "zeppelin", "https://example.org/s1",
           "example.org/s2", "the"]


def test_a_new_archive_looks_up_as_the_engine_does(searched: tuple[Archive, list[str]], index_backend: str) -> None:
    """``lookup`` and ``show`` on a ``bounded`` archive (a ``citevault lookup`` process) give the JSON of the
    engine's connection, byte for byte; on PostgreSQL they run on the driver alone."""
    archive, ids = searched
    fresh = Archive.open(str(archive.home.root), archive.home.db_url, bounded=True)
    try:
        for query in QUERIES:
            assert json.dumps(fresh.lookup(query), default=str) == json.dumps(archive.lookup(query), default=str)
        assert fresh.show(ids[1]) == archive.show(ids[1])
        assert (fresh._engine is None) == (index_backend == "postgresql")  # no SQLAlchemy engine was made
    finally:
        fresh.close()


def test_lookup_and_status_processes_on_postgresql_import_no_sqlalchemy(searched: tuple[Archive, list[str]],
                                                              index_backend: str) -> None:
    """What makes ``citevault lookup`` on PostgreSQL cost less than the import floor (bench/lookup.py):
    python, click, the driver and citevault's own modules; SQLite goes through SQLAlchemy as before."""
    archive, _ = searched
    code = ("import sys; from archive.cli.main import main; sys.argv[1:] = sys.argv[2:]; "
            "import atexit; atexit.register(lambda: print('sqlalchemy' in sys.modules, file=sys.stderr))\n"
            "main()")
    db = ["--db", archive.home.db_url] if index_backend == "postgresql" else []
    proc = subprocess.run([sys.executable, "-c", code, "-", "--home", str(archive.home.root), *db,
                           "lookup", "harbour budget", "--json"], capture_output=True, text=True, timeout=60,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    assert len(json.loads(proc.stdout)) == 2
    assert proc.stderr.strip().splitlines()[-1] == str(index_backend == "sqlite")
    # `status` reads the same way, and says what the engine's connection says
    proc = subprocess.run([sys.executable, "-c", code, "-", "--home", str(archive.home.root), *db,
                           "status", "--json"], capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == json.loads(json.dumps(archive.status(), default=str))
    assert proc.stderr.strip().splitlines()[-1] == str(index_backend == "sqlite")


def test_migrated_postgres_database_searches_as_a_new_one(pg_cluster: object, tmp_path: Path) -> None:
    """A database at 0004 holding claims, upgraded to head (migration 0006 builds the search index over
    the rows already there), finds what a new database finds."""
    from sqlalchemy import text

    from archive.index.db import HEAD_REVISION, current_revision, make_engine, upgrade

    old_url = pg_cluster.empty_database("old")  # type: ignore[attr-defined]
    engine = make_engine(old_url)
    upgrade(engine, "0004_page_assets")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO documents (id, kind, status, added_at, claim_count) "
                          "VALUES ('d1', 'claims', 'extracted', now(), :n)"), {"n": len(CLAIMS)})
        for i, claim in enumerate(CLAIMS):
            conn.execute(text("INSERT INTO claims (id, document_id, position, text) VALUES (:i, 'd1', :p, :t)"),
                         {"i": f"d1.{i + 1}", "p": i, "t": claim})
    upgrade(engine)
    assert current_revision(engine) == HEAD_REVISION
    engine.dispose()
    old = Archive.open(str(tmp_path / "old"), old_url)
    new_home = tmp_path / "new"
    claims = tmp_path / "claims.jsonl"
    claims.write_text("".join(json.dumps({"text": t}) + "\n" for t in CLAIMS))
    new = Archive.open(str(new_home), pg_cluster.database("new"))  # type: ignore[attr-defined]
    new.add([str(claims)])
    try:
        for query in ("harbour budget", "budget*", '"budget of the harbour"', "cafe", "3.5 million", "zeppelin"):
            assert _found(old, query) == _found(new, query), query
        plan = "\n".join(str(r[0]) for r in pg_cluster.execute(  # type: ignore[attr-defined]
            "SET enable_seqscan = off", "EXPLAIN SELECT id FROM claims WHERE citevault_claim_words(text, quote) "
            "@@ to_tsquery('simple', 'harbour')", database=old_url.rsplit("/", 1)[1]))
        assert "ix_claims_words" in plan, plan
    finally:
        old.close()
        new.close()
