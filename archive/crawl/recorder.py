"""The crawl's single writer: WARC records first, then the index rows that point to them.

The crawler hands plain values to a :class:`Recorder` from the reactor thread and returns at once; one
background thread builds the records, compresses them (zlib releases the GIL, so this runs on the second
core), appends them to the WARC file, flushes, and only then commits the matching index rows in batches.
That order is the crash-safety invariant: the index never points to bytes that are not on disk.
"""
from __future__ import annotations

import logging
import pickle
import queue
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from functools import partial
from typing import TYPE_CHECKING, Any, Callable

from sqlalchemy import bindparam, text

from archive import clock
from archive.crawl import frontier
from archive.crawl.leftovers import Fetched, classify_fetched, page_text
from archive.ids import capture_id, source_id
from archive.index import writes
from archive.index.rows import capture_row
from archive.integrity.unit_rows import verdict_body
from archive.recheck.outcomes import ERROR, GONE, OK, Outcome
from archive.recheck.policy import Policy
from archive.states import SourceState
from archive.urlkey import urlkey
from archive.warc.builder import ROLE_FIELD, HttpExchange, RecordFactory, citevault_fields, warc_date
from archive.warc.store import WarcStore

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from archive.claims import ExtractedDocument
    from archive.crawl.checker import Checker
    from archive.crawl.frontier import Claimed
    from archive.home import DataHome

logger = logging.getLogger(__name__)

_STOP = object()
#: A writer-thread method (called with the connection first) and its args.
Job = tuple[Callable[..., None], tuple[Any, ...]]


def _sid(source_url: str | None) -> str | None:
    return source_id(source_url) if source_url else None


@dataclass
class RecorderStats:
    records: int = 0
    captures: int = 0
    failures: int = 0
    revisits: int = 0
    documents: int = 0
    errors: list[str] = field(default_factory=list)
    states: Counter[SourceState] = field(default_factory=Counter)


class Recorder:
    """Owns the WARC store and one index connection for the length of a crawl."""

    def __init__(
        self,
        home: DataHome,
        engine: Engine,
        *,
        crawl_id: str,
        operator: str | None = None,
        robots: str = "obey",
        compresslevel: int = 3,
        max_size: int = 1_000_000_000,
        batch: int = 500,
        flush_seconds: float = 0.5,
        queue_size: int = 2000,
        make_id: Callable[[], str] | None = None,
        policy: Policy | None = None,
        check: bool = False,
    ) -> None:
        """``check``: run the quote checks of what is captured while the crawl goes on
        (:mod:`archive.crawl.checker`, a process of its own)."""
        self.home = home
        self.policy = policy or Policy.from_env()
        self.engine = engine
        self.crawl_id = crawl_id
        self.factory = RecordFactory(make_id)
        self.store = WarcStore(home.warcs, max_size=max_size, compresslevel=compresslevel, operator=operator,
                               robots=robots, factory=self.factory)
        self.batch = batch
        self.flush_seconds = flush_seconds
        self.stats = RecorderStats()
        self.failure: str | None = None  # a thread recorder never stops before close()
        self._jobs: queue.Queue[Any] = queue.Queue(maxsize=queue_size)
        self._captures: list[dict[str, Any]] = []
        self._batch_digests: dict[tuple[str, str], dict[str, Any]] = {}  # (url, digest) → row, this batch
        self._pending_states: dict[str, dict[str, Any]] = {}  # source id → update, this batch
        self._states: list[dict[str, Any]] = []
        self._links: list[dict[str, Any]] = []  # page → asset rows (archive.crawl.page_assets), this batch
        self._unsettled: dict[str, Fetched] = {}  # source id → its last capture, until its verdict comes
        self.checker: Checker | None = None
        if check:
            from archive.crawl.checker import Checker

            self.checker = Checker(home, crawl_id)
        self._thread = threading.Thread(target=self._run, name="citevault-recorder", daemon=True)
        self._thread.start()

    @property
    def closed_files(self) -> list[str]:
        return self.store.closed_files

    # -- called from the crawler (any thread) -------------------------------------------------------
    def new_record_id(self) -> str:
        return self.factory.new_id()

    # Each call becomes a job, (method, args), for the writer thread. The *_job builders are separate so
    # that run_calls() can run calls pickled by archive.crawl.recorder_process in the writer thread itself.
    # The signatures are :class:`archive.crawl.sink.RecordingSink`'s (documented there).
    def record_exchange(self, ex: HttpExchange, *, record_id: str, source_url: str | None,
                        document_id: str | None, redirect_to: str | None = None, fresh: bool = False,
                        role: str | None = None, links: dict[str, str] | None = None) -> None:
        self._jobs.put(self._exchange_job(ex, record_id=record_id, source_url=source_url, document_id=document_id,
                                          redirect_to=redirect_to, fresh=fresh, role=role, links=links))

    def record_failure(self, url: str, reason: str, *, record_id: str, source_url: str | None,
                       document_id: str | None, detail: dict[str, Any] | None = None,
                       moment: datetime | None = None, role: str | None = None,
                       links: dict[str, str] | None = None) -> None:
        self._jobs.put(self._failure_job(url, reason, record_id=record_id, source_url=source_url,
                                         document_id=document_id, detail=detail, moment=moment, role=role,
                                         links=links))

    def source_done(self, source_id: str, outcome: Outcome, fetched_at: datetime, capture_id: str | None = None,
                    known: Claimed | None = None, url: str | None = None) -> None:
        self._jobs.put(self._settle_job(source_id, outcome, fetched_at, capture_id, known, url))

    def document_fetched(self, document_id: str, extracted: ExtractedDocument) -> None:
        self._jobs.put(self._ingest_job(document_id, extracted))

    def page_assets(self, page_record_id: str, page_url: str, body: dict[str, Any],
                    moment: datetime | None = None) -> None:
        self._jobs.put(self._page_assets_job(page_record_id, page_url, body, moment))

    def flush(self) -> bool:
        """Nothing to send on: calls reach the writer thread as they are made."""
        return True

    def submit_calls(self, pickled: bytes, bodies: list[bytes] | None = None) -> None:
        """A batch of ``(name, args, kwargs)`` calls, still pickled: the writer thread unpickles and runs
        them, so the thread that received them (archive.crawl.recorder_process's child) hardly needs the GIL.
        ``bodies``: large response bodies sent beside the pickle, in order, for the exchanges whose call
        says ``body_follows`` (pickling them would copy them once more on each side)."""
        self._jobs.put((self._run_calls, (pickled, bodies or [])))

    def _exchange_job(self, ex: HttpExchange, *, record_id: str, source_url: str | None,
                      document_id: str | None, redirect_to: str | None = None, fresh: bool = False,
                      role: str | None = None, links: dict[str, str] | None = None) -> Job:
        """``source_url``: the source this fetch is for (every hop of a redirect chain shares it).
        ``fresh``: this URL was never captured before, so only this crawl's batch can hold a duplicate.
        ``role``: ``asset`` for a page asset's fetch; ``links``: its fields naming the pages that need it
        (:func:`archive.crawl.page_assets.record_link_rows`)."""
        return self._write_exchange, (ex, record_id, source_url, document_id, redirect_to, fresh, role, links)

    def _failure_job(self, url: str, reason: str, *, record_id: str, source_url: str | None,
                     document_id: str | None, detail: dict[str, Any] | None = None,
                     moment: datetime | None = None, role: str | None = None,
                     links: dict[str, str] | None = None) -> Job:
        moment = moment or datetime.now(timezone.utc)
        return self._write_failure, (url, reason, record_id, source_url, document_id, detail or {}, moment, role,
                                     links)

    def _settle_job(self, source_id: str, outcome: Outcome, fetched_at: datetime,
                    capture_id: str | None = None, known: Claimed | None = None,
                    url: str | None = None) -> Job:
        """A source's fetch is over (after redirects and retries): decide its state (``archive.recheck.transitions``).
        ``capture_id``: the final response's capture, None for a failure. ``known``: the source's row as
        the frontier claimed it (state, failures, first_failure, evidence, latest), saving a read."""
        return self._settle, (source_id, outcome, fetched_at, capture_id, known, url)

    def _ingest_job(self, document_id: str, extracted: ExtractedDocument) -> Job:
        return self._ingest, (document_id, extracted)

    def _page_assets_job(self, page_record_id: str, page_url: str, body: dict[str, Any],
                         moment: datetime | None = None) -> Job:
        """A page's asset list (:mod:`archive.crawl.page_assets`), once every asset it needed is fetched."""
        return self._write_page_assets, (page_record_id, page_url, body, moment or datetime.now(timezone.utc))

    _BUILDERS = {"record_exchange": "_exchange_job", "record_failure": "_failure_job",
                 "source_done": "_settle_job", "document_fetched": "_ingest_job",
                 "page_assets": "_page_assets_job"}

    def _run_calls(self, conn: Any, pickled: bytes, bodies: list[bytes]) -> None:
        calls = pickle.loads(pickled)
        del pickled
        for name, args, kwargs in calls:
            if kwargs.pop("body_follows", False):
                args[0].body = bodies.pop(0)
            func, fargs = getattr(self, self._BUILDERS[name])(*args, **kwargs)
            self._execute(conn, func, fargs)

    def flush_wait(self, timeout: float = 120) -> None:
        """Block until every job queued so far is written and committed (used rarely: after a document's
        claims are queued, before claiming its sources from the index)."""
        done = threading.Event()
        self._jobs.put((self._signal, (done,)))
        done.wait(timeout)

    def _signal(self, conn: Any, done: threading.Event) -> None:
        self._commit(conn)
        done.set()

    def close(self) -> RecorderStats:
        """Drain the queue, commit, close the WARC file. Safe to call twice."""
        if self._thread.is_alive():
            self._jobs.put(_STOP)
            self._thread.join()
        return self.stats

    def _close_checker(self) -> None:
        """Let the checker finish what is queued (it runs in a process of its own); its errors become ours."""
        if self.checker is not None:
            self.checker.close()
            self.stats.errors.extend(f"check: {e}" for e in self.checker.errors)
            self.checker.errors = []

    # -- the writer thread ----------------------------------------------------------------------------
    def _run(self) -> None:
        conn = self.engine.connect()
        writes.start_crawl(conn, self.crawl_id, clock.real_now())
        conn.commit()
        self._doc_intervals = conn.execute(text(
            "SELECT 1 FROM documents WHERE check_every IS NOT NULL LIMIT 1")).first() is not None
        last_commit = time.monotonic()
        try:
            while True:
                try:
                    job = self._jobs.get(timeout=self.flush_seconds)
                except queue.Empty:
                    job = None
                if job is _STOP:
                    break
                if job is not None:
                    self._execute(conn, *job)
                pending = len(self._captures) + len(self._states) + len(self._links)
                if pending >= self.batch or (pending and time.monotonic() - last_commit >= self.flush_seconds):
                    self._safe_commit(conn)
                    last_commit = time.monotonic()
            self._execute(conn, self._settle_leftovers, ())
            self._safe_commit(conn)
            self._close_checker()  # before the WARC file is closed (renamed) under the checks reading it

            def finish() -> None:
                frontier.release(conn, self.crawl_id)
                writes.finish_crawl(conn, self.crawl_id, clock.real_now(), self.stats.states)
                conn.commit()

            from archive.index.retry import retrying

            retrying(finish, "finishing the crawl", on_retry=conn.rollback)
        finally:
            try:
                self._close_checker()
                self.store.close()
            finally:
                conn.close()

    def _execute(self, conn: Any, func: Callable[..., None], args: tuple[Any, ...]) -> None:
        from archive.index.retry import retrying

        try:
            # a dropped database connection (a job reads the index before it writes its records): wait
            # for it to come back and run the job again, the rows batched so far kept
            retrying(lambda: func(conn, *args), func.__name__, on_retry=conn.rollback)
        except Exception as exc:  # one bad record must not stop the crawl
            self._failed(conn, func.__name__, exc)

    def _failed(self, conn: Any, what: str, exc: Exception) -> None:
        # Rows queued by earlier jobs stay queued: they describe records already on disk.
        logger.error("citevault recorder: %s failed: %s", what, exc, exc_info=True)
        self.stats.errors.append(f"{what}: {str(exc).splitlines()[0]}")
        if conn.in_transaction():
            conn.rollback()

    def _safe_commit(self, conn: Any) -> None:
        from archive.index.retry import retrying

        try:
            # the batch is one transaction, rolled back whole when the connection drops: tried again whole
            retrying(lambda: self._commit(conn), "committing rows", on_retry=conn.rollback)
        except Exception as exc:  # the batch is lost from the index, not from the WARC: reindex restores it
            self._captures, self._states, self._links = [], [], []
            self._batch_digests, self._pending_states = {}, {}
            self._failed(conn, "commit", exc)

    def _commit(self, conn: Any) -> None:
        # Order matters: WARC bytes reach the OS before the rows that point to them are committed.
        # The batch is cleared only once committed, so a commit that fails on a dropped connection can
        # be tried again whole (_safe_commit).
        self.store.flush()
        checkable: list[str] = []
        if self._captures:
            writes.add_captures(conn, self._captures)
            if self.checker is not None:
                checkable = [c["source_id"] for c in self._captures
                             if c.get("source_id") and 200 <= (c.get("http_status") or 0) < 300]
        if self._links:
            writes.add_page_assets(conn, self._links)
        if self._states:
            writes.settle_sources(conn, self._states)
            writes.add_events(conn, [s["event"] for s in self._states])
        if conn.in_transaction():
            conn.commit()
        if self._captures:
            self._captures = []
            self._batch_digests = {}
        self._links = []
        if self._states:
            self._states = []
            self._pending_states = {}
        if checkable and self.checker is not None:
            self.checker.submit(checkable)

    def _write_exchange(self, conn: Any, ex: HttpExchange, record_id: str, source_url: str | None,
                        document_id: str | None, redirect_to: str | None, fresh: bool = False,
                        role: str | None = None, links: dict[str, str] | None = None) -> None:
        sid = _sid(source_url)
        fields = citevault_fields(source_url, document_id, self.crawl_id, sid)
        if role:
            fields[ROLE_FIELD] = role
        fields.update(links or {})
        response, request = self.factory.exchange(ex, response_id=record_id, extra=fields)
        record_type, refers_to = "response", None
        key = urlkey(ex.url)
        original = self._earlier_capture(conn, ex.url, key, response.payload_digest, fresh)
        if original is not None:  # same URL, same payload: a revisit, no payload bytes stored again
            response, request = self.factory.revisit(ex, original, record_id=record_id, extra=fields)
            record_type, refers_to = "revisit", capture_id(original["record_id"])
            self.stats.revisits += 1
        where, _ = self.store.write_group([response.record, request.record])
        self.stats.records += 2
        self.stats.captures += 1
        content_type = next((v for k, v in ex.response_headers if k.lower() == "content-type"), None)
        row = capture_row(
            record_id=record_id, record_type=record_type, url=ex.url, fetched_at=ex.fetched_at,
            refers_to=refers_to, key=key,
            warc_file=where.warc_file, warc_offset=where.offset, warc_length=where.length,
            http_status=ex.status, content_type=content_type, payload_digest=response.payload_digest,
            payload_sha256=response.payload_sha256, payload_length=response.payload_length,
            redirect_to=redirect_to, source_id=sid, document_id=document_id, crawl_id=self.crawl_id, role=role,
        )
        self._captures.append(row)
        if links:
            self._add_links(links, ex.url, row["id"])
        if record_type == "response" and row["payload_digest"]:
            self._batch_digests.setdefault((ex.url, row["payload_digest"]), row)
        if sid and source_url:
            retry_after = next((v for k, v in ex.response_headers if k.lower() == "retry-after"), None)
            self._unsettled[sid] = Fetched(row["id"], record_type, ex.url, source_url, ex.fetched_at, ex.status,
                                           content_type, retry_after)

    def _earlier_capture(self, conn: Any, url: str, key: str, payload_digest: str | None,
                         fresh: bool = False) -> dict[str, str] | None:
        """The first full response for ``url`` with this payload digest, committed or still batched."""
        if not payload_digest:
            return None
        row = self._batch_digests.get((url, payload_digest))  # written this batch, not yet committed
        if row is not None:
            return {"record_id": row["warc_record_id"], "url": url, "date": warc_date(row["fetched_at"])}
        if fresh:
            return None
        found = conn.execute(text(
            "SELECT warc_record_id, fetched_at FROM captures WHERE urlkey = :k AND url = :u "
            "AND payload_digest = :d AND record_type = 'response' ORDER BY fetched_at LIMIT 1"
        ), {"k": key, "u": url, "d": payload_digest}).first()
        if found is None:
            return None
        fetched_at = clock.as_datetime(found[1])
        assert fetched_at is not None  # captures.fetched_at is NOT NULL
        return {"record_id": found[0], "url": url, "date": warc_date(fetched_at)}

    def _write_failure(self, conn: Any, url: str, reason: str, record_id: str, source_url: str | None,
                       document_id: str | None, detail: dict[str, Any], now: datetime,
                       role: str | None = None, links: dict[str, str] | None = None) -> None:
        sid = _sid(source_url)
        fields = citevault_fields(source_url, document_id, self.crawl_id, sid)
        if role:
            fields[ROLE_FIELD] = role
        fields.update(links or {})
        built = self.factory.failure(url, reason, detail, now, record_id=record_id, extra=fields)
        where = self.store.write(built.record)
        self.stats.records += 1
        self.stats.failures += 1
        row = capture_row(
            record_id=record_id, record_type="metadata", url=url, fetched_at=now,
            warc_file=where.warc_file, warc_offset=where.offset, warc_length=where.length,
            source_id=sid, document_id=document_id, crawl_id=self.crawl_id, error=reason, role=role,
        )
        self._captures.append(row)
        if links:
            self._add_links(links, url, row["id"])
        if sid and source_url:
            self._unsettled[sid] = Fetched(row["id"], "metadata", url, source_url, now, error=reason)

    def _add_links(self, links: dict[str, str], url: str, capture: str) -> None:
        """An asset's links to the pages waiting for it, committed with its capture: they survive a crawl
        killed before those pages' own lists are written (archive.crawl.page_assets)."""
        from archive.crawl.page_assets import record_link_rows

        self._links.extend(record_link_rows(links.get, url, capture))

    def _write_page_assets(self, conn: Any, page_record_id: str, page_url: str, body: dict[str, Any],
                           moment: datetime) -> None:
        from archive.crawl.page_assets import link_rows

        built = self.factory.page_assets(page_url, page_record_id, body, moment,
                                         extra=citevault_fields(None, None, self.crawl_id))
        self.store.write(built.record)
        self.stats.records += 1
        self._links.extend(link_rows(page_record_id, body))

    def _settle(self, conn: Any, source_id: str, outcome: Outcome, fetched_at: datetime,
                capture_id: str | None, claimed: Claimed | None = None, url: str | None = None) -> None:
        from archive.recheck.transitions import Known, decide

        self._unsettled.pop(source_id, None)
        pending = self._pending_states.get(source_id)
        # the source's URL travels with the call (nothing per source is kept for the whole crawl: memory
        # stays bounded however many sources a crawl fetches); failing that, from this batch or the row
        url = url or (pending or {}).get("url")
        if pending is None and claimed is not None:
            evidence, latest = claimed.evidence_capture, claimed.latest_good_capture
            known = Known(SourceState(claimed.state), evidence is not None, claimed.failures or 0,
                          clock.as_datetime(claimed.first_failure))
        elif pending is not None:
            known = Known(pending["state"], pending["evidence"] is not None, pending["failures"], pending["first_failure"])
            evidence, latest = pending["evidence"], pending["latest"]
        else:
            row = conn.execute(text(
                "SELECT state, failures, first_failure, evidence_capture, latest_good_capture, url FROM sources "
                "WHERE id = :s"), {"s": source_id}).first()
            if row is None:
                return
            known = Known(SourceState(row[0]), row[3] is not None, row[1] or 0, clock.as_datetime(row[2]))
            evidence, latest = row[3], row[4]
            url = url or row[5]
        changed = None
        if outcome.kind == OK and evidence and capture_id:
            from archive.recheck.drift import main_text_changed

            self._commit(conn)  # the new capture's row and bytes must be readable
            changed = main_text_changed(conn, self.home, evidence, capture_id)
        every = self._interval(conn, source_id)
        naive = clock.naive_utc(fetched_at)
        # A first fetch that its status alone decides is scheduled from its fetch time (its WARC-Date), so
        # reindex derives the same values; anything else is written down in a verdict record.
        derivable = not known.has_evidence and outcome.kind in (OK, GONE, ERROR) and not clock.fixed()
        now = naive if derivable else clock.schedule_now()
        decision = decide(known, outcome, changed=changed, now=now, policy=self.policy, every=every)
        self.stats.states[decision.state] += 1
        update = {
            "sid": source_id, "state": decision.state, "fetched": naive, "failures": decision.failures,
            "first_failure": decision.first_failure, "reason": decision.reason, "next_due": decision.next_due,
            "evidence": capture_id if decision.is_evidence else evidence,
            "latest": capture_id if decision.is_latest_good else latest, "url": url,
            "event": {"source_id": source_id, "at": now, "state": decision.state, "outcome": outcome.kind,
                      "capture_id": capture_id, "crawl_id": self.crawl_id, "detail": outcome.detail or None},
        }
        self._pending_states[source_id] = update
        if not derivable:
            # Not derivable from the captures alone (a re-check, or a 200 that was a wall or a soft-404):
            # write the verdict down, so `reindex` restores it from the WARC files.
            self._write_state_record(source_id, update, outcome)
        self._states.append(update)

    def _settle_leftovers(self, conn: Any) -> None:
        """The input ended (the crawler stopped or died) with fetches written whose verdict never came:
        settle each source from its last capture, as the crawler would have (``archive.crawl.leftovers``),
        so the next crawl does not fetch it again."""
        if not self._unsettled:
            return
        self._safe_commit(conn)  # the captures first: their pages are read back, revisits resolved
        leftovers, self._unsettled = self._unsettled, {}
        # Only sources this crawl holds: records written for another (history added by hand) settle nothing.
        ours = {sid for (sid,) in conn.execute(text(
            "SELECT id FROM sources WHERE lease_owner = :c AND id IN :ids").bindparams(
            bindparam("ids", expanding=True)), {"c": self.crawl_id, "ids": list(leftovers)})}
        if ours:
            logger.info("citevault recorder: settling %d sources whose verdict the crawler never sent", len(ours))
        for sid, fetched in leftovers.items():
            if sid not in ours:
                continue
            try:
                page = partial(self._page_text, conn, fetched.capture_id, fetched.content_type)
                outcome = classify_fetched(fetched, page)
            except Exception as exc:  # noqa: BLE001 - the next crawl's start settles it (archive.integrity.catch_up)
                self._failed(conn, "_settle_leftovers", exc)
                continue
            self._execute(conn, self._settle, (sid, outcome, fetched.fetched_at, fetched.settles_with, None,
                                               fetched.source_url))

    def _page_text(self, conn: Any, capture: str, content_type: str | None) -> str:
        """A committed capture's page as text (a revisit's from the record it refers to)."""
        row = conn.execute(text(
            "SELECT COALESCE(o.warc_file, c.warc_file), COALESCE(o.warc_offset, c.warc_offset) FROM captures c "
            "LEFT JOIN captures o ON o.id = c.refers_to WHERE c.id = :i"), {"i": capture}).first()
        return page_text(self.home.warc_path(row[0]), row[1], content_type) if row is not None else ""

    def _write_state_record(self, source_id: str, update: dict[str, Any], outcome: Outcome) -> None:
        url = update["url"] or ""
        body = verdict_body(source_id=source_id, url=url, state=update["state"], outcome=outcome.kind,
                            detail=outcome.detail or None, reason=update["reason"], failures=update["failures"],
                            first_failure=update["first_failure"], next_due=update["next_due"],
                            last_fetched=update["fetched"], evidence_capture=update["evidence"],
                            latest_good_capture=update["latest"], at=update["event"]["at"])
        fields = citevault_fields(url or None, None, self.crawl_id, source_id)
        built = self.factory.state(url, body, datetime.now(timezone.utc), extra=fields)
        self.store.write(built.record)
        self.stats.records += 1

    def _interval(self, conn: Any, source_id: str) -> timedelta | None:
        """The shortest re-check interval among the documents citing the source (None: the default)."""
        if not self._doc_intervals:
            return None
        seconds = conn.execute(text(
            "SELECT MIN(d.check_every) FROM citations ci JOIN claims c ON c.id = ci.claim_id "
            "JOIN documents d ON d.id = c.document_id WHERE ci.source_id = :s"), {"s": source_id}).scalar()
        return timedelta(seconds=seconds) if seconds else None

    def _ingest(self, conn: Any, document_id: str, extracted: ExtractedDocument) -> None:
        from sqlalchemy import select

        from archive.index.models import Document
        from archive.ingest import ingest

        self._commit(conn)  # captures of the document's own fetch go in first
        table = Document.__table__
        row = conn.execute(select(table).where(table.c.id == document_id)).mappings().one()
        doc = {**row, "kind": extracted.kind}
        writes.update_document(conn, document_id, kind=extracted.kind)
        ingest(conn, self.store, doc, extracted, now=clock.real_now())
        conn.commit()
        self.stats.documents += 1
