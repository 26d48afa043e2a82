"""Progress on stderr while crawling, and a summary at the end.

Lines look like ``citevault: 120/500 done, 3 failed`` (rewritten in place on a terminal) and finish with
``citevault: done in 12.3s: 497 archived, 3 failed + 1204 assets (http 404: 2, timeout: 1)``.
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
        return f"citevault: {p.done}/{p.total} done, {p.failed} failed"

    def tick(self) -> None:
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
        p = session.progress
        elapsed = time.monotonic() - p.started
        reasons = ", ".join(f"{k}: {v}" for k, v in p.reasons.most_common())
        stats = session.recorder.stats
        files = ", ".join(session.recorder.closed_files) or "none"
        shown = (SourceState.ARCHIVED, SourceState.GONE, SourceState.FAILED)
        counts = ", ".join(f"{p.states[s]} {s}" for s in shown if p.states[s]) or "nothing to fetch"
        if p.assets or p.assets_cut:  # page assets: never counted as sources (crawler.assets)
            counts += f" + {p.assets} assets" + (f" ({p.assets_cut} cut by the per-page limits)" if p.assets_cut else "")
        summary = (
            f"citevault: done in {elapsed:.1f}s: {counts}"
            f"{f' ({reasons})' if reasons else ''}; {stats.records} WARC records in {files}"
        )
        if stats.errors:
            summary += f"; {len(stats.errors)} recording errors (first: {stats.errors[0]})"
        sys.stderr.write(("\r" if self.tty else "") + summary + "\n")
        sys.stderr.flush()
