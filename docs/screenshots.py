"""Take the screenshots of README "Browsing the archive" (docs/screenshots/*.png).

Builds the same evidence archive the web tests use (tests/web_fixtures.py: a loopback news site
crawled by the real `citevault archive`, then `citevault check` for the verdicts), serves it with the real
app under uvicorn, and photographs each page in Debian's chromium through Playwright::

    python3 docs/screenshots.py            # from the repository root; needs /usr/bin/chromium
"""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playwright.sync_api import sync_playwright  # noqa: E402

from tests.helpers import citevault, db  # noqa: E402
from tests.test_browser import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from tests.web_fixtures import LiveServer, build_evidence  # noqa: E402

OUT = ROOT / "docs" / "screenshots"


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        evidence = build_evidence(Path(tmp) / "home")
        checked = citevault(evidence.home, "check")
        if checked.code != 0:
            print(f"citevault check failed, no verdicts in the screenshots:\n{checked}", file=sys.stderr)
        conn = db(evidence.home)
        chair = conn.execute("SELECT id FROM claims WHERE text LIKE 'The chair said%'").fetchone()["id"]
        report = evidence.capture("/evidence/report.html")
        shots = [
            ("documents", "/", 1280, 620),
            ("document", f"/documents/{evidence.document_id}", 1280, 1500),
            ("claim", f"/claims/{chair}", 1280, 1000),
            ("capture", f"/captures/{report['id']}", 1280, 1000),
            ("source", f"/sources?url={evidence.url('/evidence/report.html')}", 1280, 820),
        ]
        with LiveServer(evidence.home) as live, sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            for name, path, width, height in shots:
                page = browser.new_page(viewport={"width": width, "height": height}, device_scale_factor=1)
                page.goto(live.base + path)
                page.wait_for_load_state("networkidle")
                page.screenshot(path=str(OUT / f"{name}.png"))
                page.close()
                print(f"docs/screenshots/{name}.png  {live.base}{path}")
            rendered_shot(browser, live, evidence, report)
            browser.close()
    return 0


def rendered_shot(browser: Any, live: LiveServer, evidence: Any, report: dict[str, Any]) -> None:
    """docs/screenshots/rendered.png: the capture page of a capture rendered in a browser, its screenshot's
    thumbnail beside it. The rendering is the replayed page photographed in chromium (as a browser
    capture would make it), written with tests.archives.add_rendering."""
    from tests.archives import add_rendering

    report = dict(db(evidence.home).execute(  # the raw capture, not a browser's own response for the page
        "SELECT * FROM captures WHERE url = ? AND record_type = 'response' AND role IS NULL AND crawl_id != 'history' "
        "ORDER BY fetched_at DESC", (report["url"],)).fetchone())
    if live.archive.rendering(report["id"]) is None:  # the crawl rendered none (CITEVAULT_BROWSER=never)
        page = browser.new_page(viewport={"width": 1280, "height": 900}, device_scale_factor=1)
        page.goto(f"{live.base}/replay/{report['timestamp']}/{report['url']}")
        page.wait_for_load_state("networkidle")
        add_rendering(evidence.home, report["id"], page.inner_text("body"),
                      screenshot=page.screenshot(full_page=True), browser=f"chromium {browser.version}")
        page.close()
    page = browser.new_page(viewport={"width": 1280, "height": 760}, device_scale_factor=1)
    page.goto(f"{live.base}/captures/{report['id']}")
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(OUT / "rendered.png"))
    page.close()
    print(f"docs/screenshots/rendered.png  {live.base}/captures/{report['id']}")


if __name__ == "__main__":
    sys.exit(main())
