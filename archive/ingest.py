"""Adding documents: read an input, extract its claims, archive them as WARC records, index them.

One function, :func:`ingest`, writes a document's claims for both paths: ``add`` of a file, and the crawl
when it fetches a document that was added by URL. The order inside is what keeps the index honest: claims
are spooled and indexed inside an open transaction, the WARC records are written and flushed, and only
then does the caller commit — so a bad row in a claim list leaves both the index and the WARCs untouched,
and the index never points to bytes that are not on disk.
"""
from __future__ import annotations

import hashlib
import io
import json
import mmap
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Iterator
from urllib.parse import urlsplit

from archive import ids
from archive.errors import InputError, UnsupportedSource
from archive.index import counts, writes
from archive.index.rows import capture_row
from archive.states import DocumentStatus, SourceState
from archive.urls import is_archivable, normalize_url
from archive.warc.builder import b32_digest

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from archive.claims import ExtractedDocument
    from archive.warc.store import WarcStore

BATCH = 5000
CLAIMS_CONTENT_TYPE = "application/x-citevault-claims+jsonl"
DOCUMENT_URN = "urn:citevault:document:"
ARTICLE_URN = "urn:citevault:article:"
_CHUNK = 1 << 20


@dataclass(frozen=True)
class Input:
    """What the user named on the command line, classified."""

    raw: str
    url: str | None = None
    path: Path | None = None


def classify(source: str) -> Input:
    """A URL (http/https only) or an existing, readable, non-empty file; anything else is a clear error."""
    parts = urlsplit(source)
    if parts.scheme and len(parts.scheme) > 1:  # "C:" is a drive letter, not a scheme
        if not is_archivable(source):
            raise UnsupportedSource(
                f"cannot add {source!r}: unsupported scheme '{parts.scheme}:' (give an http(s) URL or a local file)"
            )
        return Input(source, url=normalize_url(source))
    path = Path(source)
    if not path.exists():
        raise InputError(f"cannot add {source!r}: no such file")
    if not path.is_file():
        raise InputError(f"cannot add {source!r}: not a regular file")
    try:
        size = path.stat().st_size
        with path.open("rb"):
            pass
    except OSError as exc:
        raise InputError(f"cannot add {source!r}: {exc.strerror}") from None
    if size == 0:
        raise InputError(f"cannot add {source!r}: the file is empty")
    return Input(source, path=path)


@contextmanager
def mapped(path: Path) -> Iterator[Any]:
    """The file as a read-only mmap: extraction reads it as a buffer without loading it."""
    with path.open("rb") as fh:
        data = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        try:
            yield data
        finally:
            try:
                data.close()
            except BufferError:  # a reader in an in-flight error still holds a view: unmapped when it goes
                pass


def file_digests(path: Path) -> tuple[str, str]:
    """``(sha256 hex, WARC sha1:BASE32)`` of a file in one read: the document id comes from the first, the
    article record's payload digest from the second."""
    sha256, sha1 = hashlib.sha256(), hashlib.sha1()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            sha256.update(chunk)
            sha1.update(chunk)
    return sha256.hexdigest(), b32_digest(sha1)


@dataclass(frozen=True)
class AddedFile:
    """An added file, archived as it is: where it is, its media type, its WARC payload digest."""

    path: Path
    content_type: str
    sha1: str


@dataclass
class Ingested:
    """Counts for ``add --json``."""

    document: dict[str, Any]
    claims: int
    sourced_claims: int
    sources: int

    def as_json(self) -> dict[str, Any]:
        return {
            "document": {k: self.document.get(k) for k in ("id", "url", "title", "fetch_error")},
            "claims": self.claims,
            "sourced_claims": self.sourced_claims,
            "sources": self.sources,
        }


def document_row(doc_id: str, *, url: str | None, kind: str, origin: str, sha256: str | None,
                 status: str, added_at: datetime, title: str | None = None,
                 check_every: int | None = None) -> dict[str, Any]:
    return {"id": doc_id, "url": url, "title": title, "kind": kind, "origin": origin, "sha256": sha256,
            "status": status, "added_at": added_at, "claim_count": 0, "check_every": check_every}


def _claim_lines(
    conn: Connection, doc_id: str, extracted: ExtractedDocument, spool: IO[bytes], now: datetime, doc_url: str | None
) -> tuple[int, int, set[str]]:
    """Index claims, sources and citations in batches while writing the JSON Lines the WARC will hold."""
    claims: list[dict[str, Any]] = []
    sources: dict[str, dict[str, Any]] = {}
    citations: list[dict[str, Any]] = []
    all_sources: set[str] = set()
    count = sourced = 0

    def flush() -> None:
        writes.add_sources(conn, sources.values())
        writes.add_claims(conn, claims)
        writes.add_citations(conn, citations)
        claims.clear()
        sources.clear()
        citations.clear()

    self_url = normalize_url(doc_url) if doc_url else None
    for claim in extracted.claims:
        count += 1
        cid = ids.claim_id(doc_id, count)
        refs: list[dict[str, Any]] = []
        seen: set[str] = set()
        for ref in claim.sources:
            if not is_archivable(ref.url):
                continue
            url = normalize_url(ref.url)
            if url in seen or url == self_url:
                continue
            seen.add(url)
            sid = ids.source_id_normalized(url)
            sources.setdefault(sid, {"id": sid, "url": url, "state": SourceState.PENDING, "first_seen": now,
                                     "last_fetched": None})
            citations.append({"claim_id": cid, "source_id": sid, "position": len(refs), "anchor": ref.anchor})
            refs.append({"url": url, "id": sid, "anchor": ref.anchor})
            all_sources.add(sid)
        sourced += bool(refs)
        claims.append({"id": cid, "document_id": doc_id, "position": count, "text": claim.text,
                       "quote": claim.quote})
        spool.write(json.dumps({"id": cid, "position": count, "text": claim.text, "quote": claim.quote,
                                "sources": refs}, ensure_ascii=False).encode("utf-8") + b"\n")
        if len(claims) >= BATCH:
            flush()
    flush()
    return count, sourced, all_sources


def ingest(
    conn: Connection,
    store: WarcStore,
    doc: dict[str, Any],
    extracted: ExtractedDocument,
    *,
    article: AddedFile | None = None,
    now: datetime,
    status: str = DocumentStatus.EXTRACTED,
) -> Ingested:
    """Index ``extracted`` for document row ``doc`` and write its WARC records; the caller commits.

    ``article`` is the added file itself, archived as a ``resource`` record (a document fetched by the crawl
    is already archived as a ``response``).
    """
    doc = {**doc, "title": extracted.title or doc.get("title"), "status": status}
    writes.add_document(conn, {**doc, "claim_count": 0})
    with tempfile.TemporaryFile() as spool:
        count, sourced, source_ids = _claim_lines(conn, doc["id"], extracted, spool, now, doc.get("url"))
        counts.refresh(conn, doc["id"])
        doc["claim_count"] = count
        writes.update_document(conn, doc["id"], title=doc["title"], status=status, claim_count=count)
        if article is not None:
            _archive_article(conn, store, doc, article, now)
        write_document_record(store, doc, spool, now)
    store.flush()
    return Ingested(doc, count, sourced, len(source_ids))


def _archive_article(conn: Connection, store: WarcStore, doc: dict[str, Any], article: AddedFile,
                     now: datetime) -> None:
    size = article.path.stat().st_size
    with article.path.open("rb") as fh:
        built = store.factory.resource(
            ARTICLE_URN + doc["id"], fh, size, article.content_type, now,
            extra={"WARC-Citevault-Filename": article.path.name}, sha1=article.sha1,
        )
        where = store.write(built.record)
    writes.add_captures(conn, [capture_row(
        record_id=built.record_id, record_type="resource", url=ARTICLE_URN + doc["id"], fetched_at=now,
        warc_file=where.warc_file, warc_offset=where.offset, warc_length=where.length,
        content_type=article.content_type, payload_digest=article.sha1, payload_sha256=doc.get("sha256"),
        payload_length=size, document_id=doc["id"],
    )])


def write_document_record(store: WarcStore, doc: dict[str, Any], spool: IO[bytes], now: datetime) -> None:
    """The document's claims as a ``resource`` record: a header line, then one line per claim.

    With these records the index can be rebuilt from the WARC files alone.
    """
    header = json.dumps({"document": {k: (v.isoformat() if isinstance(v, datetime) else v)
                                      for k, v in doc.items()}}, ensure_ascii=False).encode("utf-8") + b"\n"
    spool.flush()
    size = spool.tell()
    spool.seek(0)

    class _Joined:
        """Header line followed by the spooled claim lines, read as one stream."""

        def __init__(self) -> None:
            self.parts: Iterator[IO[bytes]] = iter([io.BytesIO(header), spool])
            self.current = next(self.parts)

        def read(self, n: int = -1) -> bytes:
            while True:
                data = self.current.read(n)
                if data:
                    return data
                try:
                    self.current = next(self.parts)
                except StopIteration:
                    return b""

    digest = hashlib.sha1(header)
    for chunk in iter(lambda: spool.read(_CHUNK), b""):
        digest.update(chunk)
    spool.seek(0)
    sha1 = b32_digest(digest)
    built = store.factory.resource(DOCUMENT_URN + doc["id"], _Joined(), len(header) + size,  # type: ignore[arg-type]
                                   CLAIMS_CONTENT_TYPE, now, sha1=sha1)
    store.write(built.record)


__all__ = ["Input", "Ingested", "classify", "ingest", "document_row", "file_digests", "AddedFile"]
