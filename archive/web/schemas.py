"""Pydantic models of the JSON API: they document the shapes (OpenAPI at ``/api/openapi.json``) that the
CLI's ``--json`` output already has (README "Claim JSON"). Views return the library's dicts as they are;
the test suite checks every response against these models (schemathesis), so the schema cannot drift.
"""
from __future__ import annotations

from typing import Any, Optional

from pydantic import BaseModel, ConfigDict, Field

from archive.states import ClaimState, SourceState


class _Open(BaseModel):
    # Other engineers extend these shapes (e.g. a capture's ``verification``): extra keys are allowed.
    model_config = ConfigDict(extra="allow")


class CaptureJSON(_Open):
    id: str
    url: str
    fetched_at: str = Field(description="ISO-8601, UTC, ending in Z")
    http_status: Optional[int]
    content_type: Optional[str]
    warc_file: str
    warc_offset: int
    warc_record_id: str
    payload_sha256: Optional[str] = Field(description="SHA-256 of the entity body as transferred")
    error: Optional[str] = Field(description="why the fetch failed; http_status is null then")
    verification: Optional[dict[str, Any]] = Field(
        default=None, description="quote verification of this capture, when it has been checked")


class SourceJSON(_Open):
    url: str
    state: SourceState
    captures: list[CaptureJSON]


class DocumentRef(_Open):
    id: str
    url: Optional[str]
    title: Optional[str]


class ClaimJSON(_Open):
    """``citevault show CLAIM_ID --json``; ``lookup --json`` is a list of these."""

    id: str
    text: str
    quote: Optional[str]
    document: DocumentRef
    sources: list[SourceJSON]


class ClaimRow(_Open):
    """A row of ``citevault claims [DOCUMENT_ID] --json``."""

    id: str
    document_id: str
    position: int
    text: str
    quote: Optional[str]
    sources: int
    state: ClaimState


class Coverage(BaseModel):
    claims: int
    sourced: int
    states: dict[str, int] = Field(description="claims per evidence state")
    archived_share: Optional[float] = Field(description="archived claims / sourced claims; null without sources")


class DocumentJSON(_Open):
    id: str
    url: Optional[str]
    title: Optional[str]
    kind: str
    status: str
    claim_count: int
    added_at: Optional[str]
    coverage: Coverage


class CaptureRecord(_Open):
    """A capture's index row: the claim JSON's capture fields plus the CDXJ fields and the revisit link."""

    id: str
    url: str
    record_type: str
    urlkey: str
    timestamp: str
    fetched_at: Optional[str]
    http_status: Optional[int]
    mime: Optional[str]
    content_type: Optional[str]
    payload_digest: Optional[str]
    payload_sha256: Optional[str]
    warc_file: str
    warc_offset: int
    warc_length: int
    warc_record_id: str
    refers_to: Optional[str]
    redirect_to: Optional[str]
    error: Optional[str]
    source_id: Optional[str]
    document_id: Optional[str]


class SourceDetail(_Open):
    url: str
    state: Optional[SourceState] = Field(description="null when no claim cites this URL")
    captures: list[CaptureRecord]
    claims: list[str] = Field(description="ids of the claims citing this URL")


class Problem(BaseModel):
    detail: str
