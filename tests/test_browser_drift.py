"""Drift of a script-built page re-crawled with the browser (issue 11: "drift uses the rendered text when there
is one"). The raw crawl decides a source's state before the browser pass renders the page; for a page rendered
in the same crawl, that decision is taken again from the rendered texts of the evidence and of the new capture
(archive.recheck.rendered_state). Real CLI, real Chromium, the test site's script-built page copied twice
into a folder of the test's own on 127.0.0.1, so its shell and its JSON can change between the crawls.
"""
from __future__ import annotations

import json
import shutil
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import citevault, db, warcio_check
from tests.server import SITE_ROOT, SiteServer

pytestmark = pytest.mark.skipif(not Path("/usr/bin/chromium").exists(),
                                reason="no chromium at /usr/bin/chromium (apt-get install chromium)")

T0 = datetime(2027, 3, 1, 9, 0, 0)
SHELL = (SITE_ROOT / "browser" / "script.html").read_text("utf-8")
STORY = json.loads((SITE_ROOT / "browser" / "story.json").read_text("utf-8"))["paragraphs"]
QUOTE = "rebuilt in 1921 by a crew of forty volunteers"


def _write(root: Path, name: str, shell: str, paragraphs: list[str]) -> None:
    folder = root / name
    folder.mkdir(exist_ok=True)
    (folder / "script.html").write_text(shell, "utf-8")
    (folder / "story.json").write_text(json.dumps({"paragraphs": paragraphs}), "utf-8")


def _run(home: Path, now: datetime, *args: str) -> Any:
    result = citevault(home, *args, env={"CITEVAULT_NOW": now.isoformat()})
    assert result.code == 0, result
    return result


def _states(home: Path) -> dict[str, str]:
    return {url.split("/")[-2]: state for url, state in db(home).execute("SELECT url, state FROM sources")}


def test_a_recrawl_decides_drift_from_the_rendered_texts(tmp_path: Path) -> None:
    root = tmp_path / "site"
    root.mkdir()
    # "shell": the raw page changes (its placeholder is reworded), what a reader sees does not
    # "story": the raw page is byte for byte the same, the article its script loads is edited
    _write(root, "shell", SHELL, STORY)
    _write(root, "story", SHELL, STORY)
    site = SiteServer(root=root)
    site.start()
    try:
        urls = {name: f"{site.base_url}/{name}/script.html" for name in ("shell", "story")}
        claims = tmp_path / "claims.jsonl"
        claims.write_text("".join(json.dumps({"text": "Volunteers rebuilt the harbour wall in 1921.",
                                              "sources": [url], "quote": QUOTE}) + "\n" for url in urls.values()))
        home = tmp_path / "home"
        first = _run(home, T0, "archive", "--every", "7d", "--browser", "auto", str(claims))
        assert "rendered 2 of 2 page(s) in a browser" in first.err, first.err
        assert _states(home) == {"shell": "archived", "story": "archived"}
        assert "decided again" not in first.err  # a first fetch has nothing to drift from

        _write(root, "shell", SHELL.replace("Loading…", "Loading the latest harbour story, please wait…"), STORY)
        _write(root, "story", SHELL, [STORY[0].replace("forty", "fifty"), *STORY[1:]])
        second = _run(home, T0 + timedelta(days=8), "crawl", "--due", "--browser", "auto")
        assert "rendered 2 of 2 page(s) in a browser" in second.err, second.err
        # the raw captures said the opposite: the shell's text changed, the story's bytes did not
        assert _states(home) == {"shell": "archived", "story": "changed"}, second.err
        assert "decided again from the rendered text" in second.err, second.err

        conn = db(home)
        # the crawl's event says the same, and the crawl's counts follow
        events = {url.split("/")[-2]: state for url, state in conn.execute(
            "SELECT s.url, e.state FROM source_events e JOIN sources s ON s.id = e.source_id "
            "WHERE e.at = (SELECT MAX(at) FROM source_events WHERE source_id = e.source_id)")}
        assert events == {"shell": "archived", "story": "changed"}
        latest = conn.execute("SELECT requested, archived, failed FROM crawls ORDER BY started_at DESC").fetchone()
        assert tuple(latest) == (2, 1, 1)

        # `status` and `diff` read what the reader saw
        status = json.loads(_run(home, T0 + timedelta(days=8), "status", "--json").out)
        assert [doc["states"] for doc in status] == [{"archived": 1, "changed": 1}]  # the document's counts follow
        problems = [p for doc in status for p in doc["problems"]]
        assert [(p["url"], p["state"]) for p in problems] == [(urls["story"], "changed")]
        assert problems[0]["change"] == "meaning", problems  # forty -> fifty: a number
        shown = json.loads(_run(home, T0 + timedelta(days=8), "diff", urls["story"], "--json").out)
        assert "+" in shown[0]["diff"] and "fifty" in shown[0]["diff"], shown

        # a re-crawl where nothing a reader sees changed is not a change, whatever the shell does
        _write(root, "story", SHELL.replace("Loading…", "Please wait…"), [STORY[0].replace("forty", "fifty"),
                                                                         *STORY[1:]])
        third = _run(home, T0 + timedelta(days=16), "crawl", "--due", "--browser", "auto")
        assert _states(home) == {"shell": "archived", "story": "changed"}, third.err  # still changed vs. the evidence

        # reindex restores the states from the WARC files alone (the verdict records written after rendering)
        def rows() -> tuple[Any, ...]:
            return ([tuple(r) for r in conn.execute("SELECT id, state, evidence_capture, latest_good_capture, "
                                                    "failures FROM sources ORDER BY id")],
                    [tuple(r) for r in conn.execute("SELECT source_id, state, outcome, capture_id, crawl_id "
                                                    "FROM source_events ORDER BY source_id, at, capture_id")],
                    [tuple(r) for r in conn.execute("SELECT id, requested, archived, failed FROM crawls ORDER BY id")])

        before = rows()
        conn.close()
        assert citevault(home, "reindex", "--force").code == 0
        conn = db(home)
        assert rows() == before
        assert citevault(home, "verify").code == 0
        for path in sorted((home / "warcs").glob("*.warc.gz")):
            check = warcio_check(path)
            assert check.returncode == 0 and "invalid" not in check.stdout, (path, check.stdout, check.stderr)
    finally:
        site.stop()
        shutil.rmtree(tmp_path / "site", ignore_errors=True)
