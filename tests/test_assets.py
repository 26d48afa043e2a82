"""Page assets (issue 11), end to end: the real CLI crawls the test site's styled page (tests/site/styled/) and
50 generated pages sharing one stylesheet (``/shared/N.html``); WARCs are read back with warcio, the index
with sqlite3, replay through the web app in-process.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import citevault, db, read_records, warc_files, warcio_check

SITE = Path(__file__).parent / "site"
STYLED = "/styled/news.html"
#: Every asset of the styled page: its own, its stylesheet's (@import, font, background), its frame's image.
ASSETS = {
    "/styled/site.css": "stylesheet", "/styled/favicon.ico": "image", "/styled/app.js": "script",
    "/styled/hero.png": "image", "/styled/hero-2x.png": "image", "/styled/lazy.png": "image",
    "/styled/frame.html": "frame", "/styled/base.css": "stylesheet", "/styled/harbour.woff2": "image",
    "/styled/bg.png": "image", "/styled/map.png": "image",
}
NEVER = ("/styled/deeper.html", "/styled/deeper.png")  # the frame's own frame: one level deep only
SHARED = 50


def _claims(path: Path, base: str) -> Path:
    lines = [{"text": "The council approved the barrier budget.", "sources": [base + STYLED]}]
    lines += [{"text": f"Shared page {i} exists.", "sources": [f"{base}/shared/{i}.html"]} for i in range(SHARED)]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


def _requests(server: Any, paths: list[str]) -> dict[str, int]:
    return {p: len(server.requests_for(p)) for p in paths}


def _records(home: Path) -> list[dict[str, Any]]:
    return [r for f in warc_files(home) for r in read_records(f)]


@pytest.fixture(scope="module")
def crawled(site_url: str, site_server: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One ``citevault archive`` of a claim list citing the styled page and the 50 shared pages."""
    home = tmp_path_factory.mktemp("assets") / "home"
    claims = _claims(tmp_path_factory.mktemp("lists") / "styled.jsonl", site_url)
    watched = [*ASSETS, *NEVER, "/shared/common.css"]
    before = _requests(site_server, watched)
    result = citevault(home, "archive", str(claims), "--json")
    assert result.code == 0, result
    after = _requests(site_server, watched)
    return {"home": home, "base": site_url, "result": result, "fetched": {p: after[p] - before[p] for p in watched},
            "document": result.json()[0]["document"]["id"]}


def test_every_asset_of_the_styled_page_is_archived(crawled: dict[str, Any]) -> None:
    home, base = crawled["home"], crawled["base"]
    for f in warc_files(home):
        assert not f.name.endswith(".open")
        check = warcio_check(f)
        assert check.returncode == 0, check.stdout + check.stderr
    records = _records(home)  # ArchiveIterator(check_digests="raise"): every digest checked
    for path, _kind in ASSETS.items():
        url = base + path
        responses = [r for r in records if r["type"] == "response" and r["uri"] == url]
        assert len(responses) == 1, path
        response = responses[0]
        assert response["headers"]["Citevault-Role"] == "asset"
        assert "Citevault-Source-URL" not in response["headers"]
        assert response["body"] == (SITE / path.lstrip("/")).read_bytes()
        requests = [r for r in records if r["type"] == "request" and r["uri"] == url]
        assert [r["headers"]["WARC-Concurrent-To"] for r in requests] == [response["headers"]["WARC-Record-ID"]]
    for path in NEVER:
        assert not any(r["uri"] == base + path for r in records), path


def test_each_asset_fetched_once_and_the_shared_stylesheet_once_for_50_pages(crawled: dict[str, Any]) -> None:
    fetched = crawled["fetched"]
    assert {p: fetched[p] for p in ASSETS} == {p: 1 for p in ASSETS}
    assert fetched["/shared/common.css"] == 1
    assert all(fetched[p] == 0 for p in NEVER)


def test_page_assets_record_and_rows_link_each_page(crawled: dict[str, Any]) -> None:
    home, base = crawled["home"], crawled["base"]
    records = _records(home)
    page = next(r for r in records if r["type"] == "response" and r["uri"] == base + STYLED)
    lists = [r for r in records if r["type"] == "metadata" and r["headers"].get("Citevault-Record") == "page-assets"]
    assert len(lists) == 1 + SHARED
    styled = next(r for r in lists if r["uri"] == base + STYLED)
    assert styled["headers"]["WARC-Refers-To"] == page["headers"]["WARC-Record-ID"]
    body = json.loads(styled["body"])
    assert {a["url"]: a["kind"] for a in body["assets"]} == {base + p: k for p, k in ASSETS.items()}
    assert body["cut"] == {} and all(a["capture"] and a["cut"] is None for a in body["assets"])
    conn = db(home)
    page_id = page["headers"]["WARC-Record-ID"][10:-1]
    rows = conn.execute("SELECT pa.url, pa.kind, c.role, c.record_type, c.http_status FROM page_assets pa "
                        "JOIN captures c ON c.id = pa.capture_id WHERE pa.page_id = ? ORDER BY pa.position",
                        (page_id,)).fetchall()
    assert {r["url"]: r["kind"] for r in rows} == {base + p: k for p, k in ASSETS.items()}
    assert {(r["role"], r["record_type"], r["http_status"]) for r in rows} == {("asset", "response", 200)}
    shared = conn.execute("SELECT COUNT(DISTINCT pa.page_id), COUNT(DISTINCT pa.capture_id) FROM page_assets pa "
                          "WHERE pa.url = ?", (base + "/shared/common.css",)).fetchone()
    assert tuple(shared) == (SHARED, 1)  # every page linked to the one fetch
    conn.close()


def test_assets_are_never_sources(crawled: dict[str, Any]) -> None:
    home, base = crawled["home"], crawled["base"]
    conn = db(home)
    assert tuple(conn.execute("SELECT COUNT(*), SUM(state = 'archived') FROM sources").fetchone()) == (1 + SHARED, 1 + SHARED)
    assert conn.execute("SELECT COUNT(*) FROM captures WHERE role = 'asset' AND (source_id IS NOT NULL OR "
                        "document_id IS NOT NULL)").fetchone()[0] == 0
    claim = conn.execute("SELECT id FROM claims WHERE text LIKE 'The council%'").fetchone()[0]
    conn.close()
    shown = citevault(home, "show", claim, "--json")
    assert shown.code == 0, shown
    sources = shown.json()["sources"]
    assert [s["url"] for s in sources] == [base + STYLED]
    assert [c["url"] for c in sources[0]["captures"]] == [base + STYLED]
    err = crawled["result"].err
    assert f"{1 + SHARED} archived + {len(ASSETS) + 1} assets" in err, err  # the progress counts sources only


def test_second_crawl_writes_revisits_for_unchanged_assets(crawled: dict[str, Any], site_server: Any,
                                                           tmp_path: Path) -> None:
    home = tmp_path / "home"
    shutil.copytree(crawled["home"], home)
    later = (datetime.now(timezone.utc) + timedelta(days=60)).strftime("%Y-%m-%dT%H:%M:%S")
    before = _requests(site_server, list(ASSETS))
    result = citevault(home, "crawl", "--due", env={"CITEVAULT_NOW": later})
    assert result.code == 0, result
    assert _requests(site_server, list(ASSETS)) == {p: before[p] + 1 for p in ASSETS}  # re-fetched with the page
    conn = db(home)
    crawl = conn.execute("SELECT id FROM crawls ORDER BY started_at DESC LIMIT 1").fetchone()[0]
    rows = conn.execute("SELECT url, record_type, refers_to FROM captures WHERE role = 'asset' AND crawl_id = ?",
                        (crawl,)).fetchall()
    base = crawled["base"]
    assert {r["url"] for r in rows} == {base + p for p in ASSETS} | {base + "/shared/common.css"}
    assert {r["record_type"] for r in rows} == {"revisit"}
    originals = {r[0] for r in conn.execute("SELECT id FROM captures WHERE role = 'asset' AND crawl_id != ?", (crawl,))}
    assert {r["refers_to"] for r in rows} <= originals
    conn.close()
    assert citevault(home, "verify").code == 0


def test_limits_cut_assets_and_record_the_cut(site_url: str, tmp_path: Path) -> None:
    lists = tmp_path / "one.jsonl"
    lists.write_text(json.dumps({"text": "Styled.", "sources": [site_url + STYLED]}) + "\n")
    for setting, reason in (("CITEVAULT_ASSETS_MAX_PER_PAGE=3", "count"), ("CITEVAULT_ASSETS_MAX_BYTES=1", "bytes")):
        home = tmp_path / reason
        result = citevault(home, "archive", str(lists), "-s", setting)
        assert result.code == 0, result
        body = next(json.loads(r["body"]) for r in _records(home)
                    if r["type"] == "metadata" and r["headers"].get("Citevault-Record") == "page-assets")
        cut = [a for a in body["assets"] if a["cut"]]
        kept = [a for a in body["assets"] if not a["cut"]]
        assert cut and body["cut"] == {reason: len(cut)} and all(a["capture"] is None for a in cut)
        if reason == "count":
            assert len(kept) == 3
        else:  # the page's own assets were asked for at once; what the stylesheet and frame load was cut
            assert {a["url"] for a in cut} >= {site_url + p for p in ("/styled/base.css", "/styled/map.png")}
        assert f"({len(cut)} cut by the per-page limits)" in result.err, result
        conn = db(home)
        assert conn.execute("SELECT COUNT(*) FROM page_assets WHERE cut = ?", (reason,)).fetchone()[0] == len(cut)
        assert conn.execute("SELECT COUNT(*) FROM captures WHERE role = 'asset'").fetchone()[0] == len(kept)
        conn.close()


def test_no_assets_fetches_none(site_url: str, site_server: Any, tmp_path: Path) -> None:
    lists = tmp_path / "one.jsonl"
    lists.write_text(json.dumps({"text": "Styled.", "sources": [site_url + STYLED + "?no-assets"]}) + "\n")
    before = _requests(site_server, list(ASSETS))
    result = citevault(tmp_path / "home", "archive", str(lists), "--no-assets")
    assert result.code == 0, result
    assert _requests(site_server, list(ASSETS)) == before
    conn = db(tmp_path / "home")
    assert conn.execute("SELECT COUNT(*) FROM captures WHERE role IS NOT NULL").fetchone()[0] == 0
    assert conn.execute("SELECT COUNT(*) FROM page_assets").fetchone()[0] == 0
    assert [tuple(r) for r in conn.execute("SELECT state FROM sources")] == [("archived",)]
    conn.close()
    assert "assets" not in result.err.splitlines()[-1]


def test_reindex_restores_asset_rows_and_links(crawled: dict[str, Any], tmp_path: Path) -> None:
    fresh = tmp_path / "fresh"
    (fresh / "warcs").mkdir(parents=True)
    for f in warc_files(crawled["home"]):
        shutil.copy2(f, fresh / "warcs" / f.name)
    result = citevault(fresh, "reindex")
    assert result.code == 0, result

    def table(home: Path, sql: str) -> list[tuple[Any, ...]]:
        conn = db(home)
        rows = sorted(tuple(r) for r in conn.execute(sql))
        conn.close()
        return rows

    captures = ("SELECT id, url, record_type, role, http_status, payload_digest, payload_sha256, warc_file, "
                "warc_offset, warc_length, refers_to, source_id, document_id FROM captures")
    links = "SELECT page_id, position, url, kind, capture_id, cut FROM page_assets"
    assert table(fresh, captures) == table(crawled["home"], captures)
    assert table(fresh, links) == table(crawled["home"], links)
    assert len(table(fresh, links)) == len(ASSETS) + SHARED


def test_verify_covers_asset_records(crawled: dict[str, Any]) -> None:
    result = citevault(crawled["home"], "verify")
    assert result.code == 0, result


def test_replay_serves_the_styled_page_assets_from_the_archive(crawled: dict[str, Any]) -> None:
    from fastapi.testclient import TestClient

    from archive.api import Archive
    from archive.web.app import create_app

    base = crawled["base"]
    conn = db(crawled["home"])
    ts = {r["url"]: r["timestamp"] for r in conn.execute("SELECT url, timestamp FROM captures")}
    conn.close()
    archive = Archive.open(str(crawled["home"]))
    try:
        with TestClient(create_app(archive)) as client:
            page = client.get(f"/replay/{ts[base + STYLED]}/{base}{STYLED}")
            assert page.status_code == 200 and "Harbour council approves" in page.text
            for path, modifier, mime in (("/styled/site.css", "cs_", "text/css"), ("/styled/base.css", "cs_", "text/css"),
                                         ("/styled/hero.png", "im_", "image/png"), ("/styled/lazy.png", "im_", "image/png"),
                                         ("/styled/harbour.woff2", "im_", "font/woff2")):
                reply = client.get(f"/replay/{ts[base + STYLED]}{modifier}/{base}{path}")
                assert reply.status_code == 200, path
                assert reply.headers["content-type"].startswith(mime), (path, reply.headers["content-type"])
                if mime.startswith("image"):
                    assert reply.content == (SITE / path.lstrip("/")).read_bytes()
                assert f"{modifier}/{base}{path}" in page.text or path.endswith(("base.css", "harbour.woff2"))
    finally:
        archive.close()


def test_wacz_of_the_document_holds_its_pages_assets(crawled: dict[str, Any], tmp_path: Path) -> None:
    out = tmp_path / "styled.wacz"
    result = citevault(crawled["home"], "export", "--wacz", str(out), crawled["document"])
    assert result.code == 0, result
    check = subprocess.run([sys.executable, "-c", "import sys; from wacz.main import main; sys.exit(main())",
                            "validate", "-f", str(out)], capture_output=True, text=True, timeout=120)
    assert check.returncode == 0 and "Validation succeeded" in check.stdout, check.stdout + check.stderr
    base = crawled["base"]
    with zipfile.ZipFile(out) as zf:
        index = zf.read("indexes/index.cdx").decode()
        pages = [json.loads(line) for line in zf.read("pages/pages.jsonl").decode().splitlines()[1:]]
    for path in ASSETS:
        assert f'"url": "{base}{path}"' in index, path
    urls = {p["url"] for p in pages}
    assert base + STYLED in urls and not urls & {base + p for p in ASSETS}
