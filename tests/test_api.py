"""The library API, :class:`archive.Archive`, called directly: real SQLite in tmp_path (or a real PostgreSQL:
every test taking ``archive`` runs on both index backends), real WARC files, no
crawl (the CLI and web tests cover crawled archives through the same methods).

Also the layering the API exists for: CLI commands and web views make Archive calls and format the
result; none of them opens a connection or runs an index query itself.
"""
from __future__ import annotations

import ast
import json
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from archive import Archive, ExportFormat, InputError, NotFoundError, StoreError
from tests.conftest import backend_db

ROOT = Path(__file__).resolve().parent.parent

ARTICLE = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>Harbor wall budget</title></head><body>
<nav><a href="/news">News</a></nav>
<article><h1>Harbor wall budget</h1>
<p>The council approved the budget for the harbor wall on Tuesday, according to <a href="{base}/minutes.html">the
minutes</a>.</p>
<p>The engineers said the old wall "can no longer protect the harbor" in <a href="{base}/report.pdf">their report</a>.</p>
<p>Work starts in spring and should take two years.</p>
</article></body></html>
"""
BASE = "http://127.0.0.1:9"  # never fetched: nothing here crawls
MINUTES = f"{BASE}/minutes.html"


@pytest.fixture
def article(tmp_path: Path) -> Path:
    path = tmp_path / "article.html"
    path.write_text(ARTICLE.format(base=BASE), encoding="utf-8")
    return path


@pytest.fixture
def archive(tmp_path: Path, article: Path, index_backend: str, request: pytest.FixtureRequest) -> Iterator[Archive]:
    """The article added to a new index: the home's SQLite file, or a new PostgreSQL database."""
    opened = Archive.open(str(tmp_path / "home"), backend_db(index_backend, request))
    opened.add([str(article)])
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
def doc(archive: Archive) -> str:
    (only,) = archive.documents()
    return str(only["id"])


# -- browsing ---------------------------------------------------------------------------------------------
def test_overview_counts_each_claims_state(archive: Archive, doc: str) -> None:
    (entry,) = archive.overview()
    assert entry["id"] == doc and entry["origin"] == "article.html" and entry["claim_count"] == 4
    states = [c["state"] for c in archive.claims(doc)]
    assert entry["coverage"]["states"] == {s: states.count(s) for s in entry["coverage"]["states"]}
    assert entry["coverage"] == {"claims": 4, "sourced": 2, "archived_share": 0.0, "states": {
        "archived": 0, "changed": 0, "pending": 2, "failed": 0, "gone": 0, "unsourced": 2}}
    assert archive.overview(doc) == [entry]
    with pytest.raises(NotFoundError, match="no document"):
        archive.overview("0000000000000000")


def test_document_detail_pages_through_claims(archive: Archive, doc: str) -> None:
    whole = archive.document_detail(doc)
    assert whole.claim_count == 4 and [c["id"] for c in whole.claims] == [c["id"] for c in archive.claims(doc)]
    assert whole.details == {c["id"]: archive.show(c["id"]) for c in whole.claims}
    assert whole.document["title"] == "Harbor wall budget" and whole.coverage["sourced"] == 2
    # the added file is archived as a resource record: the document's own, replayable capture
    assert whole.article is not None and whole.article["record_type"] == "resource"
    page = archive.document_detail(doc, offset=1, limit=2)
    assert page.claim_count == 4 and page.claims == whole.claims[1:3] and set(page.details) == {
        c["id"] for c in whole.claims[1:3]}
    assert page.coverage == whole.coverage  # of all the claims, not of the page
    with pytest.raises(NotFoundError):
        archive.document_detail("0000000000000000")


def test_claim_detail_is_show_plus_a_timeline(archive: Archive, doc: str) -> None:
    claim_id = f"{doc}.2"
    found = archive.claim_detail(claim_id)
    assert found.claim == archive.show(claim_id) and found.timeline == []  # nothing fetched yet
    with pytest.raises(NotFoundError, match="no claim"):
        archive.claim_detail(f"{doc}.99")


def test_source_detail(archive: Archive, doc: str) -> None:
    found = archive.source_detail(MINUTES + "#section")  # a fragment names the same source
    assert found.source is not None and found.source["url"] == MINUTES and found.source["state"] == "pending"
    assert found.claims == [f"{doc}.2"] == [c["id"] for c in archive.lookup(MINUTES)]
    assert found.captures == [] and found.mementos == []
    assert archive.show_claims(found.claims) == archive.lookup(MINUTES)
    unknown = archive.source_detail(f"{BASE}/never-cited")
    assert (unknown.source, unknown.captures, unknown.claims) == (None, [], [])


def test_capture_detail_mementos_and_payload(archive: Archive, doc: str, article: Path) -> None:
    own = archive.document_detail(doc).article
    assert own is not None
    found = archive.capture_detail(own["id"])
    assert found.capture == archive.capture(own["id"]) and found.payload["id"] == own["id"]  # not a revisit
    assert found.claims == []  # the article itself backs no claim: its sources do
    mementos = archive.mementos(own["url"])
    assert [m["id"] for m in mementos.captures] == [own["id"]] and mementos.closest == mementos.captures[0]
    assert archive.mementos(MINUTES).closest is None and archive.mementos(MINUTES).failure is None
    with archive.open_response(own) as response:
        assert b"".join(response.chunks()) == article.read_bytes()
    raw = b"".join(archive.raw_record(own))
    assert len(raw) == own["warc_length"] and raw[:2] == b"\x1f\x8b"  # one gzip member, as stored
    with pytest.raises(NotFoundError, match="no capture"):
        archive.capture_detail("nope")


# -- evidence -------------------------------------------------------------------------------------------
def test_check_and_report(archive: Archive, doc: str) -> None:
    stats = archive.check(doc)
    assert stats.checked == 0  # no capture of a source yet: nothing to check against
    report = archive.report(doc, check=False, replay_base="")
    assert report["document"]["id"] == doc and report["replay_base"] is None
    assert report["totals"]["claims"] == 4 and report["totals"]["pending"] == 2
    rendered = json.loads(archive.rendered_report(doc, "json", replay_base=""))
    assert {**rendered, "generated_at": None} == {**report, "generated_at": None}
    assert archive.rendered_report(doc, "md", check=False).decode("utf-8").startswith("#")
    for call in (lambda: archive.check("0000000000000000"), lambda: archive.report("0000000000000000")):
        with pytest.raises(NotFoundError, match="no document"):
            call()


def test_export_formats(archive: Archive, doc: str, article: Path, tmp_path: Path) -> None:
    robust = archive.export(ExportFormat.ROBUST_LINKS, doc)
    assert robust.links == 0 and robust.data == article.read_bytes()  # nothing archived: no link decorated
    review = archive.export("claimreview", doc)
    graph = json.loads(review.data)["@graph"]
    assert review.links is None and review.wacz is None and len(graph) == 4
    assert graph[0]["itemReviewed"]["appearance"]["archivedAt"].endswith(
        archive.document_detail(doc).article["id"])  # type: ignore[index]
    wacz = archive.export(ExportFormat.WACZ, doc, path=tmp_path / "e.wacz")
    assert wacz.data == b"" and wacz.wacz is not None and wacz.wacz.claims == 4
    assert zipfile.is_zipfile(tmp_path / "e.wacz")


@pytest.mark.parametrize("fmt, document, error, message", [
    ("pdf", "DOC", InputError, "unknown export format 'pdf'"),
    ("claimreview", None, InputError, "of one document"),
    ("robust-links", None, InputError, "of one document"),
    ("wacz", None, InputError, "written to a file"),
    ("claimreview", "0000000000000000", NotFoundError, "no document"),
    ("robust-links", "0000000000000000", NotFoundError, "no document"),
])
def test_export_errors(archive: Archive, doc: str, fmt: str, document: str | None, error: type[Exception],
                       message: str) -> None:
    with pytest.raises(error, match=message):
        archive.export(fmt, doc if document == "DOC" else document)


def test_status_and_diff(archive: Archive, doc: str) -> None:
    (status,) = archive.status(doc)
    assert status["sources"] == 2 and status["states"] == {"pending": 2} and status["problems"] == []
    (entry,) = archive.diff(f"{doc}.2")
    assert entry["url"] == MINUTES and entry["diff"] == "" and entry["note"].startswith("never archived")
    with pytest.raises(NotFoundError):
        archive.diff(f"{BASE}/never-cited")


def test_crawl_returns_what_it_did(archive: Archive, doc: str) -> None:
    """Scrapy's reactor cannot restart: the crawl runs in a child process, on the fixture's home."""
    code = ("import dataclasses, json, sys; from archive import Archive; "
            "print(json.dumps(dataclasses.asdict(Archive.open(sys.argv[1], sys.argv[3]).crawl([sys.argv[2]]))))")
    proc = subprocess.run([sys.executable, "-c", code, str(archive.home.root), doc, archive.home.db_url],
                          capture_output=True, text=True,
                          timeout=180, check=False)
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert len(summary["crawl_id"]) == 32  # nothing listens on port 9: both sources fail, and are recorded
    assert {k: v for k, v in summary.items() if k != "crawl_id"} == {
        "targets": 2, "done": 2, "failed": 2, "states": {"failed": 2}, "reasons": {"connection refused": 2}}
    assert "citevault: done in" in proc.stderr  # the crawler's summary line
    assert {c["state"] for c in archive.claims(doc) if c["sources"]} == {"failed"}
    # the claim JSON with captures, read as `citevault show`/`lookup` read it (on PostgreSQL: the driver alone)
    bounded = Archive.open(str(archive.home.root), archive.home.db_url, bounded=True)
    for claim in archive.claims(doc):
        assert json.dumps(bounded.show(claim["id"])) == json.dumps(archive.show(claim["id"]))
    shown = bounded.lookup(MINUTES)
    assert shown[0]["sources"][0]["captures"] and json.dumps(shown) == json.dumps(archive.lookup(MINUTES))
    bounded.close()


# -- a data home with or without an index ----------------------------------------------------------------
def test_reads_need_an_index(tmp_path: Path) -> None:
    empty = Archive.open(str(tmp_path / "nothing-here"))
    with pytest.raises(StoreError, match="no archive at"):
        empty.lookup("budget")
    assert not (tmp_path / "nothing-here").exists()  # a read creates nothing


def test_verify_and_reindex_work_from_warc_files_alone(archive: Archive, doc: str, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(archive.home.warcs, copy / "warcs")
    restored = Archive.open(str(copy))
    try:
        report = restored.verify(workers=1)
        assert report.ok and not report.indexed and report.records > 0
        stats = restored.reindex(workers=1)
        assert stats.counts["documents"] == 1 and stats.counts["claims"] == 4 and not stats.problems
        assert restored.claims(doc) == archive.claims(doc)  # same ids, same states
        assert restored.verify(workers=1).indexed
        with pytest.raises(StoreError, match="not empty"):
            restored.reindex(workers=1)
        assert restored.reindex(force=True, workers=1).counts["claims"] == 4
    finally:
        restored.close()


# -- the package surface -----------------------------------------------------------------------------------
def test_public_names_resolve_and_import_archive_stays_cheap() -> None:
    import archive

    assert all(getattr(archive, name) is not None for name in archive.__all__)
    # archive.api too: `reindex` builds a SQLite file with the stdlib driver and never needs SQLAlchemy
    code = ("import sys, archive, archive.api, archive.cli, archive.cli.integrity, archive.cli.evidence; "
            "print(sorted(m for m in ('sqlalchemy', 'scrapy', 'fastapi') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]", out


# -- layering: commands and views are Archive calls ------------------------------------------------------
#: What CLI and web modules may import from `archive`: the API, errors, options, and pure helpers
#: (formatting, parsing, constants). Any index query module, or a whole module, is out.
ALLOWED_IMPORTS = {
    ("archive", "__version__"),
    ("archive.api", "Archive"),
    ("archive.errors", "*"),
    ("archive.cli.main", "*"), ("archive.cli.options", "*"),
    ("archive.exports.formats", "ExportFormat"),
    ("archive.report", "DEFAULT_REPLAY_BASE"),
    ("archive.recheck.policy", "parse_duration"),
    ("archive.checks.shape", "verification_line"),
    ("archive.index.browse", "STATES"), ("archive.index.browse", "timestamp_moment"),
    ("archive.index.detail", "replayable"),
    ("archive.index.rows", "mime_of"),
    ("archive.claims.decode", "decode_text"),
    ("archive.web", "archive_of"), ("archive.web", "api"), ("archive.web", "memento"), ("archive.web", "pages"),
    ("archive.web", "replay"),
    ("archive.web.app", "*"), ("archive.web.memento", "*"), ("archive.web.rewrite", "*"),
    ("archive.web.schemas", "*"), ("archive.warc.reader", "ArchivedResponse"),
    ("archive.clock", "naive_utc"),  # a pure time helper, no query
    ("archive.shapes", "*"),  # the TypedDicts of what Archive returns: types, no query
}
LAYERS = [*sorted((ROOT / "archive" / "cli").glob("*.py")),
          *(ROOT / "archive" / "web" / f"{name}.py" for name in ("app", "pages", "api", "replay", "memento"))]


def _archive_imports(tree: ast.AST) -> Iterator[tuple[str, str]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "archive":
            for alias in node.names:
                yield node.module, alias.name
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in ("archive", "sqlalchemy"):
                    yield alias.name, ""


@pytest.mark.parametrize("path", LAYERS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_commands_and_views_only_call_the_api(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    bad = [f"from {m} import {n}" for m, n in _archive_imports(tree)
           if (m, n) not in ALLOWED_IMPORTS and (m, "*") not in ALLOWED_IMPORTS]
    assert not bad, f"{path.name}: call Archive instead of {bad}"
    opened: list[Any] = [
        node.func.attr for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
        and node.func.attr in ("reading", "connect", "engine", "begin")
    ]
    # `serve` checks the archive exists before it listens (one line, exit 1): its only use of the engine
    assert opened == (["engine"] if path.name == "serve.py" else []), f"{path.name} opens the index itself"


def test_a_claim_list_without_a_title_is_named_by_its_file(tmp_path: Path) -> None:
    """Claim lists people write rarely carry a title: `claims` and the web UI show the file name instead."""
    listed = tmp_path / "harbour-claims.csv"
    listed.write_text("claim,source\nThe wall was built in 1931.,https://e.org/a\nThe wall was built in 1931.,"
                      "https://e.org/b\n", encoding="utf-8")
    titled = tmp_path / "titled.json"
    titled.write_text(json.dumps({"title": "Harbour facts", "claims": [{"statement": "It rained."}]}))
    archive = Archive.open(str(tmp_path / "home"))
    try:
        added = archive.add([str(listed), str(titled)])
        assert [a.document["title"] for a in added] == ["harbour-claims.csv", "Harbour facts"]
        assert [(a.claims, a.sources) for a in added] == [(1, 2), (1, 0)]  # the two CSV rows are one claim
    finally:
        archive.close()
