"""Crawl workers on one or many hosts: the heartbeat that keeps a live worker's leases, and the list of
workers ``citevault status --workers`` prints.

A worker is one running crawl: its ``crawls`` row names its node (``host``), its pid and its last heartbeat.
:class:`Heartbeat` renews both from a thread of its own, so a busy reactor or a slow recorder never lets a
live worker's leases lapse; when the database connection drops it retries with backoff
(:mod:`archive.index.retry`) and goes on beating once it is back.
"""
from __future__ import annotations

import logging
import threading
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import DateTime, bindparam, text

from archive import clock
from archive.crawl import frontier

if TYPE_CHECKING:
    from sqlalchemy import Connection
    from sqlalchemy.engine import Engine

    from archive.shapes import WorkerJSON

logger = logging.getLogger(__name__)


class Heartbeat:
    """Renews ``crawl_id``'s row and leases every :func:`archive.crawl.frontier.heartbeat_every` seconds."""

    def __init__(self, engine: Engine, crawl_id: str, every: float | None = None) -> None:
        self.engine = engine
        self.crawl_id = crawl_id
        self.every = every if every is not None else frontier.heartbeat_every()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="citevault-heartbeat", daemon=True)
        self.beats = 0

    def start(self) -> Heartbeat:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(10)

    def beat(self) -> int:
        with self.engine.begin() as conn:
            renewed = frontier.heartbeat(conn, self.crawl_id, clock.schedule_now(), clock.real_now())
        self.beats += 1
        return renewed

    def _run(self) -> None:
        delay = self.every
        while not self._stop.wait(delay):
            try:
                self.beat()
                delay = self.every
            except Exception as exc:  # noqa: BLE001 - a dropped connection: beat again soon, never die
                delay = min(max(0.2, self.every / 4), 5.0)
                logger.warning("citevault: heartbeat of crawl %s failed (%s); retrying in %.1f s", self.crawl_id,
                               str(exc).splitlines()[0], delay)


def live_workers(conn: Connection) -> list[WorkerJSON]:
    """Unfinished crawls whose heartbeat is recent (within one lease), each with the leases it holds; a
    crawl that stopped beating is listed until its leases have expired, as ``silent``."""
    now = clock.real_now()
    lease = frontier.lease_time()
    stmt = text(
        "SELECT c.id, c.host, c.pid, c.started_at, c.heartbeat_at, "
        "(SELECT COUNT(*) FROM sources s WHERE s.lease_owner = c.id) AS leases, "
        "(SELECT MIN(s.lease_until) FROM sources s WHERE s.lease_owner = c.id) AS until "
        "FROM crawls c WHERE c.finished_at IS NULL AND c.heartbeat_at >= :since ORDER BY c.host, c.started_at"
    ).bindparams(bindparam("since", type_=DateTime))
    out: list[WorkerJSON] = []
    silent_after = timedelta(seconds=3 * frontier.heartbeat_every())
    for row in conn.execute(stmt, {"since": now - lease}):
        beat = clock.as_datetime(row.heartbeat_at)
        out.append({
            "crawl_id": row.id, "node": row.host, "pid": row.pid,
            "started_at": clock.iso_time(row.started_at), "heartbeat_at": clock.iso_time(row.heartbeat_at),
            "seconds_since_heartbeat": round((now - beat).total_seconds(), 1) if beat else None,
            "alive": bool(beat and now - beat <= silent_after),
            "leases": int(row.leases), "leases_until": clock.iso_time(row.until) if row.until else None,
        })
    return out
