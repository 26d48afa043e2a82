"""Rebuild the index from the WARC files alone (docs/integrity.md).

Every id is derived from content (:mod:`archive.ids`) and every row comes from a WARC record, so the rebuilt
index is the one the crawl wrote. The work is split by job:

* :mod:`archive.warc.scan` reads ``.warc.gz`` files (streaming, offsets, damage reported and skipped);
* :mod:`archive.integrity.units` cuts files into units at gzip member boundaries and runs them in worker processes;
* :mod:`archive.integrity.unit_rows` turns a unit's records into rows (in the workers);
* :mod:`archive.integrity.loader` and :mod:`archive.integrity.writers` write them (in the parent, one transaction);
* :mod:`archive.integrity.replay_states` replays each source's checks into its state, history and the crawl rows;
* :mod:`archive.integrity.catch_up` indexes what a killed crawl left out (``index_missing``), with the same rules.

This module holds :func:`reindex` (into a given engine) and :func:`rebuild` (what the CLI runs: repair
abandoned ``.open`` files, build a new SQLite file beside the old one, move it over).
"""
from __future__ import annotations

import os
import re
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from archive.errors import StoreError
from archive.integrity.units import UnitRunner, default_workers, in_order, plan_units
from archive.warc.scan import OPEN_SUFFIX, warc_files

# What only the parent process runs (rowload, bulkwrite, sourcestates and the policy) is imported after the
# worker processes are forked: they start reading sooner, and do not carry those modules.
if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from archive.home import DataHome
    from archive.integrity.loader import Problem
    from archive.integrity.units import Unit
    from archive.integrity.writers import Rows


@dataclass
class ReindexStats:
    files: int = 0
    bytes: int = 0
    records: int = 0
    seconds: float = 0.0
    counts: dict[str, int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    unfinished: list[str] = field(default_factory=list)  # .open files a running crawl is still writing
    repaired: list[dict[str, Any]] = field(default_factory=list)  # .open files of dead crawls, closed first
    checked: int = 0  # verdicts recomputed by the quote checks that end the rebuild

    @property
    def records_per_second(self) -> float:
        return self.records / self.seconds if self.seconds else 0.0

    def as_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["records_per_second"] = round(self.records_per_second, 1)
        out["seconds"] = round(self.seconds, 3)
        return out


def _scan(home: DataHome, workers: int | None, unit_bytes: int | None) -> tuple[list[Path], list[Unit], int]:
    paths = warc_files(home)
    workers = workers or default_workers()
    units = plan_units(paths, workers, unit_bytes)
    return paths, units, workers


def _fill(out: Rows, paths: list[Path], units: list[Unit], runner: UnitRunner, stats: ReindexStats,
          fresh: bool = False) -> None:
    """Everything but the schema: rows from the units, then states, crawls and the search index.
    ``fresh``: a new file, whose secondary indexes are built after the load."""
    from archive.index.counts import refresh_statements
    from archive.integrity.loader import Loader, fix_revisits
    from archive.integrity.replay_states import add_crawls, create_verdict_table, settle_all
    from archive.recheck.policy import Policy

    policy = Policy.from_env()  # a bad CITEVAULT_RECHECK_EVERY is refused before any work
    triggers = out.drop_fts_triggers()
    indexes = out.drop_indexes() if fresh else []
    create_verdict_table(out)
    out.stage_sources()
    loader = Loader(out, paths)
    for rows in in_order(units, iter(runner), runner.scan):
        loader.take(rows)
    runner.close()
    loader.finish()
    stats.records, stats.problems = loader.records, loader.problems
    fix_revisits(out)
    # The state pass reads captures in source order (their indexes first); then each source is written once,
    # with its state (the indexes of sources, and of their history, after).
    late = [sql for sql in indexes if " ON sources " in sql or " ON source_events " in sql]
    out.create_indexes([sql for sql in indexes if sql not in late])
    add_crawls(out, settle_all(out, policy))
    out.write_sources()
    out.create_indexes(late)
    out.restore_fts(triggers)
    for sql in refresh_statements(False):  # the per-document counts, once, over the rows just written
        out.execute(sql)


def _stats(paths: list[Path]) -> ReindexStats:
    stats = ReindexStats(files=len(paths), bytes=sum(p.stat().st_size for p in paths))
    stats.unfinished = [p.name for p in paths if p.name.endswith(OPEN_SUFFIX)]
    return stats


def reindex(home: DataHome, engine: Engine, *, workers: int | None = None, unit_bytes: int | None = None,
            fresh_file: bool = False) -> ReindexStats:
    """Rebuild every table of the (empty) index behind ``engine`` from the WARC files of ``home``.

    The schema is created (or migrated) here, while the worker processes already read. Raises
    :class:`StoreError` if the index holds any row. ``fresh_file``: the SQLite file is new and thrown away
    on failure, so journaling and fsync are turned off while it is built.
    """
    from archive.index.db import ensure_schema
    from archive.integrity.writers import EngineRows, SqliteRows, counts, driver, is_empty

    started = time.perf_counter()
    paths, units, workers = _scan(home, workers, unit_bytes)
    stats = _stats(paths)
    with UnitRunner(units, _scanner(engine.dialect.name == "sqlite"), workers) as runner:
        ensure_schema(engine)  # alembic runs while the workers read their first units
        with engine.begin() as conn:  # commits through the DB-API connection the SQLite writer uses too
            sqlite = conn.dialect.name == "sqlite"
            out: Rows = SqliteRows(driver(conn)) if sqlite else EngineRows(conn)
            if not is_empty(out):
                raise StoreError(f"the index at {engine.url} is not empty: run `citevault reindex --force` "
                                 "to replace it")
            if sqlite and fresh_file:
                out.execute("PRAGMA journal_mode=OFF")
                out.execute("PRAGMA synchronous=OFF")
            _fill(out, paths, units, runner, stats, fresh=sqlite and fresh_file)
            stats.counts = counts(out)
    stats.problems.sort(key=lambda p: (p.file, p.offset))
    stats.seconds = time.perf_counter() - started
    return stats


def _scanner(sqlite: bool) -> Any:
    from archive.integrity.unit_rows import scan_for_index, scan_for_sqlite

    return scan_for_sqlite if sqlite else scan_for_index


def rebuild(home: DataHome, *, force: bool = False, workers: int | None = None) -> ReindexStats:
    """What ``citevault reindex`` does: :func:`reindex` into the home's database, refusing a non-empty one
    unless ``force``; ``.open`` files whose crawl is dead are repaired first (as the next crawl would).

    The embedded SQLite file (or any SQLite file URL) is built beside the old one as ``NAME.reindex`` with
    journaling off, then moved over it atomically: until then the old index stays whole and readable, and
    a failed rebuild leaves it as it was. Another database (``--db``) is rebuilt in place; ``force`` first
    drops every table (the migrations' downgrade) and recreates them.

    It ends with the quote checks, as a crawl does: verdicts are derived from the claims and the payloads
    alone, so ``show --json`` is the same before and after a rebuild, verdicts included.
    """
    stats = _rebuild(home, force=force, workers=workers)
    from archive.checks import verify_document_captures
    from archive.index.db import make_engine

    engine = make_engine(home.db_url)
    try:
        stats.checked = verify_document_captures(engine, home, workers=min(2, workers or default_workers())).checked
    finally:
        engine.dispose()
    return stats


def _rebuild(home: DataHome, *, force: bool = False, workers: int | None = None) -> ReindexStats:
    """:func:`rebuild` without the checks."""
    if not home.warcs.is_dir():
        raise StoreError(f"no WARC files to rebuild from: {home.warcs} does not exist (set --home or "
                         "CITEVAULT_HOME to the data home)")
    file = re.fullmatch(r"sqlite(?:\+\w+)?:///([^?]+)", home.db_url)  # a SQLite file (not :memory:)
    if file and file.group(1) != ":memory:":
        return _rebuild_sqlite_file(home, Path(file.group(1)), force=force, workers=workers)
    from archive.index.db import make_engine

    engine = make_engine(home.db_url)
    try:
        if force:
            _drop_all(engine)
        elif not _engine_empty(engine):
            raise StoreError(f"the index at {engine.url} is not empty: run `citevault reindex --force` "
                             "to replace it")
        repaired = _repair(home)
        stats = reindex(home, engine, workers=workers)
        stats.repaired = repaired
        return stats
    finally:
        engine.dispose()


def _repair(home: DataHome) -> list[dict[str, Any]]:
    if not any(home.warcs.glob(f"*.warc.gz{OPEN_SUFFIX}")):
        return []  # nothing to repair: archive.warc.repair (and the WARC writer it imports) stays unloaded
    from archive.warc.repair import repair_open_files

    return [{"file": r.name, "records": r.records, "dropped_bytes": r.dropped_bytes}
            for r in repair_open_files(home.warcs)]


def _engine_empty(engine: Engine) -> bool:
    from archive.index.db import current_revision
    from archive.integrity.writers import EngineRows, is_empty

    if current_revision(engine) is None:
        return True
    with engine.connect() as conn:
        return is_empty(EngineRows(conn))


def _sqlite_empty(path: Path) -> bool:
    import sqlite3

    from archive.integrity.writers import SqliteRows, is_empty

    db = sqlite3.connect(path, timeout=30)
    try:
        if not db.execute("SELECT 1 FROM sqlite_master WHERE name = 'alembic_version'").fetchone():
            return True
        return is_empty(SqliteRows(db))
    finally:
        db.close()


def _rebuild_sqlite_file(home: DataHome, path: Path, *, force: bool, workers: int | None) -> ReindexStats:
    import sqlite3

    if path.exists() and not force and not _sqlite_empty(path):
        raise StoreError(f"the index {path} is not empty: run `citevault reindex --force` to rebuild it from "
                         "the WARC files and replace it")
    repaired = _repair(home)
    tmp = path.with_name(path.name + ".reindex")
    for stale in (tmp, Path(f"{tmp}-journal"), Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
        stale.unlink(missing_ok=True)
    try:
        stats = _build_file(home, tmp, workers)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    stats.repaired = repaired
    with tmp.open("rb+") as fh:
        os.fsync(fh.fileno())
    if path.exists():
        # Fold the old file's write-ahead log in and close it, so no stale -wal is replayed onto the new file.
        old_db = sqlite3.connect(path, timeout=30)
        try:
            busy = old_db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
        finally:
            old_db.close()
        if busy:
            tmp.unlink(missing_ok=True)
            raise StoreError(f"the index {path} is in use (a crawl or `citevault serve`?): stop it and run "
                             "`citevault reindex --force` again")
    os.replace(tmp, path)
    for side in (Path(f"{path}-wal"), Path(f"{path}-shm")):
        side.unlink(missing_ok=True)
    return stats


def _build_file(home: DataHome, tmp: Path, workers: int | None) -> ReindexStats:
    """The new SQLite file, through the stdlib driver: one transaction, no journal, no fsync until done."""
    import sqlite3

    from archive.index import schema as sqlschema
    from archive.integrity.writers import SqliteRows, counts

    started = time.perf_counter()
    paths, units, workers = _scan(home, workers, None)
    stats = _stats(paths)
    with UnitRunner(units, _scanner(True), workers) as runner:
        if not sqlschema.current():  # the snapshot is stale: the migrations, while the workers read
            from archive.index.db import ensure_schema, make_engine, sqlite_url

            engine = make_engine(sqlite_url(tmp))
            try:
                ensure_schema(engine)
            finally:
                engine.dispose()
        db: sqlite3.Connection = sqlite3.connect(tmp, isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode=OFF")
            db.execute("PRAGMA synchronous=OFF")
            # The state pass reads captures and rewrites sources in source order, not insertion order: with
            # the default 2 MiB page cache each of those rows is a page miss (a third of the pass's time).
            db.execute("PRAGMA cache_size=-262144")
            db.execute("BEGIN")
            sqlschema.create(db)
            out = SqliteRows(db)
            _fill(out, paths, units, runner, stats, fresh=True)
            stats.counts = counts(out)
            db.execute("COMMIT")
        finally:
            db.close()
    stats.problems.sort(key=lambda p: (p.file, p.offset))
    stats.seconds = time.perf_counter() - started
    return stats


def _drop_all(engine: Engine) -> None:
    """Drop every table through the migrations' own downgrade, so nothing of the schema is guessed here."""
    from alembic import command
    from alembic.config import Config

    from archive.index.db import MIGRATIONS_DIR, current_revision

    if current_revision(engine) is None:
        return
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "base")


def index_missing(home: DataHome, engine: Engine, filenames: list[str], **kwargs: Any) -> Any:
    """See :func:`archive.integrity.catch_up.index_missing` (kept here: the rebuild and the repair share their rules)."""
    from archive.integrity.catch_up import index_missing as run

    return run(home, engine, filenames, **kwargs)


def __getattr__(name: str) -> Any:
    if name == "Problem":  # re-exported, imported on first use (see the note on imports above)
        from archive.integrity.loader import Problem

        return Problem
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["ReindexStats", "Problem", "reindex", "rebuild", "index_missing"]
