"""One crawl's shared state: the opened archive, the recorder, and the progress counters.

The spider, the WARC middleware and the progress extension all reach it through :func:`session_for`.
"""
from __future__ import annotations

import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from scrapy import signals

from archive.api import Archive
from archive.crawl.recorder import Recorder
from archive.crawl.recorder_process import RecorderProcess
from archive.home import DataHome
from crawler.config import CrawlConfig

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from sqlalchemy.engine import Engine
    from twisted.internet.task import LoopingCall

    from archive.browser.run import Worker
    from archive.crawl.frontier import Waiting
    from archive.crawl.sink import RecordingSink
    from archive.integrity.catch_up import Recovery

FLUSH_SECONDS = 0.2  # longest a fetched page's record waits in the crawler before it goes to the recorder


@dataclass
class Progress:
    total: int = 0
    done: int = 0
    failed: int = 0
    states: Counter[str] = field(default_factory=Counter)
    reasons: Counter[str] = field(default_factory=Counter)
    assets: int = 0  # page assets fetched (crawler.assets): never counted as sources in done/total
    assets_cut: int = 0  # assets the per-page limits left unfetched
    started: float = field(default_factory=time.monotonic)
    #: (document URL, sources it added to ``total``) not yet announced on stderr (crawler.extensions)
    found: list[tuple[str, int]] = field(default_factory=list)


class CrawlSession:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.config = CrawlConfig.from_settings(crawler.settings)
        self.archive = Archive(DataHome.resolve(self.config.home, self.config.db))
        engine = self.archive.engine(create=True)
        self._recover(engine)
        self.crawl_id = uuid.uuid4().hex
        from archive.crawl.workers import Heartbeat

        # keeps this worker's leases while it lives, whichever node it runs on (archive.crawl.workers)
        self.heartbeat = Heartbeat(engine, self.crawl_id).start()
        options: dict[str, Any] = dict(
            crawl_id=self.crawl_id, operator=self.config.operator, robots=self.config.robots,
            compresslevel=self.config.compresslevel, max_size=self.config.warc_max_size,
            # the quote checks run while crawling, beside the recorder; the end-of-crawl pass does what is left
            check=crawler.settings.getbool("CITEVAULT_CHECK_AFTER_CRAWL", True))
        self.recorder: RecordingSink
        if self.config.recorder_process:  # README "Settings": recording beside the crawler, on another core
            self.recorder = RecorderProcess(self.archive.home, on_death=self._recorder_died, **options)
        else:
            self.recorder = Recorder(self.archive.home, engine, **options)
        self.progress = Progress()
        self.closed = False
        self.browser_failure: str | None = None  # --browser always, but no browser to render with
        self.interrupted = False  # the reactor stopped before the spider closed (a second Ctrl-C)
        self.stopping = False  # a first Ctrl-C: Scrapy stops gracefully, letting requests in flight finish
        #: after the spider closed, when it stopped early or fetched nothing: what is still to fetch
        self.left: Waiting | None = None
        self._flushing: LoopingCall | None = None  # a LoopingCall once the spider opens (recorder process only)
        from archive.browser.run import prestart

        # --browser always: the browser worker starts now, beside the crawl (archive.browser.run.Worker)
        self.browser_worker: Worker | None = prestart(self.archive, self.config.browser, self.config.operator)
        crawler.signals.connect(self._opened, signal=signals.spider_opened)
        crawler.signals.connect(self.close, signal=signals.spider_closed)

    def sources_found(self, document_url: str, count: int) -> None:
        """A document fetched by URL cited ``count`` sources this crawl now fetches too: the progress
        total grows, and the extension says why (once per document)."""
        if count:
            self.progress.total += count
            self.progress.found.append((document_url, count))

    def _recorder_died(self, message: str) -> None:
        """Nothing fetched from now on could be archived: stop the crawl (its leases are released)."""
        from scrapy.utils.defer import deferred_from_coro

        if self.crawler.engine is not None and not self.closed:
            deferred_from_coro(self.crawler.engine.close_spider_async(reason="recorder died"))

    @property
    def failure(self) -> str | None:
        """Why recording stopped before the crawl ended (the CLI exits 1 with it), or None."""
        return self.recorder.failure or self.browser_failure

    def _opened(self) -> None:
        if self.config.recorder_process:  # it gets calls in batches: send a partial one now and then
            from twisted.internet import task

            self._flushing = task.LoopingCall(self.recorder.flush)
            self._flushing.start(FLUSH_SECONDS, now=False)

    def _recover(self, engine: Engine) -> None:
        """Before the recorder opens a new WARC file: close the files a killed crawl left ``.open``, index
        what they hold that the index lacks, settle the sources whose fetch was recorded but never settled
        and release the dead crawl's leases, so this crawl fetches only what is still not captured."""
        import sys

        from archive.crawl import frontier
        from archive.integrity.catch_up import recover

        for line in recovery_lines(recover(self.archive.home, engine)):
            sys.stderr.write(line + "\n")
        # Leases of a killed crawl go before the spider claims its first sources (the recorder, which
        # registers this crawl, may still be starting in its own process by then).
        with engine.begin() as conn:
            frontier.release_dead(conn)

    def close(self, *, check: bool = True) -> None:
        """Drain and close the recorder, then (``check``) run the quote checks for what was captured."""
        if not self.closed:
            self.closed = True
            if self._flushing is not None and self._flushing.running:
                self._flushing.stop()
            self.recorder.close()
            self.heartbeat.stop()
            if self.stopping or self.progress.total == 0:
                self.left = self._left()
            if check and not self.stopping and not self.interrupted:
                self._render()
            if self.browser_worker is not None:  # not handed its jobs: no rendering this time
                self.browser_worker.discard()
                self.browser_worker = None
            if check:
                self._check_evidence()
            self.archive.close()

    def _left(self) -> Waiting | None:
        """What this crawl's scope still has to fetch, and which other running crawls hold part of it."""
        from archive import clock
        from archive.crawl import frontier

        spider = getattr(self.crawler, "spider", None)
        try:
            with self.archive.engine().connect() as conn:
                return frontier.waiting(conn, self.crawl_id, clock.schedule_now(),
                                        due=bool(getattr(spider, "due", False)),
                                        document_ids=getattr(spider, "document_ids", None))
        except Exception:  # noqa: BLE001 - only the summary's wording depends on it
            return None

    def _render(self) -> None:
        """Browser capture of the pages this crawl archived that need it (README "Browser capture"), in a
        process of its own, before the quote checks so they can read the rendered text."""
        import sys

        from archive.browser.run import BrowserUnavailable, render_crawl

        policy = self.config.browser
        if not policy.enabled or self.recorder.failure:
            return
        worker, self.browser_worker = self.browser_worker, None
        try:
            render_crawl(self.archive, self.crawl_id, policy, operator=self.config.operator, worker=worker)
        except BrowserUnavailable as exc:
            if policy.required:  # asked for outright: the crawl exits 1 (its raw captures stay archived)
                self.browser_failure = f"browser capture unavailable: {exc}"
            else:
                sys.stderr.write(f"citevault: browser capture skipped: {exc}\n")

    def _check_evidence(self) -> None:
        """Quote checks for what this crawl captured (docs/checking.md): one pass, one
        worker; a failure here is logged, never fatal — `citevault check` can redo it."""
        import logging

        if not self.crawler.settings.getbool("CITEVAULT_CHECK_AFTER_CRAWL", True):
            return
        try:
            from archive.checks import verify_document_captures

            verify_document_captures(self.archive.engine(), self.archive.home, crawl_id=self.crawl_id)
        except Exception as exc:  # noqa: BLE001
            logging.getLogger(__name__).warning("citevault: evidence check after the crawl failed: %s", exc)


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def recovery_lines(done: Recovery) -> list[str]:
    """What the repair before a crawl did, one stderr line each (docs/integrity.md "After a crash"); none when it did
    nothing."""
    lines = [f"citevault: repaired {r.name} (kept {r.records} records, dropped {r.dropped_bytes} bytes)"
             for r in done.repaired]
    stats = done.indexed
    if stats is not None:
        lines.append(f"citevault: indexed what the killed crawl left out: {_n(stats.captures, 'capture')}, "
                     f"{_n(stats.sources, 'source state')} (read {_n(stats.records, 'record')} in "
                     f"{_n(len(stats.files), 'WARC file')})")
    if done.settled:
        lines.append(f"citevault: settled {_n(done.settled, 'source')} that a killed crawl fetched but never settled")
    lines += [f"citevault: {p.file}@{p.offset}: {p.problem}" for p in done.problems]
    return lines


def session_for(crawler: Crawler) -> CrawlSession:
    session = getattr(crawler, "_citevault_session", None)
    if session is None:
        session = CrawlSession(crawler)
        crawler._citevault_session = session  # type: ignore[attr-defined]
    return session
