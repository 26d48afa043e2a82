"""The ``evidence`` spider: fetch every source that needs it once, and the documents added by URL.

Sources are claimed from the index in batches (``archive.crawl.frontier``), so two crawls running at once never
fetch the same one. A document fetched by URL is read for claims here (``archive.claims``); its sources are
then requested in the same crawl. The assets of every archived HTML page (stylesheets, images, fonts,
scripts, frames) are requested after it by :class:`crawler.assets.AssetFetcher`. Every outcome is recorded: responses by the WARC middleware, failures by
:meth:`failed`, and each source's verdict (``archive.recheck.outcomes`` → ``archive.recheck.transitions``) by the recorder.

Run it as ``citevault crawl`` or, with the same effect, ``scrapy crawl evidence``
(``-a documents=ID,ID`` restricts it, ``-a due=1`` adds the sources due for a re-check).
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, AsyncIterator

import scrapy

from archive import clock, ids
from archive.crawl import frontier
from archive.recheck.outcomes import OK, TEXT_LIMIT, classify_failure, classify_response, state_of, status_outcome
from archive.states import SourceState
from crawler.assets import AssetFetcher
from crawler.failures import classify
from crawler.middlewares import CAPTURE_META, FETCHED_META
from crawler.session import session_for

if TYPE_CHECKING:
    from scrapy.http import Response
    from twisted.python.failure import Failure

    from archive.crawl.frontier import Claimed

#: Requests Scrapy's scheduler may hold before the spider stops claiming sources (about 1 KB each, with
#: their meta): enough to keep 64 connections busy, on any mix of hosts, between two polls.
BACKLOG = 1000
BACKLOG_POLL_SECONDS = 0.05


class EvidenceSpider(scrapy.Spider):
    name = "evidence"

    def __init__(self, documents: str | None = None, due: str | bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.document_ids = [d for d in documents.split(",") if d] if documents else None
        self.due = str(due).lower() in ("1", "true", "yes")
        self._assets: AssetFetcher | None = None

    @property
    def assets(self) -> AssetFetcher:
        if self._assets is None:
            self._assets = AssetFetcher(self)
        return self._assets

    @property
    def session(self):  # type: ignore[no-untyped-def]
        return session_for(self.crawler)

    async def start(self) -> AsyncIterator[Any]:
        session = self.session
        engine = session.archive.engine()
        with engine.connect() as conn:
            documents = list(frontier.pending_documents(conn, self.document_ids))
        for target in documents:
            session.progress.total += 1
            yield self.request_for(target.url, document_id=target.document_id)
        while True:
            for target in frontier.claim_sources(engine, session.crawl_id, clock.schedule_now(), due=self.due,
                                                 document_ids=self.document_ids,
                                                 before_batch=lambda: self._before_claim(engine)):
                await self._backlog_drained()
                session.progress.total += 1
                yield self.request_for(target.url, source_id=target.source_id, known=target.known)
            # Sources a dead worker (maybe on another host) still holds: wait for its leases to end, then
            # claim them. Leases of workers that still beat are theirs: this crawl does not wait for them.
            if not await self._wait_for_orphans(engine):
                return

    async def _backlog_drained(self) -> None:
        """Wait while Scrapy's scheduler holds :data:`BACKLOG` requests, until half are gone. Scrapy reads
        ``start()`` as fast as it yields while its downloader is full, so without this every source of the
        crawl would be claimed and queued as a Request at once: memory growing with the number of sources
        (bench/README.md, scale.py). Claimed a batch at a time as the crawl needs them, they stay bounded."""
        try:
            scheduler = self.crawler.engine.scheduler
        except RuntimeError:  # no engine: start() read outside a running crawl
            return
        if scheduler is None or len(scheduler) < BACKLOG:  # type: ignore[arg-type]
            return
        from scrapy.utils.defer import maybe_deferred_to_future
        from twisted.internet import reactor
        from twisted.internet.task import deferLater

        while len(scheduler) > BACKLOG // 2 and not self.session.stopping:  # type: ignore[arg-type]
            await maybe_deferred_to_future(deferLater(reactor, BACKLOG_POLL_SECONDS, lambda: None))

    async def _wait_for_orphans(self, engine: Any) -> bool:
        """Sleep until the first lease of a silent worker ends; False when no silent worker holds any."""
        from archive.index.retry import retrying

        def until() -> Any:
            with engine.connect() as conn:
                return frontier.orphaned_until(conn, self.session.crawl_id, clock.schedule_now(),
                                               clock.real_now(), due=self.due, document_ids=self.document_ids)

        end = retrying(until, "looking for leases of dead workers")
        if end is None or self.session.stopping:
            return False
        from twisted.internet import reactor
        from twisted.internet.task import deferLater

        from scrapy.utils.defer import maybe_deferred_to_future

        # a little past the lease's end: by then the dead worker's heartbeat is a whole lease old too, so
        # the catch-up before the claim repairs its open file (archive.integrity.catch_up)
        slack = min(1.0, frontier.heartbeat_every() / 2)
        # at most a second: a live node's leases are renewed, not ended; they go as it settles its sources
        seconds = max(0.1, min((end - clock.schedule_now()).total_seconds() + slack, frontier.heartbeat_every(), 1.0))
        await maybe_deferred_to_future(deferLater(reactor, seconds, lambda: None))
        return True

    def _before_claim(self, engine: Any) -> None:
        """Expired leases of a crawl that never finished are about to be taken: catch up with it first."""
        from archive.index.retry import retrying

        def expired() -> bool:
            with engine.connect() as conn:
                return frontier.expired_leases(conn, self.session.crawl_id, clock.schedule_now())

        if retrying(expired, "looking for expired leases"):
            self._catch_up(engine)

    def _catch_up(self, engine: Any) -> None:
        """Before taking a dead worker's sources: index what its WARC files hold (its ``.open`` file is
        repaired once its heartbeat is a lease old) and settle what it fetched, so nothing it captured is
        fetched twice (archive.integrity.catch_up)."""
        import sys

        from archive.integrity.catch_up import recover
        from crawler.session import recovery_lines

        try:
            before = clock.schedule_now()  # leases expired by then belong to crawls recover() caught up with
            for line in recovery_lines(recover(self.session.archive.home, engine, expired_before=before)):
                sys.stderr.write(line + "\n")
        except Exception as exc:  # noqa: BLE001 - the next crawl's start does it again
            sys.stderr.write(f"citevault: catch-up after a dead worker failed: {exc}\n")

    def request_for(self, url: str, *, source_id: str | None = None, document_id: str | None = None,
                 known: Claimed | None = None) -> scrapy.Request:
        """The request of a claimed source (``source_id``) or of an article added by URL (``document_id``);
        also made for sources found among a page's assets (:mod:`crawler.assets`)."""
        meta = {"citevault_source_id": source_id, "citevault_document_id": document_id,
                "citevault_source_url": url if source_id else None, "citevault_known": known,
                # never captured: no earlier payload of this URL to deduplicate against
                "citevault_fresh": bool(known and known.never_captured)}
        callback = self.parse_document if document_id else self.parse_source
        # dont_filter: sources are unique in the index already, and a redirect that lands on another
        # source's URL must still be followed, or that chain would never reach its final response.
        return scrapy.Request(url, callback=callback, errback=self.failed, meta=meta, dont_filter=True)

    # -- outcomes ----------------------------------------------------------------------------------------
    def _done(self, state: SourceState, reason: str | None = None) -> None:
        progress = self.session.progress
        progress.done += 1
        progress.states[state] += 1
        self.crawler.stats.inc_value(f"citevault/sources/{state}")
        if state != SourceState.ARCHIVED:
            progress.failed += 1
            progress.reasons[reason or state] += 1
            self.crawler.stats.inc_value(f"citevault/failures/{reason or state}")

    def parse_source(self, response: Response) -> list[scrapy.Request]:
        """Record the source's outcome; return the requests for its assets when it is an archived page."""
        source_id = response.meta["citevault_source_id"]
        retry_after = response.headers.get(b"Retry-After")  # the one header the rot checks read
        headers = {"retry-after": retry_after.decode("latin-1")} if retry_after else {}
        body = response.text[:TEXT_LIMIT] if isinstance(response, scrapy.http.TextResponse) else ""
        outcome = classify_response(response.meta["citevault_source_url"], response.url, response.status, headers, body)
        fetched_at = response.meta.get(FETCHED_META) or datetime.now(timezone.utc)
        record_id = response.meta.get(CAPTURE_META)
        capture = ids.capture_id(record_id) if record_id else None
        self.session.recorder.source_done(source_id, outcome, fetched_at, capture,
                                          known=response.meta.get("citevault_known"),
                                          url=response.meta.get("citevault_source_url"))
        # Progress shows what this fetch was; the recorder may keep an archived source archived after a
        # single failed check (a source is gone only when repeated checks confirm it).
        state = state_of(outcome)
        self._done(state, None if state == SourceState.ARCHIVED else outcome.detail or outcome.kind)
        # first: pages waiting for this URL as an asset are linked to this capture (archive.crawl.asset_sources)
        requests = self.assets.source_arrived(source_id, response, record_id)
        return requests + (self.assets.for_page(response) if state == SourceState.ARCHIVED else [])

    def parse_document(self, response: Response) -> Any:
        """Extract the fetched article's claims, record them, and request the sources they cite."""
        from archive.claims import ExtractedDocument, detect_kind, extract
        from archive.errors import InputError

        document_id = response.meta["citevault_document_id"]
        session = self.session
        by_status = status_outcome(response.status)
        if by_status.kind != OK:
            self._done(state_of(by_status), by_status.detail)
            return
        try:
            content_type = (response.headers.get(b"Content-Type") or b"").decode("latin-1")
            kind = detect_kind(response.url, content_type)
            charset = getattr(response, "encoding", None)
            # HttpCompressionMiddleware has decoded the body by now (the WARC kept it encoded).
            extracted = extract(response.body, kind=kind, url=response.url, charset=charset)
            claims = list(extracted.claims)
        except InputError as exc:
            self.logger.warning("cannot read claims from %s: %s", response.url, exc)
            self._done(SourceState.FAILED, "unreadable document")
            return
        session.recorder.document_fetched(
            document_id, ExtractedDocument(kind=kind, url=response.url, title=extracted.title, claims=iter(claims))
        )
        self._done(SourceState.ARCHIVED)
        wanted: dict[str, str] = {}
        for claim in claims:
            for ref in claim.sources:
                wanted.setdefault(ids.source_id(ref.url), ref.url)
        # The recorder inserts these sources in its own thread; claim them once they are there.
        session.recorder.flush_wait()
        # those already claimed by this crawl (queued, or fetched and settled) are not claimed again
        found = frontier.claim_listed(session.archive.engine(), session.crawl_id, list(wanted), clock.schedule_now())
        session.sources_found(response.url, len(found))
        # The article's assets once its sources are claimed: an asset that is one of them waits for its
        # fetch as a source instead of being fetched twice (archive.crawl.asset_sources).
        yield from self.assets.for_page(response)
        for target in found:
            yield self.request_for(target.url, source_id=target.source_id, known=target.known)

    # -- page assets (crawler.assets): never sources, never counted as such ---------------------------------
    def parse_asset(self, response: Response) -> list[scrapy.Request]:
        return self.assets.arrived(response)

    def asset_failed(self, failure: Failure) -> list[scrapy.Request]:
        return self.assets.failed(failure)

    def closed(self, reason: str) -> None:
        if self._assets is not None:
            self._assets.close()

    def failed(self, failure: Failure) -> list[scrapy.Request]:
        request = failure.request  # type: ignore[attr-defined]
        assert failure.value is not None  # an errback's failure always carries its exception
        reason, detail = classify(failure.value, request.meta.get("redirect_urls"))
        session = self.session
        source_id = request.meta.get("citevault_source_id")
        now = datetime.now(timezone.utc)
        record_id = session.recorder.new_record_id()
        session.recorder.record_failure(
            request.url, reason, record_id=record_id,
            source_url=request.meta.get("citevault_source_url"),
            document_id=request.meta.get("citevault_document_id"), detail={"detail": detail}, moment=now,
        )
        if source_id:
            session.recorder.source_done(source_id, classify_failure(reason), now,
                                         known=request.meta.get("citevault_known"),
                                         url=request.meta.get("citevault_source_url"))
        self._done(SourceState.FAILED, reason)
        return self.assets.source_arrived(source_id, None, record_id) if source_id else []


__all__ = ["EvidenceSpider", "CAPTURE_META"]
