"""After a crawl was killed (``kill -9``, power loss): repair its ``.open`` WARC files and index what they hold
that the index lacks (docs/integrity.md).

The crawl writes WARC bytes first and commits the index rows that point to them after, in batches, so a
killed crawl leaves records on disk that the index does not know: in its ``.open`` file, and possibly in files
it closed just before (rolled over, their rows not yet committed). :func:`recover` runs at the start of every
crawl: :func:`archive.warc.repair.repair_open_files` truncates each abandoned ``.open`` file after its last
complete record and renames it; then :func:`index_missing` reads those files and every other file the same
crawl process wrote, and inserts what is missing — with the rules of ``reindex`` (:mod:`archive.integrity.loader`,
:mod:`archive.integrity.replay_states`), so the index ends as a rebuild would make it. Last,
:func:`settle_unsettled` settles every source whose fetch the index holds but whose state never took it (its
verdict was lost on the way to the recorder), so the crawl that follows fetches only what is still not
captured. :func:`recover` returns what it did as a :class:`Recovery`; the crawl session prints it.
"""
from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from archive.integrity.loader import Loader, Problem, fix_revisits
from archive.integrity.units import Unit, UnitRunner

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy import Connection
    from sqlalchemy.engine import Engine

    from archive.home import DataHome
    from archive.integrity.writers import Rows
    from archive.warc.repair import Repaired


@dataclass
class MissingStats:
    files: list[str] = field(default_factory=list)
    records: int = 0  # records read
    captures: int = 0  # capture rows the index lacked
    sources: int = 0  # sources whose state the new captures (or verdict records) decided
    seconds: float = 0.0
    problems: list[Problem] = field(default_factory=list)


def index_missing(home: DataHome, engine: Engine, filenames: list[str], *, workers: int = 1) -> MissingStats:
    """Index every record of ``filenames`` (under ``home.warcs``) that the index behind ``engine`` lacks.

    INSERT OR IGNORE throughout: rows already there stay as they are, except the sources these records
    decide — each source's checks newer than its ``last_fetched`` are replayed onto its row (state, schedule,
    evidence, history) — and a document still ``pending`` whose extracted claims record is here. One
    transaction. ``workers`` > 1 reads in worker processes (not from inside a running crawl).

    A file is read from the last capture the index has of it: the crawl's single writer commits rows in the
    order it wrote their records, so everything before that capture is indexed, its settled states included.
    Sources whose capture is indexed but whose state is older are found in the index and settled too.
    """
    from archive.index.counts import refresh_statements
    from archive.integrity.replay_states import add_crawls, settle_some
    from archive.integrity.unit_rows import scan_for_index, scan_for_sqlite
    from archive.recheck.policy import Policy

    started = time.perf_counter()
    paths = [home.warcs / name for name in filenames if (home.warcs / name).is_file()]
    stats = MissingStats(files=[p.name for p in paths])
    if not paths:
        return stats
    with engine.begin() as conn:  # one transaction, committed through the DB-API connection the writer uses
        out = _rows(conn)
        names = {f"f{i}": p.name for i, p in enumerate(paths)}
        within = f"warc_file IN ({', '.join(':' + k for k in names)})"
        resume = dict(out.fetch(f"SELECT warc_file, MAX(warc_offset) FROM captures WHERE {within} "
                                "GROUP BY warc_file", names))
        unsettled = {sid for (sid,) in out.fetch(
            "SELECT DISTINCT c.source_id FROM captures c JOIN sources s ON s.id = c.source_id "
            f"WHERE c.{within} AND c.record_type IN ('response', 'revisit', 'metadata') "
            "AND (s.last_fetched IS NULL OR c.fetched_at > s.last_fetched)", names)}
        units = [Unit(i, p, int(resume.get(p.name) or 0), None) for i, p in enumerate(paths)]
        before = next(out.fetch("SELECT COUNT(*) FROM captures"))[0]
        loader = Loader(out, paths, rebuild=False)
        scan = scan_for_sqlite if out.sqlite else scan_for_index
        with UnitRunner(units, scan, workers) as runner:
            for rows in runner:  # one unit a file, to its end: no cut to check
                loader.take(rows)
        loader.finish()
        fix_revisits(out)
        for document_id in sorted(loader.winners):  # documents whose claims this wrote: counted afresh
            for sql in refresh_statements(True, engine.dialect.name):
                out.execute(sql, {"d": document_id})
        stats.sources = settle_some(out, loader.touched | unsettled, loader.verdicts, Policy.from_env())
        add_crawls(out, {}, sorted(loader.crawl_ids))  # only crawls the index has no row for
        stats.captures = next(out.fetch("SELECT COUNT(*) FROM captures"))[0] - before
    stats.records, stats.problems = loader.records, loader.problems
    stats.seconds = time.perf_counter() - started
    return stats


def _rows(conn: Connection) -> Rows:
    """The bulk writer for ``conn``'s database, inside its transaction; rows already there are kept."""
    from archive.integrity.writers import EngineRows, SqliteRows, driver

    if conn.dialect.name == "sqlite":
        return SqliteRows(driver(conn), replace_sources=False)
    return EngineRows(conn, replace_sources=False)


def settle_unsettled(engine: Engine, now: datetime | None = None) -> int:
    """Settle every source whose fetch is in the index but whose state never took it; returns how many.

    The crawler sends its recorder calls in batches, so a fetch (its records and capture row) and the
    source's verdict can travel apart: a crawler killed between the two leaves a capture and a source still
    ``pending`` (or still due). The recorder settles what it has captures for when its input ends; this
    catches the rest (both processes killed, a data home from before that, a settle that failed). The
    rules are ``reindex``'s (:func:`archive.integrity.replay_states.settle_some`): the checks newer than the
    source's ``last_fetched`` are replayed onto its row. Only sources a crawl would claim (pending, failed,
    due) can be in that state, and a source leased by a live crawl is left to it: its verdict is on the way.
    """
    from archive import clock
    from archive.crawl import frontier
    from archive.integrity.replay_states import FETCH_TYPES, settle_some
    from archive.integrity.writers import SqliteRows
    from archive.recheck.policy import Policy

    with engine.connect() as conn:
        dead = frontier.dead_crawls(conn)
    with engine.begin() as conn:
        out = _rows(conn)
        params: dict[str, Any] = {"now": out.bind(now or clock.schedule_now())}
        params.update((f"d{i}", crawl_id) for i, crawl_id in enumerate(dead))
        dead_owner = f" OR s.lease_owner IN ({', '.join(':' + k for k in params if k != 'now')})" if dead else ""
        sql = (f"SELECT s.id FROM sources s WHERE {frontier.DUE} "
               f"AND (s.lease_owner IS NULL OR s.lease_until < :now{dead_owner}) "
               f"AND EXISTS (SELECT 1 FROM captures c WHERE c.source_id = s.id AND c.record_type IN {FETCH_TYPES} "
               "AND (s.last_fetched IS NULL OR c.fetched_at > s.last_fetched))")
        if not next(out.fetch(sql + " LIMIT 1", params), None):
            return 0  # the usual answer, found without taking the write lock
        if isinstance(out, SqliteRows) and not out.db.in_transaction:
            # Read and settle under one write lock: a crawl starting beside this one claims before or after.
            out.execute("BEGIN IMMEDIATE")
        found = {sid for (sid,) in out.fetch(sql, params)}
        return settle_some(out, found, [], Policy.from_env())


def _writer(name: str) -> str | None:
    """``citevault-{ts}-{serial}-{host}-{pid}.warc.gz[.open]`` -> ``{host}-{pid}``: the process that wrote it.

    >>> _writer("citevault-20261128051322301441-00001-vm_1-21245.warc.gz.open")
    'vm_1-21245'
    """
    stem = name.split(".warc.gz", 1)[0]
    parts = stem.split("-")
    return "-".join(parts[-2:]) if len(parts) == 5 and parts[0] == "citevault" else None


@dataclass
class Recovery:
    """What :func:`recover` did before a crawl (the crawl session prints it, docs/integrity.md "After a crash")."""

    repaired: list[Repaired] = field(default_factory=list)  # ``.open`` files cut after their last record
    indexed: MissingStats | None = None  # what the dead crawl's files held that the index lacked
    settled: int = 0  # sources whose recorded fetch had no state yet (see :func:`settle_unsettled`)

    @property
    def problems(self) -> list[Problem]:
        return self.indexed.problems if self.indexed is not None else []


def _live_elsewhere(engine: Engine) -> set[tuple[str, int]]:
    """(node, pid) of every unfinished crawl that beat within one lease: their ``.open`` files on a shared
    ``warcs/`` are being written, whatever node this is (archive.crawl.workers)."""
    from sqlalchemy import DateTime, bindparam, text

    from archive import clock
    from archive.crawl import frontier

    stmt = text("SELECT host, pid FROM crawls WHERE finished_at IS NULL AND heartbeat_at >= :since "
                "AND host IS NOT NULL AND pid IS NOT NULL").bindparams(bindparam("since", type_=DateTime))
    with engine.connect() as conn:
        rows = conn.execute(stmt, {"since": clock.real_now() - frontier.lease_time()}).all()
    from archive.crawl.pids import file_node

    return {(file_node(str(host)), int(pid)) for host, pid in rows}  # as the files name their node


@contextmanager
def _one_at_a_time(engine: Engine) -> Iterator[None]:
    """On PostgreSQL, one catch-up at a time across every worker on every node (an advisory lock): a worker
    that finds a dead worker's file already repaired by another must not claim its sources before that
    other has indexed what the file holds. SQLite's write lock already serialises one machine's crawls."""
    if engine.dialect.name != "postgresql":
        yield
        return
    from sqlalchemy import text

    with engine.connect() as conn:
        conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _LOCK_KEY})
        conn.commit()
        try:
            yield
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _LOCK_KEY})
            conn.commit()


#: The advisory lock of :func:`_one_at_a_time` (any constant; "citevault" in ASCII, cut to 63 bits).
_LOCK_KEY = 0x63697465766175


def recover(home: DataHome, engine: Engine, *, expired_before: datetime | None = None) -> Recovery:
    """Before a crawl: repair abandoned ``.open`` files and index what they (and the other files of the same
    dead crawl) hold that the index lacks, then settle every source whose fetch is recorded but whose state
    never took it (:func:`settle_unsettled`), so the crawl fetches nothing twice. ``expired_before``: then
    clear the leases that expired by that time, whose dead holders this caught up with (a crawl about to
    take a dead worker's sources, mid-crawl). One worker at a time (:func:`_one_at_a_time`)."""
    from archive import clock

    with _one_at_a_time(engine):
        # Order matters: "silent" is judged as of before the repair, so a crawl whose leases are cleared
        # below was already silent when its files were repaired and indexed (not one that fell silent
        # meanwhile, whose fetches the index may still lack).
        beat_now = clock.real_now()
        done = _recover(home, engine)
        if expired_before is not None:
            from archive.crawl import frontier

            with engine.begin() as conn:
                frontier.release_expired(conn, expired_before, beat_now)
        return done


def _recover(home: DataHome, engine: Engine) -> Recovery:
    from archive.warc.repair import repair_open_files

    try:
        repaired = repair_open_files(home.warcs, _live_elsewhere(engine))
    except FileNotFoundError:  # another crawl starting at the same moment repaired it first
        repaired = []
    done = Recovery(repaired)
    if repaired:
        writers = {_writer(r.name) for r in repaired} - {None}
        names = {r.name for r in repaired}
        names.update(p.name for p in home.warcs.glob("*.warc.gz") if _writer(p.name) in writers)
        done.indexed = index_missing(home, engine, sorted(names))
    # Order matters: the files first, so a source whose verdict record they hold is settled by that record.
    done.settled = settle_unsettled(engine)
    return done


__all__ = ["MissingStats", "Recovery", "index_missing", "recover", "settle_unsettled"]
