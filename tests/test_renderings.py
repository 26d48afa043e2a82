"""Renderings in the index without a browser (README "Browser capture"): tests.archives.add_rendering writes
a screenshot and a rendered text for an existing capture, as the browser worker would; the reads, reindex
and verify see it. tests/test_browser_capture.py makes real ones with Chromium.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.archives import add_rendering, copy_home, solid_png
from tests.helpers import citevault, db


@pytest.fixture
def rendered(crawled_archive: Any, tmp_path: Path) -> tuple[Path, str, str, dict[str, Any]]:
    home = copy_home(crawled_archive.home, tmp_path / "home")
    (capture_id, url) = db(home).execute(
        "SELECT id, url FROM captures WHERE record_type = 'response' AND http_status = 200 AND source_id IS NOT NULL "
        "AND mime = 'text/html' ORDER BY id LIMIT 1").fetchone()
    row = add_rendering(home, capture_id, "What the reader saw.", screenshot=solid_png(5, 7))
    return home, capture_id, url, row


def test_rendering_reads(rendered: tuple[Path, str, str, dict[str, Any]]) -> None:
    from archive.api import Archive

    home, capture_id, url, row = rendered
    archive = Archive.open(str(home))
    try:
        found = archive.rendering(capture_id)
        assert found is not None and found["id"] == row["id"] and found["url"] == url
        assert (found["width"], found["height"], found["text_chars"], found["cut"]) == (5, 7, 20, None)
        assert found["rendered_at"].endswith("Z") and found["browser"] == "test-browser 1.0"
        assert archive.rendered_text(capture_id) == "What the reader saw."
        with archive.open_screenshot(capture_id) as shot:
            assert b"".join(shot.chunks()) == solid_png(5, 7) and shot.content_type == "image/png"
        assert archive.renderings([capture_id, "no-such-capture"]) == {capture_id: found}
        other = db(home).execute("SELECT id FROM captures WHERE id != ? LIMIT 1", (capture_id,)).fetchone()[0]
        assert archive.rendering(other) is None and archive.rendered_text(other) is None
    finally:
        archive.close()
    roles = dict(db(home).execute("SELECT role, url FROM captures WHERE role IN ('screenshot', 'rendered-text')"))
    assert roles == {"screenshot": f"urn:screenshot:{url}", "rendered-text": f"urn:text:{url}"}


def test_reindex_restores_the_rendering_and_verify_covers_it(rendered: tuple[Path, str, str, dict[str, Any]]) -> None:
    home, _, _, _ = rendered
    query = "SELECT * FROM renderings ORDER BY id"
    before = [tuple(r) for r in db(home).execute(query)]
    result = citevault(home, "reindex", "--force")
    assert result.code == 0, result
    assert [tuple(r) for r in db(home).execute(query)] == before
    checked = citevault(home, "verify", "--json")
    assert checked.code == 0, checked
    assert json.loads(checked.out)["problems"] == []
    # a damaged screenshot record is named by verify
    name = before[0][5]  # screenshot_warc_file
    path = home / "warcs" / name
    data = bytearray(path.read_bytes())
    offset, length = before[0][6], before[0][7]
    data[offset + length // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    bad = citevault(home, "verify", "--json")
    assert bad.code == 1 and any(p["offset"] == offset for p in json.loads(bad.out)["problems"]), bad
