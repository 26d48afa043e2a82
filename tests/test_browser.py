"""The UI in a real browser: Debian's chromium driven by Playwright, against the app under uvicorn.

It walks document → claim → capture → replay, checks what the replayed page shows (its archived
stylesheet and logo applied, the unarchived image replaced by the placeholder, nothing fetched from
anywhere but the archive), and runs the hostile archived page: its script must fail to read the UI's
cookie or call its API, in an iframe and when the replay is opened on its own. Skipped only when chromium
is not installed (CI installs it: apt-get install chromium).
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Iterator

import pytest

from tests.web_fixtures import HOSTILE_TEXT, REPORT_SENTENCE, Evidence, LiveServer

CHROMIUM = os.environ.get("CITEVAULT_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"no chromium at {CHROMIUM} (apt-get install chromium)")


@pytest.fixture(scope="module")
def live(evidence: Evidence) -> Iterator[LiveServer]:
    with LiveServer(evidence.home) as server:
        yield server


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any, live: LiveServer) -> Iterator[Any]:
    """A fresh browser context whose every request is recorded, and refused unless it goes to the app."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    outside: list[str] = []

    def only_the_archive(route: Any) -> None:
        if route.request.url.startswith(live.base + "/"):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", only_the_archive)
    tab = context.new_page()
    tab.set_default_timeout(15000)
    tab.outside = outside
    yield tab
    context.close()


def test_document_to_claim_to_replay(page: Any, live: LiveServer, evidence: Evidence) -> None:
    page.goto(live.base + "/")
    assert page.locator("h1").inner_text() == "Documents"
    page.get_by_role("link", name="Harbour barrier: what the evidence says").click()
    page.wait_for_url(f"**/documents/{evidence.document_id}")
    assert page.locator("li.claim").count() >= 10
    assert page.locator(".badge.state-gone").count() >= 1
    page.get_by_role("link", name="According to the commission's report, the flood barrier will cost 3.5 million euros.").click()
    page.wait_for_url("**/claims/*")
    assert page.locator("table.captures tbody tr").count() == 3  # 2019, 2021 and the crawl
    page.get_by_role("link", name="open the replay").click()  # the latest capture of the report, on its own
    page.wait_for_url("**/replay/**")
    assert REPORT_SENTENCE in page.locator("#cost").inner_text()
    page.go_back()
    page.locator("section.source a", has_text="UTC").first.click()  # the capture page: replay in an iframe
    page.wait_for_url("**/captures/*")
    frame_element = page.locator("iframe.replay")
    assert frame_element.get_attribute("sandbox") == "allow-scripts"
    frame = page.frame_locator("iframe.replay")
    assert REPORT_SENTENCE in frame.locator("#cost").inner_text()
    # the archived stylesheet is applied, the archived logo shown, the unarchived image is the placeholder
    assert frame.locator("h1").evaluate("e => getComputedStyle(e).color") == "rgb(200, 0, 0)"
    frame.locator("img[alt='Commission logo']").evaluate("e => e.decode()")
    assert frame.locator("img[alt='Commission logo']").evaluate("e => e.naturalWidth") == 120
    frame.locator("img[alt='not archived']").evaluate("e => e.decode()")
    assert frame.locator("img[alt='not archived']").evaluate("e => e.naturalWidth") == 160
    # links stay in the archive: following one to an unarchived page shows the local placeholder
    frame.get_by_role("link", name="Elsewhere on the web").click()
    frame.locator("h1", has_text="Not archived").wait_for()
    assert page.outside == []  # nothing requested from the live web: not the CDN script, not the font
    assert not any("cdn.example.net" in r or "fonts.example.com" in r or "live.example.org" in r
                   for r in live.requests if not r.startswith("/replay/"))


def _hostile_report(frame: Any) -> dict[str, Any]:
    report = frame.locator("#report")
    report.filter(has_text="api").wait_for()
    return json.loads(report.inner_text())  # type: ignore[no-any-return]


def test_hostile_archived_script_cannot_read_cookies_or_call_the_api(page: Any, live: LiveServer,
                                                                     evidence: Evidence) -> None:
    page.context.add_cookies([{"name": "session", "value": "s3cret-ui-cookie", "url": live.base}])
    cap = evidence.capture("/evidence/hostile.html")
    page.goto(f"{live.base}/captures/{cap['id']}")
    assert "session=s3cret-ui-cookie" in page.evaluate("document.cookie")  # control: the UI's own origin reads it
    before = len(live.requests)
    frame = page.frame_locator("iframe.replay")
    assert HOSTILE_TEXT in frame.locator("p").first.inner_text()
    report = _hostile_report(frame)
    assert report["ran"] is True  # the archived script did run, inside the sandbox
    assert report["cookie"] == "error: SecurityError", report  # opaque origin: no cookie jar at all
    assert report["parentCookie"] == "error: SecurityError", report  # the UI page is cross-origin to it
    assert report["storage"] == "error: SecurityError", report
    assert report["api"].startswith("error: "), report  # CSP connect-src: the request never left
    assert [r for r in live.requests[before:] if not r.startswith("/replay/")] == []  # no /api/ call arrived
    assert not any("s3cret" in r for r in live.requests)

    # opened on its own (no iframe), the CSP `sandbox` header alone confines it the same way
    page.goto(f"{live.base}/replay/{cap['timestamp']}/{cap['url']}")
    report = _hostile_report(page)
    assert report["ran"] is True and report["cookie"] == "error: SecurityError", report
    assert report["api"].startswith("error: "), report
    assert [r for r in live.requests[before:] if not r.startswith("/replay/")] == []


def test_pages_render_and_screenshot(page: Any, live: LiveServer, evidence: Evidence, tmp_path: Path) -> None:
    """Every page type renders in the browser (without errors in the console) and can be captured."""
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" and "/replay/" not in m.location.get("url", "") else None)
    claim = evidence.claim_citing("/evidence/report.html")
    report = evidence.capture("/evidence/report.html")
    for name, path in [
        ("documents", "/"),
        ("document", f"/documents/{evidence.document_id}"),
        ("claim", f"/claims/{claim}"),
        ("source", f"/sources?url={evidence.url('/evidence/report.html')}"),
        ("capture", f"/captures/{report['id']}"),
        ("search", "/search?q=barrier"),
    ]:
        reply = page.goto(live.base + path)
        assert reply.status == 200, path
        shot = tmp_path / f"{name}.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000, name
    assert errors == []
