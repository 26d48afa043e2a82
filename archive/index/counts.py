"""Per-document counts by state, read in a few rows: how many of a document's distinct sources, and of its
claims, are in each state (``status``, the document page, the coverage of the documents list).

Counting them from the claims costs a pass over every claim and citation of the document: seconds for a
document of a million claims. The ``document_counts`` table (migration ``0007_document_counts``) holds
signed deltas whose sum per (document, kind, state) is the count:

* a trigger on ``sources`` adds the deltas of every source state change, whichever code changed it;
* :func:`refresh` counts a document whose claims were just written (``ingest``, ``reindex``, catch-up);
* :func:`fold` sums a document's rows into one per state once they pile up (many re-checks), so reading
  stays a few rows. Writers only insert, so concurrent crawl workers never contend for a counter row.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import TYPE_CHECKING

from archive.index.lookup import CLAIM_STATE_SQL

if TYPE_CHECKING:
    from sqlalchemy import Connection

#: Rows of one document beyond which a read folds them (each re-checked source adds two to four).
FOLD_AT = 256

SOURCE, CLAIM = "source", "claim"

_SOURCES = (
    "INSERT INTO document_counts (document_id, kind, state, n) SELECT ds.document_id, 'source', s.state, COUNT(*) "
    "FROM (SELECT DISTINCT c.document_id, ci.source_id FROM claims c JOIN citations ci ON ci.claim_id = c.id "
    "{where}) ds JOIN sources s ON s.id = ds.source_id GROUP BY ds.document_id, s.state")
_CLAIMS = (
    "INSERT INTO document_counts (document_id, kind, state, n) SELECT document_id, 'claim', state, COUNT(*) "
    f"FROM (SELECT c.document_id AS document_id, {CLAIM_STATE_SQL} AS state FROM claims c "
    "LEFT JOIN citations ci ON ci.claim_id = c.id LEFT JOIN sources s ON s.id = ci.source_id {where} "
    "GROUP BY c.id, c.document_id) per_claim GROUP BY document_id, state")


def refresh_statements(document_id: bool) -> list[str]:
    """The statements recounting one document (parameter ``:d``) or, with False, every document; for a
    caller holding a raw connection (the reindex writers)."""
    where = "WHERE c.document_id = :d" if document_id else ""
    return ["DELETE FROM document_counts" + (" WHERE document_id = :d" if document_id else ""),
            _SOURCES.format(where=where), _CLAIMS.format(where=where)]


def refresh(conn: Connection, document_id: str) -> None:
    """Count ``document_id``'s sources and claims afresh (after its claims and citations were written),
    in the caller's transaction."""
    from sqlalchemy import text

    for sql in refresh_statements(True):
        conn.execute(text(sql), {"d": document_id})


def fold(conn: Connection, document_id: str) -> None:
    """Replace a document's rows by one per (kind, state), in one transaction (committed here). The rows
    are deleted and read back in one statement, so a delta another transaction adds meanwhile is kept."""
    from sqlalchemy import text

    sums: dict[tuple[str, str], int] = defaultdict(int)
    for kind, state, n in conn.execute(text(
            "DELETE FROM document_counts WHERE document_id = :d RETURNING kind, state, n"), {"d": document_id}):
        sums[(kind, state)] += n
    rows = [{"d": document_id, "k": kind, "s": state, "n": n} for (kind, state), n in sorted(sums.items()) if n]
    if rows:
        conn.execute(text("INSERT INTO document_counts (document_id, kind, state, n) VALUES (:d, :k, :s, :n)"),
                     rows)
    conn.commit()


def counts(conn: Connection, document_ids: Sequence[str]) -> dict[str, dict[str, dict[str, int]]]:
    """``{document_id: {"source": {state: n}, "claim": {state: n}}}`` (states with none left out), folding
    the rows of a document that has more than :data:`FOLD_AT`."""
    from sqlalchemy import bindparam, text

    if not document_ids:
        return {}
    ids = list(document_ids)
    stmt = text("SELECT document_id, COUNT(*) FROM document_counts WHERE document_id IN :ids GROUP BY document_id "
                f"HAVING COUNT(*) > {FOLD_AT}").bindparams(bindparam("ids", expanding=True))
    piled = [d for d, _n in conn.execute(stmt, {"ids": ids})]
    if piled:  # folded on a connection of its own: the caller's transaction is left as it is (the sums
        with conn.engine.connect() as own:  # it reads are the same before and after a fold)
            for document_id in piled:
                fold(own, document_id)
    out: dict[str, dict[str, dict[str, int]]] = {d: {SOURCE: {}, CLAIM: {}} for d in ids}
    stmt = text("SELECT document_id, kind, state, SUM(n) FROM document_counts WHERE document_id IN :ids "
                "GROUP BY document_id, kind, state").bindparams(bindparam("ids", expanding=True))
    for document_id, kind, state, n in conn.execute(stmt, {"ids": ids}):
        if n:
            out[document_id].setdefault(kind, {})[state] = int(n)
    return out


__all__ = ["CLAIM", "FOLD_AT", "SOURCE", "counts", "fold", "refresh", "refresh_statements"]
