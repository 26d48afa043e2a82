"""What a crawl should fetch, claimed so that two crawls running at once never fetch the same source.

Sources are claimed in batches by one UPDATE … RETURNING that only takes rows nobody holds (a lease with
the crawl's id and an expiry): on SQLite the write lock serialises two claimers; on PostgreSQL the rows are
picked ``FOR UPDATE SKIP LOCKED``, so workers on many hosts claim disjoint batches without waiting on each
other — either way each source goes to one crawl. A crawl releases a lease when it records the source's
outcome. A live crawl renews its leases with a heartbeat (:func:`heartbeat`, every :func:`lease_time` / 6);
a crawl that died loses them: at once when the next crawl on its node finds its pid dead, else when they
expire (another host, where its pid means nothing).
"""
from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Callable, Iterator, Sequence

from sqlalchemy import Connection, DateTime, bindparam, text

from archive.clock import real_now, schedule_now
from archive.crawl.pids import alive, node_label
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
#: How long a lease lasts without a heartbeat (``CITEVAULT_LEASE_SECONDS`` overrides it: tests make it short).
LEASE = timedelta(minutes=5)
BATCH = 500
#: A lease another crawl may take: nobody's, or expired and held by a crawl that has not beaten within a
#: lease (one that has is alive: its heartbeat renews the lease; and its WARC file may hold fetches the
#: index lacks until a catch-up indexes them, which waits for the same silence).
TAKEABLE = ("(s.lease_owner IS NULL OR (s.lease_until < :now AND s.lease_owner NOT IN (SELECT w.id FROM crawls w "
            "WHERE w.finished_at IS NULL AND w.heartbeat_at >= :since)))")
#: Not yet settled by this crawl: a source is fetched once per crawl. Its lease guards it while it is fetched;
#: once settled (lease released and event written in one transaction) its event of this crawl does, so that
#: sources claimed as the crawl goes (the spider pulls batches as it needs them) never include one this
#: crawl already fetched, even when its failure made it due again at once.
UNSETTLED = "NOT EXISTS (SELECT 1 FROM source_events e WHERE e.source_id = s.id AND e.crawl_id = :owner)"


def lease_time() -> timedelta:
    """:data:`LEASE`, or ``CITEVAULT_LEASE_SECONDS``."""
    seconds = os.environ.get("CITEVAULT_LEASE_SECONDS")
    return timedelta(seconds=float(seconds)) if seconds else LEASE


def heartbeat_every() -> float:
    """Seconds between heartbeats: six chances to renew a lease before it expires."""
    return lease_time().total_seconds() / 6


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
                  document_ids: Sequence[str] | None = None, batch: int = BATCH,
                  before_batch: Callable[[], None] | None = None) -> Iterator[Target]:
    """Claim and yield the sources this crawl should fetch, a batch (one short transaction) at a time.
    ``before_batch`` runs before each claim (the crawl catches up with dead workers there)."""
    condition = DUE if due else PLAIN
    scope = ""
    params: dict[str, object] = {"now": now, "owner": crawl_id, "until": now + lease_time(), "n": batch}
    if document_ids is not None:
        scope = ("AND s.id IN (SELECT ci.source_id FROM citations ci JOIN claims c ON c.id = ci.claim_id "
                 "WHERE c.document_id IN :docs)")
        params["docs"] = list(document_ids)
    # PostgreSQL: rows another worker is claiming right now are skipped, not waited for (nor re-checked)
    skip = " FOR UPDATE SKIP LOCKED" if engine.dialect.name == "postgresql" else ""
    stmt = text(
        "UPDATE sources SET lease_owner = :owner, lease_until = :until WHERE id IN ("
        f"SELECT s.id FROM sources s WHERE {condition} {scope} "
        f"AND {TAKEABLE} AND {UNSETTLED} ORDER BY s.first_seen, s.id LIMIT :n{skip}"
        ") AND (lease_owner IS NULL OR lease_until < :now) "
        "RETURNING id, url, state, failures, first_failure, evidence_capture, latest_good_capture"
    ).bindparams(*_TIMES, bindparam("since", type_=DateTime))
    if document_ids is not None:
        stmt = stmt.bindparams(bindparam("docs", expanding=True))
    from archive.index.retry import retrying

    while True:
        # Order matters: "silent since" is fixed before the catch-up, so a worker this claim counts as dead
        # was dead for the catch-up too, and what its WARC files hold is indexed and settled before its
        # sources can be taken (else a fetch it recorded but never indexed comes back as a second capture).
        params["since"] = real_now() - lease_time()
        if before_batch is not None:
            before_batch()

        def claim() -> list[Any]:
            with engine.begin() as conn:
                return list(conn.execute(stmt, params).all())

        # a lease runs from its claim (``now`` is when the crawl started: batches are claimed later)
        params["until"] = max(now, schedule_now()) + lease_time()
        rows = retrying(claim, "claiming sources")
        if not rows:
            return
        for row in rows:
            yield _claimed(row)


def release(conn: Connection, crawl_id: str) -> None:
    """Give back what a crawl claimed and did not settle (it stopped early)."""
    conn.execute(text("UPDATE sources SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = :c"),
                 {"c": crawl_id})


def dead_crawls(conn: Connection) -> list[str]:
    """Unfinished crawls of this node whose process is gone (another node's crawls cannot be checked: their
    leases expire instead)."""
    dead = []
    # this node's name, and the plain host name crawl rows held before nodes were named (and still hold
    # where they are the same)
    names = {"n": node_label(), "h": socket.gethostname()}
    for row in conn.execute(text("SELECT id, pid FROM crawls WHERE finished_at IS NULL AND host IN (:n, :h)"), names):
        if row.pid is None or (row.pid != os.getpid() and not alive(row.pid)):
            dead.append(row.id)
    return dead


def release_dead(conn: Connection) -> int:
    """Release leases of unfinished crawls whose process is gone (this host only; others expire)."""
    dead = dead_crawls(conn)
    for crawl_id in dead:
        release(conn, crawl_id)
    return len(dead)


def claim_listed(engine: Engine, crawl_id: str, source_ids: Sequence[str], now: datetime, *,
                 due: bool = False) -> list[Target]:
    """Claim these sources (found in a document fetched mid-crawl, or a page's assets that are sources too)
    if they still need fetching; ``due`` as :func:`claim_sources`'s."""
    if not source_ids:
        return []
    stmt = text(
        "UPDATE sources SET lease_owner = :owner, lease_until = :until WHERE id IN :ids "
        f"AND id IN (SELECT s.id FROM sources s WHERE {DUE if due else PLAIN} AND {TAKEABLE} AND {UNSETTLED}) "
        "RETURNING id, url, state, failures, first_failure, evidence_capture, latest_good_capture"
    ).bindparams(bindparam("ids", expanding=True), *_TIMES, bindparam("since", type_=DateTime))
    from archive.index.retry import retrying

    def claim() -> list[Any]:
        with engine.begin() as conn:
            return list(conn.execute(stmt, {"owner": crawl_id, "until": now + lease_time(), "now": now,
                                            "since": real_now() - lease_time(), "ids": list(source_ids)}).all())

    return [_claimed(row) for row in retrying(claim, "claiming sources")]


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


def heartbeat(conn: Connection, crawl_id: str, now: datetime, beat_at: datetime) -> int:
    """A live crawl's sign of life: its row's ``heartbeat_at`` (real time) and every lease it holds pushed to
    ``now`` (schedule time) + :func:`lease_time`. Returns the leases renewed. A lease already taken by another
    worker (this one was presumed dead) stays with that worker."""
    conn.execute(text("UPDATE crawls SET heartbeat_at = :at WHERE id = :c").bindparams(
        bindparam("at", type_=DateTime)), {"at": beat_at, "c": crawl_id})
    renewed = conn.execute(text("UPDATE sources SET lease_until = :until WHERE lease_owner = :c").bindparams(
        bindparam("until", type_=DateTime)), {"until": now + lease_time(), "c": crawl_id})
    return int(renewed.rowcount or 0)


def orphaned_until(conn: Connection, crawl_id: str, now: datetime, beat_now: datetime, *, due: bool = False,
                   document_ids: Sequence[str] | None = None) -> datetime | None:
    """When the first lease ends that this crawl should wait for, among the sources its scope still wants;
    None when there is none. It waits for the leases of a crawl on another node (it may die there, where
    no pid can be checked: then its leases expire and this crawl takes them), and of a silent crawl on this
    one (finished, or three heartbeats missed). The caller sleeps until then (at most a heartbeat) and
    claims again, so a worker pool ends its round together and a dead worker's sources are fetched. A
    live crawl of this node keeps its leases: the caller does not wait for it (its pid is checked)."""
    condition = DUE if due else PLAIN
    scope = ""
    params: dict[str, object] = {"now": now, "me": crawl_id, "node": node_label(), "host": socket.gethostname(),
                                 "silent": beat_now - timedelta(seconds=3 * heartbeat_every())}
    if document_ids is not None:
        scope = ("AND s.id IN (SELECT ci.source_id FROM citations ci JOIN claims c ON c.id = ci.claim_id "
                 "WHERE c.document_id IN :docs)")
        params["docs"] = list(document_ids)
    stmt = text(
        "SELECT MIN(s.lease_until) FROM sources s JOIN crawls c ON c.id = s.lease_owner "
        f"WHERE {condition} {scope} AND s.lease_owner != :me "
        "AND (c.finished_at IS NOT NULL OR c.heartbeat_at < :silent OR c.host NOT IN (:node, :host))"
    ).bindparams(bindparam("silent", type_=DateTime))
    if document_ids is not None:
        stmt = stmt.bindparams(bindparam("docs", expanding=True))
    from archive.clock import as_datetime

    return as_datetime(conn.execute(stmt, params).scalar())


def expired_leases(conn: Connection, crawl_id: str, now: datetime) -> bool:
    """Does a crawl that never finished hold an expired lease (it died, on this node or another)? Its WARC
    files may hold fetches the index lacks: catch up with them before taking its sources."""
    stmt = text("SELECT 1 FROM sources s JOIN crawls c ON c.id = s.lease_owner WHERE s.lease_owner != :me "
                "AND s.lease_until < :now AND c.finished_at IS NULL LIMIT 1").bindparams(
        bindparam("now", type_=DateTime))
    return conn.execute(stmt, {"me": crawl_id, "now": now}).first() is not None


def release_expired(conn: Connection, now: datetime, beat_now: datetime) -> int:
    """Clear leases expired by ``now`` whose crawl has been silent for a whole lease (after catching up
    with those dead crawls), so the next claim does not catch up again for them."""
    stmt = text("UPDATE sources SET lease_owner = NULL, lease_until = NULL "
                "WHERE lease_owner IS NOT NULL AND lease_until < :now AND lease_owner NOT IN ("
                "SELECT id FROM crawls WHERE finished_at IS NULL AND heartbeat_at >= :since)").bindparams(
        bindparam("now", type_=DateTime), bindparam("since", type_=DateTime))
    return int(conn.execute(stmt, {"now": now, "since": beat_now - lease_time()}).rowcount or 0)
