"""Benchmark: what browser renderings cost their readers (issue 11): checks against rendered text, thumbnails,
and the HTML report's size.

1. Builds bench/verify.py's data home of N captures (default 2000), then copies it and gives every capture a
   rendering (its main text as the rendered text, a small PNG) with ``archive.browser.rendering.write_rendering``,
   as a browser pass would.
2. Times ``verify_document_captures`` (what ``citevault check`` runs) on both homes: cold (texts read from the
   WARC records) and warm (texts stored). With renderings every capture is matched against two texts.
   Prints captures/s and the ratio.
3. Times a thumbnail (:mod:`archive.thumbnails`) of a 1280 x 8000 full-page screenshot, and prints the sizes of
   the PNG and its preview, and of an HTML report of 60 rendered sources (the embedding cap).

Usage::

    python bench/render.py                  # 2000 captures
    python bench/render.py --captures 300   # quick run
"""
from __future__ import annotations

import argparse
import io
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.verify import build, timed


def render_all(home: Path) -> int:
    """A rendering for every 2xx capture: the capture's stored main text as its rendered text."""
    from sqlalchemy import text

    from archive.api import Archive
    from archive.browser.rendering import RenderedPage, write_rendering
    from archive.index import writes
    from archive.warc.store import WarcStore
    from tests.archives import solid_png

    archive = Archive.open(str(home))
    engine = archive.engine()
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT c.url, c.warc_record_id, t.text FROM captures c JOIN capture_texts t "
            "ON t.key = 'sha256:' || c.payload_sha256 WHERE c.http_status = 200")).all()
    png = solid_png(64, 48)
    captures, renderings = [], []
    with WarcStore(archive.home.warcs) as store:
        for url, record_id, body in rows:
            written = write_rendering(store, RenderedPage(url=url, refers_to=record_id, concurrent_to=None,
                                                          screenshot=png, text=body, browser="bench 1.0"))
            captures += written.captures
            renderings.append(written.row)
    with engine.begin() as conn:
        writes.add_captures(conn, captures)
        writes.add_renderings(conn, renderings)
    archive.close()
    return len(renderings)


def tall_png(width: int = 1280, height: int = 8000) -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (width, height), (255, 253, 245))
    draw = ImageDraw.Draw(image)
    for y in range(0, height, 24):  # lines of "text"
        draw.rectangle((80, y + 6, 80 + (y * 37) % 1000 + 100, y + 16), fill=(40, 40, 40))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--captures", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "raw" / "home"
        raw.parent.mkdir()
        build(raw, args.captures)
        timed(raw, 1, cold=True)  # stores the texts render_all reads
        rendered = Path(tmp) / "rendered" / "home"
        shutil.copytree(raw.parent, rendered.parent)
        count = render_all(rendered)
        print(f"{args.captures} captures, {count} of them rendered in the second home")
        for label, cold in (("cold", True), ("warm", False)):
            figures = {}
            for name, home in (("raw only", raw), ("with renderings", rendered)):
                seconds, stats = timed(home, 1, cold=cold, force=not cold)
                figures[name] = stats.checked / seconds  # type: ignore[attr-defined]
            ratio = figures["with renderings"] / figures["raw only"]
            print(f"check {label}: raw only {figures['raw only']:.0f} captures/s, with renderings "
                  f"{figures['with renderings']:.0f} captures/s ({ratio:.2f}x)")

    from archive.report.html import render_html
    from archive.thumbnails import thumbnail

    png = tall_png()
    started = time.perf_counter()
    for _ in range(5):
        preview = thumbnail(png)
    per = (time.perf_counter() - started) / 5
    assert preview is not None
    print(f"thumbnail of a 1280x8000 PNG ({len(png) // 1024} KB): {per * 1000:.0f} ms, {len(preview) // 1024} KB JPEG")
    uri = "data:image/jpeg;base64," + __import__("base64").b64encode(preview).decode()
    shot = {"screenshot": True, "screenshot_url": "https://e.org/s.png", "width": 1280, "height": 8000,
            "browser": "chromium", "cut": None, "rendered_at": "2026-12-04T00:00:00Z"}
    claims = [{"id": f"d.{i}", "position": i, "text": "A claim.", "quote": None, "state": "archived",
               "sources": [{"url": f"https://e.org/{i}", "state": "archived", "captures": 1, "last_fetch": None,
                            "verification": None,
                            "evidence": {"id": f"c{i}", "archived_url": "https://e.org/r", "rendering": shot,
                                         "fetched_at": "2026-12-04T00:00:00Z", "http_status": 200}}]}
              for i in range(60)]
    totals = dict.fromkeys(("claims", "sourced_claims", "unsourced_claims", "sources", "archived", "changed", "gone",
                            "failed", "pending", "quotes", "quotes_found", "quotes_close", "quotes_not_found",
                            "quotes_unreadable", "quotes_unchecked", "key_terms_supported", "key_terms_partial",
                            "key_terms_unsupported", "passages_moved", "passages_edited", "passages_deleted"), 0)
    report = {"document": {"id": "d", "url": "https://e.org/", "title": "Bench", "origin": None},
              "totals": totals, "claims": claims, "generated_at": "2026-12-04T00:00:00Z", "generator": "bench"}
    html = render_html(report, {f"c{i}": uri for i in range(60)})
    print(f"HTML report of 60 rendered sources, 60 thumbnails embedded: {len(html) // 1024} KB")


if __name__ == "__main__":
    main()
