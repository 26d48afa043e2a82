"""Run the ``evidence`` spider in this process (the CLI's ``crawl`` and ``archive`` commands).

The Twisted reactor cannot be restarted: call :func:`run_crawl` at most once per process.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Sequence

if TYPE_CHECKING:
    from archive.home import DataHome


def crawl_settings(home: DataHome, *, concurrency: int | None = None, ignore_robots: bool = False,
                   verbose: bool = False, overrides: dict[str, Any] | None = None) -> Any:
    from scrapy.settings import Settings

    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    settings.set("CITEVAULT_HOME", str(home.root), priority="cmdline")
    settings.set("CITEVAULT_DB", home.db_url, priority="cmdline")
    for key, value in (overrides or {}).items():  # first: the settings derived below read them
        settings.set(key, value, priority="cmdline")
    if concurrency:
        settings.set("CONCURRENT_REQUESTS", concurrency, priority="cmdline")
    if ignore_robots:
        settings.set("ROBOTSTXT_OBEY", False, priority="cmdline")
    # Failures are recorded and summarised by citevault; Scrapy's own log only on --verbose.
    settings.set("LOG_LEVEL", "INFO" if verbose else "CRITICAL", priority="cmdline")
    per_host = settings.getint("CITEVAULT_PER_HOST", 4)
    settings.set("CONCURRENT_REQUESTS_PER_DOMAIN", per_host, priority="cmdline")
    contact = settings.get("CITEVAULT_CONTACT_URL")
    from archive import __version__

    if "USER_AGENT" not in (overrides or {}):
        settings.set("USER_AGENT", f"citevault/{__version__} (+{contact}; archiving cited sources)", priority="cmdline")
    return settings


def run_crawl(home: DataHome, *, document_ids: Sequence[str] | None = None, concurrency: int | None = None,
              ignore_robots: bool = False, verbose: bool = False,
              overrides: dict[str, Any] | None = None, due: bool = False) -> Any:
    """Crawl what is pending (restricted to ``document_ids`` when given); return the crawl's session."""
    from archive.crawl.recorder_process import prestart

    if str((overrides or {}).get("CITEVAULT_RECORDER_PROCESS", True)).lower() not in ("0", "false", "no", "off"):
        prestart()  # before importing Scrapy, so the two start-ups overlap
    from scrapy.crawler import CrawlerProcess

    from crawler.spiders.evidence import EvidenceSpider

    settings = crawl_settings(home, concurrency=concurrency, ignore_robots=ignore_robots, verbose=verbose,
                              overrides=overrides)
    class Process(CrawlerProcess):
        def _signal_shutdown(self, signum: int, frame: Any) -> None:
            """The first Ctrl-C: one line at once (crawler.extensions.announce_stop), read before Scrapy's
            graceful stop (queued after it) starts closing the spider; a second Ctrl-C stops now."""
            from twisted.internet import reactor

            from crawler.extensions import announce_stop

            for crawler in self.crawlers:
                reactor.callFromThread(announce_stop, crawler)
            super()._signal_shutdown(signum, frame)

    process = Process(settings)
    crawler = process.create_crawler(EvidenceSpider)
    kwargs: dict[str, Any] = {"documents": ",".join(document_ids)} if document_ids is not None else {}
    if due:
        kwargs["due"] = "1"
    process.crawl(crawler, **kwargs)
    process.start()
    session = getattr(crawler, "_citevault_session", None)
    if session is not None and not session.closed:
        # A forced stop (Ctrl-C twice) ends the reactor before the spider closes: what was fetched is
        # still recorded and the leases released; the quote checks are left to `citevault check`.
        session.interrupted = True
        session.close(check=False)
    return session
