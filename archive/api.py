"""The library API: what the CLI, the crawler and the web UI call. One method per user-facing action::

    from archive import Archive

    archive = Archive.open("citevault-data")
    archive.add(["article.html"])
    archive.crawl()
    archive.lookup("budget approved")

Every ``citevault`` command is one or two calls here plus formatting, and so is every page of
``citevault serve``. Methods return plain data: dicts typed by :mod:`archive.shapes` (the claim JSON, README
"Claim JSON", and the other ``--json`` shapes), or the dataclasses named in their signatures. Problems the user can act on raise
:class:`~archive.errors.CitevaultError` subclasses with a one-line message.
"""
from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from archive.errors import CitevaultError, InputError, NotFoundError, StoreError
from archive.exports.formats import Exported, ExportFormat
from archive.home import DataHome
from archive.index.db import ensure_schema, make_engine
from archive.report import DEFAULT_REPLAY_BASE

if TYPE_CHECKING:
    from cryptography import x509
    from sqlalchemy import Connection
    from sqlalchemy.engine import Engine

    from archive.checks.run import CheckStats
    from archive.index.detail import CaptureDetail, ClaimDetail, DocumentDetail, Mementos, SourceDetail
    from archive.index.renderings import Rendering
    from archive.index.statements import Statements
    from archive.ingest import Ingested
    from archive.integrity.fixity import VerifyReport
    from archive.integrity.reindex import ReindexStats
    from archive.receipts.verify import Check, ReceiptCheck
    from archive.shapes import (CaptureRow, ClaimJSON, ClaimRow, DiffEntry, DocumentOverview, Receipt, StatusEntry,
                                WorkerJSON)
    from archive.warc.reader import ArchivedResponse


def _seconds(every: timedelta | None) -> int | None:
    return int(every.total_seconds()) if every is not None else None


@dataclass(frozen=True)
class CrawlSummary:
    """What a crawl did (its progress lines and summary went to stderr as it ran)."""

    crawl_id: str
    targets: int  #: sources and documents it took on
    done: int
    failed: int
    states: dict[str, int]  #: sources by the state their fetch left them in (archived, gone, failed, ...)
    reasons: dict[str, int]  #: failed fetches by reason (``http 404``, ``timeout``, ...)

    @classmethod
    def of(cls, session: Any) -> CrawlSummary:
        p = session.progress
        return cls(session.crawl_id, p.total, p.done, p.failed, dict(p.states), dict(p.reasons))


@dataclass(frozen=True)
class IssuedReceipt:
    """A receipt written by :meth:`Archive.receipt` (README "Proving the evidence")."""

    claim_id: str
    receipt: Receipt
    data: bytes  #: the receipt as written: RFC 8785 canonical JSON
    path: Path  #: the home's copy, ``receipts/CLAIM_ID.receipt.json``
    problems: list[str]  #: TSAs that did not answer (the receipt is signed all the same)


@contextmanager
def _nul_is_not_found() -> Iterator[None]:
    """PostgreSQL refuses a NUL in a text parameter, where SQLite simply finds nothing: no id, URL or word the
    index holds contains one, so the answer is the same on both."""
    try:
        yield
    except Exception as exc:
        if "NUL (0x00)" in str(exc) and type(exc).__name__ == "DataError":
            raise NotFoundError("nothing in the index matches a value holding a NUL byte") from None
        raise


class Archive:
    """A data home (WARC files + index) opened for use.

    Opening reads nothing: the index is opened on first use, and a method that needs one raises
    :class:`~archive.errors.StoreError` when the home has none. :meth:`add` and :meth:`crawl` create it;
    :meth:`reindex` builds it from the WARC files; :meth:`verify` works on WARC files alone.
    """

    def __init__(self, home: DataHome, *, bounded: bool = False) -> None:
        self.home = home
        self.bounded = bounded
        self._engine: Engine | None = None

    @classmethod
    def open(cls, home: str | None = None, db: str | None = None, *, bounded: bool = False) -> Archive:
        """``bounded``: for a process that makes one bounded read and exits (``citevault lookup``,
        ``show``): on PostgreSQL, :meth:`lookup` and :meth:`show` then read through the driver's own
        connection, without SQLAlchemy (no pool: each call connects, which a one-shot process does once)."""
        return cls(DataHome.resolve(home, db), bounded=bounded)

    # -- plumbing -------------------------------------------------------------------------------------
    def engine(self, *, create: bool = False) -> Engine:
        if self._engine is None:
            embedded = self.home.db_url.startswith("sqlite:///") and "citevault.sqlite" in self.home.db_url
            if create:
                self.home.create()
            elif embedded and not (self.home.root / "citevault.sqlite").exists():
                raise StoreError(
                    f"no archive at {self.home.root}: add something first (`citevault add FILE`), "
                    "or point --home / CITEVAULT_HOME at an existing data home"
                )
            engine = make_engine(self.home.db_url)
            ensure_schema(engine)
            self._engine = engine
        return self._engine

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        with self.engine().connect() as conn, _nul_is_not_found():
            yield conn

    @contextmanager
    def _bounded_reads(self) -> Iterator[Statements]:
        """Statements for a bounded read (``lookup``, ``show``, ``status``). In a ``bounded`` archive on PostgreSQL,
        before any engine is made, a driver connection of its own (:func:`archive.index.statements.direct`):
        the process then imports neither SQLAlchemy's engine nor its PostgreSQL dialect (bench/README.md,
        "lookup.py --db postgresql…"). Elsewhere, or when that cannot be used, the engine's (pooled)
        connection."""
        from archive.index.db import HEAD_REVISION
        from archive.index.statements import direct, statements

        if self.bounded and self._engine is None:
            with direct(self.home.db_url, HEAD_REVISION) as run:
                if run is not None:
                    with _nul_is_not_found():
                        yield run
                    return
        with self.reading() as conn:
            yield statements(conn)

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    # -- add ------------------------------------------------------------------------------------------
    def add(self, sources: list[str], *, operator: str | None = None, every: timedelta | None = None) -> list[Ingested]:
        """Add articles, claim lists or article URLs. Each input is all-or-nothing: a bad one leaves the
        index and the WARC files as they were, and raises :class:`InputError` naming it."""
        from archive import ingest
        from archive.clock import real_now as utcnow
        from archive.index.writes import set_interval
        from archive.warc.store import WarcStore

        inputs = [ingest.classify(s) for s in sources]  # every name checked before anything is written
        engine = self.engine(create=True)
        results = []
        with WarcStore(self.home.warcs, operator=operator) as store:
            for item in inputs:
                with engine.begin() as conn:
                    result = self._add_one(conn, store, item, utcnow(), every)
                    if every is not None:
                        set_interval(conn, result.document["id"], every)
                    results.append(result)
        return results

    def _add_one(self, conn: Connection, store: Any, item: Any, now: Any, every: timedelta | None = None) -> Ingested:
        from archive import ids, ingest
        from archive.claims import ExtractedDocument, detect_kind, extract
        from archive.claims.extract import CLAIM_LIST_KINDS

        if item.url is not None:
            doc_id = ids.document_id_for_url(item.url)
            existing = self._existing(conn, doc_id)
            if existing is not None:
                return existing
            row = ingest.document_row(doc_id, url=item.url, kind="url", origin=item.raw, sha256=None,
                                         status="pending", added_at=now, check_every=_seconds(every))
            empty = ExtractedDocument(kind="url", url=item.url, title=None)
            return ingest.ingest(conn, store, row, empty, now=now, status="pending")
        path = item.path
        kind = detect_kind(path.name)
        sha, sha1 = ingest.file_digests(path)
        doc_id = ids.document_id_for_bytes_digest(sha)
        existing = self._existing(conn, doc_id)
        if existing is not None:
            return existing
        try:
            with ingest.mapped(path) as data:  # an mmap: claim lists stream from disk
                extracted = extract(data, kind=kind, url=None)
                # A claim list that names no title is known by its file name (an article has its own).
                fallback_title = path.name if kind in CLAIM_LIST_KINDS else None
                row = ingest.document_row(doc_id, url=extracted.url, kind=kind, origin=path.name,
                                          sha256=sha, status="extracted", added_at=now, title=fallback_title,
                                          check_every=_seconds(every))
                import mimetypes

                content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
                article = ingest.AddedFile(path, content_type, sha1)
                return ingest.ingest(conn, store, row, extracted, article=article, now=now)
        except CitevaultError as exc:
            raise InputError(f"cannot add {item.raw!r}: {exc}") from None

    def _existing(self, conn: Connection, doc_id: str) -> Ingested | None:
        from sqlalchemy import text

        from archive.ingest import Ingested

        from archive.index.lookup import fetch_error

        row = conn.execute(text("SELECT id, url, title, claim_count, status FROM documents WHERE id = :d"),
                           {"d": doc_id}).mappings().first()
        if row is None:
            return None
        found = {**row, "fetch_error": fetch_error(conn, row)}
        counts = conn.execute(text(
            "SELECT COUNT(DISTINCT ci.claim_id), COUNT(DISTINCT ci.source_id) FROM citations ci "
            "JOIN claims c ON c.id = ci.claim_id WHERE c.document_id = :d"), {"d": doc_id}).one()
        return Ingested(found, row["claim_count"], counts[0], counts[1])

    def summaries(self, document_ids: list[str]) -> list[Ingested]:
        """Counts of documents already in the index (as ``add --json`` prints them)."""
        with self.reading() as conn:
            found = [self._existing(conn, d) for d in document_ids]
        return [s for s in found if s is not None]

    # -- crawl ----------------------------------------------------------------------------------------
    def crawl(self, document_ids: Sequence[str] | None = None, *, due: bool = False, concurrency: int | None = None,
              ignore_robots: bool = False, verbose: bool = False,
              settings: Mapping[str, Any] | None = None) -> CrawlSummary | None:
        """Fetch every pending (or failed) source and every document added by URL into WARC files; only
        those of ``document_ids`` when given. ``due``: also the sources whose re-check time has come.
        ``settings`` override Scrapy or ``CITEVAULT_*`` settings. Progress and a summary go to stderr.

        Runs Scrapy in this process: the Twisted reactor cannot restart, so one crawl per process. A
        failed fetch is recorded, not raised; :class:`StoreError` when recording stopped or the crawl was
        interrupted, by one Ctrl-C or two (what was recorded stays archived). None when the crawl never started its session.
        """
        from crawler.run import run_crawl  # lazy: `archive` never imports crawler (or Scrapy) at module level

        self.engine(create=True)
        session = run_crawl(self.home, document_ids=document_ids, concurrency=concurrency,
                            ignore_robots=ignore_robots, verbose=verbose, overrides=dict(settings or {}), due=due)
        if session is None:
            return None
        if session.failure:
            raise StoreError(f"crawl stopped: {session.failure}; what was recorded stays archived, "
                             "`citevault crawl` fetches the rest")
        if session.interrupted or session.stopping:  # Ctrl-C twice, or once (docs/integrity.md)
            raise StoreError("crawl interrupted: what was fetched so far is archived, `citevault crawl` fetches "
                             "the rest")
        self._crawl_receipts(session)
        return CrawlSummary.of(session)

    def _crawl_receipts(self, session: Any) -> None:
        """With ``CITEVAULT_RECEIPTS`` on, a receipt for each claim whose sources this crawl fetched, once
        the crawl (and its check) ended; ``CITEVAULT_TSA``/``CITEVAULT_TSA_CERT`` as settings or from the
        environment. Reported on stderr after the crawl's summary; a problem here is never fatal:
        `citevault receipt --document` can redo it."""
        settings = session.crawler.settings
        if not settings.getbool("CITEVAULT_RECEIPTS", False):
            return
        import sys

        from archive.receipts.build import claims_of_crawl

        tsa = str(settings.get("CITEVAULT_TSA") or "").replace(",", " ").split() or None
        certs = [p for p in str(settings.get("CITEVAULT_TSA_CERT") or "").split(os.pathsep) if p] or None
        written, problems = 0, []
        try:
            with self.reading() as conn:
                per_document = claims_of_crawl(conn, session.crawl_id)
            for document_id, claim_ids in per_document.items():
                for issued in self.receipts(document_id, tsa=tsa, tsa_certs=certs, claim_ids=claim_ids):
                    written += 1
                    problems += [p for p in issued.problems if p not in problems]
        except CitevaultError as exc:
            problems.append(f"receipts after the crawl stopped: {exc}")
        for problem in problems:
            sys.stderr.write(f"citevault: {problem}\n")
        sys.stderr.write(f"citevault: wrote {written} receipts in {self.home.root / 'receipts'}\n")

    def archive(self, sources: list[str], *, every: timedelta | None = None,
                on_added: Callable[[list[Ingested]], None] | None = None, concurrency: int | None = None,
                ignore_robots: bool = False, verbose: bool = False,
                settings: Mapping[str, Any] | None = None) -> list[Ingested]:
        """:meth:`add` ``sources``, then :meth:`crawl` what they cite. ``on_added`` gets what was added
        before the crawl starts; the counts returned are taken after it (documents added by URL are
        extracted by the crawl). A document whose URL could not be fetched comes back with its
        ``document["fetch_error"]`` set (the CLI then exits 1); the others are archived all the same."""
        added = self.add(sources, every=every)
        if on_added is not None:
            on_added(added)
        ids = [r.document["id"] for r in added]
        self.crawl(ids, concurrency=concurrency, ignore_robots=ignore_robots, verbose=verbose, settings=settings)
        return self.summaries(ids)

    # -- reads ----------------------------------------------------------------------------------------
    def lookup(self, query: str, limit: int = 20) -> list[ClaimJSON]:
        """Claim JSON of the claims citing ``query`` when it is a URL, else of those matching its words."""
        from archive.index.lookup import lookup

        with self._bounded_reads() as run:
            return lookup(run, query, limit)

    def show(self, claim_id: str) -> ClaimJSON:
        from archive.index.lookup import show

        with self._bounded_reads() as run:
            return show(run, claim_id)

    def show_claims(self, claim_ids: Sequence[str]) -> list[ClaimJSON]:
        """Claim JSON of ``claim_ids``, in that order; unknown ids are skipped."""
        from archive.index.lookup import claims_json

        with self.reading() as conn:
            return claims_json(conn, claim_ids)

    def claims(self, document_id: str | None = None) -> list[ClaimRow]:
        from archive.index.lookup import document_claims

        with self.reading() as conn:
            return document_claims(conn, document_id)

    def documents(self) -> list[dict[str, Any]]:
        from archive.index.lookup import documents

        with self.reading() as conn:
            return documents(conn)

    def capture(self, capture_id: str) -> CaptureRow:
        """A capture's index row, ``fetched_at`` as the claim JSON prints it."""
        from archive.index.browse import capture_by_id

        with self.reading() as conn:
            return capture_by_id(conn, capture_id)

    def cat(self, capture_id: str, out: IO[bytes]) -> None:
        """Write a capture's payload, content-decoded (gzip/br/deflate undone), to ``out`` in chunks."""
        from archive.index.lookup import capture, payload_capture
        from archive.warc.reader import copy_payload

        with self.reading() as conn:
            row = payload_capture(conn, capture(conn, capture_id))
        if row["error"] and row["http_status"] is None:
            raise InputError(f"capture {capture_id} is a failed fetch ({row['error']}): it has no payload")
        copy_payload(self.home.warc_path(row["warc_file"]), row["warc_offset"], out)

    # -- browsing (the web UI) ------------------------------------------------------------------------
    def overview(self, document_id: str | None = None) -> list[DocumentOverview]:
        """Documents (or the one ``document_id``) with their evidence ``coverage``."""
        from archive.index.detail import overview

        with self.reading() as conn:
            return overview(conn, document_id)

    def document_detail(self, document_id: str, *, offset: int = 0, limit: int | None = None) -> DocumentDetail:
        """A document with its claims (``limit`` of them from ``offset``), their claim JSON, its coverage
        and its own archived copy."""
        from archive.index.detail import document_detail

        with self.reading() as conn:
            return document_detail(conn, document_id, offset=offset, limit=limit)

    def claim_detail(self, claim_id: str) -> ClaimDetail:
        """A claim's JSON and the timeline of every capture of its sources."""
        from archive.index.detail import claim_detail

        with self.reading() as conn:
            return claim_detail(conn, claim_id)

    def source_detail(self, url: str, *, claim_limit: int = 1000) -> SourceDetail:
        """A URL: its source state, every capture and memento of it, and (up to ``claim_limit``) the
        claims citing it."""
        from archive.index.detail import source_detail

        with self.reading() as conn:
            return source_detail(conn, url, claim_limit=claim_limit)

    def capture_detail(self, capture_id: str) -> CaptureDetail:
        """A capture, the capture holding its payload (a revisit's original) and the claims it backs."""
        from archive.index.detail import capture_detail

        with self.reading() as conn:
            return capture_detail(conn, capture_id)

    def mementos(self, url: str, at: datetime | None = None) -> Mementos:
        """The replayable captures of ``url`` and the one closest to ``at`` (naive UTC; the latest without)."""
        from archive.index.detail import mementos

        with self.reading() as conn:
            return mementos(conn, url, at)

    def open_response(self, capture: Mapping[str, Any]) -> ArchivedResponse:
        """The archived HTTP response of ``capture`` (a revisit's from its original's record), opened:
        status, headers and the content-decoded payload stream. Close it, or stream its ``chunks()``."""
        from archive.index.lookup import payload_capture
        from archive.warc.reader import open_response

        with self.reading() as conn:
            holder = payload_capture(conn, capture)
        return open_response(self.home, holder)

    def rendering(self, capture_id: str) -> Rendering | None:
        """The newest browser rendering of a capture (README "Browser capture"): where its screenshot and
        rendered text are, their size, the browser, and why it stopped early if it did; None without one."""
        from archive.index.renderings import rendering_for

        with self.reading() as conn:
            return rendering_for(conn, capture_id)

    def renderings(self, capture_ids: Sequence[str]) -> dict[str, Rendering]:
        """:meth:`rendering` of several captures at once (a page listing captures with thumbnails)."""
        from archive.index.renderings import renderings_for

        with self.reading() as conn:
            return renderings_for(conn, capture_ids)

    def open_screenshot(self, capture_id: str) -> ArchivedResponse:
        """The full-page screenshot (PNG) of a capture's newest rendering, opened; stream its ``chunks()``.
        :class:`InputError` when the capture has no screenshot."""
        from archive.warc.reader import open_record

        found = self.rendering(capture_id)
        if found is None or found["screenshot_warc_file"] is None or found["screenshot_offset"] is None:
            raise InputError(f"capture {capture_id} has no screenshot (`citevault crawl --browser always` makes one)")
        return open_record(self.home.warc_path(found["screenshot_warc_file"]), found["screenshot_offset"])

    def screenshot_preview(self, capture_id: str, width: int | None = None) -> bytes | None:
        """A small JPEG of the top of a capture's screenshot (:mod:`archive.thumbnails`), for the web UI and
        the HTML report; None when the screenshot is too large or unreadable. :class:`InputError` without one."""
        from archive.thumbnails import MAX_BYTES, WIDTH, cached, thumbnail

        def make() -> bytes | None:
            with self.open_screenshot(capture_id) as shot:
                data = shot.read(MAX_BYTES)
            return thumbnail(data, width or WIDTH) if data is not None else None

        found = self.rendering(capture_id)
        if found is None or found["screenshot_warc_file"] is None:
            return make()  # raises the InputError
        return cached((str(self.home.root), found["id"], width or WIDTH), make)

    def rendered_text(self, capture_id: str) -> str | None:
        """The text a browser rendered for a capture (``document.body.innerText``), None without a rendering."""
        from archive.warc.reader import open_record

        found = self.rendering(capture_id)
        if found is None or found["text_warc_file"] is None or found["text_offset"] is None:
            return None
        with open_record(self.home.warc_path(found["text_warc_file"]), found["text_offset"]) as record:
            return b"".join(record.chunks()).decode("utf-8", "replace")

    def raw_record(self, capture: Mapping[str, Any]) -> Iterator[bytes]:
        """``capture``'s WARC record as stored, in chunks. The file is opened before the first chunk, so
        a missing one raises here."""
        from archive.warc.reader import raw_record

        return raw_record(self.home, capture)

    # -- evidence: checks, reports, exports -----------------------------------------------------------
    def _require_document(self, document_id: str) -> None:
        from archive.index.lookup import document

        with self.reading() as conn:
            document(conn, document_id)  # NotFoundError for an unknown id

    def check(self, document_id: str | None = None, *, force: bool = False, workers: int = 1) -> CheckStats:
        """Check claims against the captures of their sources (all documents, or ``document_id``): only
        captures without a verdict yet, unless ``force``. Verdicts are stored in the index."""
        from archive.checks import verify_document_captures

        if document_id is not None:
            self._require_document(document_id)
        return verify_document_captures(self.engine(), self.home, [document_id] if document_id else None,
                                        force=force, workers=workers)

    def report(self, document_id: str, *, check: bool = True,
               replay_base: str | None = DEFAULT_REPLAY_BASE) -> dict[str, Any]:
        """The evidence report of a document as plain data (``report --format json``); with ``check``,
        captures without a verdict are checked first."""
        from archive.report.build import build_report

        self._require_document(document_id)
        if check:
            from archive.checks import verify_document_captures

            verify_document_captures(self.engine(), self.home, [document_id])
        with self.reading() as conn:
            report = build_report(conn, document_id, replay_base=replay_base)
        rehashed: dict[Any, Any] = {}  # claims citing one source share its records: hash each once
        for claim in report["claims"]:  # the home's latest receipt of each claim, checked (docs/receipts.md)
            state = self.receipt_state(claim["id"], rehashed=rehashed)
            claim["receipt"] = state.summary() if state is not None else None
        return report

    def rendered_report(self, document_id: str, fmt: str = "md", *, check: bool = True,
                        replay_base: str | None = DEFAULT_REPLAY_BASE) -> bytes:
        """:meth:`report` rendered as ``fmt`` (``md``, ``html`` or ``json``), UTF-8."""
        from archive.report import render

        report = self.report(document_id, check=check, replay_base=replay_base)
        if fmt != "html":
            return render(report, fmt).encode("utf-8")
        from archive.report.screenshots import report_previews

        previews, left_out = report_previews(report, self.screenshot_preview)  # thumbnails, embedded
        return render(report, fmt, previews, left_out).encode("utf-8")

    def export(self, fmt: ExportFormat | str, document_id: str | None = None, *,
               path: str | os.PathLike[str] | None = None,
               replay_base: str | None = DEFAULT_REPLAY_BASE, tsa: Sequence[str] | None = None,
               tsa_certs: Sequence[str] | None = None) -> Exported:
        """Export evidence in a format other tools read (:class:`~archive.exports.formats.ExportFormat`).

        Robust Links and ClaimReview are of one document and come back as ``data``; a WACZ package (of
        the whole archive, or of ``document_id``'s evidence) is written to ``path``, signed with the data
        home's WACZ key (the WACZ auth spec's anonymous mode) and, with TSAs from ``tsa`` or
        ``CITEVAULT_TSA``, timestamped.
        """
        try:
            fmt = ExportFormat(fmt)
        except ValueError:
            raise InputError(f"unknown export format {fmt!r} (one of {', '.join(ExportFormat)})") from None
        if fmt is ExportFormat.WACZ:
            if path is None:
                raise InputError("a WACZ export is written to a file: give its path")
            from archive.exports import wacz, wacz_sign
            from archive.receipts.timestamp import tsa_chain, tsa_urls

            sign = wacz_sign.signer(self.home, tsa_urls(tsa), tsa_chain(tsa_certs))
            return Exported(fmt, wacz=wacz.write_wacz(self, path, document_id, sign=sign))
        if document_id is None:
            raise InputError(f"the {fmt} export is of one document: give its id (see `citevault claims`)")
        # Both look the document up first: an unknown id fails there, before anything is read.
        with self.reading() as conn:
            if fmt is ExportFormat.ROBUST_LINKS:
                from archive.report.robustlinks import robust_links

                data, links = robust_links(conn, self.home, document_id, replay_base=replay_base)
                return Exported(fmt, data, links=links)
            from archive.report.claimreview import document_claim_reviews

            reviews = document_claim_reviews(conn, document_id, replay_base=replay_base)
        return Exported(fmt, (json.dumps(reviews, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))

    # -- freshness: link rot and drift ----------------------------------------------------------------
    def status(self, document_id: str | None = None) -> list[StatusEntry]:
        """Per document: its sources by state, and each changed, gone or failed one with the claims it
        backs and since when."""
        from archive.recheck.status import status

        with self._bounded_reads() as run:
            return status(run, document_id)

    def workers(self) -> list[WorkerJSON]:
        """The crawl workers running on any node against this index: node, pid, last heartbeat, leases."""
        from archive.crawl.workers import live_workers

        with self.reading() as conn:
            return live_workers(conn)

    def diff(self, target: str) -> list[DiffEntry]:
        """Per source of ``target`` (a claim id or a source URL): the unified diff of its main text between
        the capture a claim relied on and the latest good one. Texts extracted on the way are cached."""
        from archive.recheck.status import diff

        with self.reading() as conn:
            return diff(conn, self.home, target)

    # -- integrity: the index from the WARC files -----------------------------------------------------
    def reindex(self, *, force: bool = False, workers: int | None = None) -> ReindexStats:
        """Rebuild the whole index from the WARC files alone (creating it when there is none); every id
        stays the same. Refuses an index that holds rows unless ``force``. Damaged records are reported in
        the result's ``problems`` and skipped."""
        from archive.integrity.reindex import rebuild

        self.close()  # the embedded SQLite file is replaced: none of our connections may hold it
        return rebuild(self.home, force=force, workers=workers)

    def verify(self, *, workers: int | None = None) -> VerifyReport:
        """Re-hash every WARC record and check the index (when the home has one) against the records."""
        from archive.integrity.fixity import verify

        return verify(self.home, workers=workers)

    # -- proof: receipts and keys (README "Proving the evidence") -------------------------------------
    def receipt(self, claim_id: str, *, tsa: Sequence[str] | None = None,
                tsa_certs: Sequence[str] | None = None) -> IssuedReceipt:
        """Sign (and, with TSAs from ``tsa`` or ``CITEVAULT_TSA``, timestamp) the receipt of a claim, and
        keep it as ``receipts/CLAIM_ID.receipt.json`` in the data home. The home's key is made on first use.
        ``tsa_certs`` (or ``CITEVAULT_TSA_CERT``): PEM files of the TSA's CA, carried with each stamp."""
        from archive.receipts.timestamp import tsa_chain, tsa_urls

        return self._issue(self.show(claim_id), tsa_urls(tsa), tsa_chain(tsa_certs))

    def receipts(self, document_id: str, *, tsa: Sequence[str] | None = None,
                 tsa_certs: Sequence[str] | None = None, claim_ids: Sequence[str] | None = None) -> Iterator[IssuedReceipt]:
        """:meth:`receipt` for every sourced claim of a document (or of ``claim_ids`` among them), in
        document order, in one pass."""
        from archive.receipts.timestamp import tsa_chain, tsa_urls

        urls, chain = tsa_urls(tsa), tsa_chain(tsa_certs)  # checked once, before anything is signed
        rows = [r["id"] for r in self.claims(document_id) if r["sources"]]
        if claim_ids is not None:
            wanted = set(claim_ids)
            rows = [r for r in rows if r in wanted]
        rehashed: dict[Any, Any] = {}  # claims citing one source share its records: each is read once
        for start in range(0, len(rows), 200):
            for claim in self.show_claims(rows[start:start + 200]):
                yield self._issue(claim, urls, chain, rehashed)

    def _issue(self, claim: ClaimJSON, tsa: Sequence[str], chain: Sequence[x509.Certificate],
               rehashed: dict[Any, Any] | None = None) -> IssuedReceipt:
        from archive.receipts.build import make_receipt
        from archive.receipts.canonical import canonical

        receipt, problems = make_receipt(self, claim, tsa, chain, rehashed)
        data = canonical(receipt)
        path = self.receipt_path(claim["id"])
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(path.name + ".part")
            tmp.write_bytes(data)
            os.replace(tmp, path)
        except OSError as exc:
            raise StoreError(f"cannot write {path}: {exc.strerror}") from None
        return IssuedReceipt(claim["id"], receipt, data, path, problems)

    def receipt_path(self, claim_id: str) -> Path:
        """Where the home keeps the latest receipt of ``claim_id``."""
        if "/" in claim_id or claim_id.startswith("."):
            raise InputError(f"not a claim id: {claim_id!r}")
        return self.home.root / "receipts" / f"{claim_id}.receipt.json"

    def verify_receipt(self, receipt: str | os.PathLike[str] | Mapping[str, Any], *, home_given: bool = False,
                       tsa_certs: Sequence[str | os.PathLike[str]] = (),
                       rehashed: dict[Any, Any] | None = None) -> ReceiptCheck:
        """Check a receipt offline: its signature, its signer against this home's key, each timestamp
        (against the TSA certificates in ``tsa_certs`` files when given, else those it carries) and, with
        this home's WARC files at hand, each record re-hashed. ``home_given``: a WARC file missing from
        this home is a failure rather than a skip."""
        from archive.receipts.verify import check_receipt, load_receipt

        data = load_receipt(Path(receipt)) if not isinstance(receipt, Mapping) else dict(receipt)
        trusted = self._certificates(tsa_certs)
        home = self.home if (home_given or self.home.exists()) else None
        return check_receipt(data, home=home, home_given=home_given, trusted=trusted or None, rehashed=rehashed)

    def verify_wacz(self, path: str | os.PathLike[str], *, tsa_certs: Sequence[str | os.PathLike[str]] = (),
                    home_given: bool = False) -> list[Check]:
        """Check a signed WACZ offline (:func:`archive.exports.wacz_sign.check_wacz`); with ``home_given``,
        also that this home's WACZ key signed it."""
        from archive.exports.wacz_sign import check_wacz
        from archive.receipts.keys import existing_wacz_public_key

        # a named home that never signed a WACZ has no key: the package is then another home's
        expected = (existing_wacz_public_key(self.home) or "") if home_given else None
        return check_wacz(Path(path), self._certificates(tsa_certs) or None, expected)

    def _certificates(self, names: Sequence[str | os.PathLike[str]]) -> list[x509.Certificate]:
        from archive.receipts.timestamp import load_certificates

        trusted: list[x509.Certificate] = []
        for name in names:
            try:
                trusted += load_certificates(Path(name).read_bytes(), str(name))
            except OSError as exc:
                raise InputError(f"cannot read TSA certificate {name}: {exc.strerror}") from None
        return trusted

    def receipt_state(self, claim_id: str, *, rehashed: dict[Any, Any] | None = None) -> ReceiptCheck | None:
        """The check of the home's latest receipt of ``claim_id``, or None when it has none. ``rehashed``:
        a dict shared between calls, so each WARC record is hashed once."""
        path = self.receipt_path(claim_id)
        if not path.is_file():
            return None
        try:
            return self.verify_receipt(path, home_given=True, rehashed=rehashed)
        except CitevaultError as exc:
            from archive.receipts.verify import Check, ReceiptCheck

            return ReceiptCheck(claim_id, [Check("receipt", "FAIL", str(exc))])

    def key(self) -> dict[str, str]:
        """The home's public keys (made now if missing): ``receipts`` (Ed25519, base64 raw, and its
        ``receipts_key_id``) and ``wacz`` (ECDSA P-384, base64 SubjectPublicKeyInfo, as signed WACZ carry it)."""
        import base64

        from archive.receipts.keys import key_id, raw_public, receipt_key, spki_b64, wacz_key

        if not self.home.exists():
            raise StoreError(f"no data home at {self.home.root}: point --home / CITEVAULT_HOME at one")

        raw = raw_public(receipt_key(self.home).public_key())
        return {"receipts": base64.b64encode(raw).decode("ascii"), "receipts_key_id": key_id(raw),
                "wacz": spki_b64(wacz_key(self.home).public_key())}
