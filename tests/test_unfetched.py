"""An article URL that cannot be fetched is an error, not an empty success (issue 13, item 4): `archive`
exits 1 naming the URL and the reason, every read shows the document not fetched with that reason until a
crawl fetches it, and a reindex of the WARC files keeps it so."""
from __future__ import annotations

import json
import uuid
from pathlib import Path

from archive import Archive
from tests.helpers import citevault
from tests.server import SiteServer

ARTICLE = ("<html><head><title>Back again</title></head><body><article>"
           "<p>The bridge opened in 1931 (<a href=\"{src}\">source</a>).</p></article></body></html>")


def _doc(home: Path, what: str, *args: str) -> dict:
    result = citevault(home, what, "--json", *args)
    assert result.code == 0, result
    return json.loads(result.out)


def test_404_article_fails_then_a_crawl_fetches_it(tmp_path: Path, site_server: SiteServer) -> None:
    name = f"late-{uuid.uuid4().hex[:8]}"
    url = site_server.url(f"/mutable/{name}")
    other = tmp_path / "other.txt"
    other.write_text("Another claim that cites nothing.\n")
    home = tmp_path / "home"

    result = citevault(home, "archive", url, str(other))
    assert result.code == 1, result
    lines = [line for line in result.err.splitlines() if "could not be fetched" in line]
    assert len(lines) == 1 and url in lines[0] and "(http 404)" in lines[0], result.err
    assert "Traceback" not in result.err

    [entry] = [e for e in _doc(home, "status") if e["document"]["url"] == url]
    doc_id = entry["document"]["id"]
    assert entry["document"]["fetch_error"] == "http 404"
    others = [e for e in _doc(home, "status") if e["document"]["url"] != url]
    assert others and all(e["document"]["fetch_error"] is None for e in others)  # archived all the same
    claims = citevault(home, "claims", doc_id, "--json")
    assert claims.code == 0 and json.loads(claims.out) == []
    assert "not fetched" in claims.err and "http 404" in claims.err
    text = citevault(home, "claims", doc_id)
    assert "not fetched" in text.err and "http 404" in text.err
    status = citevault(home, "status", doc_id)
    assert status.code == 0 and "not fetched: http 404" in status.out
    report = citevault(home, "report", doc_id)
    assert report.code == 0 and "Not fetched" in report.out and "http 404" in report.out, report

    archive = Archive.open(str(home))
    try:  # the library and the web UI's document JSON
        [overview] = archive.overview(doc_id)
        assert overview["fetch_error"] == "http 404"
        assert archive.document_detail(doc_id).document["fetch_error"] == "http 404"
    finally:
        archive.close()

    # reindex reproduces the marker from the WARC files alone
    assert citevault(home, "reindex", "--force").code == 0
    assert _doc(home, "status", doc_id)[0]["document"]["fetch_error"] == "http 404"

    # the page appears: a crawl fetches it and the marker is gone
    site_server.set_page(name, ARTICLE.format(src=site_server.url("/pages/7.html")))
    crawl = citevault(home, "crawl")
    assert crawl.code == 0, crawl
    assert _doc(home, "status", doc_id)[0]["document"]["fetch_error"] is None
    claims = citevault(home, "claims", doc_id, "--json")
    assert "not fetched" not in claims.err and len(json.loads(claims.out)) == 1
    assert "not fetched" not in citevault(home, "status", doc_id).out


def test_refused_port(tmp_path: Path) -> None:
    home = tmp_path / "home"
    result = citevault(home, "archive", "http://127.0.0.1:9/x")
    assert result.code == 1, result
    [line] = [line for line in result.err.splitlines() if "could not be fetched" in line]
    assert "http://127.0.0.1:9/x" in line and "connection refused" in line, result.err
    [entry] = _doc(home, "status")
    assert entry["document"]["fetch_error"] == "connection refused"
    assert citevault(home, "reindex", "--force").code == 0
    assert _doc(home, "status")[0]["document"]["fetch_error"] == "connection refused"
