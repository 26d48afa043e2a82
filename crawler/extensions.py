"""Progress on stderr while crawling, and a summary at the end.

Lines look like ``citevault: 120/500 done, 3 not archived`` (rewritten in place on a terminal) and finish with
``citevault: done in 12.3s: 497 archived, 3 failed + 1204 assets (http 404: 2, timeout: 1)``.

A document fetched by URL adds the sources it cites to the total mid-crawl: ``citevault: +3 sources found in
URL`` says so, once per document. A first Ctrl-C prints ``citevault: stopping: waiting for 4 requests in
flight; Ctrl-C again to stop now`` at once, and the summary then names what is left pending and the command
that fetches it. A crawl that finds every source held by another running crawl names that crawl.
"""
from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING

from scrapy import signals
from scrapy.exceptions import NotConfigured

from archive.states import SourceState
from crawler.session import session_for

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from twisted.internet.task import LoopingCall

INTERVAL = 1.0


class CrawlProgress:
    def __init__(self, crawler: Crawler) -> None:
        if not crawler.settings.getbool("CITEVAULT_PROGRESS", True):
            raise NotConfigured("progress is off (CITEVAULT_PROGRESS=False)")
        self.crawler = crawler
        self.tty = sys.stderr.isatty()
        self._last = ""
        self._task: LoopingCall | None = None
        crawler.signals.connect(self.opened, signal=signals.spider_opened)
        crawler.signals.connect(self.closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CrawlProgress:
        return cls(crawler)

    def opened(self) -> None:
        from twisted.internet import task

        self._task = task.LoopingCall(self.tick)
        self._task.start(INTERVAL, now=False)

    def line(self) -> str:
        p = session_for(self.crawler).progress
        return f"citevault: {p.done}/{p.total} done, {p.failed} not archived"  # gone, failed, walls...

    def _write(self, line: str) -> None:
        """One whole line, above the progress line a terminal rewrites in place."""
        sys.stderr.write(("\r\x1b[K" if self.tty else "") + line + "\n")
        sys.stderr.flush()
        self._last = ""  # on a terminal the progress line was overwritten: show it again

    def announce_found(self) -> None:
        found = session_for(self.crawler).progress.found
        while found:
            url, count = found.pop(0)
            self._write(f"citevault: +{count} source{'' if count == 1 else 's'} found in {url}")

    def tick(self) -> None:
        self.announce_found()
        line = self.line()
        if line != self._last:
            self._last = line
            sys.stderr.write(("\r" + line) if self.tty else line + "\n")
            sys.stderr.flush()

    def closed(self) -> None:
        if self._task is not None and self._task.running:
            self._task.stop()
        session = session_for(self.crawler)
        session.close()  # the recorder drains first, so the summary counts what is on disk
        self.announce_found()
        if self._last and self.line() != self._last:
            self._write(self.line())  # the count the crawl ended at, not the last tick's
        p = session.progress
        elapsed = time.monotonic() - p.started
        reasons = ", ".join(f"{k}: {v}" for k, v in p.reasons.most_common())
        stats = session.recorder.stats
        files = ", ".join(session.recorder.closed_files) or "none"
        shown = (SourceState.ARCHIVED, SourceState.GONE, SourceState.FAILED)
        counts = ", ".join(f"{p.states[s]} {s}" for s in shown if p.states[s]) or "nothing to fetch"
        if p.assets or p.assets_cut:  # page assets: never counted as sources (crawler.assets)
            counts += f" + {p.assets} assets" + (f" ({p.assets_cut} cut by the per-page limits)" if p.assets_cut else "")
        left = session.left
        if p.total == 0 and left is not None and left.held:
            counts = "nothing to fetch here: " + "; ".join(
                f"another crawl (pid {h.pid or '?'} on {h.host or 'another host'}) is fetching "
                f"{h.sources} source{'' if h.sources == 1 else 's'}" for h in left.held)
        ended = "stopped by Ctrl-C after" if session.stopping else "done in"
        summary = (
            f"citevault: {ended} {elapsed:.1f}s: {counts}"
            f"{f' ({reasons})' if reasons else ''}; {stats.records} WARC records in {files}"
        )
        if session.stopping:
            pending = left.unheld if left is not None else max(p.total - p.done, 0)
            summary += f"; {pending} source{'' if pending == 1 else 's'} left pending: `citevault crawl` fetches them"
        if stats.errors:
            summary += f"; {len(stats.errors)} recording errors (first: {stats.errors[0]})"
        sys.stderr.write(("\r" if self.tty else "") + summary + "\n")
        sys.stderr.flush()


def announce_stop(crawler: Crawler) -> None:
    """A first Ctrl-C (crawler.run): say at once that the crawl is stopping, what it waits for, and how to
    stop now. Scrapy lets the requests in flight finish, so their pages are archived, not lost."""
    session = getattr(crawler, "_citevault_session", None)
    if session is not None:
        session.stopping = True
    engine = crawler.engine
    active = len(engine.downloader.active) if engine is not None else 0
    clear = "\r\x1b[K" if sys.stderr.isatty() else ""  # over a progress line a terminal shows
    sys.stderr.write(f"{clear}citevault: stopping: waiting for "
                     f"{active} request{'' if active == 1 else 's'} in flight; Ctrl-C again to stop now\n")
    sys.stderr.flush()
