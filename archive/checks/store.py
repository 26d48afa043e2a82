"""SQL for evidence checks: what is left to check, the captures behind it, stored texts and verdicts.

Only 2xx ``response`` and ``revisit`` captures are checked (a revisit's payload is its original's, found
through ``captures.refers_to``); redirect hops and failed fetches have no verification.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterable, Sequence

from sqlalchemy import Connection, bindparam, delete, insert, text, tuple_

from archive.checks.texts import EXTRACTOR, CaptureText, text_key
from archive.index.models import CaptureText as CaptureTextRow
from archive.index.models import Verification

#: Bump when matching or anchoring changes: older verdicts are then recomputed by ``citevault check``.
VERSION = 2  # 2: misquoted, contradicted, no_match (was unsupported)
_CHECKED = "cap.http_status BETWEEN 200 AND 299 AND cap.record_type IN ('response', 'revisit')"


def _in(name: str) -> Any:
    return bindparam(name, expanding=True)


def pending_groups(conn: Connection, document_ids: Sequence[str] | None, force: bool,
                   crawl_id: str | None = None, source_ids: Sequence[str] | None = None) -> list[tuple[str, str]]:
    """``(claim_id, source_id)`` pairs with at least one 2xx capture not (or no longer) verified; with
    ``crawl_id``, only pairs with such a capture made by that crawl; with ``source_ids``, only those sources.

    Ordered by source, so claims citing the same source are checked together and its text is read once.
    """
    if source_ids is not None:
        return _pending_of_sources(conn, document_ids, force, crawl_id, source_ids)
    where = [_CHECKED]
    params: dict[str, Any] = {"v": VERSION}
    if crawl_id is not None:
        where.append("cap.crawl_id = :crawl")
        params["crawl"] = crawl_id
    if source_ids is not None:
        where.append("ci.source_id IN :sids")
        params["sids"] = list(source_ids)
    if not force:
        where.append("(v.claim_id IS NULL OR v.version < :v)")
    join_claims = ""
    if document_ids is not None:
        join_claims = "JOIN claims c ON c.id = ci.claim_id "
        where.append("c.document_id IN :docs")
        params["docs"] = list(document_ids)
    stmt = text(
        "SELECT DISTINCT ci.source_id, ci.claim_id FROM citations ci " + join_claims +
        "JOIN captures cap ON cap.source_id = ci.source_id "
        "LEFT JOIN verifications v ON v.claim_id = ci.claim_id AND v.capture_id = cap.id "
        f"WHERE {' AND '.join(where)} ORDER BY ci.source_id, ci.claim_id"
    )
    if document_ids is not None:
        stmt = stmt.bindparams(_in("docs"))
    if source_ids is not None:
        stmt = stmt.bindparams(_in("sids"))
    return [(row[1], row[0]) for row in conn.execute(stmt, params)]


def _pending_of_sources(conn: Connection, document_ids: Sequence[str] | None, force: bool, crawl_id: str | None,
                       source_ids: Sequence[str]) -> list[tuple[str, str]]:
    """:func:`pending_groups` for a few sources (the checks while crawling run one pass per few dozen): one
    query per table, each driven by its list of ids, joined here. One query joining the three tables is
    planned on statistics that a crawl outdates as it goes: on PostgreSQL, with ``captures`` still counted
    (nearly) empty, it became a nested loop scanning ``citations`` once per capture of the crawl, 0.3-0.7 s
    a pass and growing with the crawl (bench/README.md, workers section)."""
    if not source_ids:
        return []
    sql = f"SELECT cap.id, cap.source_id FROM captures cap WHERE cap.source_id IN :sids AND {_CHECKED}"
    params: dict[str, Any] = {"sids": list(source_ids)}
    if crawl_id is not None:
        sql += " AND cap.crawl_id = :crawl"
        params["crawl"] = crawl_id
    captures: dict[str, list[str]] = {}
    for cap_id, source_id in conn.execute(text(sql).bindparams(_in("sids")), params):
        captures.setdefault(source_id, []).append(cap_id)
    if not captures:
        return []
    sql = "SELECT ci.claim_id, ci.source_id FROM citations ci WHERE ci.source_id IN :sids"
    params = {"sids": sorted(captures)}
    stmt = text(sql).bindparams(_in("sids"))
    if document_ids is not None:
        sql = ("SELECT ci.claim_id, ci.source_id FROM citations ci JOIN claims c ON c.id = ci.claim_id "
               "WHERE ci.source_id IN :sids AND c.document_id IN :docs")
        params["docs"] = list(document_ids)
        stmt = text(sql).bindparams(_in("sids"), _in("docs"))
    cites = [(row[0], row[1]) for row in conn.execute(stmt, params)]
    done: set[tuple[str, str]] = set()
    if not force:
        ids = [cap_id for caps in captures.values() for cap_id in caps]
        rows = conn.execute(text("SELECT claim_id, capture_id FROM verifications WHERE capture_id IN :caps "
                                 "AND version >= :v").bindparams(_in("caps")), {"caps": ids, "v": VERSION})
        done = {(row[0], row[1]) for row in rows}
    pairs = {(claim, source) for claim, source in cites
             if any((claim, cap_id) not in done for cap_id in captures[source])}
    return sorted(pairs, key=lambda pair: (pair[1], pair[0]))


@dataclass(frozen=True)
class CaptureRef:
    """A checked capture and where its payload is (a revisit's payload is its original's)."""

    id: str
    source_id: str
    url: str
    fetched_at: Any
    content_type: str | None
    key: str
    warc_file: str
    warc_offset: int


def captures_of(conn: Connection, source_ids: Sequence[str]) -> dict[str, list[CaptureRef]]:
    """The checkable captures of each source, oldest first."""
    if not source_ids:
        return {}
    rows = conn.execute(text(
        "SELECT cap.id, cap.source_id, cap.url, cap.fetched_at, cap.content_type, cap.payload_sha256, "
        "cap.warc_file, cap.warc_offset, o.id AS oid, o.payload_sha256 AS osha, o.warc_file AS ofile, "
        "o.warc_offset AS ooffset, o.content_type AS otype "
        "FROM captures cap LEFT JOIN captures o ON o.id = cap.refers_to AND cap.record_type = 'revisit' "
        f"WHERE cap.source_id IN :sids AND {_CHECKED} "
        "ORDER BY cap.fetched_at, cap.warc_file, cap.warc_offset"
    ).bindparams(_in("sids")), {"sids": list(source_ids)}).mappings()
    out: dict[str, list[CaptureRef]] = {}
    for r in rows:
        original = r["oid"] is not None
        sha = r["payload_sha256"] or (r["osha"] if original else None)
        out.setdefault(r["source_id"], []).append(CaptureRef(
            id=r["id"], source_id=r["source_id"], url=r["url"], fetched_at=r["fetched_at"],
            content_type=r["content_type"] or (r["otype"] if original else None),
            key=text_key(sha, r["oid"] if original and not sha else r["id"]),
            warc_file=r["ofile"] if original else r["warc_file"],
            warc_offset=r["ooffset"] if original else r["warc_offset"],
        ))
    return out


def claims_of(conn: Connection, claim_ids: Sequence[str]) -> dict[str, tuple[str, str | None]]:
    rows = conn.execute(text("SELECT id, text, quote FROM claims WHERE id IN :ids").bindparams(_in("ids")),
                        {"ids": list(claim_ids)})
    return {row[0]: (row[1], row[2]) for row in rows}


def source_urls(conn: Connection, source_ids: Sequence[str]) -> dict[str, str]:
    rows = conn.execute(text("SELECT id, url FROM sources WHERE id IN :ids").bindparams(_in("ids")),
                        {"ids": list(source_ids)})
    return {row[0]: row[1] for row in rows}


def existing(conn: Connection, claim_ids: Sequence[str]) -> dict[tuple[str, str], dict[str, Any]]:
    """Stored verifications of ``claim_ids`` (current version only), by (claim, capture)."""
    rows = conn.execute(text(
        "SELECT * FROM verifications WHERE claim_id IN :ids AND version >= :v"
    ).bindparams(_in("ids")), {"ids": list(claim_ids), "v": VERSION}).mappings()
    return {(r["claim_id"], r["capture_id"]): dict(r) for r in rows}


def load_texts(conn: Connection, keys: Iterable[str]) -> dict[str, CaptureText]:
    """Stored texts of the current extractor."""
    keys = list(keys)
    out: dict[str, CaptureText] = {}
    for i in range(0, len(keys), 500):
        rows = conn.execute(text(
            "SELECT key, status, kind, text, charset, error FROM capture_texts "
            "WHERE key IN :keys AND extractor = :x"
        ).bindparams(_in("keys")), {"keys": keys[i:i + 500], "x": EXTRACTOR})
        for r in rows:
            out[r[0]] = CaptureText.from_stored(r[1], r[2], r[3], r[4], r[5])
    return out


def save_texts(conn: Connection, texts: dict[str, CaptureText], now: datetime) -> None:
    if not texts:
        return
    conn.execute(delete(CaptureTextRow).where(CaptureTextRow.key.in_(list(texts))))
    stmt = insert(CaptureTextRow)
    if conn.dialect.name == "postgresql":
        # Two passes of the checks while crawling (archive.crawl.checker.passes_at_once) may both extract one
        # payload (a page and a revisit of it): the later one keeps the text the first wrote, the same one.
        # Rows in key order, so two such passes lock keys in one order and never deadlock.
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        stmt = pg_insert(CaptureTextRow).on_conflict_do_nothing()
    conn.execute(stmt, [
        {"key": key, "status": t.status, "kind": t.kind, "charset": t.charset, "text": t.text,
         "chars": len(t.text), "error": t.stored_note(), "extractor": EXTRACTOR, "extracted_at": now}
        for key, t in sorted(texts.items())
    ])


def save_verifications(conn: Connection, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    pairs = [(r["claim_id"], r["capture_id"]) for r in rows]
    for i in range(0, len(pairs), 400):
        conn.execute(delete(Verification).where(
            tuple_(Verification.claim_id, Verification.capture_id).in_(pairs[i:i + 400])))
    conn.execute(insert(Verification), rows)

