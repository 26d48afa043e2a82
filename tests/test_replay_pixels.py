"""Visual fidelity: the replay of an archived page looks like the live page, pixel for pixel (issue 11).

The styled news page (tests/site/styled/story.html: a stylesheet that @imports another, a tiled url()
background, a web font, srcset and <picture> images, a logo, a favicon, a lazy image that a script loads
from data-src) is screenshotted live in Debian's chromium, archived with ``citevault archive`` into a fresh
data home, replayed by a real ``citevault serve --port 0``, and screenshotted again at the same viewport:
at least 99% of the pixels must be equal. On failure the two screenshots and a diff (differing pixels in
red over a faded copy of the live page) are written under the test's tmp_path and named in the message.

The replayed page is opened on its own (``/replay/{timestamp}/{url}``), not in the UI's capture page: replay
adds no banner or frame to the archived markup (archive/web/replay.py, archive/web/rewrite.py), so nothing is
clipped. Its sandboxing Content-Security-Policy stays in force, as for any reader.

A failure is classified from what the replay's requests got back, so an expected failure cannot hide another:

* ``AssetsNotArchived``: some asset got replay's "not archived" placeholder (404 under /replay/).
* ``FontBlocked``: every asset was served from the archive but a web font did not load (e.g. blocked by CORS:
  the sandboxed replay has an opaque origin, and a font is always fetched in CORS mode).
* a plain AssertionError: the pixels differ for another reason (rewriting, layout).

Skipped when chromium, Playwright or Pillow is missing.
"""
from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import CLI, citevault
from tests.server import SiteServer
from tests.test_browser import CHROMIUM, browser  # noqa: F401 - browser: the module's Chromium fixture

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"no chromium at {CHROMIUM} (apt-get install chromium)")

PAGE = "/styled/story.html"
VIEWPORT = {"width": 800, "height": 600}  # the page is 800 px wide; screenshots are full-page
MIN_EQUAL = 0.99
#: A moment after any capture: replay redirects to the closest (the latest) capture of the page.
LATEST = "29991231235959"


class AssetsNotArchived(AssertionError):
    """The replay asked for assets the archive does not hold (replay answered its placeholder)."""


class FontBlocked(AssertionError):
    """Every asset came from the archive, but a web font failed to load in the replay."""


@dataclass
class Shot:
    path: Path
    responses: list[tuple[int, str]] = field(default_factory=list)
    console: list[str] = field(default_factory=list)
    fonts: list[str] = field(default_factory=list)  # "family: status" of document.fonts


@pytest.fixture(scope="module")
def image() -> Any:
    return pytest.importorskip("PIL.Image", reason="Pillow is needed to compare screenshots (pip install pillow)")


def screenshot(browser: Any, url: str, path: Path, allowed: tuple[str, ...]) -> Shot:
    """A full-page screenshot of ``url`` once it is loaded: network idle, fonts settled, images decoded.

    Requests to anything but ``allowed`` prefixes are refused (the replay must not reach the live site).
    """
    context = browser.new_context(viewport=VIEWPORT, device_scale_factor=1)
    shot = Shot(path)

    def route(r: Any) -> None:
        if r.request.url.startswith(allowed):
            r.continue_()
        else:
            shot.console.append(f"refused outside request: {r.request.url}")
            r.abort()

    try:
        context.route("**/*", route)
        tab = context.new_page()
        tab.set_default_timeout(15000)
        tab.on("response", lambda r: shot.responses.append((r.status, r.url)))
        tab.on("console", lambda m: shot.console.append(m.text))
        tab.goto(url, wait_until="networkidle")
        tab.evaluate("document.fonts.ready")
        tab.wait_for_function("Array.from(document.images).every(i => i.complete)")
        shot.fonts = tab.evaluate("Array.from(document.fonts).map(f => f.family + ': ' + f.status)")
        tab.screenshot(path=str(path), full_page=True, animations="disabled", caret="hide")
    finally:
        context.close()
    return shot


@dataclass
class Comparison:
    equal: int
    total: int
    diff: Path

    @property
    def share(self) -> float:
        return self.equal / self.total if self.total else 0.0


def compare(image: Any, a: Path, b: Path, diff: Path) -> Comparison:
    """Pixels equal in both (RGBA), over the larger of the two sizes (outside one image: different)."""
    with image.open(a) as one, image.open(b) as two:
        first, second = one.convert("RGBA"), two.convert("RGBA")
    width, height = max(first.width, second.width), max(first.height, second.height)
    canvas_a = image.new("RGBA", (width, height), (0, 0, 0, 0))
    canvas_a.paste(first, (0, 0))
    canvas_b = image.new("RGBA", (width, height), (0, 0, 0, 0))
    canvas_b.paste(second, (0, 0))
    from PIL import ImageChops

    bands = ImageChops.difference(canvas_a, canvas_b).split()  # R, G, B, A: a pixel differs if any band does
    mask = bands[0]
    for band in bands[1:]:
        mask = ImageChops.lighter(mask, band)
    mask = mask.point(lambda v: 255 if v else 0)
    different = mask.histogram()[255]
    faded = image.blend(canvas_a.convert("RGB"), image.new("RGB", (width, height), (255, 255, 255)), 0.7)
    faded.paste((255, 0, 0), (0, 0, width, height), mask)
    faded.save(diff)
    return Comparison(width * height - different, width * height, diff)


class Serve:
    """``citevault serve --port 0`` in a subprocess (as tests/test_web_serve.py starts it)."""

    def __init__(self, home: Path) -> None:
        env = {**os.environ, "PYTHONWARNINGS": "ignore"}
        env.pop("CITEVAULT_HOME", None)
        env.pop("CITEVAULT_DB", None)
        self.proc = subprocess.Popen([*CLI, "--home", str(home), "serve", "--port", "0"], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True, env=env)

    def __enter__(self) -> str:
        assert self.proc.stderr is not None
        line = self.proc.stderr.readline()
        assert line.startswith("citevault: serving ") and "http://127.0.0.1:" in line, line
        return line.split(" at ", 1)[1].split("/ ", 1)[0]

    def __exit__(self, *exc: object) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        if self.proc.stderr is not None:
            self.proc.stderr.close()


def placeholders(shot: Shot) -> list[str]:
    """Assets the replay answered with its "not archived" placeholder."""
    return [url for status, url in shot.responses
            if status == 404 and re.search(r"/replay/\d*(im|cs|js|if)_/", url)]


def live_assets(shot: Shot, page_url: str) -> list[str]:
    return [url for status, url in shot.responses if url != page_url]


def check_replay(browser: Any, image: Any, site: SiteServer, home: Path, tmp_path: Path, live: Shot,
                 page: str = PAGE) -> None:
    """Screenshot the replay of ``page`` archived in ``home`` and compare it with the ``live`` screenshot."""
    page_url = site.base_url + page
    with Serve(home) as base:
        replay = screenshot(browser, f"{base}/replay/{LATEST}/{page_url}", tmp_path / "replay.png", (base + "/",))
    result = compare(image, live.path, replay.path, tmp_path / "diff.png")
    if result.share >= MIN_EQUAL:
        return
    missing = placeholders(replay)
    fonts = [f for f in replay.fonts if not f.endswith(": loaded")]
    message = (f"{result.share:.2%} of {result.total} pixels equal (at least {MIN_EQUAL:.0%} wanted)\n"
               f"  live:   {live.path}\n  replay: {replay.path}\n  diff:   {result.diff} (differing pixels in red)\n"
               f"  replay responses: {replay.responses}\n  replay fonts: {replay.fonts}\n"
               f"  replay console: {replay.console}")
    if missing:
        raise AssetsNotArchived(f"{len(missing)} asset(s) not archived: {missing}\n{message}")
    if fonts:
        raise FontBlocked(f"web font(s) not loaded in the replay: {fonts}\n{message}")
    raise AssertionError(message)


@pytest.fixture
def live(browser: Any, image: Any, site_server: SiteServer, tmp_path: Path) -> Shot:
    """The live page's screenshot; every asset it loads must answer 200 (else the fixture is broken)."""
    page_url = site_server.base_url + PAGE
    shot = screenshot(browser, page_url, tmp_path / "live.png", (site_server.base_url + "/",))
    assert [r for r in shot.responses if r[0] != 200] == [], shot.responses
    assert shot.fonts == ["Citevault Blocks: loaded"], shot
    assert len(live_assets(shot, page_url)) >= 10, shot.responses  # css x2, font, 6 images, favicon, script
    return shot


def test_live_page_renders_the_same_twice(browser: Any, image: Any, site_server: SiteServer, tmp_path: Path,
                                          live: Shot) -> None:
    """The harness itself: two renders of the live page are identical (nothing time-dependent in it)."""
    again = screenshot(browser, site_server.base_url + PAGE, tmp_path / "live-again.png", (site_server.base_url + "/",))
    result = compare(image, live.path, again.path, tmp_path / "diff-live.png")
    assert result.equal == result.total, f"{result.share:.4%} equal; {live.path} {again.path} {result.diff}"


def test_replay_matches_live_page(browser: Any, image: Any, site_server: SiteServer, tmp_path: Path,
                                  live: Shot) -> None:
    """``citevault archive`` the page alone: the crawl must archive its assets for the replay to match."""
    home = tmp_path / "home"
    done = citevault(home, "archive", site_server.base_url + PAGE)
    assert done.code == 0, done
    check_replay(browser, image, site_server, home, tmp_path, live)


def test_replay_matches_live_page_when_every_asset_is_archived(browser: Any, image: Any, site_server: SiteServer,
                                                               tmp_path: Path, live: Shot) -> None:
    """Control for the harness, independent of the crawl's asset fetching: the page and each asset it loaded
    live are archived as sources of their own (the crawl stores them even though they hold no claims)."""
    home = tmp_path / "home"
    page_url = site_server.base_url + PAGE
    done = citevault(home, "archive", page_url, *live_assets(live, page_url))
    assert done.code == 0, done
    check_replay(browser, image, site_server, home, tmp_path, live)


def test_replay_of_a_page_with_an_iframe(browser: Any, image: Any, site_server: SiteServer, tmp_path: Path) -> None:
    """tests/site/styled/news.html frames frame.html, which frames deeper.html. Opened on its own, the replay
    is a sandboxed document with an opaque origin; the archived frame inside it was refused by Chromium
    whatever its ``frame-ancestors`` said (a "refused to connect" page in the frame's place), until frame
    documents (``if_``) were served without that directive (archive/web/replay.py)."""
    page = "/styled/news.html"
    live = screenshot(browser, site_server.base_url + page, tmp_path / "live.png", (site_server.base_url + "/",))
    assert any(url.endswith("/styled/frame.html") for _, url in live.responses), live.responses
    home = tmp_path / "home"
    done = citevault(home, "archive", site_server.base_url + page)
    assert done.code == 0, done
    check_replay(browser, image, site_server, home, tmp_path, live, page)
