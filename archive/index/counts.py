"""Per-document counts by state, read in a few rows: how many of a document's distinct sources, and of its
claims, are in each state (``status``, the document page, the coverage of the documents list).

Counting them from the claims costs a pass over every claim and citation of the document: seconds for a
document of a million claims. The ``document_counts`` table (migration ``0007_document_counts``) holds
signed deltas whose sum per (document, kind, state) is the count:

* a trigger on ``sources`` adds the deltas of every source state change, whichever code changed it;
* :func:`refresh` counts a document whose claims were just written (``ingest``, ``reindex``, catch-up);
* :func:`fold_piled` (at the end of a crawl) sums the rows of a document that piled up (many re-checks)
  into one per state, so reading stays a few rows. Writers only insert, so concurrent crawl workers never
  contend for a counter row.

Reading (:func:`counts`) never writes: it sums the rows in its query, so a role that may only SELECT reads
the same counts (``status``, the web UI).

**A recount racing a state change** (PostgreSQL, READ COMMITTED). The trigger of a source's state change
sees the citations committed when it runs; :func:`refresh` sees the states committed when it runs. A new
document citing source S, recounted while a crawl's change of S is uncommitted, would count S's old state,
and the trigger, which ran before the document was committed, added no delta for it: one off until the
next reindex. So on PostgreSQL the recount first takes a share lock on the rows of the sources it counts
(:data:`LOCK_SOURCES`, in id order), which a state change's ``UPDATE`` also needs: it waits for a crawl
that changed one of them to commit (its state is then counted), and a later change waits for the new
document to commit (its trigger then sees the document's citations). Either way each change is counted
once. tests/test_count_race.py interleaves the two both ways on a real PostgreSQL.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import TYPE_CHECKING

from archive.index.lookup import CLAIM_STATE_SQL
from archive.index.statements import Statements, statements

if TYPE_CHECKING:
    from sqlalchemy import Connection

#: Rows of one document beyond which the end of a crawl folds them (each re-checked source adds two to four).
FOLD_AT = 256

SOURCE, CLAIM = "source", "claim"

#: Share locks on the sources a document cites (PostgreSQL), in id order; see the module docstring.
LOCK_SOURCES = (
    "SELECT COUNT(*) FROM (SELECT s.id FROM sources s WHERE s.id IN (SELECT ci.source_id FROM citations ci "
    "JOIN claims c ON c.id = ci.claim_id WHERE c.document_id = :d) ORDER BY s.id FOR SHARE OF s) locked")

_SOURCES = (
    "INSERT INTO document_counts (document_id, kind, state, n) SELECT ds.document_id, 'source', s.state, COUNT(*) "
    "FROM (SELECT DISTINCT c.document_id, ci.source_id FROM claims c JOIN citations ci ON ci.claim_id = c.id "
    "{where}) ds JOIN sources s ON s.id = ds.source_id GROUP BY ds.document_id, s.state")
_CLAIMS = (
    "INSERT INTO document_counts (document_id, kind, state, n) SELECT document_id, 'claim', state, COUNT(*) "
    f"FROM (SELECT c.document_id AS document_id, {CLAIM_STATE_SQL} AS state FROM claims c "
    "LEFT JOIN citations ci ON ci.claim_id = c.id LEFT JOIN sources s ON s.id = ci.source_id {where} "
    "GROUP BY c.id, c.document_id) per_claim GROUP BY document_id, state")


def refresh_statements(document_id: bool, backend: str = "sqlite") -> list[str]:
    """The statements recounting one document (parameter ``:d``) or, with False, every document; for a
    caller holding a raw connection (the reindex writers). On PostgreSQL the recount of one document
    first locks its sources (:data:`LOCK_SOURCES`)."""
    where = "WHERE c.document_id = :d" if document_id else ""
    lock = [LOCK_SOURCES] if document_id and backend == "postgresql" else []
    return [*lock, "DELETE FROM document_counts" + (" WHERE document_id = :d" if document_id else ""),
            _SOURCES.format(where=where), _CLAIMS.format(where=where)]


def refresh(conn: Connection, document_id: str) -> None:
    """Count ``document_id``'s sources and claims afresh (after its claims and citations were written),
    in the caller's transaction (which holds its sources' share locks until it ends, on PostgreSQL)."""
    from sqlalchemy import text

    for sql in refresh_statements(True, conn.dialect.name):
        conn.execute(text(sql), {"d": document_id})


def fold_piled(conn: Connection) -> list[str]:
    """:func:`fold` every document with more than :data:`FOLD_AT` rows, in the caller's transaction (a
    writer's: the end of a crawl, whose re-checks added the rows). The documents folded."""
    from sqlalchemy import text

    piled = [d for (d,) in conn.execute(text(
        f"SELECT document_id FROM document_counts GROUP BY document_id HAVING COUNT(*) > {FOLD_AT} "
        "ORDER BY document_id"))]
    for document_id in piled:
        fold(conn, document_id)
    return piled


def fold(conn: Connection, document_id: str) -> None:
    """Replace a document's rows by one per (kind, state), in the caller's transaction. The rows are
    deleted and read back in one statement, so a delta another transaction adds meanwhile is kept."""
    from sqlalchemy import text

    sums: dict[tuple[str, str], int] = defaultdict(int)
    for kind, state, n in conn.execute(text(
            "DELETE FROM document_counts WHERE document_id = :d RETURNING kind, state, n"), {"d": document_id}):
        sums[(kind, state)] += n
    rows = [{"d": document_id, "k": kind, "s": state, "n": n} for (kind, state), n in sorted(sums.items()) if n]
    if rows:
        conn.execute(text("INSERT INTO document_counts (document_id, kind, state, n) VALUES (:d, :k, :s, :n)"),
                     rows)


def counts(conn: Connection | Statements,
           document_ids: Sequence[str]) -> dict[str, dict[str, dict[str, int]]]:
    """``{document_id: {"source": {state: n}, "claim": {state: n}}}`` (states with none left out): the sums
    of the rows, read without writing anything."""
    if not document_ids:
        return {}
    ids = list(document_ids)
    out: dict[str, dict[str, dict[str, int]]] = {d: {SOURCE: {}, CLAIM: {}} for d in ids}
    for document_id, kind, state, n in statements(conn).rows(
            "SELECT document_id, kind, state, SUM(n) FROM document_counts WHERE document_id IN :ids "
            "GROUP BY document_id, kind, state", {"ids": ids}):
        if n:
            out[document_id].setdefault(kind, {})[state] = int(n)
    return out


__all__ = ["CLAIM", "FOLD_AT", "LOCK_SOURCES", "SOURCE", "counts", "fold", "fold_piled", "refresh",
           "refresh_statements"]
