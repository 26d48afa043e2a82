"""What a crawl should fetch, claimed so that two crawls running at once never fetch the same source.

Sources are claimed in batches by one UPDATE … RETURNING that only takes rows nobody holds (a lease with
the crawl's id and an expiry): on SQLite the write lock serialises two claimers, on PostgreSQL the second
UPDATE re-checks the lease after the first commits — either way each source goes to one crawl. A crawl
releases a lease when it records the source's outcome; leases of crawls that died are released when the
next crawl starts (same host, dead pid).
"""
from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Iterator, Sequence

from sqlalchemy import Connection, DateTime, bindparam, text

from archive.crawl.pids import alive
from archive.states import DocumentStatus, SourceState

# Times bound with the column type, so SQLite compares them in the format the columns store.
_TIMES = (bindparam("now", type_=DateTime), bindparam("until", type_=DateTime))

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

#: Without --due: never fetched, or failed (and not asked to wait, e.g. by Retry-After).
PLAIN = (f"(s.state = '{SourceState.PENDING}' OR (s.state = '{SourceState.FAILED}' AND (s.next_due IS NULL "
         "OR s.next_due <= :now)))")
#: With --due: also every source whose re-check time has come (archived, changed and gone ones).
DUE = f"({PLAIN} OR (s.next_due IS NOT NULL AND s.next_due <= :now))"
LEASE = timedelta(hours=6)
BATCH = 500


@dataclass(frozen=True)
class Claimed:
    """What the index knew of a source when a crawl claimed it: the recorder decides the next state from
    this without reading the row again (it travels with the request, and to the recorder process)."""

    state: str
    failures: int | None
    first_failure: Any  # a datetime, or its text on SQLite (archive.clock.as_datetime reads both)
    evidence_capture: str | None
    latest_good_capture: str | None

    @property
    def never_captured(self) -> bool:
        """No earlier payload of this URL to deduplicate against: only this crawl can hold a duplicate."""
        return self.latest_good_capture is None and self.state == SourceState.PENDING


@dataclass(frozen=True)
class Target:
    url: str
    source_id: str | None = None
    document_id: str | None = None
    known: Claimed | None = None


def _claimed(row: Any) -> Target:
    return Target(url=row.url, source_id=row.id, known=Claimed(*row[2:7]))


def pending_documents(conn: Connection, document_ids: Sequence[str] | None = None) -> Iterator[Target]:
    sql = f"SELECT id, url FROM documents WHERE status = '{DocumentStatus.PENDING}' AND url IS NOT NULL"
    params: dict[str, object] = {}
    stmt = text(sql)
    if document_ids is not None:
        stmt = text(sql + " AND id IN :ids").bindparams(bindparam("ids", expanding=True))
        params["ids"] = list(document_ids)
    for row in conn.execute(stmt, params).all():
        yield Target(url=row.url, document_id=row.id)


def claim_sources(engine: Engine, crawl_id: str, now: datetime, *, due: bool = False,
                  document_ids: Sequence[str] | None = None, batch: int = BATCH) -> Iterator[Target]:
    """Claim and yield the sources this crawl should fetch, a batch (one short transaction) at a time."""
    condition = DUE if due else PLAIN
    scope = ""
    params: dict[str, object] = {"now": now, "owner": crawl_id, "until": now + LEASE, "n": batch}
    if document_ids is not None:
        scope = ("AND s.id IN (SELECT ci.source_id FROM citations ci JOIN claims c ON c.id = ci.claim_id "
                 "WHERE c.document_id IN :docs)")
        params["docs"] = list(document_ids)
    stmt = text(
        "UPDATE sources SET lease_owner = :owner, lease_until = :until WHERE id IN ("
        f"SELECT s.id FROM sources s WHERE {condition} {scope} "
        "AND (s.lease_owner IS NULL OR s.lease_until < :now) ORDER BY s.first_seen, s.id LIMIT :n"
        ") AND (lease_owner IS NULL OR lease_until < :now) RETURNING id, url, state, failures, first_failure, evidence_capture, latest_good_capture"
    ).bindparams(*_TIMES)
    if document_ids is not None:
        stmt = stmt.bindparams(bindparam("docs", expanding=True))
    while True:
        with engine.begin() as conn:
            rows = conn.execute(stmt, params).all()
        if not rows:
            return
        for row in rows:
            yield _claimed(row)


def release(conn: Connection, crawl_id: str) -> None:
    """Give back what a crawl claimed and did not settle (it stopped early)."""
    conn.execute(text("UPDATE sources SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = :c"),
                 {"c": crawl_id})


def dead_crawls(conn: Connection) -> list[str]:
    """Unfinished crawls of this host whose process is gone (another host's crawls cannot be checked)."""
    host = socket.gethostname()
    dead = []
    for row in conn.execute(text("SELECT id, pid FROM crawls WHERE finished_at IS NULL AND host = :h"), {"h": host}):
        if row.pid is None or (row.pid != os.getpid() and not alive(row.pid)):
            dead.append(row.id)
    return dead


def release_dead(conn: Connection) -> int:
    """Release leases of unfinished crawls whose process is gone (this host only; others expire)."""
    dead = dead_crawls(conn)
    for crawl_id in dead:
        release(conn, crawl_id)
    return len(dead)


def claim_listed(engine: Engine, crawl_id: str, source_ids: Sequence[str], now: datetime) -> list[Target]:
    """Claim these sources (found in a document fetched mid-crawl) if they still need fetching."""
    if not source_ids:
        return []
    stmt = text(
        "UPDATE sources SET lease_owner = :owner, lease_until = :until WHERE id IN :ids "
        f"AND id IN (SELECT s.id FROM sources s WHERE {PLAIN}) "
        "AND (lease_owner IS NULL OR lease_until < :now) "
        "RETURNING id, url, state, failures, first_failure, evidence_capture, latest_good_capture"
    ).bindparams(bindparam("ids", expanding=True), *_TIMES)
    with engine.begin() as conn:
        rows = conn.execute(stmt, {"owner": crawl_id, "until": now + LEASE, "now": now,
                                   "ids": list(source_ids)}).all()
    return [_claimed(row) for row in rows]


@dataclass(frozen=True)
class Holder:
    """A running crawl holding leases on sources another crawl would fetch."""

    crawl_id: str
    pid: int | None
    host: str | None
    sources: int


@dataclass(frozen=True)
class Waiting:
    """What is left to fetch after a crawl: sources nobody holds, and those other crawls hold."""

    unheld: int
    held: list[Holder]


def waiting(conn: Connection, crawl_id: str, now: datetime, *, due: bool = False,
            document_ids: Sequence[str] | None = None) -> Waiting:
    """Read only: the sources :func:`claim_sources` would still want (same condition and scope), split into
    those free to claim and those under a live lease of another crawl (with that crawl's pid and host)."""
    condition = DUE if due else PLAIN
    scope = ""
    params: dict[str, object] = {"now": now, "me": crawl_id}
    if document_ids is not None:
        scope = ("AND s.id IN (SELECT ci.source_id FROM citations ci JOIN claims c ON c.id = ci.claim_id "
                 "WHERE c.document_id IN :docs)")
        params["docs"] = list(document_ids)
    held = ("s.lease_owner IS NOT NULL AND s.lease_owner != :me AND s.lease_until >= :now")
    stmt = text(
        f"SELECT CASE WHEN {held} THEN s.lease_owner END AS owner, c.pid, c.host, COUNT(*) AS n "
        f"FROM sources s LEFT JOIN crawls c ON c.id = s.lease_owner AND {held} "
        f"WHERE {condition} {scope} GROUP BY 1, 2, 3 ORDER BY 4 DESC"
    ).bindparams(bindparam("now", type_=DateTime))
    if document_ids is not None:
        stmt = stmt.bindparams(bindparam("docs", expanding=True))
    unheld = 0
    holders = []
    for row in conn.execute(stmt, params):
        if row.owner is None:
            unheld += row.n
        else:
            holders.append(Holder(row.owner, row.pid, row.host, row.n))
    return Waiting(unheld, holders)
