"""Browser capture (README "Browser capture"): the real CLI crawls tests/site/browser/ with ``--browser``,
Debian's chromium renders the pages through warcprox, and the WARC files, the index, reindex, verify and
the WACZ export are read back with the reference tools. Skipped only when chromium is not installed.

One archive is built per module (a claim list citing the four fixture pages, ``--browser auto``); the
hostile page's other targets are two more loopback servers that must never see a request.
"""
from __future__ import annotations

import io
import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from warcio.archiveiterator import ArchiveIterator

from tests.helpers import citevault, db
from tests.server import SiteServer
from tests.test_browser import browser  # noqa: F401 - the module's Chromium (replay test)

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="no chromium at /usr/bin/chromium (apt-get install chromium)")

QUOTE = "rebuilt in 1921 by a crew of forty volunteers"
TIME_LIMIT = 12  # the endless page costs this much; the others need a fraction of it, even on a busy machine


@pytest.fixture(scope="module")
def browsed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    site = SiteServer()
    site.start()
    other_host = SiteServer(host="127.0.0.2")  # another loopback address
    other_host.start()
    other_port = SiteServer()  # the page's own host, another port
    other_port.start()
    tmp = tmp_path_factory.mktemp("browser")
    base = site.base_url
    targets = f"127.0.0.2:{other_host.server_address[1]},127.0.0.1:{other_port.server_address[1]}"
    pages = {"script": f"{base}/browser/script.html", "lazy": f"{base}/browser/lazy.html",
             "hostile": f"{base}/browser/hostile.html?targets={targets}", "loop": f"{base}/browser/loop.html",
             "trickle": f"{base}/browser/trickle.html"}
    claims = tmp / "claims.jsonl"
    claims.write_text("".join(json.dumps(row) + "\n" for row in (
        {"text": "Volunteers rebuilt the harbour wall in 1921.", "sources": [pages["script"]], "quote": QUOTE},
        {"text": "The gallery loads its pictures lazily.", "sources": [pages["lazy"]]},
        {"text": "The hostile page exists.", "sources": [pages["hostile"]]},
        {"text": "The endless page exists.", "sources": [pages["loop"]]},
        {"text": "The page never finishes loading.", "sources": [pages["trickle"]]},
    )))
    home = tmp / "home"
    result = citevault(home, "archive", str(claims), "--browser", "auto",
                       "-s", f"CITEVAULT_BROWSER_TIME_LIMIT={TIME_LIMIT}", "-s", "CITEVAULT_CHECK_AFTER_CRAWL=False")
    try:
        yield {"home": home, "result": result, "pages": pages, "site": site, "other_host": other_host,
               "other_port": other_port, "tmp": tmp}
    finally:
        for server in (site, other_host, other_port):
            server.stop()


def rendering(home: Path, url: str) -> sqlite3.Row | None:
    row: sqlite3.Row | None = db(home).execute("SELECT * FROM renderings WHERE url = ?", (url,)).fetchone()
    return row


def records(home: Path) -> list[dict[str, Any]]:
    """Every record of every WARC file with its HTTP head and payload exactly as stored (read with our
    scanner), and the digest problems warcio finds in it."""
    from archive.warc.scan import WarcReader

    out = []
    for path in sorted((home / "warcs").glob("*.warc.gz")):
        with path.open("rb") as fh:
            problems = [list(rec.digest_checker.problems) for rec in ArchiveIterator(fh, check_digests=True)]
        reader = WarcReader(path)
        for rec, digest_problems in zip(reader, problems):
            has_head = rec.type in ("response", "request") and rec.parse_http()
            headers = {k: rec.get(k.lower()) for k in ("WARC-Record-ID", "WARC-Concurrent-To", "WARC-Refers-To",
                                                        "Citevault-Role", "Content-Type", "WARC-IP-Address",
                                                        "WARC-Truncated")}
            out.append({"file": path.name, "type": rec.type, "uri": rec.get("warc-target-uri"),
                        "headers": {k: v for k, v in headers.items() if v is not None},
                        "head": rec.http_head if has_head else b"", "payload": b"".join(rec.chunks()),
                        "digest_problems": digest_problems})
            rec.finish()
        reader.close()
    return out


def test_the_crawl_renders_the_pages_that_need_it(browsed: dict[str, Any]) -> None:
    result = browsed["result"]
    assert result.code == 0, result
    assert "rendering 5 page(s) in a browser" in result.err, result
    assert f"cut at the {TIME_LIMIT}s limit" in result.err, result
    assert f"citevault: browser: {browsed['pages']['loop']} cut at the {TIME_LIMIT}s limit" in result.err, result


def test_script_built_page_raw_capture_lacks_the_quote_rendered_text_has_it(browsed: dict[str, Any]) -> None:
    from archive.api import Archive

    home, url = browsed["home"], browsed["pages"]["script"]
    found = rendering(home, url)
    assert found is not None
    archive = Archive.open(str(home))
    try:
        raw = io.BytesIO()
        archive.cat(found["capture_id"], raw)
        assert QUOTE not in raw.getvalue().decode("utf-8")
        rendered = archive.rendered_text(found["capture_id"])
        assert rendered is not None and QUOTE in rendered
        assert archive.rendering(found["capture_id"])["text_chars"] == len(rendered)  # type: ignore[index]
        with archive.open_screenshot(found["capture_id"]) as shot:
            png = b"".join(shot.chunks())
    finally:
        archive.close()
    from PIL import Image

    image = Image.open(io.BytesIO(png))
    image.verify()
    assert image.format == "PNG" and image.size == (found["width"], found["height"]) and found["width"] == 1280
    assert found["browser"].startswith("chromium ") and found["cut"] is None
    # the JSON the script loaded was recorded by the browser's proxy
    roles = dict(db(home).execute("SELECT url, role FROM captures WHERE crawl_id = ? AND role IN ('browser', 'asset') "
                                  "AND url LIKE '%/browser/story.json'", (found["crawl_id"],)).fetchall())
    assert roles == {url.replace("script.html", "story.json"): "asset"}


def test_records_are_wire_faithful_and_linked(browsed: dict[str, Any]) -> None:
    home, site, url = browsed["home"], browsed["site"], browsed["pages"]["script"]
    found = rendering(home, url)
    assert found is not None
    recs = records(home)
    assert all(not r["digest_problems"] for r in recs), [r for r in recs if r["digest_problems"]]
    by_id = {r["headers"]["WARC-Record-ID"]: r for r in recs}
    browser_page = by_id[f"<urn:uuid:{found['browser_capture_id']}>"]
    assert browser_page["type"] == "response" and browser_page["headers"]["Citevault-Role"] == "browser"
    assert browser_page["payload"] == site.served_body("/browser/script.html")
    story = [r for r in recs if r["type"] == "response" and r["uri"].endswith("/browser/story.json")
             and r["headers"].get("Citevault-Role") == "asset"]
    assert len(story) == 1 and story[0]["payload"] == site.served_body("/browser/story.json")
    assert story[0]["head"].startswith(b"HTTP/1.") and b"Content-Type: application/json" in story[0]["head"]
    assert story[0]["headers"]["WARC-IP-Address"] == "127.0.0.1"
    request = [r for r in recs if r["type"] == "request"
               and r["headers"].get("WARC-Concurrent-To") == story[0]["headers"]["WARC-Record-ID"]]
    assert len(request) == 1 and request[0]["head"].startswith(b"GET /browser/story.json HTTP/1.1\r\n")
    raw_page = by_id[f"<urn:uuid:{found['capture_id']}>"]
    assert raw_page["type"] == "response" and "Citevault-Role" not in raw_page["headers"]
    for kind, mime in (("screenshot", "image/png"), ("text", "text/plain; charset=utf-8")):
        rec = [r for r in recs if r["uri"] == f"urn:{kind}:{url}"]
        assert len(rec) == 1 and rec[0]["type"] == "resource", kind
        headers = rec[0]["headers"]
        assert headers["Content-Type"] == mime
        assert headers["WARC-Refers-To"] == raw_page["headers"]["WARC-Record-ID"]
        assert headers["WARC-Concurrent-To"] == browser_page["headers"]["WARC-Record-ID"]
    check = subprocess.run([sys.executable, "-m", "warcio.cli", "check", *map(str, sorted((home / "warcs").glob("*.warc.gz")))],
                           capture_output=True, text=True, timeout=120, check=False)
    assert check.returncode == 0, check.stdout + check.stderr


def test_lazy_images_are_captured_by_the_browser(browsed: dict[str, Any]) -> None:
    home, url = browsed["home"], browsed["pages"]["lazy"]
    found = rendering(home, url)
    assert found is not None and found["height"] > 2000  # a full-page screenshot of the tall page
    base = url.split("/browser/")[0]
    got = {r[0] for r in db(home).execute("SELECT url FROM captures WHERE role = 'asset' AND warc_file = ? "
                                          "AND http_status = 200", (found["screenshot_warc_file"],))}
    assert {f"{base}/image.png?lazy=native", f"{base}/image.png?lazy=observer"} <= got


def test_hostile_page_is_cut_off_from_everything_it_tries(browsed: dict[str, Any]) -> None:
    home, site, url = browsed["home"], browsed["site"], browsed["pages"]["hostile"]
    found = rendering(home, url)
    assert found is not None and found["cut"] is None
    assert browsed["other_host"].requests == [] and browsed["other_port"].requests == []  # no SSRF
    assert "2 request(s) to private addresses refused" in browsed["result"].err or \
        "request(s) to private addresses refused" in browsed["result"].err
    paths = [r.path for r in site.requests]
    assert not [p for p in paths if "popup=1" in p or "navigated=1" in p or p.endswith("/sw.js")], paths
    # the screenshot is of the page itself, not of where it tried to go
    assert found["url"] == url and found["text_chars"] and found["text_chars"] > 100


def test_endless_page_is_cut_at_the_limit_and_keeps_what_was_captured(browsed: dict[str, Any]) -> None:
    home, url = browsed["home"], browsed["pages"]["loop"]
    rows = db(home).execute("SELECT url, role FROM captures WHERE role IN ('browser', 'asset') AND "
                            "(url = ? OR url LIKE '%image.png?from=loop')", (url,)).fetchall()
    roles = sorted(r["role"] for r in rows)
    assert roles.count("browser") == 1 and roles.count("asset") >= 1, [tuple(r) for r in rows]
    assert rendering(home, url) is None  # nothing to photograph: the renderer never came back


def test_page_that_never_finishes_loading_is_cut_and_kept(browsed: dict[str, Any]) -> None:
    """Its image is still arriving at the limit: the response is written as far as it came, marked
    ``WARC-Truncated: time``, and the page is photographed as it stood."""
    home, url = browsed["home"], browsed["pages"]["trickle"]
    found = rendering(home, url)
    assert found is not None and found["cut"] == "time" and found["screenshot_warc_file"], found
    assert f"citevault: browser: {url} cut at the {TIME_LIMIT}s limit" in browsed["result"].err
    (image,) = [r for r in records(home) if r["type"] == "response" and (r["uri"] or "").endswith("/trickle?seconds=60")
                and r["headers"].get("Citevault-Role") == "asset"]
    assert image["headers"].get("WARC-Truncated") == "time", image["headers"]
    assert 0 < len(image["payload"]) < 64 * 1024 and set(image["payload"]) == {ord("t")}
    assert not image["digest_problems"]


def test_reindex_restores_renderings_and_verify_passes(browsed: dict[str, Any]) -> None:
    home = browsed["home"]
    copy = browsed["tmp"] / "reindexed"
    shutil.copytree(home, copy)
    query = "SELECT * FROM renderings ORDER BY id"
    before = [tuple(r) for r in db(home).execute(query)]
    assert len(before) == 4
    result = citevault(copy, "reindex", "--force")
    assert result.code == 0, result
    assert [tuple(r) for r in db(copy).execute(query)] == before
    captures = "SELECT * FROM captures ORDER BY id"
    assert [tuple(r) for r in db(copy).execute(captures)] == [tuple(r) for r in db(home).execute(captures)]
    checked = citevault(home, "verify")
    assert checked.code == 0 and "all digests match" in checked.out, checked


def test_wacz_export_carries_the_renderings_and_validates(browsed: dict[str, Any]) -> None:
    import zipfile

    home = browsed["home"]
    out = browsed["tmp"] / "browser.wacz"
    doc = db(home).execute("SELECT id FROM documents").fetchone()[0]
    result = citevault(home, "export", "--wacz", str(out), doc)
    assert result.code == 0, result
    with zipfile.ZipFile(out) as zf:
        cdx = zf.read("indexes/index.cdx").decode("utf-8")
        pages = zf.read("pages/pages.jsonl").decode("utf-8")
    url = browsed["pages"]["script"]
    assert f'"url": "urn:screenshot:{url}"' in cdx and f'"url": "urn:text:{url}"' in cdx
    assert url in pages
    check = subprocess.run([sys.executable, "-c", "import sys; from wacz.main import main; sys.exit(main())",
                            "validate", "-f", str(out)], capture_output=True, text=True, timeout=120, check=False)
    assert check.returncode == 0 and "Validation succeeded" in check.stdout, check.stdout + check.stderr


def test_replay_serves_a_scripts_fetch_without_redirecting_it(browsed: dict[str, Any]) -> None:
    """A replayed page's fetch() of JSON captured in another second than the page: served at once with the
    null-origin allowance (a 302 without Access-Control-Allow-Origin fails a CORS fetch); a navigation to
    the same URL still lands on the exact URI-M."""
    from fastapi.testclient import TestClient

    from archive.api import Archive
    from archive.web.app import create_app

    json_url = browsed["pages"]["script"].rsplit("/", 1)[0] + "/story.json"
    with TestClient(create_app(Archive.open(str(browsed["home"])))) as client:
        path = f"/replay/20000101000000/{json_url}"
        fetched = client.get(path, headers={"Origin": "null", "Sec-Fetch-Mode": "cors"}, follow_redirects=False)
        assert fetched.status_code == 200, (fetched.status_code, fetched.headers)
        assert fetched.headers["access-control-allow-origin"] == "null"
        assert json.loads(fetched.content)["paragraphs"]
        navigated = client.get(path, follow_redirects=False)
        assert navigated.status_code == 302, navigated.status_code


def test_replay_shows_the_script_built_page_from_the_archive_alone(browsed: dict[str, Any], browser: Any) -> None:  # noqa: F811
    """``citevault serve`` replays the page with the JSON its script loads, as the browser recorded it; no
    request leaves the replay server."""
    from tests.test_replay_pixels import LATEST, Serve

    url = browsed["pages"]["script"]
    with Serve(browsed["home"]) as base:
        context = browser.new_context()
        outside: list[str] = []
        responses: list[tuple[int, str]] = []

        def route(r: Any) -> None:
            if r.request.url.startswith(base + "/"):
                r.continue_()
            else:
                outside.append(r.request.url)
                r.abort()

        try:
            context.route("**/*", route)
            tab = context.new_page()
            tab.set_default_timeout(60000)  # generous: a loaded machine, not a slow replay, is what it waits out
            tab.on("response", lambda r: responses.append((r.status, r.url)))
            tab.goto(f"{base}/replay/{LATEST}/{url}", wait_until="networkidle")
            tab.wait_for_function("document.body.dataset.ready === '1'")
            text = tab.evaluate("document.body.innerText")
        finally:
            context.close()
    assert QUOTE in text, (text, responses)
    assert outside == [], outside
    assert any(status == 200 and u.endswith("/browser/story.json") for status, u in responses), responses


def test_quote_check_reads_the_rendered_text_and_says_so(browsed: dict[str, Any]) -> None:
    """The raw capture lacks the quote; the check reads the rendering's text: ``found``, and its text_key
    names the rendering (``rendering:{id}``) instead of the payload (``sha256:...``)."""
    home, url = browsed["tmp"] / "checked", browsed["pages"]["script"]
    shutil.copytree(browsed["home"], home)
    result = citevault(home, "check")
    assert result.code == 0, result
    found = rendering(home, url)
    assert found is not None
    row = db(home).execute("SELECT v.verdict, v.text_key, v.exact FROM verifications v JOIN claims c ON c.id = v.claim_id "
                           "WHERE v.capture_id = ? AND c.quote IS NOT NULL", (found["capture_id"],)).fetchone()
    assert row is not None and row["verdict"] == "found", tuple(row) if row else None
    assert row["text_key"] == f"rendering:{found['id']}" and QUOTE in row["exact"]
