"""The JSON API under ``/api/``: the CLI's ``--json`` shapes over HTTP, read-only.

==================================  =================================================================
``GET /api/documents``              documents, each with its evidence coverage
``GET /api/documents/{id}``         one document with its coverage
``GET /api/documents/{id}/claims``  ``citevault claims ID --json``
``GET /api/claims``                 ``citevault claims --json`` (``?document_id=`` filters)
``GET /api/claims/{id}``            ``citevault show ID --json`` (claim JSON)
``GET /api/lookup?q=&limit=``       ``citevault lookup Q --json``: words (full-text) or a URL
``GET /api/captures/{id}``          a capture's index row
``GET /api/sources?url=``           a URL's source state, every capture of it, the claims citing it
``GET /api/openapi.json``           the OpenAPI schema of all of the above
==================================  =================================================================

Errors are JSON ``{"detail": "..."}``: 404 for an unknown id, 422 for a bad parameter.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Optional

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from archive.web import archive_of
from archive.web.schemas import CaptureRecord, ClaimJSON, ClaimRow, DocumentJSON, Problem, SourceDetailJSON

router = APIRouter(tags=["archive"], responses={404: {"model": Problem, "description": "unknown id"}})


def _json(value: Any) -> JSONResponse:
    # The library's dicts are returned as they are (the CLI's exact shapes); the models only document them.
    return JSONResponse(value)


def _documents(request: Request, only: str | None = None) -> list[dict[str, Any]]:
    keep = DocumentJSON.__required_keys__  # the overview without ``origin``
    return [{k: v for k, v in d.items() if k in keep} for d in archive_of(request).overview(only)]


@router.get("/documents", response_model=list[DocumentJSON], summary="Documents with evidence coverage")
def documents(request: Request) -> JSONResponse:
    return _json(_documents(request))


@router.get("/documents/{document_id}", response_model=DocumentJSON, summary="One document")
def document(request: Request, document_id: str) -> JSONResponse:
    return _json(_documents(request, document_id)[0])


@router.get("/documents/{document_id}/claims", response_model=list[ClaimRow],
            summary="A document's claims in reading order, with their evidence state")
def document_claims(request: Request, document_id: str) -> JSONResponse:
    return _json(archive_of(request).claims(document_id))


@router.get("/claims", response_model=list[ClaimRow], summary="Claims with their evidence state")
def claims(request: Request, document_id: Optional[str] = Query(None, description="only this document's")) -> JSONResponse:
    return _json(archive_of(request).claims(document_id))


@router.get("/claims/{claim_id}", response_model=ClaimJSON, summary="One claim, its sources and their captures")
def claim(request: Request, claim_id: str) -> JSONResponse:
    return _json(archive_of(request).show(claim_id))


@router.get("/lookup", response_model=list[ClaimJSON],
            summary="Claims by their words (full-text search), or the claims citing a URL")
def lookup(request: Request, q: str = Query(..., description="words of a claim, or a URL"),
           limit: int = Query(20, ge=1, le=1000)) -> JSONResponse:
    return _json(archive_of(request).lookup(q, limit))


@router.get("/captures/{capture_id}", response_model=CaptureRecord, summary="A capture's index row")
def capture(request: Request, capture_id: str) -> JSONResponse:
    return _json(_capture_record(archive_of(request).capture(capture_id)))


def _capture_record(row: Mapping[str, Any]) -> dict[str, Any]:
    keep = CaptureRecord.__required_keys__  # the row without the crawl's own columns
    return {k: v for k, v in row.items() if k in keep}


@router.get("/sources", response_model=SourceDetailJSON,
            summary="A URL: its source state, every capture of it, and the claims citing it")
def source(request: Request, url: str = Query(..., description="an archived or cited URL")) -> JSONResponse:
    found = archive_of(request).source_detail(url, claim_limit=1000)
    source = found.source
    return _json({"url": source["url"] if source else url, "state": source["state"] if source else None,
                  "captures": [_capture_record(c) for c in found.captures], "claims": found.claims})
