"""Browser capture seen by its readers, with a real browser (issue 11): ``citevault archive --browser auto`` of
the script-built fixture page (tests/site/browser/script.html) gives the quote ``found`` in the rendered text
at the end of the crawl, and the web UI's thumbnail of its screenshot loads in Chromium and opens full size.
Skipped only when chromium is not installed."""
from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import citevault
from tests.server import SiteServer
from tests.test_browser import CHROMIUM, browser  # noqa: F401 - the module's Chromium
from tests.web_fixtures import LiveServer

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"no chromium at {CHROMIUM} (apt-get install chromium)")

QUOTE = "rebuilt in 1921 by a crew of forty volunteers"  # what the page's script inserts (story.json)


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    site = SiteServer()
    site.start()
    tmp = tmp_path_factory.mktemp("render-browser")
    claims = tmp / "claims.jsonl"
    claims.write_text(json.dumps({"text": "Volunteers rebuilt the harbour wall in 1921.", "quote": QUOTE,
                                  "sources": [f"{site.base_url}/browser/script.html"]}) + "\n")
    try:
        result = citevault(tmp / "home", "archive", str(claims), "--browser", "auto", "--json")
    finally:
        site.stop()
    assert result.code == 0, result
    yield {"home": tmp / "home"}


def _claim(home: Path) -> dict[str, Any]:
    from archive.api import Archive

    archive = Archive.open(str(home))
    try:
        (claim,) = archive.show_claims([row["id"] for row in archive.claims()])
        return dict(claim)
    finally:
        archive.close()


def test_the_crawls_own_check_finds_the_quote_in_the_rendered_text(crawled: dict[str, Any]) -> None:
    claim = _claim(crawled["home"])
    (source,) = claim["sources"]
    (capture,) = [c for c in source["captures"] if c["http_status"] == 200]
    assert capture["rendering"] is not None and capture["rendering"]["width"] == 1280
    assert capture["verification"]["verdict"] == "found", capture["verification"]
    assert capture["verification"]["text"] == "rendered"
    assert capture["verification"]["passage"] == QUOTE


def test_the_thumbnail_loads_in_chromium_and_opens_full_size(crawled: dict[str, Any], browser: Any) -> None:  # noqa: F811
    claim = _claim(crawled["home"])
    capture = next(c for s in claim["sources"] for c in s["captures"] if c["rendering"])
    with LiveServer(crawled["home"]) as live:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        try:
            page = context.new_page()
            page.set_default_timeout(15000)
            page.goto(f"{live.base}/claims/{claim['id']}")
            thumb = page.locator(f'img[src="/captures/{capture["id"]}/thumbnail"]')
            thumb.scroll_into_view_if_needed()  # loading="lazy": loaded once on screen
            page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=thumb.element_handle())
            assert thumb.evaluate("img => img.naturalWidth") == 320
            assert page.locator("span.tag", has_text="rendered text").count() >= 1
            thumb.click()
            page.wait_for_url(f"**/captures/{capture['id']}/screenshot")
            assert page.evaluate("document.images[0].naturalWidth") == 1280
        finally:
            context.close()
