"""The web UI in-process (FastAPI's TestClient) over a data home built by a real crawl: pages, replay and
its rewriting, raw WARC download, errors, the Host guard, and the lazy import of the web stack.
"""
from __future__ import annotations

import gzip
import json
import re
import subprocess
import sys
from html.parser import HTMLParser
from typing import Any

import pytest

from tests.helpers import db
from tests.web_fixtures import HOSTILE_TEXT, OLD_SENTENCE, REPORT_SENTENCE, Evidence

# Without httpx2 installed, Starlette's TestClient warns that it falls back to httpx: not our concern.
pytestmark = pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")


class _Attrs(HTMLParser):
    """Every (tag, attribute, value) of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.attrs: list[tuple[str, str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.attrs.extend((tag, k, v or "") for k, v in attrs)


def attrs_of(page: str) -> list[tuple[str, str, str]]:
    parser = _Attrs()
    parser.feed(page)
    return parser.attrs


def replay_path(ts: str, url: str, modifier: str = "") -> str:
    return f"/replay/{ts}{modifier}/{url}"


# -- pages ----------------------------------------------------------------------------------------------
def test_documents_page_shows_each_document_with_coverage(client: Any, evidence: Evidence) -> None:
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "Harbour barrier: what the evidence says" in page.text
    assert f'href="/documents/{evidence.document_id}"' in page.text
    assert f'href="/documents/{evidence.notes_id}"' in page.text
    assert 'class="coverage"' in page.text and "fill-archived" in page.text and "fill-gone" in page.text
    # the UI itself runs no script and cannot be framed by other sites
    csp = page.headers["content-security-policy"]
    assert "script-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert "<script" not in page.text


def test_document_page_lists_claims_in_reading_order_with_state_badges(client: Any, evidence: Evidence) -> None:
    page = client.get(f"/documents/{evidence.document_id}")
    assert page.status_code == 200
    rows = client.get(f"/api/documents/{evidence.document_id}/claims").json()
    positions = [page.text.index(f'href="/claims/{r["id"]}"') for r in rows]
    assert positions == sorted(positions) and len(rows) >= 10
    for state in ("archived", "gone", "failed", "unsourced"):
        assert f'class="badge state-{state}"' in page.text, state
    assert "Archived article" in page.text  # the document's own capture, replayable


def test_claim_page_shows_sources_and_capture_timeline(client: Any, evidence: Evidence) -> None:
    claim_id = evidence.claim_citing("/evidence/report.html")
    page = client.get(f"/claims/{claim_id}")
    assert page.status_code == 200
    assert "According to the commission&#39;s report" in page.text
    report = evidence.url("/evidence/report.html")
    assert report in page.text
    times = re.findall(r'<td class="when"><a href="/captures/[^"]+">([^<]+)</a>', page.text)
    assert times[:2] == ["2019-05-01 12:00:00 UTC", "2021-03-01 12:00:00 UTC"] and len(times) >= 3
    assert times == sorted(times)
    assert "revisit" in page.text


def test_verification_is_rendered_when_the_claim_json_has_one(client: Any, evidence: Evidence,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Quote verification (another module) adds ``verification`` to capture dicts: shown when present."""
    from archive.index import lookup

    original = lookup.claims_json

    def with_verdicts(conn: Any, ids: Any) -> list[dict[str, Any]]:
        claims = original(conn, ids)
        for claim in claims:
            for source in claim["sources"]:
                for cap in source["captures"]:
                    cap["verification"] = {"verdict": "not_found", "score": 41, "passage": "cost 3.5 million"}
        return claims

    monkeypatch.setattr(lookup, "claims_json", with_verdicts)
    claim_id = evidence.claim_citing("/evidence/report.html")
    for path in (f"/documents/{evidence.document_id}", f"/claims/{claim_id}"):
        page = client.get(path)
        assert 'class="badge verdict-not_found"' in page.text and "score 41" in page.text, path
        assert "cost 3.5 million" in page.text


def test_real_verdicts_are_shown_after_citevault_check(evidence: Evidence, tmp_path: Any) -> None:
    """With the quote verification of `citevault check` (docs/checking.md) in the index."""
    import shutil

    from fastapi.testclient import TestClient

    from archive.api import Archive
    from archive.web.app import create_app
    from tests.helpers import citevault

    home = tmp_path / "home"
    shutil.copytree(evidence.home, home)  # the shared evidence home stays read-only
    checked = citevault(home, "check")
    assert checked.code == 0, checked
    chair = db(home).execute("SELECT id FROM claims WHERE text LIKE 'The chair said%'").fetchone()["id"]
    archive = Archive.open(str(home))
    with TestClient(create_app(archive)) as local:
        document = local.get(f"/documents/{evidence.document_id}").text
        assert 'class="badge verdict-found"' in document and "we will build it before winter" in document
        claim = local.get(f"/claims/{chair}").text
        assert 'class="badge verdict-found"' in claim and 'class="badge verdict-not_found"' in claim
    archive.close()


def test_source_page_lists_every_capture_of_the_url(client: Any, evidence: Evidence) -> None:
    report = evidence.url("/evidence/report.html")
    page = client.get("/sources", params={"url": report})
    assert page.status_code == 200
    rows = db(evidence.home).execute("SELECT id FROM captures WHERE url = ?", (report,)).fetchall()
    assert len(rows) == 4  # 2019, 2021 (revisit), the crawl, and the revisit at the end of a redirect
    for row in rows:
        assert f'href="/captures/{row["id"]}"' in page.text
    assert f"/timemap/link/{report}" in page.text
    assert "According to the commission&#39;s report" in page.text  # the claims citing it
    assert client.get("/sources", params={"url": "http://nowhere.example/"}).status_code == 404


def test_search_by_words_and_by_url(client: Any, evidence: Evidence) -> None:
    words = client.get("/search", params={"q": "audit PDF spring"})
    assert words.status_code == 200 and "The audit office published its audit as a PDF" in words.text
    by_url = client.get("/search", params={"q": evidence.url("/evidence/hostile.html")})
    assert "blog post claimed that the council never voted" in by_url.text
    nothing = client.get("/search", params={"q": "zebra unicorn"})
    assert "0 claims" in nothing.text


def test_capture_page_embeds_the_replay_in_a_sandbox(client: Any, evidence: Evidence) -> None:
    cap = evidence.capture("/evidence/report.html")
    page = client.get(f"/captures/{cap['id']}")
    assert page.status_code == 200
    frames = [(k, v) for tag, k, v in attrs_of(page.text) if tag == "iframe"]
    sandbox = dict(frames)["sandbox"]
    assert sandbox == "allow-scripts" and "allow-same-origin" not in sandbox
    assert dict(frames)["src"] == replay_path(cap["timestamp"], cap["url"])
    assert f'/captures/{cap["id"]}/warc' in page.text


def test_pdfs_and_files_are_links_not_frames(client: Any, evidence: Evidence) -> None:
    pdf = evidence.capture("/evidence/audit.pdf")
    page = client.get(f"/captures/{pdf['id']}")
    assert "<iframe" not in page.text and "An archived PDF" in page.text
    assert f'href="{replay_path(pdf["timestamp"], pdf["url"])}"' in page.text
    notes = db(evidence.home).execute("SELECT * FROM captures WHERE document_id = ?", (evidence.notes_id,)).fetchone()
    page = client.get(f"/captures/{notes['id']}")  # the claim list as added: application/octet-stream
    assert "<iframe" not in page.text and "An archived file" in page.text
    raw = client.get(replay_path(notes["timestamp"], notes["url"]))
    assert raw.status_code == 200 and raw.headers["content-type"] == "application/octet-stream"
    assert b"A second opinion was never fetched." in raw.content


def test_failed_capture_page_states_the_failure(client: Any, evidence: Evidence) -> None:
    row = db(evidence.home).execute("SELECT id FROM captures WHERE error IS NOT NULL").fetchone()
    page = client.get(f"/captures/{row['id']}")
    assert page.status_code == 200 and "connection refused" in page.text and "<iframe" not in page.text


# -- replay -----------------------------------------------------------------------------------------------
def test_replay_rewrites_every_url_into_the_archive(client: Any, evidence: Evidence) -> None:
    cap = evidence.capture("/evidence/report.html")
    reply = client.get(replay_path(cap["timestamp"], cap["url"]))
    assert reply.status_code == 200 and REPORT_SENTENCE in reply.text
    csp = reply.headers["content-security-policy"]
    assert csp.startswith("sandbox allow-scripts;") and "allow-same-origin" not in csp
    assert "default-src http://testserver/replay/;" in csp and "form-action 'none'" in csp
    urls = [(tag, k, v) for tag, k, v in attrs_of(reply.text) if k in ("href", "src", "style")]
    assert len(urls) == 7  # stylesheet, script, two images, a style attribute, two links
    for tag, k, v in urls:
        found = re.findall(r"url\('([^']*)'\)", v) if k == "style" else [v]
        assert found and all(u.startswith("/replay/") for u in found), (tag, k, v)
    assert "integrity=" not in reply.text and "crossorigin" not in reply.text
    ts = cap["timestamp"]
    by = {v.rsplit("/", 1)[-1]: v for _, k, v in urls if k in ("href", "src")}
    # archived: served from the archive, with the archived type
    css = client.get(by["style.css"])
    assert by["style.css"] == replay_path(ts, evidence.url("/evidence/style.css"), "cs_")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    # URLs inside the stylesheet carry the stylesheet capture's own 14-digit timestamp (it may differ
    # from the page's by a second): match any.
    logo = re.escape(evidence.url("/evidence/logo.png"))
    assert "rgb(200, 0, 0)" in css.text and re.search(r'url\("/replay/\d{14}im_/' + logo + r'"\)', css.text)
    assert re.search(r'url\("/replay/\d{14}cs_/https://fonts\.example\.com/font\.css"\)', css.text)  # @import url(): a stylesheet
    logo = client.get(by["logo.png"])
    assert logo.status_code == 200 and logo.content == evidence.pages["/evidence/logo.png"][1]
    assert logo.headers["content-type"] == "image/png"
    # not archived: a local placeholder of the right kind, never the live web
    missing = client.get(by["missing.png"])
    assert missing.status_code == 404 and missing.headers["content-type"] == "image/svg+xml"
    assert "content-security-policy" in missing.headers
    live = client.get(by["elsewhere"])
    assert by["elsewhere"] == replay_path(ts, "https://live.example.org/elsewhere")
    assert live.status_code == 404 and "Not archived" in live.text and "never captured" in live.text
    script = client.get(by["track.js"])
    assert script.status_code == 404 and script.headers["content-type"].startswith("text/javascript")


def test_replay_carries_memento_headers(client: Any, evidence: Evidence) -> None:
    cap = evidence.capture("/evidence/report.html")
    reply = client.get(replay_path(cap["timestamp"], cap["url"]))
    assert re.fullmatch(r"\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT", reply.headers["memento-datetime"])
    link = reply.headers["link"]
    assert f'<{cap["url"]}>; rel="original"' in link
    assert f'<http://testserver/timegate/{cap["url"]}>; rel="timegate"' in link


@pytest.mark.parametrize("path, mime", [("/evidence/audit.pdf", "application/pdf"), ("/evidence/photo.png", "image/png")])
def test_pdf_and_images_are_served_with_their_archived_type(client: Any, evidence: Evidence, path: str, mime: str) -> None:
    cap = evidence.capture(path)
    reply = client.get(replay_path(cap["timestamp"], cap["url"]))
    assert reply.status_code == 200 and reply.headers["content-type"] == mime
    assert reply.content == evidence.pages[path][1]
    assert reply.headers["content-security-policy"].startswith("sandbox")
    assert reply.headers["x-content-type-options"] == "nosniff"


def test_page_too_large_to_rewrite_is_streamed_whole(client: Any, evidence: Evidence,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Past MAX_REWRITE the page goes out unrewritten, byte for byte: the part read to find out included."""
    from archive.web import replay

    monkeypatch.setattr(replay, "MAX_REWRITE", 100)
    cap = evidence.capture("/evidence/report.html")
    reply = client.get(replay_path(cap["timestamp"], cap["url"]))
    assert reply.status_code == 200 and reply.headers["content-type"] == "text/html; charset=utf-8"
    assert reply.content == evidence.pages["/evidence/report.html"][1]


def test_revisit_replays_the_original_payload(client: Any, evidence: Evidence) -> None:
    revisit = db(evidence.home).execute(
        "SELECT * FROM captures WHERE record_type = 'revisit' AND timestamp = '20210301120000'").fetchone()
    assert revisit["refers_to"]
    reply = client.get(replay_path("20210301120000", revisit["url"]))
    assert reply.status_code == 200 and OLD_SENTENCE in reply.text
    assert reply.headers["memento-datetime"] == "Mon, 01 Mar 2021 12:00:00 GMT"


def test_inexact_timestamp_redirects_to_the_memento(client: Any, evidence: Evidence) -> None:
    url = evidence.url("/evidence/report.html")
    reply = client.get(replay_path("2020", url), follow_redirects=False)
    assert reply.status_code == 302 and reply.headers["location"] == replay_path("20190501120000", url)
    image = client.get(replay_path("2020", evidence.url("/evidence/logo.png"), "im_"), follow_redirects=False)
    assert image.status_code == 200  # subresources are served at once, the closest capture


def test_archived_redirect_is_replayed_inside_the_archive(client: Any, evidence: Evidence) -> None:
    cap = evidence.capture("/evidence/moved")
    reply = client.get(replay_path(cap["timestamp"], cap["url"]), follow_redirects=False)
    assert reply.status_code == 302
    assert reply.headers["location"] == replay_path(cap["timestamp"], evidence.url("/evidence/report.html"))
    final = client.get(replay_path(cap["timestamp"], cap["url"]))
    assert final.status_code == 200 and REPORT_SENTENCE in final.text


def test_hostile_page_is_served_sandboxed(client: Any, evidence: Evidence) -> None:
    """What the browser test relies on: the hostile page's own response makes it an opaque origin, and
    confines its requests to the replay prefix (tests/test_browser.py checks the browser obeys)."""
    cap = evidence.capture("/evidence/hostile.html")
    reply = client.get(replay_path(cap["timestamp"], cap["url"]))
    assert HOSTILE_TEXT in reply.text and "document.cookie" in reply.text  # replayed as captured
    policy = dict(part.strip().split(" ", 1) for part in reply.headers["content-security-policy"].split(";"))
    assert policy["sandbox"] == "allow-scripts"
    assert policy["default-src"] == "http://testserver/replay/"
    assert all("/api" not in v and "*" not in v for v in policy.values())


def test_warc_record_download_is_the_exact_gzip_member(client: Any, evidence: Evidence) -> None:
    import io

    from warcio.archiveiterator import ArchiveIterator

    cap = evidence.capture("/evidence/audit.pdf")
    reply = client.get(f"/captures/{cap['id']}/warc")
    assert reply.status_code == 200 and reply.headers["content-type"] == "application/warc"
    assert f'filename="{cap["id"]}.warc.gz"' in reply.headers["content-disposition"]
    with (evidence.home / "warcs" / cap["warc_file"]).open("rb") as fh:
        fh.seek(cap["warc_offset"])
        assert reply.content == fh.read(cap["warc_length"])
    assert gzip.decompress(reply.content).startswith(b"WARC/1.1\r\n")
    record = next(iter(ArchiveIterator(io.BytesIO(reply.content), check_digests="raise")))
    assert record.rec_headers.get_header("WARC-Record-ID") == cap["warc_record_id"]
    assert record.content_stream().read() == evidence.pages["/evidence/audit.pdf"][1]


# -- errors, hosts, start-up ------------------------------------------------------------------------------
def test_unknown_ids_are_404_pages_and_json(client: Any) -> None:
    for path in ("/documents/nope", "/claims/nope", "/captures/nope", "/captures/nope/warc", "/no/such/page"):
        reply = client.get(path)
        assert reply.status_code == 404 and reply.headers["content-type"].startswith("text/html"), path
        assert "Not found" in reply.text
    api = client.get("/api/claims/nope")
    assert api.status_code == 404 and "no claim 'nope'" in api.json()["detail"]
    assert client.get("/documents/x", params={"page": "zero"}).status_code == 422


def test_host_guard_refuses_unknown_hosts(evidence: Evidence) -> None:
    """Bound to loopback, the app only answers loopback Host names: no DNS rebinding onto the archive."""
    from fastapi.testclient import TestClient

    from archive.api import Archive
    from archive.web.app import LOOPBACK_HOSTS, create_app

    archive = Archive.open(str(evidence.home))
    guarded = TestClient(create_app(archive, allowed_hosts=LOOPBACK_HOSTS))
    assert guarded.get("/api/documents", headers={"Host": "evil.example"}).status_code == 421
    assert guarded.get("/api/documents", headers={"Host": "127.0.0.1:8000"}).status_code == 200
    assert guarded.get("/api/documents", headers={"Host": "[::1]:8000"}).status_code == 200
    archive.close()


def test_cli_commands_do_not_import_the_web_stack(evidence: Evidence) -> None:
    code = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from archive.cli.main import cli\n"
        f"r = CliRunner().invoke(cli, ['--home', {str(evidence.home)!r}, 'lookup', 'barrier', '--json'])\n"
        "assert r.exit_code == 0, r.output\n"
        "h = CliRunner().invoke(cli, ['--help'])\n"
        "assert 'serve' in h.output, h.output\n"
        "print(json.dumps(sorted(m for m in ('fastapi', 'uvicorn', 'starlette', 'jinja2') if m in sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", "import json\n" + code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == []
