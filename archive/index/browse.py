"""Read functions the web UI needs beyond :mod:`archive.index.lookup`: coverage per document, every capture of a
URL, the mementos (replayable captures) of a URL and the one closest to a moment.

Like :mod:`archive.index.lookup` these take a SQLAlchemy ``Connection`` and run a few SQL statements each; they
return plain dicts, so a view only formats them. URLs are matched by SURT key (``captures.urlkey``), the
way Wayback machines match them: ``http://www.example.org/a`` and ``https://example.org/a`` are one URL.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Mapping, Sequence, cast

from sqlalchemy import Connection, bindparam, text

from archive.clock import iso_time
from archive.index import lookup as reads
from archive.index.rows import CAPTURE_COLUMNS, REPLAYABLE_TYPES
from archive.shapes import CaptureRow, Coverage
from archive.states import ClaimState
from archive.urls import normalize_url

#: Claim states in the order the UI shows them (the precedence is archive.states.CLAIM_PRECEDENCE).
STATES = tuple(ClaimState)

_CAPTURE_COLUMNS = ", ".join(CAPTURE_COLUMNS)

def claim_coverage(counts: Mapping[str, int]) -> Coverage:
    """Counts per state plus the totals the UI prints: ``sourced`` claims and the share of them archived."""
    total = sum(counts.values())
    sourced = total - counts.get(ClaimState.UNSOURCED, 0)
    archived = counts.get(ClaimState.ARCHIVED, 0)
    return {
        "claims": total,
        "sourced": sourced,
        "states": {state: counts.get(state, 0) for state in STATES},
        "archived_share": round(archived / sourced, 4) if sourced else None,
    }


def coverage(conn: Connection, document_ids: Sequence[str]) -> dict[str, Coverage]:
    """Evidence coverage of each document: ``{document_id: {"claims", "sourced", "states", "archived_share"}}``.

    Read from the per-document counts (:mod:`archive.index.counts`): a few rows per document, whatever its
    size; documents without claims get zero counts.
    """
    from archive.index.counts import CLAIM, counts

    found = counts(conn, document_ids)
    return {d: claim_coverage(found[d][CLAIM]) for d in document_ids}


def documents(conn: Connection) -> list[dict[str, Any]]:
    """:func:`archive.index.lookup.documents` plus ``origin`` (the file name a document was added from)."""
    rows = conn.execute(text(
        f"SELECT {reads.DOCUMENT_COLUMNS} FROM documents ORDER BY added_at, id"
    )).mappings().all()
    return [{**r, "added_at": iso_time(r["added_at"]), "fetch_error": reads.fetch_error(conn, r)} for r in rows]


def document(conn: Connection, document_id: str) -> dict[str, Any]:
    """:func:`archive.index.lookup.document` with ``added_at`` as the claim JSON prints times."""
    out = reads.document(conn, document_id)
    out["added_at"] = iso_time(out["added_at"])
    return out


def document_captures(conn: Connection, document_id: str) -> list[dict[str, Any]]:
    """The captures of the document itself: its fetches (added by URL) or its bytes (added as a file)."""
    rows = conn.execute(
        text(f"SELECT {_CAPTURE_COLUMNS} FROM captures WHERE document_id = :d ORDER BY fetched_at, warc_file, "
             "warc_offset"),
        {"d": document_id},
    ).mappings().all()
    return [_capture(r) for r in rows]


def _capture(row: Any) -> dict[str, Any]:
    out = dict(row)
    out["fetched_at"] = iso_time(out["fetched_at"])
    return out


def source(conn: Connection, url: str) -> dict[str, Any] | None:
    """The source row for ``url`` (normalized as sources are), or None when no claim cites it."""
    try:
        key = normalize_url(url)
    except ValueError:  # not a URL at all (a bad IPv6 literal): nothing cites it
        return None
    row = conn.execute(
        text("SELECT id, url, state, first_seen, last_fetched FROM sources WHERE url = :u"), {"u": key},
    ).mappings().first()
    if row is None:
        return None
    out = dict(row)
    out["first_seen"] = iso_time(out["first_seen"])
    out["last_fetched"] = iso_time(out["last_fetched"])
    return out


def url_captures(conn: Connection, url: str, source_id: str | None = None) -> list[dict[str, Any]]:
    """Every capture of ``url`` (same SURT key), plus, with ``source_id``, every capture fetched for that
    source (the hops of its redirect chains), in time order."""
    from archive.urlkey import urlkey

    where = "urlkey = :k" + (" OR source_id = :s" if source_id else "")
    rows = conn.execute(
        text(f"SELECT {_CAPTURE_COLUMNS} FROM captures WHERE {where} ORDER BY fetched_at, warc_file, warc_offset"),
        {"k": urlkey(url), "s": source_id},
    ).mappings().all()
    return [_capture(r) for r in rows]


def mementos(conn: Connection, url: str) -> list[dict[str, Any]]:
    """Replayable captures of ``url`` (same SURT key) in time order: responses (any status, redirects
    included), revisits and resource records. Failed fetches are not mementos."""
    from archive.urlkey import urlkey

    rows = conn.execute(
        text(f"SELECT {_CAPTURE_COLUMNS} FROM captures WHERE urlkey = :k AND record_type IN :types "
             "AND (http_status IS NOT NULL OR record_type = 'resource') "
             "ORDER BY timestamp, fetched_at, warc_file, warc_offset").bindparams(bindparam("types", expanding=True)),
        {"k": urlkey(url), "types": list(REPLAYABLE_TYPES)},
    ).mappings().all()
    return [_capture(r) for r in rows]


def pad_timestamp(ts: str) -> str:
    """A partial 14-digit timestamp (``2024``, ``202403``) completed to the earliest moment it names.

    >>> pad_timestamp("2024"), pad_timestamp("20240315"), pad_timestamp("")
    ('20240101000000', '20240315000000', '')
    """
    if not ts:
        return ts
    return (ts + "00000101000000"[len(ts):])[:14] if len(ts) < 14 else ts[:14]


def timestamp_moment(ts: str) -> datetime:
    """A (partial) 14-digit timestamp as a naive UTC datetime.

    >>> timestamp_moment("20240315120000")
    datetime.datetime(2024, 3, 15, 12, 0)
    """
    return datetime.strptime(pad_timestamp(ts), "%Y%m%d%H%M%S")


def closest(candidates: Sequence[dict[str, Any]], moment: datetime | None) -> dict[str, Any] | None:
    """The memento closest to ``moment`` (the latest one when ``moment`` is None); on a tie the earlier.

    Responses win over revisits of the same second, so a pinned capture shows its own record.
    """
    if not candidates:
        return None
    if moment is None:
        return candidates[-1]

    def distance(m: dict[str, Any]) -> tuple[float, int]:
        delta = abs((timestamp_moment(m["timestamp"]) - moment).total_seconds())
        return delta, 0 if m["record_type"] == "response" else 1

    return min(candidates, key=distance)


def capture_kinds(conn: Connection, capture_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """``{id: {"record_type", "timestamp", "refers_to"}}``: what the claim JSON's capture dicts leave out."""
    if not capture_ids:
        return {}
    rows = conn.execute(
        text("SELECT id, record_type, timestamp, refers_to FROM captures WHERE id IN :ids").bindparams(
            bindparam("ids", expanding=True)),
        {"ids": list(capture_ids)},
    ).mappings()
    return {r["id"]: {"record_type": r["record_type"], "timestamp": r["timestamp"], "refers_to": r["refers_to"]}
            for r in rows}


def capture_by_id(conn: Connection, capture_id: str) -> CaptureRow:
    """:func:`archive.index.lookup.capture` with ``fetched_at`` as the claim JSON prints it."""
    # `SELECT *` of the captures table: its columns are CaptureRow's keys (archive.index.models.Capture).
    return cast("CaptureRow", _capture(reads.capture(conn, capture_id)))


def claims_citing_capture(conn: Connection, capture: Mapping[str, Any]) -> list[str]:
    """Ids of the claims whose source the capture was fetched for, in document order."""
    if not capture.get("source_id"):
        return []
    rows = conn.execute(
        text("SELECT c.id FROM citations ci JOIN claims c ON c.id = ci.claim_id WHERE ci.source_id = :s "
             "ORDER BY c.document_id, c.position LIMIT 200"),
        {"s": capture["source_id"]},
    )
    return [r[0] for r in rows]
