"""Everything a page shows about one thing, in one call: the documents with their evidence coverage, a
document with its claims, a claim with its capture timeline, a URL with its captures and the claims citing
it, a capture with the record holding its payload, and the mementos of a URL.

Each function composes :mod:`archive.index.lookup` and :mod:`archive.index.browse` on one connection and
returns plain data (small dataclasses around the dicts those modules return). :class:`archive.api.Archive`
opens the connection; the web views only format the result.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Mapping

from sqlalchemy import Connection

from archive.index import browse
from archive.index import lookup as reads
from archive.shapes import CaptureRow, ClaimJSON, ClaimRow, Coverage, DocumentOverview, RenderingJSON

Row = dict[str, Any]


def replayable(capture: Mapping[str, Any]) -> bool:
    """Whether a capture (an index row or a claim JSON capture) can be replayed: a response that got a
    status, or a resource record. A failed fetch (``metadata`` record, no status) cannot.

    >>> replayable({"record_type": "response", "http_status": 404}), replayable({"http_status": None})
    (True, False)
    >>> replayable({"record_type": "resource", "http_status": None}), replayable({"record_type": "metadata"})
    (True, False)
    """
    if capture.get("record_type") == "metadata":
        return False
    return capture.get("http_status") is not None or capture.get("record_type") == "resource"


def overview(conn: Connection, document_id: str | None = None) -> list[DocumentOverview]:
    """Every document in the order added (or only ``document_id``: NotFoundError when unknown), each
    :func:`archive.index.browse.documents` row with its ``coverage`` (:func:`archive.index.browse.coverage`)."""
    docs = [browse.document(conn, document_id)] if document_id is not None else browse.documents(conn)
    cover = browse.coverage(conn, [d["id"] for d in docs])
    return [{"id": d["id"], "url": d["url"], "title": d["title"], "kind": d["kind"], "origin": d["origin"],
             "status": d["status"], "claim_count": d["claim_count"], "added_at": d["added_at"],
             "coverage": cover[d["id"]], "fetch_error": d["fetch_error"]} for d in docs]


@dataclass(frozen=True)
class DocumentDetail:
    """A document and the claims asked for (a page of them), with the coverage of all its claims."""

    document: Row  #: :func:`archive.index.browse.document`
    claims: list[ClaimRow]  #: rows of :func:`archive.index.lookup.document_claims`, in reading order
    claim_count: int  #: all the document's claims, not only those in ``claims``
    details: dict[str, ClaimJSON]  #: claim JSON of each claim in ``claims``, by id
    coverage: Coverage  #: :func:`archive.index.browse.claim_coverage` of all its claims
    article: Row | None  #: the newest replayable capture of the document itself


def document_detail(conn: Connection, document_id: str, *, offset: int = 0, limit: int | None = None) -> DocumentDetail:
    """Only the page asked for is read (in SQL); the coverage and the claim count come from
    :mod:`archive.index.counts`, so a page of a document of a million claims costs one page."""
    doc = browse.document(conn, document_id)  # NotFoundError for an unknown id
    cover = browse.coverage(conn, [document_id])[document_id]
    shown = reads.document_claims(conn, document_id, offset=offset, limit=limit)  # the CLI's `claims DOCUMENT_ID`
    own = [c for c in browse.document_captures(conn, document_id) if replayable(c)]
    details = {c["id"]: c for c in reads.claims_json(conn, [r["id"] for r in shown])}
    return DocumentDetail(doc, shown, cover["claims"], details, cover, own[-1] if own else None)


@dataclass(frozen=True)
class ClaimDetail:
    """A claim (claim JSON) and every capture of its sources once, in time order."""

    claim: ClaimJSON
    #: the claim JSON's captures plus ``record_type``, ``timestamp`` and ``refers_to``, oldest first
    timeline: list[Row]


def claim_detail(conn: Connection, claim_id: str) -> ClaimDetail:
    claim = reads.show(conn, claim_id)  # the CLI's `show CLAIM_ID`; NotFoundError for an unknown id
    caps = [cap for s in claim["sources"] for cap in s["captures"]]
    kinds = browse.capture_kinds(conn, [c["id"] for c in caps])
    unique = {c["id"]: {**c, **kinds.get(c["id"], {})} for c in caps}
    timeline = sorted(unique.values(), key=lambda c: (c["fetched_at"], c["warc_file"], c["warc_offset"]))
    return ClaimDetail(claim, timeline)


@dataclass(frozen=True)
class SourceDetail:
    """A URL: the source it is (when a claim cites it), every capture of it, and the claims citing it."""

    url: str  #: as asked
    source: Row | None  #: :func:`archive.index.browse.source`, None when no claim cites the URL
    #: :func:`archive.index.browse.url_captures`, with the hops fetched for the source, each with its
    #: ``rendering`` (claim JSON's, :func:`archive.index.lookup.renderings_by_capture`)
    captures: list[Row]
    mementos: list[Row]  #: the replayable captures of the URL (:func:`archive.index.browse.mementos`)
    claims: list[str]  #: ids of the claims citing it, in document order


def source_detail(conn: Connection, url: str, *, claim_limit: int = 1000) -> SourceDetail:
    found = browse.source(conn, url)
    caps = browse.url_captures(conn, url, found["id"] if found else None)
    shots = reads.renderings_by_capture(conn, [(c["id"], c.get("refers_to")) for c in caps])
    caps = [{**c, "rendering": shots.get(c["id"])} for c in caps]
    cited = reads.citing_claim_ids(conn, url, limit=claim_limit) if found else []
    return SourceDetail(url, found, caps, browse.mementos(conn, url), cited)


@dataclass(frozen=True)
class CaptureDetail:
    """A capture, the capture whose record holds its payload, and the claims it was fetched for."""

    capture: CaptureRow  #: :func:`archive.index.browse.capture_by_id`
    payload: Mapping[str, Any]  #: the original of a revisit, else ``capture`` itself (:func:`archive.index.lookup.payload_capture`)
    claims: list[ClaimJSON]  #: claim JSON of the claims citing the source it was fetched for, in document order
    rendering: RenderingJSON | None = None  #: its newest browser rendering (a revisit's: its original's)


def capture_detail(conn: Connection, capture_id: str) -> CaptureDetail:
    cap = browse.capture_by_id(conn, capture_id)  # NotFoundError for an unknown id
    original = reads.payload_capture(conn, cap)
    shot = reads.renderings_by_capture(conn, [(cap["id"], cap.get("refers_to"))]).get(cap["id"])
    return CaptureDetail(cap, original, reads.claims_json(conn, browse.claims_citing_capture(conn, cap)), shot)


@dataclass(frozen=True)
class Mementos:
    """The mementos of a URL (Memento's URI-Ms) and the one closest to a moment."""

    url: str  #: as asked
    captures: list[Row]  #: replayable captures with the URL's SURT key, oldest first
    closest: Row | None  #: the capture closest to the moment asked (the latest without one); None: none at all
    failure: str | None  #: without any memento: the error of the URL's last failed fetch, if it was fetched


def mementos(conn: Connection, url: str, at: datetime | None = None) -> Mementos:
    found = browse.mementos(conn, url)
    chosen = browse.closest(found, at)
    failure = None
    if chosen is None:
        failures = [c["error"] for c in browse.url_captures(conn, url) if c["error"]]
        failure = failures[-1] if failures else None
    return Mementos(url, found, chosen, failure)
