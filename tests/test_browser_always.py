"""``crawl --browser always``: the browser worker starts beside the raw crawl (archive.browser.run.prestart)
and renders every archived page once the crawl has recorded it; a crawl that finds nothing to render sends it
away, and leaves no process behind. Real CLI, real Chromium, the styled test pages on 127.0.0.1."""
from __future__ import annotations

import json
from pathlib import Path

import psutil
import pytest

from tests.helpers import citevault, db
from tests.server import SiteServer

pytestmark = pytest.mark.skipif(not Path("/usr/bin/chromium").exists(),
                                reason="no chromium at /usr/bin/chromium (apt-get install chromium)")


def workers_of(home: Path) -> list[psutil.Process]:
    """Browser worker processes started for ``home`` that are still alive."""
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        line = proc.info.get("cmdline") or []
        if "archive.browser.worker" in line and str(home) in line:
            found.append(proc)
    return found


def test_always_renders_every_page_and_a_crawl_with_nothing_to_render_leaves_no_worker(tmp_path: Path) -> None:
    site = SiteServer()
    site.start()
    try:
        urls = [f"{site.base_url}/styled/news.html?n=1", f"{site.base_url}/styled/story.html?n=2"]
        claims = tmp_path / "claims.jsonl"
        claims.write_text("".join(json.dumps({"text": f"Claim {i}.", "sources": [u]}) + "\n"
                                  for i, u in enumerate(urls)))
        home = tmp_path / "home"
        assert citevault(home, "add", str(claims)).code == 0
        first = citevault(home, "crawl", "--browser", "always")
        assert first.code == 0, first.err
        assert "rendered 2 of 2 page(s) in a browser" in first.err
        # the line names the worker's WARC file, as the crawl's own line names the recorder's
        named = [p.name for p in (home / "warcs").glob("*.warc.gz")]
        assert any(f"exchanges recorded in {name}" in first.err for name in named), (named, first.err)
        rows = db(home).execute("SELECT url FROM renderings ORDER BY url").fetchall()
        assert sorted(r["url"] for r in rows) == sorted(urls)
        assert workers_of(home) == []
        # nothing is due: the worker started with the crawl is sent away unused
        second = citevault(home, "crawl", "--browser", "always")
        assert second.code == 0, second.err
        assert "rendering" not in second.err
        assert db(home).execute("SELECT COUNT(*) FROM renderings").fetchone()[0] == 2
        assert workers_of(home) == []
    finally:
        site.stop()
