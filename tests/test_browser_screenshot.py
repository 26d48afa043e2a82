"""The browser worker's screenshot (archive.browser.page._screenshot: one evaluation and CDP's
Page.captureScreenshot) against Playwright's own ``page.screenshot(full_page=True, animations="disabled")``,
which it replaces: the same pixels on the test site's styled and lazy pages and on a page in mid-animation,
in the Chromium the worker runs. And which Chromium that is (archive.browser.worker.find_chromium).

Skipped when no Chromium is installed or Playwright is missing.
"""
from __future__ import annotations

import asyncio
import io
from pathlib import Path
from typing import Any

import pytest

from archive.browser.worker import CHROMIUM, CHROMIUM_ARGS, find_chromium

#: finite animations end, infinite ones stop, transitions jump to their end, carets are hidden: whatever the
#: moment of the screenshot, both ways show the same still page
ANIMATED = """<!DOCTYPE html><html><head><style>
@keyframes slide { from { margin-left: 0 } to { margin-left: 600px } }
#forever { width: 80px; height: 80px; background: #c00; animation: slide 0.7s linear infinite alternate; }
#once { width: 80px; height: 80px; background: #00c; animation: slide 30s linear 1 forwards; }
#fade { width: 80px; height: 80px; background: #0a0; transition: margin-left 30s linear; }
body { height: 2400px; }
</style></head><body><div id="forever"></div><div id="once"></div><div id="fade"></div>
<input autofocus value="a caret"><script>
requestAnimationFrame(() => requestAnimationFrame(() => { document.getElementById('fade').style.marginLeft = '500px'; }));
</script></body></html>"""


def _pixels(png: bytes) -> Any:
    image_mod = pytest.importorskip("PIL.Image")
    return image_mod.open(io.BytesIO(png)).convert("RGB")


async def _both(base: str, paths: list[str]) -> list[tuple[str, bytes, bytes]]:
    from playwright.async_api import async_playwright

    from archive.browser.page import _SCROLL, VIEWPORT, _screenshot

    out = []
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            for path in paths:
                shots = []
                for way in ("playwright", "worker"):
                    context = await browser.new_context(viewport=VIEWPORT)
                    page = await context.new_page()
                    if path == "animated":
                        await page.set_content(ANIMATED, wait_until="load")
                        await page.wait_for_timeout(300)
                    else:
                        await page.goto(base + path, wait_until="load")
                        await page.evaluate(_SCROLL, 40)
                        await page.wait_for_load_state("networkidle")
                    if way == "playwright":
                        shots.append(await page.screenshot(full_page=True, type="png", animations="disabled"))
                    else:
                        shots.append(await _screenshot(page, asyncio.ensure_future(context.new_cdp_session(page))))
                    await context.close()
                out.append((path, shots[0], shots[1]))
        finally:
            await browser.close()
    return out


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"no chromium at {CHROMIUM} (apt-get install chromium-headless-shell)")
def test_worker_screenshot_matches_playwrights(site_url: str) -> None:
    pytest.importorskip("playwright.async_api")
    chops = pytest.importorskip("PIL.ImageChops")
    paths = ["/styled/news.html", "/styled/story.html", "/browser/lazy.html", "animated"]
    for path, theirs, ours in asyncio.run(_both(site_url, paths)):
        a, b = _pixels(theirs), _pixels(ours)
        assert a.size == b.size, (path, a.size, b.size)
        assert a.size[1] > 800 or path == "/styled/news.html", (path, a.size)  # full page, not the viewport
        assert chops.difference(a, b).getbbox() is None, f"{path}: the screenshots differ"


def test_find_chromium_prefers_the_setting_then_the_first_installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from archive.browser import worker

    shell, full = tmp_path / "chromium-headless-shell", tmp_path / "chromium"
    full.write_text("")
    monkeypatch.setattr(worker, "CHROMIUM_CANDIDATES", (str(shell), str(full)))
    monkeypatch.delenv("CITEVAULT_CHROMIUM", raising=False)
    assert find_chromium() == str(full)  # the shell is not installed
    shell.write_text("")
    assert find_chromium() == str(shell)
    monkeypatch.setenv("CITEVAULT_CHROMIUM", "/opt/my/chrome")
    assert find_chromium() == "/opt/my/chrome"
    monkeypatch.delenv("CITEVAULT_CHROMIUM")
    shell.unlink()
    full.unlink()
    assert find_chromium() == str(full)  # none installed: the last, for the "no chromium at ..." message
