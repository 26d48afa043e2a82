"""Stable ids derived from content, so that ``citevault reindex`` reproduces every id.

>>> document_id_for_url("https://example.org/a#top") == document_id_for_url("https://example.org/a")
True
>>> claim_id("3f2a9c1b7e4d0a11", 7)
'3f2a9c1b7e4d0a11.7'
>>> capture_id("<urn:uuid:0b6f3c5e-6a5b-4b7e-9c1d-2f7e8a9b0c1d>")
'0b6f3c5e-6a5b-4b7e-9c1d-2f7e8a9b0c1d'
"""
from __future__ import annotations

import hashlib

from archive.urls import normalize_url

ID_HEX = 16


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:ID_HEX]


def document_id_for_url(url: str) -> str:
    """A document added by URL is identified by that URL (fragment dropped)."""
    return _digest(b"url:" + normalize_url(url).encode("utf-8"))


def document_id_for_bytes(data: bytes) -> str:
    """A document added from a file is identified by its bytes: the same file added twice is one document.

    >>> document_id_for_bytes(b"x") == document_id_for_bytes_digest(hashlib.sha256(b"x").hexdigest())
    True
    """
    return document_id_for_bytes_digest(hashlib.sha256(data).hexdigest())


def document_id_for_bytes_digest(sha256_hex: str) -> str:
    """Same id as :func:`document_id_for_bytes`, from a SHA-256 computed while streaming a large file."""
    return hashlib.sha256(b"sha256:" + sha256_hex.encode("ascii")).hexdigest()[:ID_HEX]


def source_id(url: str) -> str:
    """A source is identified by its normalized URL."""
    return source_id_normalized(normalize_url(url))


def source_id_normalized(url: str) -> str:
    """:func:`source_id` for a URL already passed through :func:`normalize_url` (bulk paths skip re-parsing)."""
    return _digest(b"source:" + url.encode("utf-8"))


def claim_id(document_id: str, position: int) -> str:
    """A claim is its document plus its 1-based position in reading order."""
    return f"{document_id}.{position}"


def capture_id(warc_record_id: str) -> str:
    """A capture is identified by the WARC-Record-ID of the record that holds it (``urn:uuid:`` dropped)."""
    value = warc_record_id.strip("<>")
    return value.removeprefix("urn:uuid:")
