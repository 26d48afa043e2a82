"""Claim extraction: turn an article or a claim list into claims and the sources each one cites.

Contract used by the rest of citevault (``archive.ingest`` and the crawler call only these names):

- :func:`detect_kind` picks a reader from a file name / content type.
- :func:`extract` turns bytes into an :class:`ExtractedDocument` whose ``claims`` is an *iterator*
  (claim lists can hold a million rows; they are streamed, never loaded whole).

Everything here is pure: no network, no database, no WARC. Bad input raises
:class:`archive.errors.InputError` with a one-line message naming the problem.
"""
from __future__ import annotations

from archive.claims.extract import detect_kind, extract
from archive.claims.model import ExtractedClaim, ExtractedDocument, SourceRef

__all__ = ["ExtractedClaim", "ExtractedDocument", "SourceRef", "detect_kind", "extract"]
