"""Checks against rendered text (archive.checks.rendered): a script-built page's quote is ``found`` in the
rendering, the verdict says which text it used, a capture rendered after it was checked is checked again,
and drift compares rendered texts. Renderings are written without a browser (tests.archives.add_rendering).
"""
from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.archives import add_rendering, copy_home
from tests.helpers import citevault, db
from tests.server import SiteServer

QUOTE = "the tide gauge read four metres at dawn"
SHELL = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>Storm live</title></head>
<body><main><p id="story">Loading the story…</p>
<script>fetch("story.json").then(r => r.json()).then(d => { story.textContent = d.text; });</script></main></body></html>"""
PLAIN = f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>Storm report</title></head>
<body><main><article><h1>Storm report</h1><p>The harbour master said {QUOTE}, and the barrier held.</p>
<p>Residents were told to stay inside until the evening tide had passed the old wall.</p></article></main></body></html>"""
RENDERED = f"Storm live\nThe harbour master said {QUOTE}, and the barrier held through the night."


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SiteServer]:
    root = tmp_path_factory.mktemp("render-site")
    (root / "live.html").write_text(SHELL, encoding="utf-8")
    (root / "report.html").write_text(PLAIN, encoding="utf-8")
    server = SiteServer(root=root)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def crawled(site: SiteServer, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two claims quoting the same words, one citing the script-built page, one the plain page; a claim
    without a quote on the script-built page. Archived and checked (the crawl's own check)."""
    tmp = tmp_path_factory.mktemp("render-home")
    claims = tmp / "claims.jsonl"
    rows = [
        {"text": f"The harbour master said “{QUOTE}”.", "quote": QUOTE, "sources": [f"{site.base_url}/live.html"]},
        {"text": f"The report says “{QUOTE}”.", "quote": QUOTE, "sources": [f"{site.base_url}/report.html"]},
        {"text": "The harbour barrier held through the night.", "sources": [f"{site.base_url}/live.html"]},
    ]
    claims.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    result = citevault(tmp / "home", "archive", str(claims))
    assert result.code == 0, result
    return tmp / "home"


def _capture(home: Path, page: str) -> str:
    row = db(home).execute("SELECT id FROM captures WHERE url LIKE ? AND http_status = 200", (f"%/{page}",)).fetchone()
    return str(row["id"])


def _shown(home: Path, part: str) -> dict[str, Any]:
    """The claim JSON capture (``show --json``) of the claim whose text holds ``part``."""
    claim = db(home).execute("SELECT id FROM claims WHERE text LIKE ?", (f"%{part}%",)).fetchone()["id"]
    shown = citevault(home, "show", claim, "--json").json()
    (source,) = shown["sources"]
    (capture,) = [c for c in source["captures"] if c["http_status"] == 200]
    return dict(capture)


def _verification(home: Path, part: str) -> dict[str, Any]:
    return dict(_shown(home, part)["verification"])


def test_raw_text_before_rendering(crawled: Path) -> None:
    before = _shown(crawled, "The harbour master said")
    assert before["verification"]["verdict"] == "not_found" and before["verification"]["text"] == "raw", before
    assert before["rendering"] is None


def test_rendered_text_finds_the_quote(crawled: Path, tmp_path: Path) -> None:
    home = copy_home(crawled, tmp_path / "home")
    rendering = add_rendering(home, _capture(home, "live.html"), RENDERED)
    add_rendering(home, _capture(home, "report.html"), "Storm report\nThe page was cut short by a cookie wall.")
    check = citevault(home, "check", "--json")
    assert check.code == 0, check
    assert check.json()["checked"] == 3, check  # the three verdicts of rendered captures, nothing else
    found = _verification(home, "The harbour master said")
    assert found["verdict"] == "found" and found["text"] == "rendered", found
    assert found["passage"] == QUOTE and RENDERED[found["span"][0]:found["span"][1]] == QUOTE
    kept = _verification(home, "The report says")  # the rendering lacks it: the raw verdict stays
    assert kept["verdict"] == "found" and kept["text"] == "raw", kept
    terms = _verification(home, "barrier held through")
    assert terms["text"] == "rendered" and terms["verdict"] == "supported", terms
    stored = db(home).execute("SELECT key, kind, text FROM capture_texts WHERE key = ?",
                              (f"rendering:{rendering['id']}",)).fetchone()
    assert stored["kind"] == "rendered" and stored["text"] == RENDERED
    again = citevault(home, "check", "--json")
    assert again.json()["checked"] == 0, again
    claim = db(home).execute("SELECT id FROM claims WHERE text LIKE '%harbour master said%'").fetchone()["id"]
    human = citevault(home, "show", claim)
    assert "quote found" in human.out and "in the rendered page" in human.out, human
    assert "rendered " in human.out and "by test-browser 1.0: screenshot 4x3 " in human.out, human


def test_show_json_carries_the_rendering(crawled: Path, tmp_path: Path) -> None:
    home = copy_home(crawled, tmp_path / "home")
    row = add_rendering(home, _capture(home, "live.html"), RENDERED, cut="time")
    shown = _shown(home, "The harbour master said")["rendering"]
    assert shown == {
        "id": row["id"], "rendered_at": shown["rendered_at"], "browser": "test-browser 1.0", "width": 4,
        "height": 3, "screenshot_warc_file": row["screenshot_warc_file"], "screenshot_offset": row["screenshot_offset"],
        "text_warc_file": row["text_warc_file"], "text_offset": row["text_offset"], "text_chars": len(RENDERED),
        "cut": "time"}
    assert shown["rendered_at"].endswith("Z")


def test_rendered_again_is_checked_again(crawled: Path, tmp_path: Path) -> None:
    home = copy_home(crawled, tmp_path / "home")
    capture = _capture(home, "live.html")
    add_rendering(home, capture, RENDERED)
    assert citevault(home, "check").code == 0
    add_rendering(home, capture, "Storm live\nThe story could not be loaded.")  # a newer rendering
    check = citevault(home, "check", "--json")
    assert check.json()["checked"] == 2, check
    assert _verification(home, "The harbour master said")["verdict"] == "not_found"


def test_drift_compares_rendered_texts(crawled: Path, tmp_path: Path) -> None:
    from archive.api import Archive
    from archive.recheck.drift import compared_texts, main_text_changed

    home = copy_home(crawled, tmp_path / "home")
    live, report = _capture(home, "live.html"), _capture(home, "report.html")
    archive = Archive.open(str(home))
    try:
        with archive.engine().begin() as conn:
            assert main_text_changed(conn, archive.home, live, report) is True  # raw main texts differ
        add_rendering(home, live, RENDERED)
        add_rendering(home, report, RENDERED + "\n")
        with archive.engine().begin() as conn:
            assert main_text_changed(conn, archive.home, live, report) is False  # same rendered text
            old, new = compared_texts(conn, archive.home, live, report)
            assert old is not None and old.kind == "rendered" and new is not None and new.text == RENDERED + "\n"
    finally:
        archive.close()


# -- the report (archive.report.screenshots) --------------------------------------------------------------
def test_html_report_embeds_a_thumbnail_and_links_the_screenshot(crawled: Path, tmp_path: Path) -> None:
    import base64
    import io
    import re

    from PIL import Image

    from tests.archives import solid_png

    home = copy_home(crawled, tmp_path / "home")
    live = _capture(home, "live.html")
    add_rendering(home, live, RENDERED, screenshot=solid_png(800, 3000, (10, 120, 60)))
    document = db(home).execute("SELECT id FROM documents").fetchone()["id"]
    html = citevault(home, "report", document, "--format", "html", "--replay-base", "https://ev.example/",
                     binary=True)
    assert html.code == 0, html
    page = html.out.decode("utf-8")
    images = re.findall(r"\.(shot\d+)\{background-image:url\(data:image/jpeg;base64,([A-Za-z0-9+/=]+)\)\}", page)
    assert len(images) == 1, page  # once, though two claims cite the page
    name, data = images[0]
    assert Image.open(io.BytesIO(base64.b64decode(data))).size == (320, 400)  # the top 800 x 1000, halved
    shown = re.findall(rf'<a class="shot {name}" href="([^"]+)" role="img" [^>]*style="width:160px;height:200px">', page)
    assert shown == [f"https://ev.example/captures/{live}/screenshot"] * 2
    assert f'<a href="https://ev.example/captures/{live}/screenshot">' in page
    assert "verdict from the rendered text" in page
    assert not re.search(r'(?:src|href)="(?:https?:)?//[^"]*\.(?:css|js|png|jpe?g)"', page)  # nothing loaded from elsewhere
    assert not re.search(r"<(?:script|link|iframe)\b", page)
    markdown = citevault(home, "report", document, "--replay-base", "https://ev.example/")
    assert f"[screenshot](https://ev.example/captures/{live}/screenshot)" in markdown.out
    assert "rendered by test-browser 1.0 (screenshot 800×3000 px); verdict from the rendered text" in markdown.out
    as_json = citevault(home, "report", document, "--format", "json", "--replay-base", "https://ev.example/").json()
    shots = [s["evidence"]["rendering"] for c in as_json["claims"] for s in c["sources"]
             if s["evidence"] and s["evidence"]["rendering"]]
    assert shots and shots[0]["width"] == 800 and shots[0]["screenshot"] is True
    assert shots[0]["text_url"] == f"https://ev.example/captures/{live}/text"


def test_report_previews_are_capped() -> None:
    from archive.report.screenshots import report_previews

    def source(i: int) -> dict[str, Any]:
        return {"evidence": {"id": f"c{i}", "rendering": {"screenshot": True}}}

    report = {"claims": [{"sources": [source(i) for i in range(5)]}, {"sources": [source(0)]}]}
    made: list[str] = []

    def preview(capture_id: str) -> bytes:
        made.append(capture_id)
        return b"x"

    previews, left_out = report_previews(report, preview, limit=3)
    assert made == ["c0", "c1", "c2"] and left_out == 2
    assert previews["c0"] == "data:image/jpeg;base64,eA=="
