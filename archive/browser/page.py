"""One page rendered in Chromium through a recording slot: loaded, scrolled (lazy images), photographed,
its text read, all within a hard time limit after which whatever was captured is kept (the page as it
stands then is still photographed, within a short grace, when its renderer answers).

Each page gets a fresh browser context (no cookies, storage or cache from another page), with service
workers blocked, ``window.open`` a no-op and popups closed; once the page has loaded, the proxy answers every
top-level navigation with ``204 No Content`` so the page stays where it is (no request interception in the
browser: Playwright's routing costs a round trip through its driver per request). Chromium's profile is a temporary directory
of the worker; the browser never sees the data home (the proxy writes the WARC files).
"""
from __future__ import annotations

import asyncio
import base64
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from archive.browser.guard import Destinations, origin_of
from archive.browser.proxy import PageRun, Slot

VIEWPORT = {"width": 1280, "height": 800}
IDLE = 5.0  # seconds of waiting for the network to go quiet, at most, after "load" and after scrolling
QUIET = 0.2  # seconds without an exchange in flight that count as "the page is done loading"
#: seconds after the scroll in which the requests it causes (lazy images: an IntersectionObserver answers on
#: the next frame) are waited for even when the network had been silent for QUIET already
AFTER_SCROLL = 0.1
MAX_SCROLLS = 40
GRACE = 3.0  # seconds past the time limit for the screenshot and the text of a page cut at the limit  # viewport heights scrolled through at most to wake lazy images

_NO_POPUPS = "window.open = function () { return null; };"
# Scroll down a viewport at a time (lazy images load as they come into view), then back to the top.
_SCROLL = """async (max) => {
  const step = window.innerHeight || 800;
  for (let i = 0; i < max; i++) {
    const before = window.scrollY;
    window.scrollBy(0, step);
    await new Promise(r => setTimeout(r, 30));
    if (window.scrollY === before) break;
  }
  window.scrollTo(0, 0);
}"""
_TEXT = "document.body ? document.body.innerText : ''"
#: Before the screenshot, what Playwright's ``animations="disabled"`` and ``caret="hide"`` do (finite CSS
#: animations and transitions jump to their end, infinite ones stop, text carets turn transparent, in the
#: document, its open shadow roots and its same-origin frames), then wait for the web fonts; returns the full
#: page's size by Playwright's rule. One call instead of Playwright's six round trips (bench/README.md).
_PREPARE = """async () => {
  const roots = [];
  const collect = (root) => {
    roots.push(root);
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_ELEMENT);
    for (let node = walker.currentNode; node; node = walker.nextNode()) {
      if (node.shadowRoot) collect(node.shadowRoot);
      if (node.tagName === 'IFRAME' || node.tagName === 'FRAME') {
        try { if (node.contentDocument) collect(node.contentDocument); } catch (e) {}
      }
    }
  };
  collect(document);
  for (const root of roots) {
    try {
      for (const a of root.getAnimations()) {
        try {
          if (!a.effect || a.playbackRate === 0) continue;
          if (Number.isFinite(a.effect.getComputedTiming().endTime)) a.finish(); else a.cancel();
        } catch (e) {}
      }
      root.querySelectorAll('input,textarea,[contenteditable]').forEach(
        (el) => el.style.setProperty('caret-color', 'transparent', 'important'));
    } catch (e) {}
  }
  await document.fonts.ready;
  const b = document.body, d = document.documentElement;
  if (!b || !d) return null;
  return [Math.max(b.scrollWidth, d.scrollWidth, b.offsetWidth, d.offsetWidth, b.clientWidth, d.clientWidth),
          Math.max(b.scrollHeight, d.scrollHeight, b.offsetHeight, d.offsetHeight, b.clientHeight, d.clientHeight)];
}"""
PREPARE_LIMIT = 2.0  #: seconds for :data:`_PREPARE`; past them (a page that never settles its fonts) the photo is taken anyway


@dataclass
class PageJob:
    """A raw capture to render: its URL and the WARC-Record-ID of its response record."""

    url: str
    refers_to: str
    crawl_id: str | None = None


@dataclass
class PageResult:
    job: PageJob
    run: PageRun
    screenshot: bytes | None = None
    text: str | None = None
    cut: str | None = None
    popups: int = 0
    problems: list[str] = field(default_factory=list)
    #: wall seconds of each step (context, load, scroll, quiet, screenshot, text, close, written), for
    #: bench/browser.py: where a page's time goes
    timings: dict[str, float] = field(default_factory=dict)

    def step(self, name: str, since: float) -> float:
        now = asyncio.get_running_loop().time()
        self.timings[name] = round(now - since, 4)
        return now


async def _bounded(awaitable: Any, deadline: float, what: str, result: PageResult) -> Any:
    """``awaitable`` if it finishes before ``deadline``; else None, the page marked cut by time."""
    loop = asyncio.get_running_loop()
    left = deadline - loop.time()
    try:
        if left <= 0:
            raise TimeoutError
        return await asyncio.wait_for(awaitable, left)
    except TimeoutError:
        result.cut = "time"
        result.problems.append(f"{what}: time limit")
    except Exception as exc:  # noqa: BLE001 - a page that breaks the browser still yields what it captured
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if "Timeout" in type(exc).__name__:
            result.cut = "time"
        result.problems.append(f"{what}: {message}"[:200])
    if asyncio.iscoroutine(awaitable):
        awaitable.close()
    return None


@dataclass
class Opened:
    """A fresh browser context on a slot's proxy and its one page, still blank (it has asked for nothing)."""

    context: Any
    page: Any


async def open_page(browser: Any, slot: Slot) -> Opened:
    """A throwaway context (no cookies, storage or cache from another page) and its page. Opening the page
    starts its renderer, the larger part of the 0.2-0.4 s this takes: the worker opens a lane's next page
    while the lane's current one is photographed (archive.browser.worker)."""
    context = await browser.new_context(proxy={"server": slot.proxy_url}, service_workers="block",
                                        viewport=VIEWPORT, accept_downloads=False)
    try:
        await context.add_init_script(_NO_POPUPS)
        return Opened(context, await context.new_page())
    except BaseException:
        try:
            await asyncio.wait_for(context.close(), 10)
        except Exception:  # noqa: BLE001, S110 - the browser kills it with the context
            pass
        raise


async def render(browser: Any, slot: Slot, job: PageJob, *, time_limit: float,
                 allowed: frozenset[tuple[str, int]] = frozenset(), opened: Opened | None = None,
                 settled: Callable[[], None] | None = None) -> PageResult:
    """Load ``job.url`` through ``slot`` (in ``opened``, a page opened for it ahead, or a new one) and return
    what it showed; the slot's exchanges are written as they complete. Never takes (much) longer than
    ``time_limit`` seconds. ``settled`` is called once the page is loaded and quiet, before its screenshot."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + time_limit
    run = PageRun(job.url, job.crawl_id, Destinations(origin_of(job.url), allowed))
    result = PageResult(job, run)
    slot.begin(run)
    session: asyncio.Future[Any] | None = None
    mark = loop.time()
    if opened is None:
        opened = await open_page(browser, slot)
    context, page = opened.context, opened.page
    try:
        mark = result.step("context", mark)

        def on_page(other: Any) -> None:  # a popup the init script missed (a target=_blank link...)
            if other is not page:
                result.popups += 1
                asyncio.ensure_future(other.close())

        context.on("page", on_page)

        await _bounded(page.goto(job.url, wait_until="load", timeout=0), deadline, "load", result)
        run.loaded = True  # from now on the proxy answers a top-level navigation with 204 (archive.browser.proxy)
        session = asyncio.ensure_future(context.new_cdp_session(page))  # for the screenshot, while the page settles
        mark = result.step("load", mark)
        if result.cut is None:
            await _bounded(page.evaluate(_SCROLL, MAX_SCROLLS), deadline, "scroll", result)
            mark = result.step("scroll", mark)
            await _quiet(run, min(deadline, loop.time() + IDLE))
            mark = result.step("quiet", mark)
        if settled is not None:
            settled()
        if result.cut is not None:
            # time is up: stop the page's downloads, then photograph what it shows, within a short grace
            await loop.run_in_executor(None, slot.cut, run)
            deadline = loop.time() + GRACE
        result.screenshot = await _bounded(_screenshot(page, session), deadline, "screenshot", result)
        mark = result.step("screenshot", mark)
        result.text = await _bounded(page.evaluate(_TEXT), deadline, "text", result)
        mark = result.step("text", mark)
    finally:
        if session is not None and not session.done():
            session.cancel()
        try:
            await asyncio.wait_for(context.close(), 2 if result.cut else 10)
        except Exception:  # noqa: BLE001, S110 - a hung renderer: the browser kills it with the context
            pass
        mark = result.step("close", mark)
        # off the event loop: the other pages go on while this one's last exchanges are written
        await loop.run_in_executor(None, slot.end, run, deadline if result.cut is None else loop.time())
        result.step("written", mark)
    return result


async def _screenshot(page: Any, session: asyncio.Future[Any]) -> bytes:
    """A full-page PNG of ``page`` as it stands, as Playwright's ``page.screenshot(full_page=True,
    animations="disabled")`` takes it, in fewer round trips: one evaluation (:data:`_PREPARE`) and CDP's
    ``Page.captureScreenshot`` (beyond the viewport only when the page does not fit in it)."""
    try:
        size = await asyncio.wait_for(page.evaluate(_PREPARE), PREPARE_LIMIT)
    except Exception:  # noqa: BLE001 - a page whose scripts broke the preparation is photographed anyway
        size = None
    cdp = await session
    if not (isinstance(size, list) and len(size) == 2 and all(isinstance(v, int | float) and v > 0 for v in size)):
        metrics = await cdp.send("Page.getLayoutMetrics")  # the browser's own figures, whatever the page's scripts say
        size = [metrics["cssContentSize"]["width"], metrics["cssContentSize"]["height"]]
    width, height = int(size[0]), int(size[1])
    fits = width <= VIEWPORT["width"] and height <= VIEWPORT["height"]
    shot = await cdp.send("Page.captureScreenshot", {
        "format": "png", "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1},
        "captureBeyondViewport": not fits})
    return base64.b64decode(shot["data"])


async def _quiet(run: PageRun, until: float) -> None:
    """Wait until the page has had no exchange in flight through its proxy for :data:`QUIET` seconds (the
    scripts' requests answered, lazy images in), and at least :data:`AFTER_SCROLL` seconds, or until
    ``until``: a page that never goes quiet is photographed as it is. Cheaper than Playwright's
    "networkidle" (500 ms of silence, counted by the browser), and it counts what the proxy is still
    writing. Silence is counted from the end of the page's last exchange, which is often before the
    scroll ended: waiting another QUIET seconds from then added 0.1-0.2 s to every page and no request."""
    loop = asyncio.get_running_loop()  # its clock is time.monotonic(), as PageRun.silent_since's
    earliest = loop.time() + AFTER_SCROLL
    while loop.time() < until:
        now = loop.time()
        if run.inflight <= 0 and now >= earliest and now - run.silent_since >= QUIET:
            return
        await asyncio.sleep(0.025)
