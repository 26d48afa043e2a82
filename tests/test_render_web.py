"""The web UI's screenshots (issue 11): a thumbnail beside each rendered capture on the claim, source and capture
pages, full size on click, and the rendered text; safe headers. Renderings are written without a browser
(tests.archives.add_rendering) into a copy of the web tests' evidence home."""
from __future__ import annotations

import io
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.archives import add_rendering, solid_png
from tests.helpers import db
from tests.test_web import attrs_of
from tests.web_fixtures import Evidence

TEXT = "Harbour commission annual report\nThe flood barrier will cost 3.5 million euros, the commission found."


@pytest.fixture(scope="module")
def rendered(evidence: Evidence, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The evidence home copied, the report page's crawl capture rendered (a tall 640 x 2000 screenshot)."""
    from fastapi.testclient import TestClient

    from archive.api import Archive
    from archive.web.app import create_app

    home = tmp_path_factory.mktemp("render-web") / "home"
    shutil.copytree(evidence.home, home)
    report = evidence.url("/evidence/report.html")
    capture = db(home).execute("SELECT id FROM captures WHERE url = ? AND record_type = 'response' AND crawl_id != "
                               "'history' ORDER BY fetched_at DESC", (report,)).fetchone()["id"]
    png = solid_png(640, 2000, (20, 90, 200))
    row = add_rendering(home, capture, TEXT, screenshot=png)
    archive = Archive.open(str(home))
    with TestClient(create_app(archive)) as client:
        yield {"client": client, "capture": capture, "png": png, "row": row, "home": home, "report": report}
    archive.close()


def _thumbs(page: str, capture: str) -> list[tuple[str, str, str]]:
    return [a for a in attrs_of(page) if a[0] == "img" and a[1] == "src" and a[2] == f"/captures/{capture}/thumbnail"]


def test_screenshot_is_served_as_archived_with_safe_headers(rendered: dict[str, Any]) -> None:
    client, capture = rendered["client"], rendered["capture"]
    shot = client.get(f"/captures/{capture}/screenshot")
    assert shot.status_code == 200 and shot.content == rendered["png"]
    assert shot.headers["content-type"] == "image/png"
    assert shot.headers["x-content-type-options"] == "nosniff"
    assert "default-src 'none'" in shot.headers["content-security-policy"]
    assert "sandbox" in shot.headers["content-security-policy"]


def test_thumbnail_is_the_top_of_the_page_scaled_down(rendered: dict[str, Any]) -> None:
    from PIL import Image

    thumb = rendered["client"].get(f"/captures/{rendered['capture']}/thumbnail")
    assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/jpeg"
    image = Image.open(io.BytesIO(thumb.content))
    assert image.size == (320, 400)  # 640 x 800 (the top, 1.25 times as tall as wide), halved
    red, green, blue = image.convert("RGB").getpixel((160, 200))
    assert abs(red - 20) < 8 and abs(green - 90) < 8 and abs(blue - 200) < 8
    assert len(thumb.content) < len(rendered["png"]) * 4


def test_rendered_text_is_plain_text(rendered: dict[str, Any]) -> None:
    text = rendered["client"].get(f"/captures/{rendered['capture']}/text")
    assert text.status_code == 200 and text.text == TEXT
    assert text.headers["content-type"] == "text/plain; charset=utf-8"
    assert text.headers["x-content-type-options"] == "nosniff"


def test_capture_without_rendering_has_no_screenshot(rendered: dict[str, Any], evidence: Evidence) -> None:
    client = rendered["client"]
    other = evidence.capture("/story.html")["id"]
    for route in ("screenshot", "thumbnail", "text"):
        missing = client.get(f"/captures/{other}/{route}")
        assert missing.status_code == 404, route
        assert "has no" in missing.text
    assert "/thumbnail" not in client.get(f"/captures/{other}").text
    assert client.get("/captures/nope/screenshot").status_code == 404


def test_claim_source_and_capture_pages_show_the_thumbnail(rendered: dict[str, Any], evidence: Evidence) -> None:
    client, capture = rendered["client"], rendered["capture"]
    claim = evidence.claim_citing("/evidence/report.html")
    pages = {"claim": client.get(f"/claims/{claim}").text,
             "source": client.get("/sources", params={"url": rendered["report"]}).text,
             "capture": client.get(f"/captures/{capture}").text}
    for name, page in pages.items():
        assert len(_thumbs(page, capture)) == 1, name
        assert f'href="/captures/{capture}/screenshot"' in page, name  # full size on click
        assert f'href="/captures/{capture}/text"' in page, name
    capture_page = pages["capture"]
    assert 'width="240" height="300"' in capture_page  # 640 x 800 shown at 240 px wide
    assert "640×2000 px" in capture_page and "test-browser 1.0" in capture_page
    assert 'width="96" height="120"' in pages["claim"]
    # the 2019 and 2021 captures were never rendered; a revisit of the rendered one shows its original's
    revisits = [r["id"] for r in db(rendered["home"]).execute("SELECT id FROM captures WHERE refers_to = ?", (capture,))]
    assert pages["source"].count("/thumbnail") == 1 + len(revisits)
    for revisit in revisits:
        assert f'src="/captures/{revisit}/thumbnail"' in pages["source"]
        assert rendered["client"].get(f"/captures/{revisit}/screenshot").content == rendered["png"]


def test_claim_api_carries_the_rendering(rendered: dict[str, Any], evidence: Evidence) -> None:
    claim = evidence.claim_citing("/evidence/report.html")
    shown = rendered["client"].get(f"/api/claims/{claim}").json()
    caps = {c["id"]: c for s in shown["sources"] for c in s["captures"]}
    assert caps[rendered["capture"]]["rendering"]["id"] == rendered["row"]["id"]
    assert caps[rendered["capture"]]["rendering"]["width"] == 640


def test_too_large_a_screenshot_falls_back_to_itself(rendered: dict[str, Any], tmp_path: Path) -> None:
    from archive.thumbnails import thumbnail

    assert thumbnail(b"not a png") is None
    assert thumbnail(solid_png(10, 10)) is not None
    huge = solid_png(8000, 8000)  # 64 million pixels: no preview decoded
    assert thumbnail(huge) is None


def test_thumbnail_decodes_only_the_top_of_a_tall_page() -> None:
    from PIL import Image

    from archive.thumbnails import thumbnail

    page = Image.new("RGB", (400, 4000), (0, 0, 255))
    page.paste((255, 0, 0), (0, 0, 400, 500))  # the top 400 x 500 is what the preview shows
    data = io.BytesIO()
    page.save(data, "PNG")
    preview = thumbnail(data.getvalue())
    assert preview is not None
    image = Image.open(io.BytesIO(preview)).convert("RGB")
    assert image.size == (320, 400)
    for y in (0, 200, 399):
        red, green, blue = image.getpixel((160, y))
        assert red > 230 and blue < 30, (y, red, green, blue)
    interlaced = io.BytesIO()
    page.save(interlaced, "PNG", interlace=1)  # decoded whole, same preview
    again = thumbnail(interlaced.getvalue())
    assert again is not None and Image.open(io.BytesIO(again)).size == (320, 400)


def test_previews_are_made_once() -> None:
    from archive.thumbnails import CACHE_ENTRIES, cached

    made: list[int] = []

    def make() -> bytes:
        made.append(1)
        return b"jpeg"

    assert cached(("test", "r1"), make) == b"jpeg" and cached(("test", "r1"), make) == b"jpeg"
    assert len(made) == 1
    for i in range(CACHE_ENTRIES):  # the oldest goes first
        cached(("test", i), make)
    cached(("test", "r1"), make)
    assert len(made) == 2 + CACHE_ENTRIES
