"""The browser worker: a process of its own that renders pages and records them (``python -m
archive.browser.worker``, started by :mod:`archive.browser.run`).

It reads its jobs as JSON lines on stdin (``{"url", "refers_to", "crawl_id"}``: raw captures to render),
starts one warcprox slot per parallel page (:mod:`archive.browser.proxy`) and one Chromium, renders the pages
(:mod:`archive.browser.page`), writes every exchange, screenshot and rendered text into a WARC file of its own
under the data home, indexes them page by page (records first, then rows), and prints one JSON line per
page and a summary line on stdout. warcprox (GPL-2.0+) and Playwright are imported only here.
"""
from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import json
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

#: Debian's Chromium builds, best first. ``chromium-headless-shell`` (the same Blink, without the browser's UI)
#: renders a page for two thirds of the CPU and a quarter less memory than ``chromium``, whose every
#: context opens an invisible window with its toolbar, tab strip and omnibox (bench/README.md "browser.py").
CHROMIUM_CANDIDATES = ("/usr/lib/chromium/chromium-headless-shell", "/usr/bin/chromium-headless-shell",
                       "/usr/bin/chromium")


def find_chromium() -> str:
    """``CITEVAULT_CHROMIUM``, else the first of :data:`CHROMIUM_CANDIDATES` installed (the last if none is)."""
    chosen = os.environ.get("CITEVAULT_CHROMIUM")
    if chosen:
        return chosen
    return next((path for path in CHROMIUM_CANDIDATES if os.path.exists(path)), CHROMIUM_CANDIDATES[-1])


CHROMIUM = find_chromium()
# Chromium keeps only the last --enable-features / --disable-features switch, and Playwright passes its own:
# ours repeat Playwright 1.65's lists (its screenshots need CDPScreenshotNewSurface) and add citevault's.
_PLAYWRIGHT_DISABLED = ("AvoidUnnecessaryBeforeUnloadCheckSync,DestroyProfileOnBrowserClose,HttpsUpgrades,"
                        "HttpsFirstBalancedModeAutoEnable,LensOverlay,MediaRouter,PaintHolding,"
                        "ThirdPartyStoragePartitioning,AvoidCorsURLLoaderRestartOnRedirect,OptimizationHints,"
                        "NetworkTimeServiceQuerying,AimEnabled,PreconnectToSearch")
_PLAYWRIGHT_ENABLED = "CDPScreenshotNewSurface,SkipListAccountsWithoutGaiaCookies"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", "--hide-scrollbars", "--mute-audio",
                 # fewer processes (memory: bench/README.md): the software GPU and the network service run in
                 # the browser process, a page's same-site frames share its renderer, no spare renderer is kept
                 # warm (it would belong to the context of the page before, never to the next one), and the
                 # invisible window of each context gets no omnibox-popup WebUI renderer (one more per page)
                 "--in-process-gpu", "--disable-site-isolation-trials",
                 f"--enable-features={_PLAYWRIGHT_ENABLED},NetworkServiceInProcess2",
                 (f"--disable-features={_PLAYWRIGHT_DISABLED},site-per-process,IsolateOrigins,Translate,"
                  "BackForwardCache,SpareRendererForSitePerProcess,WebUIOmniboxPopup,WebUIOmniboxFullPopup,"
                  "WebUIOmniboxAimPopup"),
                 # a page rendered beside three others is never "in the background": its timers run at full speed
                 "--disable-renderer-backgrounding", "--disable-background-timer-throttling"]


#: pages opened ahead at once (a lane opens its next page while its current one is photographed): each is
#: a renderer more, about 120 MB of RSS, for 0.2-0.4 s (bench/README.md "browser.py")
AHEAD = 2


def spki_pin(pem_path: Path) -> str:
    """base64(sha256(SubjectPublicKeyInfo)) of a certificate, for ``--ignore-certificate-errors-spki-list``:
    Chromium trusts warcprox's CA (its leaf certificates reuse the CA key) and nothing else new."""
    import base64
    import hashlib

    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    data = pem_path.read_bytes()
    cert = x509.load_pem_x509_certificate(data[data.index(b"-----BEGIN CERTIFICATE-----"):])
    spki = cert.public_key().public_bytes(serialization.Encoding.DER,
                                          serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(hashlib.sha256(spki).digest()).decode("ascii")


def _emit(line: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(line, sort_keys=True) + "\n")
    sys.stdout.flush()


def read_jobs() -> list[Any]:
    """The job lines on stdin, until it is closed."""
    from archive.browser.page import PageJob

    return [PageJob(**json.loads(line)) for line in sys.stdin if line.strip()]


async def run(args: argparse.Namespace, jobs: list[Any] | None) -> dict[str, Any]:
    """Render ``jobs``; None: start first (slots, Chromium), then read the jobs from stdin (``--prestart``)."""
    from playwright.async_api import async_playwright

    from archive import __version__
    from archive.browser.guard import parse_allow
    from archive.browser.page import Opened, open_page, render
    from archive.browser.proxy import RecordWriter, Slot
    from archive.browser.rendering import RenderedPage, write_rendering
    from archive.home import DataHome
    from archive.index import writes
    from archive.index.db import make_engine
    from archive.warc.store import WarcStore

    home = DataHome.resolve(args.home, args.db)
    engine = make_engine(home.db_url)
    work = Path(tempfile.mkdtemp(prefix="citevault-browser-"))  # CA, certs, Chromium's profile: never the home
    # robots.txt: only pages the crawl was allowed to fetch are rendered; what they load is not checked
    store = WarcStore(home.warcs, operator=args.operator, robots="ignore")
    writer = RecordWriter(store)
    summary: dict[str, Any] = {"pages": 0, "rendered": 0, "cut": 0, "exchanges": 0, "refused": 0,
                               "software": f"citevault/{__version__}"}
    allowed = parse_allow(args.allow)
    slots: list[Slot] = []
    loop = asyncio.get_running_loop()
    started = loop.time()
    lanes = max(1, min(args.parallel, len(jobs) if jobs is not None else args.parallel))
    finished = False
    indexer = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="citevault-index")

    def new_slot() -> Slot:
        return Slot(work, writer, fetch_timeout=max(5.0, args.time_limit))

    try:
        slots.append(new_slot())  # the first makes the CA whose key Chromium is told to trust
        # Playwright's driver (node) with a 1 MB young generation instead of 16: 20-30 MB less RSS, no
        # measurable CPU (bench/README.md "browser.py"); a user's own NODE_OPTIONS win
        os.environ.setdefault("NODE_OPTIONS", "--max-semi-space-size=1")
        async with async_playwright() as pw:
            # the other slots start (0.3 s each, in Python) while Chromium starts (in its own processes)
            more = [loop.run_in_executor(None, new_slot) for _ in range(lanes - 1)]
            try:
                browser = await pw.chromium.launch(
                    executable_path=CHROMIUM, headless=True,
                    args=[*CHROMIUM_ARGS, *os.environ.get("CITEVAULT_CHROMIUM_ARGS", "").split(),
                          f"--ignore-certificate-errors-spki-list={spki_pin(slots[0].ca_path)}"],
                    env={**os.environ, "HOME": str(work)})
            finally:
                made = await asyncio.gather(*more, return_exceptions=True)
                slots += [slot for slot in made if isinstance(slot, Slot)]  # closed below, whatever happens
                failed = [error for error in made if isinstance(error, BaseException)]
                if failed:
                    raise failed[0]
            name = f"chromium {browser.version}"
            summary["startup_s"] = round(loop.time() - started, 3)
            if jobs is None:  # ready: now wait for the crawl to say what to render
                jobs = await loop.run_in_executor(None, read_jobs)
            queue: asyncio.Queue[Any] = asyncio.Queue()
            for job in jobs:
                queue.put_nowait(job)

            def index_page(job: Any, result: Any) -> Any:
                """Write the page's rendering records, then index them and the exchanges written so far."""
                rendering = None
                with writer.lock:
                    if result.screenshot is not None or result.text is not None:
                        rendering = write_rendering(store, RenderedPage(
                            url=job.url, refers_to=job.refers_to, concurrent_to=result.run.page_response_id,
                            screenshot=result.screenshot, text=result.text, browser=name, cut=result.cut,
                            crawl_id=job.crawl_id))
                    captures, writer.captures = writer.captures, []
                with engine.begin() as conn:  # records are flushed: now the rows that point to them
                    writes.add_captures(conn, captures)
                    if rendering is not None:
                        writes.add_captures(conn, rendering.captures)
                        writes.add_renderings(conn, [rendering.row])
                return rendering

            async def indexed(job: Any, result: Any) -> None:
                """Index the page (one after the other, off the event loop), then count it and say so."""
                started = loop.time()
                rendering = await loop.run_in_executor(indexer, index_page, job, result)
                summary["pages"] += 1
                summary["rendered"] += rendering is not None
                summary["cut"] += result.cut is not None
                summary["exchanges"] += result.run.exchanges
                summary["refused"] += len(result.run.destinations.refused)
                _emit({"page": job.url, "rendering": rendering.row["id"] if rendering else None,
                       "cut": result.cut, "exchanges": result.run.exchanges,
                       "refused": result.run.destinations.refused, "popups": result.popups,
                       "navigations_blocked": result.run.navigations_blocked, "problems": result.problems,
                       "timings": {**result.timings, "index": round(loop.time() - started, 4)},
                       "text_chars": len(result.text) if result.text is not None else None})

            ahead_open = [0]  # pages opened ahead, across lanes, whose lane's page before is still open

            async def lane(slot: Slot) -> None:
                indexing: list[asyncio.Future[None]] = []
                ahead: asyncio.Future[Opened] | None = None
                while not queue.empty():
                    job = queue.get_nowait()
                    opened = None
                    if ahead is not None:
                        try:
                            opened = await ahead
                        except Exception:  # noqa: BLE001 - render() opens one itself
                            opened = None
                        ahead = None
                    holding = False

                    def settled() -> None:
                        """The page is loaded and quiet: open the lane's next page while it is photographed
                        (a second renderer for the lane, AHEAD at most across lanes: memory)."""
                        nonlocal ahead, holding
                        if not queue.empty() and ahead_open[0] < AHEAD:
                            ahead_open[0] += 1
                            holding = True
                            ahead = asyncio.ensure_future(open_page(browser, slot))

                    try:
                        result = await render(browser, slot, job, time_limit=args.time_limit, allowed=allowed,
                                              opened=opened, settled=settled)
                    finally:
                        if holding:
                            ahead_open[0] -= 1
                    # the lane's next page starts while this one is indexed
                    indexing.append(asyncio.ensure_future(indexed(job, result)))
                if ahead is not None:  # the queue ran dry before this lane came back for another page
                    try:
                        unused = await ahead
                        await asyncio.wait_for(unused.context.close(), 10)
                    except Exception:  # noqa: BLE001, S110 - closed with the browser
                        pass
                await asyncio.gather(*indexing)

            await asyncio.gather(*(lane(slot) for slot in slots[:len(jobs)]))
            ended = loop.time()
            try:
                await asyncio.wait_for(browser.close(), 5)
            except Exception:  # noqa: BLE001, S110 - a renderer stuck in a loop: Playwright kills it on exit
                pass
        finished = True
    finally:
        indexer.shutdown(wait=True)
        until = time.monotonic() + 15.0
        for slot in slots:
            slot.drain(until)
        for slot in slots:
            slot.stop_postfetch()
        # Every exchange of every page written: nothing is left for warcprox to do, and main() ends the
        # process without waiting for its threads (each stop waits out a 0.5 s poll). Otherwise (an error,
        # an exchange still in flight) warcprox shuts down as it should, writing what it still holds.
        summary["quick_exit"] = finished and all(slot.idle() for slot in slots)
        if not summary["quick_exit"]:
            closing = [threading.Thread(target=slot.close, args=(0.0,)) for slot in slots]
            for thread in closing:
                thread.start()
            for thread in closing:
                thread.join()
        with writer.lock:
            store.close()
            leftover, writer.captures = writer.captures, []
        if leftover:  # exchanges that completed after their page was written
            with engine.begin() as conn:
                writes.add_captures(conn, leftover)
        engine.dispose()
        shutil.rmtree(work, ignore_errors=True)
    summary["warc_files"] = store.closed_files
    if "startup_s" in summary and "ended" in locals():
        summary["shutdown_s"] = round(loop.time() - ended, 3)
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m archive.browser.worker")
    parser.add_argument("--home", required=True)
    parser.add_argument("--db")
    parser.add_argument("--parallel", type=int, default=4)
    parser.add_argument("--time-limit", type=float, default=30.0)
    parser.add_argument("--allow", default="")
    parser.add_argument("--operator", default="")
    parser.add_argument("--prestart", action="store_true",
                        help="start Chromium and the proxies first, then read the jobs (archive.browser.run.Worker)")
    args = parser.parse_args(argv)
    jobs = None if args.prestart else read_jobs()
    if jobs is not None and not jobs:
        _emit({"summary": {"pages": 0}})
        return 0
    import logging

    logging.basicConfig(level=logging.CRITICAL)  # warcprox logs every refused request: the summary says it
    try:
        summary = asyncio.run(run(args, jobs))
    except BaseException:  # noqa: BLE001 - printed as Python would, then the process really ends
        import traceback

        traceback.print_exc()
        sys.stderr.flush()
        os._exit(1)  # warcprox's threads, if any are left, must not keep the process alive
    quick = summary.pop("quick_exit", False)
    _emit({"summary": summary})
    if quick:
        # Records closed and fsynced, rows committed, Chromium and Playwright's driver gone: skip the
        # interpreter's finalization, which spent 1.1 s in the cyclic collector and in joining warcprox's
        # threads after the last page (bench/README.md "browser.py"), all of it inside the crawl's browser phase.
        sys.stderr.flush()
        os._exit(0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
