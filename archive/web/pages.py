"""The server-rendered pages: one view per template, each a thin layer over :class:`archive.api.Archive`,
:mod:`archive.index.lookup` and :mod:`archive.index.browse`.

=====================================  =========================  =============================================
path                                   template                   what
=====================================  =========================  =============================================
``/``                                  ``documents.html``         documents with their evidence coverage
``/documents/{id}``                    ``document.html``          its claims in reading order, states, verdicts
``/claims/{id}``                       ``claim.html``             a claim, its sources and capture timeline
``/sources?url=``                      ``source.html``            a URL with every capture of it
``/captures/{id}``                     ``capture.html``           one capture, replayed in a sandboxed iframe
``/captures/{id}/warc``                (``application/warc``)     the raw WARC record, byte for byte
``/search?q=``                         ``search.html``            full-text search, or the claims citing a URL
=====================================  =========================  =============================================
"""
from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse
from fastapi.templating import Jinja2Templates

from archive.index import browse
from archive.index import lookup as reads
from archive.index.rows import mime_of
from archive.warc import reader as payload
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


def _replay(capture: dict[str, Any]) -> str | None:
    """Replay path of a capture dict (an index row or a claim JSON capture), None for a failed fetch."""
    if capture.get("http_status") is None and capture.get("record_type") != "resource":
        return None
    if capture.get("record_type") == "metadata":
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


templates.env.globals.update(replay=_replay, verdicts=_verdicts, verdict_of=verdict_of, STATES=browse.STATES)
templates.env.filters.update(when=_when)


def render(request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    return templates.TemplateResponse(request, name, context, status_code=status_code)


@router.get("/", response_class=HTMLResponse)
def documents_page(request: Request) -> HTMLResponse:
    archive = request.app.state.archive
    with archive.reading() as conn:
        docs = browse.documents(conn)
        cover = browse.coverage(conn, [d["id"] for d in docs])
    totals: dict[str, int] = {state: 0 for state in browse.STATES}
    for c in cover.values():
        for state, n in c["states"].items():
            totals[state] += n
    return render(request, "documents.html", documents=docs, coverage=cover, totals=totals,
                  home=str(archive.home.root))


@router.get("/documents/{document_id}", response_class=HTMLResponse)
def document_page(request: Request, document_id: str, page: int = Query(1, ge=1)) -> HTMLResponse:
    with request.app.state.archive.reading() as conn:
        doc = browse.document(conn, document_id)  # NotFoundError for an unknown id
        rows = reads.document_claims(conn, document_id)  # the CLI's `claims DOCUMENT_ID`
        shown = rows[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]
        own = [c for c in browse.document_captures(conn, document_id) if _replay(c)]
        details = {c["id"]: c for c in reads.claims_json(conn, [r["id"] for r in shown])}
    pages = max(1, -(-len(rows) // PAGE_SIZE))
    cover = browse.claim_coverage(Counter(r["state"] for r in rows))
    return render(request, "document.html", document=doc, claims=shown, details=details, coverage=cover,
                  article=own[-1] if own else None, page=page, pages=pages, first=(page - 1) * PAGE_SIZE)


@router.get("/claims/{claim_id}", response_class=HTMLResponse)
def claim_page(request: Request, claim_id: str) -> HTMLResponse:
    archive = request.app.state.archive
    claim = archive.show(claim_id)  # the CLI's `show CLAIM_ID`
    caps = [cap for s in claim["sources"] for cap in s["captures"]]
    with archive.reading() as conn:
        kinds = browse.capture_kinds(conn, [c["id"] for c in caps])
    unique = {c["id"]: {**c, **kinds.get(c["id"], {})} for c in caps}
    timeline = sorted(unique.values(), key=lambda c: (c["fetched_at"], c["warc_file"], c["warc_offset"]))
    return render(request, "claim.html", claim=claim, timeline=timeline)


@router.get("/sources", response_class=HTMLResponse)
def source_page(request: Request, url: str = Query("", description="the URL")) -> HTMLResponse:
    with request.app.state.archive.reading() as conn:
        found = browse.source(conn, url) if url else None
        caps = browse.url_captures(conn, url, found["id"] if found else None) if url else []
        mementos = browse.mementos(conn, url) if url else []
        citing = reads.claims_json(conn, reads.citing_claim_ids(conn, url, limit=200)) if found else []
    status = 200 if (found or caps) else 404
    return render(request, "source.html", status_code=status, url=url, source=found, captures=caps,
                  mementos=mementos, citing=citing)


@router.get("/captures/{capture_id}", response_class=HTMLResponse)
def capture_page(request: Request, capture_id: str) -> HTMLResponse:
    with request.app.state.archive.reading() as conn:
        cap = browse.capture_by_id(conn, capture_id)
        original = reads.payload_capture(conn, cap)
        claims = reads.claims_json(conn, browse.claims_citing_capture(conn, cap))
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
    return render(request, "capture.html", capture=cap, original=original, claims=claims, view=view, mime=mime)


@router.get("/captures/{capture_id}/warc")
def capture_warc(request: Request, capture_id: str) -> Response:
    """The capture's WARC record as stored: one gzip member, ``warc_length`` bytes from ``warc_offset``."""
    archive = request.app.state.archive
    with archive.reading() as conn:
        cap = browse.capture_by_id(conn, capture_id)
    chunks = payload.raw_record(archive.home, cap)
    return StreamingResponse(chunks, media_type="application/warc", headers={
        "Content-Length": str(cap["warc_length"]),
        "Content-Disposition": f'attachment; filename="{cap["id"]}.warc.gz"',
        "X-Content-Type-Options": "nosniff",
    })


@router.get("/search", response_class=HTMLResponse)
def search_page(request: Request, q: str = "", limit: int = Query(50, ge=1, le=1000)) -> HTMLResponse:
    results = request.app.state.archive.lookup(q, limit) if q.strip() else []
    return render(request, "search.html", q=q, results=results, limit=limit)
