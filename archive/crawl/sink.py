"""What the crawler may call on a recorder: the one interface of the thread recorder and the process one.

:class:`archive.crawl.recorder.Recorder` (a writer thread) and
:class:`archive.crawl.recorder_process.RecorderProcess` (the same calls carried out by a child process) are
interchangeable behind :class:`RecordingSink` (``CITEVAULT_RECORDER_PROCESS`` picks one); the crawler's
session, spider and middlewares see only this Protocol. Every call returns at once: the work is queued,
and ``flush_wait`` or ``close`` wait for it.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from datetime import datetime

    from archive.claims import ExtractedDocument
    from archive.crawl.frontier import Claimed
    from archive.crawl.recorder import RecorderStats
    from archive.recheck.outcomes import Outcome
    from archive.warc.builder import HttpExchange


class RecordingSink(Protocol):
    stats: RecorderStats
    #: Why recording stopped before ``close()`` (the crawl stops and the CLI exits 1 with it), or None.
    failure: str | None

    @property
    def closed_files(self) -> list[str]: ...

    def new_record_id(self) -> str:
        """The WARC-Record-ID the next exchange's response will carry (the capture id derives from it)."""
        ...

    def record_exchange(self, ex: HttpExchange, *, record_id: str, source_url: str | None,
                        document_id: str | None, redirect_to: str | None = None, fresh: bool = False,
                        role: str | None = None, links: dict[str, str] | None = None) -> None:
        """One request/response hop, as it came off the wire. ``source_url``: the source this fetch is for
        (every hop of a redirect chain shares it); ``fresh``: never captured before; ``role``: ``asset``;
        ``links``: an asset record's fields naming the pages waiting for it (:mod:`archive.crawl.page_assets`)."""
        ...

    def record_failure(self, url: str, reason: str, *, record_id: str, source_url: str | None,
                       document_id: str | None, detail: dict[str, Any] | None = None,
                       moment: datetime | None = None, role: str | None = None,
                       links: dict[str, str] | None = None) -> None:
        """A fetch that got no response (timeout, refused, robots.txt…): a ``metadata`` record and a row."""
        ...

    def source_done(self, source_id: str, outcome: Outcome, fetched_at: datetime, capture_id: str | None = None,
                    known: Claimed | None = None, url: str | None = None) -> None:
        """A source's fetch is over (after redirects and retries): settle its state."""
        ...

    def document_fetched(self, document_id: str, extracted: ExtractedDocument) -> None:
        """A document added by URL arrived: archive and index its claims."""
        ...

    def page_assets(self, page_record_id: str, page_url: str, body: dict[str, Any],
                    moment: datetime | None = None) -> None:
        """A page's asset list (:mod:`archive.crawl.page_assets`), once every asset it needed is in."""
        ...

    def flush(self) -> bool:
        """Send what is queued on (a no-op for the thread recorder); False when recording has stopped."""
        ...

    def flush_wait(self, timeout: float = 120) -> None:
        """Return once everything sent so far is written and committed."""
        ...

    def close(self) -> RecorderStats:
        """Drain, commit and close the WARC file. Safe to call twice."""
        ...
