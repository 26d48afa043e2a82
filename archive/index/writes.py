"""Bulk writes to the index.

Writers batch rows and use ``executemany`` inside one transaction per batch: no commit per row. Every write
path (add, crawl, reindex) goes through these functions, and every capture row is built by
:func:`archive.index.rows.capture_row`, so rows look the same whichever path made them.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Iterable, Mapping, Sequence

from sqlalchemy import Connection, bindparam, insert, update

from archive import clock
from archive.states import SourceState

# The models are imported inside the functions that write rows.

SourceStateUpdate = dict[str, Any]


def _insert_ignore(conn: Connection, model: type, rows: Sequence[dict[str, Any]]) -> None:
    """INSERT that skips rows whose primary/unique key exists (SQLite and PostgreSQL)."""
    if not rows:
        return
    dialect = conn.dialect.name
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    elif dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert  # type: ignore[assignment]
    else:  # pragma: no cover - other backends: plain insert, duplicates raise
        conn.execute(insert(model), list(rows))
        return
    conn.execute(dialect_insert(model).on_conflict_do_nothing(), list(rows))


def add_document(conn: Connection, row: dict[str, Any]) -> None:
    add_documents(conn, [row])


def add_documents(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    from archive.index.models import Document

    _insert_ignore(conn, Document, rows)


def update_document(conn: Connection, document_id: str, **values: Any) -> None:
    from archive.index.models import Document

    conn.execute(update(Document).where(Document.id == document_id).values(**values))


def add_sources(conn: Connection, rows: Iterable[dict[str, Any]]) -> None:
    from archive.index.models import Source

    _insert_ignore(conn, Source, list(rows))


def add_claims(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    from archive.index.models import Claim

    _insert_ignore(conn, Claim, rows)


def add_citations(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    from archive.index.models import Citation

    _insert_ignore(conn, Citation, rows)


def add_captures(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    from archive.index.models import Capture

    _insert_ignore(conn, Capture, rows)


def add_page_assets(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    from archive.index.models import PageAsset

    _insert_ignore(conn, PageAsset, rows)


def add_renderings(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Rows of ``renderings`` (:mod:`archive.index.renderings`): a rendering written twice is one row."""
    from archive.index.models import Rendering

    _insert_ignore(conn, Rendering, rows)


def settle_sources(conn: Connection, updates: Sequence[SourceStateUpdate]) -> None:
    """Apply fetch outcomes (``archive.crawl.recorder``): state, schedule, evidence; the lease is released."""
    from archive.index.models import Source

    if not updates:
        return
    stmt = (
        update(Source)
        .where(Source.id == bindparam("sid"))
        .values(state=bindparam("state"), last_fetched=bindparam("fetched"), failures=bindparam("failures"),
                first_failure=bindparam("first_failure"), reason=bindparam("reason"),
                next_due=bindparam("next_due"), evidence_capture=bindparam("evidence"),
                latest_good_capture=bindparam("latest"), lease_owner=None, lease_until=None)
    )
    keys = ("sid", "state", "fetched", "failures", "first_failure", "reason", "next_due", "evidence", "latest")
    # in id order, the order a recount locks its sources in (archive.index.counts): the two never deadlock
    conn.execute(stmt, [{k: u[k] for k in keys} for u in sorted(updates, key=lambda u: u["sid"])])


def add_events(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    from archive.index.models import SourceEvent

    if rows:
        conn.execute(insert(SourceEvent), list(rows))


def start_crawl(conn: Connection, crawl_id: str, started_at: datetime) -> None:
    """The crawl's row: its process, its node (``host``, archive.crawl.pids.node_name) and a first heartbeat."""
    import os

    from archive.crawl.pids import node_label
    from archive.index.models import Crawl

    _insert_ignore(conn, Crawl, [{"id": crawl_id, "started_at": started_at, "finished_at": None,
                                  "requested": 0, "archived": 0, "failed": 0, "pid": os.getpid(),
                                  "host": node_label(), "heartbeat_at": started_at}])


def finish_crawl(conn: Connection, crawl_id: str, finished_at: datetime, states: Mapping[SourceState, int]) -> None:
    """The crawl's row finished; the per-document counts its re-checks piled up folded (reads never write)."""
    from archive.index.counts import fold_piled
    from archive.index.models import Crawl

    fold_piled(conn)
    conn.execute(update(Crawl).where(Crawl.id == crawl_id).values(
        finished_at=finished_at, requested=sum(states.values()), archived=states.get(SourceState.ARCHIVED, 0),
        failed=sum(v for k, v in states.items() if k != SourceState.ARCHIVED),
    ))


def set_interval(conn: Connection, document_id: str, every: Any) -> None:
    """A document's own re-check interval; its already-fetched sources become due by the new rhythm."""
    from sqlalchemy import text

    from archive.index.models import Document, Source

    conn.execute(update(Document).where(Document.id == document_id).values(check_every=int(every.total_seconds())))
    rows = conn.execute(text(
        "SELECT s.id, s.last_fetched, s.next_due FROM sources s JOIN citations ci ON ci.source_id = s.id "
        "JOIN claims c ON c.id = ci.claim_id WHERE c.document_id = :d AND s.last_fetched IS NOT NULL"
    ), {"d": document_id}).all()
    updates = []
    for sid, fetched, due in rows:
        fetched, due = clock.as_datetime(fetched), clock.as_datetime(due)
        sooner = fetched + every
        if due is None or sooner < due:
            updates.append({"sid": sid, "due": sooner})
    if updates:
        conn.execute(update(Source).where(Source.id == bindparam("sid")).values(next_due=bindparam("due")), updates)
