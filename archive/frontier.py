"""What a crawl should fetch: documents added by URL and not yet extracted, and sources not archived.

Rows are streamed (a million pending sources are never loaded at once).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, Sequence

from sqlalchemy import Connection, bindparam, text

#: States a plain ``crawl`` fetches: never fetched, or failed in a way that may pass (timeouts, 5xx).
FETCH_STATES = ("pending", "failed")


@dataclass(frozen=True)
class Target:
    url: str
    source_id: str | None = None
    document_id: str | None = None


def pending_documents(conn: Connection, document_ids: Sequence[str] | None = None) -> Iterator[Target]:
    sql = "SELECT id, url FROM documents WHERE status = 'pending' AND url IS NOT NULL"
    params: dict[str, object] = {}
    stmt = text(sql)
    if document_ids is not None:
        stmt = text(sql + " AND id IN :ids").bindparams(bindparam("ids", expanding=True))
        params["ids"] = list(document_ids)
    for row in conn.execution_options(stream_results=True, yield_per=1000).execute(stmt, params):
        yield Target(url=row.url, document_id=row.id)


def pending_sources(conn: Connection, document_ids: Sequence[str] | None = None) -> Iterator[Target]:
    """Sources in :data:`FETCH_STATES`, each once however many claims cite it."""
    params: dict[str, object] = {"states": list(FETCH_STATES)}
    if document_ids is None:
        stmt = text("SELECT id, url FROM sources WHERE state IN :states ORDER BY first_seen, id")
    else:
        stmt = text(
            "SELECT DISTINCT s.id, s.url FROM sources s JOIN citations ci ON ci.source_id = s.id "
            "JOIN claims c ON c.id = ci.claim_id WHERE s.state IN :states AND c.document_id IN :ids"
        ).bindparams(bindparam("ids", expanding=True))
        params["ids"] = list(document_ids)
    stmt = stmt.bindparams(bindparam("states", expanding=True))
    for row in conn.execution_options(stream_results=True, yield_per=1000).execute(stmt, params):
        yield Target(url=row.url, source_id=row.id)


def states(conn: Connection, source_ids: Sequence[str]) -> dict[str, str]:
    if not source_ids:
        return {}
    stmt = text("SELECT id, state FROM sources WHERE id IN :ids").bindparams(bindparam("ids", expanding=True))
    return {row.id: row.state for row in conn.execute(stmt, {"ids": list(source_ids)})}
