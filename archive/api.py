"""The library API: what the CLI, the crawler and the web UI call. One method per user-facing action::

    from archive.api import Archive

    archive = Archive.open("citevault-data")
    archive.add(["article.html"])
    archive.lookup("budget approved")
"""
from __future__ import annotations

from contextlib import contextmanager
from datetime import timedelta
from typing import IO, TYPE_CHECKING, Any, Iterator

from archive.errors import CitevaultError, InputError, StoreError
from archive.home import DataHome
from archive.index import lookup as reads
from archive.index.db import ensure_schema, make_engine
from archive.index.writes import set_interval

if TYPE_CHECKING:
    from sqlalchemy import Connection
    from sqlalchemy.engine import Engine

    from archive.ingest import Ingested


def _seconds(every: timedelta | None) -> int | None:
    return int(every.total_seconds()) if every is not None else None


class Archive:
    """A data home (WARC files + index) opened for use."""

    def __init__(self, home: DataHome) -> None:
        self.home = home
        self._engine: Engine | None = None

    @classmethod
    def open(cls, home: str | None = None, db: str | None = None) -> Archive:
        return cls(DataHome.resolve(home, db))

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
        with self.engine().connect() as conn:
            yield conn

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
                row = ingest.document_row(doc_id, url=extracted.url, kind=kind, origin=path.name,
                                             sha256=sha, status="extracted", added_at=now,
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

        row = conn.execute(text("SELECT id, url, title, claim_count FROM documents WHERE id = :d"),
                           {"d": doc_id}).mappings().first()
        if row is None:
            return None
        counts = conn.execute(text(
            "SELECT COUNT(DISTINCT ci.claim_id), COUNT(DISTINCT ci.source_id) FROM citations ci "
            "JOIN claims c ON c.id = ci.claim_id WHERE c.document_id = :d"), {"d": doc_id}).one()
        return Ingested(dict(row), row["claim_count"], counts[0], counts[1])

    def summaries(self, document_ids: list[str]) -> list[Ingested]:
        """Counts of documents already in the index (as ``add --json`` prints them)."""
        with self.reading() as conn:
            found = [self._existing(conn, d) for d in document_ids]
        return [s for s in found if s is not None]

    # -- reads ----------------------------------------------------------------------------------------
    def lookup(self, query: str, limit: int = 20) -> list[dict[str, Any]]:
        with self.reading() as conn:
            return reads.lookup(conn, query, limit)

    def show(self, claim_id: str) -> dict[str, Any]:
        with self.reading() as conn:
            return reads.show(conn, claim_id)

    def claims(self, document_id: str | None = None) -> list[dict[str, Any]]:
        with self.reading() as conn:
            return reads.document_claims(conn, document_id)

    def documents(self) -> list[dict[str, Any]]:
        with self.reading() as conn:
            return reads.documents(conn)

    def capture(self, capture_id: str) -> dict[str, Any]:
        with self.reading() as conn:
            return reads.capture(conn, capture_id)

    def cat(self, capture_id: str, out: IO[bytes]) -> None:
        """Write a capture's payload, content-decoded (gzip/br/deflate undone), to ``out`` in chunks."""
        from archive.warc.reader import copy_payload

        with self.reading() as conn:
            row = reads.payload_capture(conn, reads.capture(conn, capture_id))
        if row["error"] and row["http_status"] is None:
            raise InputError(f"capture {capture_id} is a failed fetch ({row['error']}): it has no payload")
        copy_payload(self.home.warc_path(row["warc_file"]), row["warc_offset"], out)
