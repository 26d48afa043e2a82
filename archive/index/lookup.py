"""Read side of the index: claim JSON (docs/json.md), full-text and URL lookup, claim lists.

This module is on the hot path of ``citevault lookup``: it uses a handful of SQL statements per call
(no per-row ORM loading) and imports nothing heavy, not even SQLAlchemy: its functions take a SQLAlchemy
``Connection`` or :class:`~archive.index.statements.Statements` (on PostgreSQL, ``lookup`` and ``show`` run
on the driver's connection alone).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable, Mapping, Sequence

from archive.checks.shape import verifications_for_claims
from archive.clock import iso_time
from archive.errors import NotFoundError
from archive.index.rows import CLAIM_JSON_CAPTURE_COLUMNS
from archive.index.search import search_claim_ids
from archive.index.statements import Statements, statements
from archive.states import CLAIM_PRECEDENCE, ClaimState, DocumentStatus
from archive.urls import bare_url_candidates, is_archivable, normalize_url

if TYPE_CHECKING:  # the shapes are for the type checker: `lookup` does not import them
    from sqlalchemy import Connection, RowMapping

    from archive.shapes import CaptureJSON, ClaimJSON, ClaimRow, RenderingJSON, SourceJSON


def claim_state_sql(precedence: Sequence[ClaimState] = CLAIM_PRECEDENCE) -> str:
    """The SQL expression of a claim's state, over the claim's rows joined to its sources ``s`` and grouped
    by claim: ``unsourced`` without sources, else the first state of ``precedence`` one of them is in, else
    ``archived``.

    >>> import sqlite3
    >>> def claim(*states: str) -> str:
    ...     rows = " UNION ALL ".join(f"SELECT 1 AS id, '{state}' AS state" for state in states)
    ...     return sqlite3.connect(":memory:").execute(f"SELECT {claim_state_sql()} FROM ({rows}) s").fetchone()[0]
    >>> claim("archived", "changed"), claim("changed", "pending"), claim("gone", "failed"), claim("archived")
    ('changed', 'pending', 'gone', 'archived')
    """
    steps = " ".join(f"WHEN SUM(CASE WHEN s.state = '{state}' THEN 1 ELSE 0 END) > 0 THEN '{state}'"
                     for state in precedence)
    return f"CASE WHEN COUNT(s.id) = 0 THEN '{ClaimState.UNSOURCED}' {steps} ELSE '{ClaimState.ARCHIVED}' END"


#: :func:`claim_state_sql` of :data:`archive.states.CLAIM_PRECEDENCE`: the one rule, in SQL.
CLAIM_STATE_SQL = claim_state_sql()


def _capture_json(row: Mapping[str, Any]) -> CaptureJSON:
    """A row of :data:`~archive.index.rows.CLAIM_JSON_CAPTURE_COLUMNS` as the claim JSON's capture, in that
    order, not yet checked."""
    return {"id": row["id"], "url": row["url"], "fetched_at": iso_time(row["fetched_at"]),
            "http_status": row["http_status"], "content_type": row["content_type"], "warc_file": row["warc_file"],
            "warc_offset": row["warc_offset"], "warc_record_id": row["warc_record_id"],
            "payload_sha256": row["payload_sha256"], "error": row["error"], "verification": None,
            "rendering": None}


def rendering_json(found: Mapping[str, Any] | None) -> RenderingJSON | None:
    """A ``renderings`` row (:class:`archive.index.renderings.Rendering`) as the claim JSON's ``rendering``."""
    if found is None:
        return None
    return {"id": found["id"], "rendered_at": found["rendered_at"], "browser": found["browser"],
            "width": found["width"], "height": found["height"],
            "screenshot_warc_file": found["screenshot_warc_file"], "screenshot_offset": found["screenshot_offset"],
            "text_warc_file": found["text_warc_file"], "text_offset": found["text_offset"],
            "text_chars": found["text_chars"], "cut": found["cut"]}


def renderings_by_capture(conn: Connection | Statements, captures: Iterable[tuple[str, str | None]]) -> dict[str, RenderingJSON]:
    """The ``rendering`` of each ``(capture id, refers_to)`` that has one: its own newest, else (a revisit)
    its original's; one query."""
    from archive.index.renderings import renderings_for

    pairs = list(captures)
    ids = list({cid for cid, _ in pairs} | {ref for _, ref in pairs if ref})
    found = renderings_for(conn, ids) if ids else {}
    out: dict[str, RenderingJSON] = {}
    for cid, ref in pairs:
        shaped = rendering_json(found.get(cid) or (found.get(ref) if ref else None))
        if shaped is not None:
            out[cid] = shaped
    return out


def attach_renderings(conn: Connection | Statements, captures: Sequence[CaptureJSON], originals: Mapping[str, str]) -> None:
    """Set each capture's ``rendering`` (``originals`` maps a revisit's id to its original's), in one query."""
    found = renderings_by_capture(conn, [(c["id"], originals.get(c["id"])) for c in captures])
    for cap in captures:
        cap["rendering"] = found.get(cap["id"])


def claims_json(conn: Connection | Statements, claim_ids: Sequence[str]) -> list[ClaimJSON]:
    """Claim JSON for ``claim_ids``, in that order (unknown ids are skipped)."""
    if not claim_ids:
        return []
    run = statements(conn)
    ids = list(dict.fromkeys(claim_ids))
    claims = run.rows(
        "SELECT c.id, c.text, c.quote, d.id AS did, d.url AS durl, d.title AS dtitle "
        "FROM claims c JOIN documents d ON d.id = c.document_id WHERE c.id IN :ids", {"ids": ids})
    cites = run.rows(
        "SELECT ci.claim_id, s.id, s.url, s.state FROM citations ci JOIN sources s ON s.id = ci.source_id "
        "WHERE ci.claim_id IN :ids ORDER BY ci.claim_id, ci.position", {"ids": ids})
    source_ids = list({row[1] for row in cites})
    captures: dict[str, list[CaptureJSON]] = {}
    if source_ids:
        rows = run.maps(
            f"SELECT source_id, refers_to, {', '.join(CLAIM_JSON_CAPTURE_COLUMNS)} FROM captures "
            "WHERE source_id IN :sids ORDER BY fetched_at, warc_file, warc_offset", {"sids": source_ids})
        for row in rows:
            captures.setdefault(row["source_id"], []).append(_capture_json(row))
        attach_renderings(run, [c for caps in captures.values() for c in caps],
                          {row["id"]: row["refers_to"] for row in rows if row["refers_to"]})
    checks = verifications_for_claims(run, ids)  # one statement: a verdict per (claim, capture)
    by_claim: dict[str, list[SourceJSON]] = {}
    for claim_id, sid, url, state in cites:
        by_claim.setdefault(claim_id, []).append({"url": url, "state": state, "captures": [
            {**cap, "verification": checks.get((claim_id, cap["id"]))} for cap in captures.get(sid, [])
        ]})
    found: dict[str, ClaimJSON] = {
        cid: {
            "id": cid,
            "text": claim_text,
            "quote": quote,
            "document": {"id": did, "url": durl, "title": dtitle},
            "sources": by_claim.get(cid, []),
        }
        for cid, claim_text, quote, did, durl, dtitle in claims
    }
    return [found[i] for i in ids if i in found]


def show(conn: Connection | Statements, claim_id: str) -> ClaimJSON:
    result = claims_json(conn, [claim_id])
    if not result:
        raise NotFoundError(f"no claim {claim_id!r} in the index (see `citevault claims` for ids)")
    return result[0]


#: The columns of a document the read side shows.
DOCUMENT_COLUMNS = "id, url, title, kind, origin, status, claim_count, added_at"


def fetch_error(conn: Connection | Statements, doc: Mapping[str, Any] | RowMapping) -> str | None:
    """Why a document added by URL is not fetched yet: read from its latest capture (a ``metadata`` record
    of a failed fetch, or a 4xx/5xx response), so a reindex of the WARC files gives the same answer. None
    for a fetched document, or one no crawl has tried yet. A pending document whose latest capture is a
    2xx response was fetched (it is archived) but held no article text to read claims from: that is no
    fetch error, so None too."""
    if doc.get("status") != DocumentStatus.PENDING or not doc.get("url"):
        return None
    rows = statements(conn).rows(
        "SELECT http_status, error FROM captures WHERE document_id = :d AND role IS NULL "
        "AND record_type IN ('response', 'revisit', 'metadata') "
        "AND (http_status IS NULL OR http_status < 300 OR http_status >= 400) "
        "ORDER BY fetched_at DESC, warc_file DESC, warc_offset DESC LIMIT 1", {"d": doc["id"]})
    if not rows:
        return None
    http_status, error = rows[0]
    if http_status is None:
        return str(error or "fetch failed")
    if http_status >= 400:
        return f"http {http_status}"
    return None


def document(conn: Connection | Statements, document_id: str) -> dict[str, Any]:
    """The row of ``document_id`` (``added_at`` as stored) plus its :func:`fetch_error`, or
    :class:`NotFoundError` saying where ids are."""
    run = statements(conn)
    found = run.maps(f"SELECT {DOCUMENT_COLUMNS} FROM documents WHERE id = :d", {"d": document_id})
    if not found:
        raise NotFoundError(f"no document {document_id!r} in the index (see `citevault claims` for ids)")
    return {**found[0], "fetch_error": fetch_error(run, found[0])}


def citing_claim_ids(conn: Connection | Statements, url: str, limit: int = 100) -> list[str]:
    """Claims that cite ``url`` (fragment and default port ignored), in document order."""
    rows = statements(conn).rows(
        "SELECT ci.claim_id FROM sources s JOIN citations ci ON ci.source_id = s.id "
        "JOIN claims c ON c.id = ci.claim_id WHERE s.url = :u ORDER BY c.document_id, c.position LIMIT :n",
        {"u": normalize_url(url), "n": limit})
    return [r[0] for r in rows]


def lookup(conn: Connection | Statements, query: str, limit: int = 20) -> list[ClaimJSON]:
    """A URL finds the claims citing it; anything else is full-text search over claim text and quotes. A
    URL written without its scheme (``example.org/report``) is looked up as https, then http, and searched
    as words only when no claim cites it."""
    q = query.strip()
    conn = statements(conn)
    if is_archivable(q):
        ids = citing_claim_ids(conn, q, limit)
    else:
        ids = []
        for candidate in bare_url_candidates(q):
            ids = citing_claim_ids(conn, candidate, limit)
            if ids:
                break
        if not ids:
            ids = search_claim_ids(conn, q, limit)
    return claims_json(conn, ids)


def document_claims(conn: Connection | Statements, document_id: str | None, *, offset: int = 0,
                    limit: int | None = None) -> list[ClaimRow]:
    """Claims with a one-word evidence state each (:data:`CLAIM_STATE_SQL`). Streams nothing big: use for
    one document or a listing. ``offset``/``limit`` page one document's claims in SQL (reading order, through
    ``ix_claims_document_position``), so a page of a document of a million claims reads one page."""
    run = statements(conn)
    if document_id is not None:
        document(run, document_id)  # NotFoundError for an unknown id
    where = "WHERE document_id = :d" if document_id is not None else ""
    page = ""
    params: dict[str, Any] = {"d": document_id} if document_id is not None else {}
    if document_id is not None and offset:
        # Keyset, not OFFSET over the rows: PostgreSQL would read every skipped claim's row (seconds at
        # page 2,000 of a million claims); the position where the page starts is found in the index alone.
        start = run.scalar("SELECT position FROM claims WHERE document_id = :d ORDER BY position LIMIT 1 OFFSET :o",
                           {"d": document_id, "o": offset})
        if start is None:
            return []
        where += " AND position >= :start"
        params["start"] = start
    elif offset:
        page = " OFFSET :offset"
        params["offset"] = offset
    if limit is not None:
        page = " LIMIT :limit" + page
        params["limit"] = limit
    elif page and run.backend == "sqlite":
        page = " LIMIT -1" + page  # SQLite has no OFFSET without LIMIT
    rows = run.rows(
        f"SELECT c.id, c.document_id, c.position, c.text, c.quote, COUNT(s.id) AS n, {CLAIM_STATE_SQL} AS state "
        f"FROM (SELECT id, document_id, position, text, quote FROM claims {where} "
        f"ORDER BY document_id, position{page}) c LEFT JOIN citations ci ON ci.claim_id = c.id "
        "LEFT JOIN sources s ON s.id = ci.source_id "
        "GROUP BY c.id, c.document_id, c.position, c.text, c.quote ORDER BY c.document_id, c.position",
        params)
    return [{"id": cid, "document_id": did, "position": position, "text": claim_text, "quote": quote,
             "sources": n, "state": ClaimState(state)} for cid, did, position, claim_text, quote, n, state in rows]


def capture(conn: Connection | Statements, capture_id: str) -> dict[str, Any]:
    run = statements(conn)
    found = run.maps("SELECT * FROM captures WHERE id = :i", {"i": capture_id})
    if not found:
        if run.rows("SELECT 1 FROM claims WHERE id = :i", {"i": capture_id}):
            raise NotFoundError(f"{capture_id!r} is a claim, not a capture: `citevault show {capture_id}` lists the "
                                "captures of its sources, each with its capture id")
        raise NotFoundError(f"no capture {capture_id!r} in the index (captures are listed by `citevault show`)")
    return found[0]


def payload_capture(conn: Connection | Statements, row: Mapping[str, Any]) -> Mapping[str, Any]:
    """The capture whose record holds ``row``'s payload: the original of a revisit, else ``row`` itself."""
    seen = {row["id"]}
    while row["record_type"] == "revisit" and row.get("refers_to"):
        original = capture(conn, row["refers_to"])
        if original["id"] in seen:  # a revisit cycle cannot be written by citevault; do not loop on one
            break
        seen.add(original["id"])
        row = original
    return row


def documents(conn: Connection | Statements) -> list[dict[str, Any]]:
    run = statements(conn)
    rows = run.maps("SELECT id, url, title, kind, status, claim_count, added_at FROM documents ORDER BY added_at, id")
    return [{**r, "fetch_error": fetch_error(run, r)} for r in rows]
