"""The crawled archives that several end-to-end modules share, and how each is built (the real CLI, in
subprocesses, against a real loopback site). tests/conftest.py builds each once per session:

- ``crawled_archive``: :func:`build_archive` of the test site (tests/site/), read by tests/test_reindex.py
  and tests/test_verify.py;
- ``evidence_crawl``: :func:`archive_evidence` of the evidence site (tests/data/evidence/), copied by
  tests/test_verification_e2e.py and tests/test_report.py before each goes its own way (``check``, a
  re-crawl of a changed page).

A shared archive is read-only: a test that changes one works on a copy (:func:`copy_home`), and
:func:`fingerprint` lets the session fixture fail when one was changed in place.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import shutil
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.helpers import citevault, db
from tests.server import SiteServer
from tests.test_verification_text import ANNEX_LINES, make_text_pdf

DATA = Path(__file__).parent / "data" / "evidence"


def copy_home(home: Path, dest: Path) -> Path:
    """A copy of a data home (WARC files and index) at ``dest``, to change without touching the original."""
    shutil.copytree(home, dest)
    return dest


def fingerprint(home: Path) -> dict[str, Any]:
    """What a data home holds: each WARC file's SHA-256 and each index table's rows."""
    files = {f.name: hashlib.sha256(f.read_bytes()).hexdigest() for f in sorted((home / "warcs").iterdir())}
    conn = sqlite3.connect(f"file:{home / 'citevault.sqlite'}?mode=ro", uri=True)
    try:
        tables = [t for (t,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        rows = {t: hashlib.sha256(repr(conn.execute(f'SELECT * FROM "{t}" ORDER BY 1').fetchall()).encode()).hexdigest()
                for t in tables}
    finally:
        conn.close()
    return {"warcs": files, "index": rows}


# -- the test site, crawled twice (tests/test_reindex.py, tests/test_verify.py) ------------------------------
def build_archive(home: Path, site_url: str, tmp: Path) -> None:
    """A realistic data home: an article added by URL, claim lists, an article file, failures of several
    kinds, two crawls (so revisits and re-fetched failures), and a document added by URL but not crawled."""
    from tests.server import render_site_file

    jsonl = render_site_file("claims/sample.jsonl", site_url, tmp)
    hostile = tmp / "hostile.jsonl"
    hostile.write_text("".join(json.dumps(row) + "\n" for row in (
        {"text": "Nobody listens on port nine.", "sources": ["http://127.0.0.1:9/nothing"]},
        {"text": "The private page says so.", "sources": [f"{site_url}/private/secret.html"]},
        {"text": "The service was unavailable.", "sources": [f"{site_url}/status/503"]},
        {"text": "The flaky page answered at last.", "sources": [f"{site_url}/flaky?key=reindex-{tmp.name}"]},
        {"text": "Page seventeen exists.",  # not page 7: test_crawl counts the site's requests for it
         "sources": [f"{site_url}/pages/17.html", f"{site_url}/articles/target.html"]},
    )))
    article = tmp / "sample.md"
    shutil.copy(Path(__file__).parent / "site" / "articles" / "sample.md", article)
    first = citevault(home, "archive", f"{site_url}/articles/sample.html", str(jsonl), str(hostile), str(article))
    assert first.code == 0, first
    second = citevault(home, "crawl")  # failed sources again: the 503's identical payload is a revisit
    assert second.code == 0, second
    later = citevault(home, "add", f"{site_url}/pages/99.html")  # pending: never crawled
    assert later.code == 0, later


# -- the evidence site, crawled once (tests/test_verification_e2e.py, tests/test_report.py) -----------------
@dataclass
class Evidence:
    home: Path
    base: str
    root: Path
    article: str
    claim_list: str

    def claim_id(self, part: str) -> str:
        rows = db(self.home).execute("SELECT id, text FROM claims").fetchall()
        found = [r["id"] for r in rows if part in r["text"]]
        assert len(found) == 1, (part, found)
        return found[0]

    def show(self, part: str) -> dict[str, Any]:
        from archive.api import Archive

        archive = Archive.open(str(self.home))
        try:
            return archive.show(self.claim_id(part))
        finally:
            archive.close()

    def final(self, part: str) -> list[dict[str, Any]]:
        """The 2xx captures of the claim's single source, oldest first."""
        (source,) = self.show(part)["sources"]
        return [c for c in source["captures"] if c["http_status"] and 200 <= c["http_status"] < 300]


def start_site(tmp: Path) -> tuple[SiteServer, Path]:
    root = tmp / "site"
    shutil.copytree(DATA / "site", root)
    (root / "docs").mkdir()
    (root / "docs" / "annex.pdf").write_bytes(make_text_pdf(ANNEX_LINES))
    server = SiteServer(root=root)
    server.start()
    return server, root


def archive_evidence(tmp: Path, base: str, root: Path) -> Evidence:
    """``citevault archive`` of the article and the claim list, then ``citevault check``."""
    home = tmp / "home"
    article = tmp / "article.html"
    article.write_text((DATA / "article.html").read_text(encoding="utf-8").replace("{base}", base), encoding="utf-8")
    claims = tmp / "claims.jsonl"
    claims.write_text((DATA / "claims.jsonl").read_text(encoding="utf-8").replace("{base}", base), encoding="utf-8")
    # The crawl would check the claims itself when it ends; off here, so `citevault check` is what is tested
    # (test_crawl_checks_on_its_own covers the crawl's own check).
    result = citevault(home, "archive", str(article), str(claims), "--json", "-s", "CITEVAULT_CHECK_AFTER_CRAWL=False")
    assert result.code == 0, result
    ids = [d["document"]["id"] for d in result.json()]
    return Evidence(home, base, root, ids[0], ids[1])


def recrawl_changed(evidence: Evidence) -> None:
    """The harbor page changes (site-v2) and is fetched again, with the (unchanged) PDF annex."""
    shutil.copy(DATA / "site-v2" / "news" / "harbor-wall.html", evidence.root / "news" / "harbor-wall.html")
    conn = sqlite3.connect(evidence.home / "citevault.sqlite")
    conn.execute("UPDATE sources SET state = 'failed', next_due = NULL, lease_owner = NULL "
                 "WHERE url LIKE '%/news/harbor-wall.html' OR url LIKE '%/docs/annex.pdf'")
    conn.commit()
    conn.close()
    result = citevault(evidence.home, "crawl", "-s", "CITEVAULT_CHECK_AFTER_CRAWL=False")
    assert result.code == 0, result
    assert "2 archived" in result.err, result


def copy_evidence(evidence: Evidence, dest: Path) -> Evidence:
    """The same evidence archive in a copy of its data home (the site stays shared)."""
    return dataclasses.replace(evidence, home=copy_home(evidence.home, dest))


# -- a rendering without a browser (archive.browser.rendering), for tests of what reads renderings --------------
def solid_png(width: int = 4, height: int = 3, rgb: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    """A valid PNG of one colour, made with zlib alone."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def add_rendering(home: Path, capture_id: str, text: str, screenshot: bytes | None = None,
                  browser: str = "test-browser 1.0", cut: str | None = None) -> dict[str, Any]:
    """Write a rendering of capture ``capture_id`` (a screenshot and its rendered ``text``) into ``home``'s
    WARC files and index, as a browser capture would, without a browser. Returns the ``renderings`` row."""
    from archive.api import Archive
    from archive.browser.rendering import RenderedPage, write_rendering
    from archive.index import writes
    from archive.warc.store import WarcStore

    archive = Archive.open(str(home))
    try:
        row = archive.capture(capture_id)
        page = RenderedPage(url=row["url"], refers_to=row["warc_record_id"], concurrent_to=None,
                            screenshot=solid_png() if screenshot is None else screenshot, text=text,
                            browser=browser, cut=cut, crawl_id=row["crawl_id"])
        with WarcStore(archive.home.warcs) as store:
            written = write_rendering(store, page)
        with archive.engine().begin() as conn:
            writes.add_captures(conn, written.captures)
            writes.add_renderings(conn, [written.row])
        return written.row
    finally:
        archive.close()


def add_response_capture(home: Path, url: str, body: bytes, content_type: str = "text/html; charset=utf-8",
                         fetched: datetime | None = None) -> tuple[Path, int]:
    """Write one 200 response of ``body`` for ``url`` into ``home``'s WARC files and index it, without a crawl
    (a payload too big to serve quickly, for instance); returns the WARC file and the record's offset."""
    from archive import ids
    from archive.api import Archive
    from archive.index import writes
    from archive.index.rows import capture_row
    from archive.warc.builder import HttpExchange
    from archive.warc.store import WarcStore

    fetched = fetched or datetime(2025, 3, 1, tzinfo=UTC)
    with WarcStore(home / "warcs") as store:
        ex = HttpExchange(url=url, status=200, reason="OK", protocol="HTTP/1.1",
                          response_headers=[("Content-Type", content_type), ("Content-Length", str(len(body)))],
                          body=body, ip_address="127.0.0.1", fetched_at=fetched)
        response, request = store.factory.exchange(ex)
        where, _ = store.write_group([response.record, request.record])
        store.flush()
    archive = Archive.open(str(home))
    try:
        with archive.engine().begin() as conn:
            writes.add_captures(conn, [capture_row(
                record_id=response.record_id, record_type="response", url=url, fetched_at=fetched,
                warc_file=where.warc_file, warc_offset=where.offset, warc_length=where.length, http_status=200,
                content_type=content_type, payload_digest=response.payload_digest,
                payload_sha256=response.payload_sha256, payload_length=response.payload_length,
                source_id=ids.source_id(url))])
    finally:
        archive.close()
    return home / "warcs" / where.warc_file, where.offset
