"""The server-rendered pages: one view per template, each one or two :class:`archive.api.Archive` calls.

=====================================  =========================  =============================================
path                                   template                   what
=====================================  =========================  =============================================
``/``                                  ``documents.html``         documents with their evidence coverage
``/documents/{id}``                    ``document.html``          its claims in reading order, states, verdicts
``/claims/{id}``                       ``claim.html``             a claim, its sources and capture timeline
``/claims/{id}/receipt``               (``application/json``)     a new signed receipt of the claim (download)
``/sources?url=``                      ``source.html``            a URL with every capture of it
``/captures/{id}``                     ``capture.html``           one capture, replayed in a sandboxed iframe
``/captures/{id}/warc``                (``application/warc``)     the raw WARC record, byte for byte
``/search?q=``                         ``search.html``            full-text search, or the claims citing a URL
=====================================  =========================  =============================================
"""
from __future__ import annotations

import re
from pathlib import Path
from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse
from fastapi.templating import Jinja2Templates

from archive.index.browse import STATES
from archive.index.detail import replayable
from archive.index.rows import mime_of
from archive.web import archive_of
from archive.web.memento import replay_url

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=str(Path(__file__).with_name("templates")))

#: Types a browser displays in a frame; other captures are offered as a link (served with their type).
_FRAMED = {"text/html", "application/xhtml+xml", "text/plain", "text/css", "text/xml", "application/xml",
           "application/json", "text/csv"}

#: Claims shown on one page of a document (the rest are on ``?page=2``…).
PAGE_SIZE = 300


def _timestamp(fetched_at: str | None) -> str:
    """14-digit timestamp of an ISO date from the claim JSON.

    >>> _timestamp("2026-11-28T05:32:26.810676Z")
    '20261128053226'
    """
    return re.sub(r"\D", "", fetched_at or "")[:14]


def _when(value: str | None) -> str:
    """An ISO date as the UI prints it.

    >>> _when("2026-11-28T05:32:26.810676Z")
    '2026-11-28 05:32:26 UTC'
    """
    if not value:
        return ""
    return value.replace("T", " ")[:19] + " UTC"


def _replay(capture: Mapping[str, Any]) -> str | None:
    """Replay path of a capture dict (an index row or a claim JSON capture), None for a failed fetch."""
    if not replayable(capture):
        return None
    ts = capture.get("timestamp") or _timestamp(capture.get("fetched_at"))
    return replay_url({"timestamp": ts, "url": capture["url"]})


def _verdicts(claim: dict[str, Any]) -> list[dict[str, Any]]:
    """The newest ``verification`` of each source (another module adds it to the claim JSON's captures)."""
    out = []
    for source in claim.get("sources", []):
        checked = [c for c in source.get("captures", []) if isinstance(c.get("verification"), dict)]
        if checked:
            out.append({"url": source["url"], "capture": checked[-1]["id"], **checked[-1]["verification"]})
    return out


def verdict_of(verification: dict[str, Any]) -> str | None:
    for key in ("verdict", "status", "result"):
        if isinstance(verification.get(key), str):
            return str(verification[key])
    return None


templates.env.globals.update(replay=_replay, verdicts=_verdicts, verdict_of=verdict_of, STATES=STATES)
templates.env.filters.update(when=_when)


def render(request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    return templates.TemplateResponse(request, name, context, status_code=status_code)


@router.get("/", response_class=HTMLResponse)
def documents_page(request: Request) -> HTMLResponse:
    archive = archive_of(request)
    docs = archive.overview()
    totals: dict[str, int] = {state: 0 for state in STATES}
    for d in docs:
        for state, n in d["coverage"]["states"].items():
            totals[state] += n
    return render(request, "documents.html", documents=docs, totals=totals, home=str(archive.home.root))


@router.get("/documents/{document_id}", response_class=HTMLResponse)
def document_page(request: Request, document_id: str, page: int = Query(1, ge=1)) -> HTMLResponse:
    found = archive_of(request).document_detail(document_id, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
    pages = max(1, -(-found.claim_count // PAGE_SIZE))
    return render(request, "document.html", document=found.document, claims=found.claims, details=found.details,
                  coverage=found.coverage, article=found.article, page=page, pages=pages,
                  first=(page - 1) * PAGE_SIZE)


@router.get("/claims/{claim_id}", response_class=HTMLResponse)
def claim_page(request: Request, claim_id: str) -> HTMLResponse:
    found = archive_of(request).claim_detail(claim_id)
    return render(request, "claim.html", claim=found.claim, timeline=found.timeline)


@router.get("/claims/{claim_id}/receipt")
def claim_receipt(request: Request, claim_id: str) -> Response:
    """A receipt of the claim signed now (timestamped when ``CITEVAULT_TSA`` is set), as a download; the
    data home keeps its copy (README "Proving the evidence")."""
    issued = archive_of(request).receipt(claim_id)
    return Response(issued.data + b"\n", media_type="application/json", headers={
        "Content-Disposition": f'attachment; filename="{issued.path.name}"',
        "X-Content-Type-Options": "nosniff",
    })


@router.get("/sources", response_class=HTMLResponse)
def source_page(request: Request, url: str = Query("", description="the URL")) -> HTMLResponse:
    if not url:
        return render(request, "source.html", status_code=404, url=url, source=None, captures=[], mementos=[],
                      citing=[])
    archive = archive_of(request)
    found = archive.source_detail(url, claim_limit=200)
    citing = archive.show_claims(found.claims)
    status = 200 if (found.source or found.captures) else 404
    return render(request, "source.html", status_code=status, url=url, source=found.source,
                  captures=found.captures, mementos=found.mementos, citing=citing)


@router.get("/captures/{capture_id}", response_class=HTMLResponse)
def capture_page(request: Request, capture_id: str) -> HTMLResponse:
    found = archive_of(request).capture_detail(capture_id)
    cap, original = found.capture, found.payload
    mime = mime_of(original.get("content_type")) or ""
    if _replay(cap) is None:
        view = "failure"
    elif cap["http_status"] is not None and 300 <= cap["http_status"] < 400:
        view = "redirect"
    elif mime.startswith("image/"):
        view = "image"
    elif mime in _FRAMED or mime.endswith(("+xml", "+json")):
        view = "frame"
    else:  # PDFs (browsers run no PDF viewer in a sandboxed frame) and types a browser would download
        view = "link"
    return render(request, "capture.html", capture=cap, original=original, claims=found.claims, view=view,
                  mime=mime)


@router.get("/captures/{capture_id}/warc")
def capture_warc(request: Request, capture_id: str) -> Response:
    """The capture's WARC record as stored: one gzip member, ``warc_length`` bytes from ``warc_offset``."""
    archive = archive_of(request)
    cap = archive.capture(capture_id)
    chunks = archive.raw_record(cap)
    return StreamingResponse(chunks, media_type="application/warc", headers={
        "Content-Length": str(cap["warc_length"]),
        "Content-Disposition": f'attachment; filename="{cap["id"]}.warc.gz"',
        "X-Content-Type-Options": "nosniff",
    })


@router.get("/search", response_class=HTMLResponse)
def search_page(request: Request, q: str = "", limit: int = Query(50, ge=1, le=1000)) -> HTMLResponse:
    results = archive_of(request).lookup(q, limit) if q.strip() else []
    return render(request, "search.html", q=q, results=results, limit=limit)
