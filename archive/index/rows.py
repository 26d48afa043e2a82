"""The one function that turns a WARC record's values into a capture row, its column list, and its helpers.

Crawl (``archive.crawl.recorder``), reindex (``archive.integrity.unit_rows``, in worker processes) and the exports share
:func:`capture_row`, so a row looks the same whichever path made it. Its keys are :data:`CAPTURE_COLUMNS`; a
reader that needs fewer names its subset here, through :func:`capture_columns`. This module imports neither
SQLAlchemy nor ``surt`` (0.2 s each to import): a reindex worker needs neither.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from archive.clock import cdx_timestamp, naive_utc
from archive.ids import capture_id
from archive.urlkey import urlkey


def mime_of(content_type: str | None) -> str | None:
    """``text/html; charset=utf-8`` → ``text/html``.

    >>> mime_of("Text/HTML; charset=UTF-8")
    'text/html'
    """
    if not content_type:
        return None
    return content_type.split(";", 1)[0].strip().lower() or None


def capture_row(
    *,
    record_id: str,
    record_type: str,
    url: str,
    fetched_at: datetime,
    warc_file: str,
    warc_offset: int,
    warc_length: int,
    http_status: int | None = None,
    content_type: str | None = None,
    payload_digest: str | None = None,
    payload_sha256: str | None = None,
    payload_length: int | None = None,
    redirect_to: str | None = None,
    source_id: str | None = None,
    document_id: str | None = None,
    crawl_id: str | None = None,
    refers_to: str | None = None,
    error: str | None = None,
    key: str | None = None,
    role: str | None = None,
) -> dict[str, Any]:
    """The canonical capture row (CDXJ fields plus citevault's own): crawl, reindex and exports share it.
    ``key``: the SURT key when the caller computed it already."""
    naive = naive_utc(fetched_at)
    return {
        "id": capture_id(record_id),
        "source_id": source_id,
        "document_id": document_id,
        "crawl_id": crawl_id,
        "record_type": record_type,
        "url": url,
        "urlkey": key or urlkey(url),
        "timestamp": cdx_timestamp(naive),
        "fetched_at": naive,
        "http_status": http_status,
        "mime": mime_of(content_type),
        "content_type": content_type,
        "payload_digest": payload_digest,
        "payload_sha256": payload_sha256,
        "payload_length": payload_length,
        "redirect_to": redirect_to,
        "warc_file": warc_file,
        "warc_offset": warc_offset,
        "warc_length": warc_length,
        "warc_record_id": record_id,
        "refers_to": refers_to,
        "error": error,
        "role": role,
    }


#: The columns of a capture row, and of the ``captures`` table, in the order :func:`capture_row` writes them
#: (reindex workers hand rows over as tuples in this order). Read off the builder, so they are written once.
CAPTURE_COLUMNS: tuple[str, ...] = tuple(capture_row(
    record_id="", record_type="", url="", fetched_at=datetime(2000, 1, 1), warc_file="", warc_offset=0,
    warc_length=0, key="-"))


def capture_columns(*names: str) -> tuple[str, ...]:
    """A subset of :data:`CAPTURE_COLUMNS`, in the order given: a misspelt column fails at import, not in SQL.

    >>> capture_columns("url", "id")
    ('url', 'id')
    >>> capture_columns("url", "uri")
    Traceback (most recent call last):
    ...
    ValueError: not capture columns: uri
    """
    unknown = [name for name in names if name not in CAPTURE_COLUMNS]
    if unknown:
        raise ValueError(f"not capture columns: {', '.join(unknown)}")
    return names


#: The capture fields of the claim JSON (DESIGN.md "Claim JSON"), in the order it prints them.
CLAIM_JSON_CAPTURE_COLUMNS = capture_columns(
    "id", "url", "fetched_at", "http_status", "content_type", "warc_file", "warc_offset", "warc_record_id",
    "payload_sha256", "error")
#: The capture fields a CDXJ line is made of (:mod:`archive.exports.cdxj`).
CDXJ_CAPTURE_COLUMNS = capture_columns(
    "urlkey", "timestamp", "url", "record_type", "mime", "http_status", "payload_digest", "warc_length",
    "warc_offset", "warc_file")
#: Record types a replay index lists (CDXJ lines, mementos): ``metadata`` records are failed fetches, with
#: nothing to replay.
REPLAYABLE_TYPES = ("response", "revisit", "resource")

__all__ = [
    "CAPTURE_COLUMNS",
    "CDXJ_CAPTURE_COLUMNS",
    "CLAIM_JSON_CAPTURE_COLUMNS",
    "REPLAYABLE_TYPES",
    "capture_columns",
    "capture_row",
    "mime_of",
]
