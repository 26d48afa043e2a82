"""Bulk writes for ``reindex`` and crash repair: rows as tuples in column order, one ``executemany`` a batch.

Two writers with one interface. :class:`SqliteRows` talks to a ``sqlite3`` connection directly (a fresh file
being rebuilt, or the DB-API connection under an SQLAlchemy one); it stores values exactly as SQLAlchemy's
SQLite types do (datetimes as ``YYYY-MM-DD HH:MM:SS.ffffff``, the rest as they are), so rows are the ones the
crawl writes, without the cost of SQLAlchemy's statement layer (half the rebuild time) or of importing the
ORM. :class:`EngineRows` goes through :mod:`archive.index.writes` and the models, for any other database.

Rows written here are always complete (every column given), so no column default is guessed.
"""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Iterator, Sequence

from archive.browser.rendering import ROW_KEYS
from archive.index.rows import CAPTURE_COLUMNS
from archive.integrity.unit_rows import DOCUMENT_KEYS
from archive.states import SourceState

if TYPE_CHECKING:
    import sqlite3

    from sqlalchemy import Connection

COLUMNS: dict[str, tuple[str, ...]] = {
    "documents": DOCUMENT_KEYS,  # the dict a claims record is parsed into
    "claims": ("id", "document_id", "position", "text", "quote"),
    "citations": ("claim_id", "source_id", "position", "anchor"),
    "captures": CAPTURE_COLUMNS,  # the order of archive.index.rows.capture_row
    "sources": ("id", "url", "state", "first_seen", "last_fetched", "next_due", "failures", "first_failure",
                "reason", "evidence_capture", "latest_good_capture", "lease_owner", "lease_until"),
    "crawls": ("id", "started_at", "finished_at", "requested", "archived", "failed", "pid", "host"),
    "source_events": ("source_id", "at", "state", "outcome", "capture_id", "crawl_id", "detail"),
    "page_assets": ("page_id", "position", "url", "kind", "capture_id", "cut"),
    "renderings": ROW_KEYS,  # archive.browser.rendering
}
DATETIMES = {"added_at", "first_seen", "last_fetched", "next_due", "first_failure", "lease_until", "started_at",
             "finished_at", "fetched_at", "at", "rendered_at"}
#: The trigger of migration 0007 that keeps archive.index.counts up to date as sources change state.
COUNTS_TRIGGER = "document_counts_source_state"
TABLES = ("documents", "claims", "citations", "sources", "captures", "crawls")
FTS_TRIGGERS = ("claims_fts_insert", "claims_fts_delete", "claims_fts_update")
VERDICTS = "reindex_verdicts"  # a TEMP table: verdict records, read back in source order
STAGED = "reindex_sources"  # TEMP tables of a SQLite rebuild: sources as met (id, url, first_seen)...
SETTLED = "reindex_settled"  # ...and the states the checks decided, joined into ``sources`` once at the end


def quoted(names: Sequence[str]) -> list[str]:
    """Column names as SQL identifiers (the verdict table's ``offset`` is a reserved word in PostgreSQL).

    >>> quoted(["id", "offset"])
    ['"id"', '"offset"']
    """
    return [f'"{name}"' for name in names]


def sqlite_datetime(value: datetime) -> str:
    """How SQLAlchemy's SQLite DateTime stores a naive datetime.

    >>> sqlite_datetime(datetime(2026, 11, 28, 5, 0, 1))
    '2026-11-28 05:00:01.000000'
    """
    return value.isoformat(" ", "microseconds")


class SqliteRows:
    """Bulk writes through a ``sqlite3`` connection (the caller commits).

    ``replace_sources``: a source met again (a later fetch, another claims record) keeps the earliest
    ``first_seen`` and takes the newer URL (a rebuild); otherwise rows already there are left alone (repair).
    """

    sqlite = True

    def __init__(self, db: sqlite3.Connection, *, replace_sources: bool = True) -> None:
        self.db = db
        self.replace_sources = replace_sources
        self.staged = False  # between stage_sources() and write_sources()
        self._sql: dict[tuple[str, tuple[str, ...]], tuple[str, list[int]]] = {}

    def _plan(self, table: str, columns: tuple[str, ...]) -> tuple[str, list[int]]:
        plan = self._sql.get((table, columns))
        if plan is None:
            verb, tail = "INSERT OR IGNORE", ""
            if table in ("sources", STAGED) and self.replace_sources:
                verb, tail = "INSERT", (" ON CONFLICT(id) DO UPDATE SET url = excluded.url, "
                                        f"first_seen = min({table}.first_seen, excluded.first_seen)")
            sql = (f"{verb} INTO {table} ({', '.join(quoted(columns))}) VALUES ({', '.join('?' * len(columns))}){tail}")
            plan = self._sql[(table, columns)] = (sql, [i for i, c in enumerate(columns) if c in DATETIMES])
        return plan

    def add(self, table: str, rows: Sequence[Sequence[Any]], columns: tuple[str, ...] | None = None) -> None:
        """INSERT OR IGNORE ``rows`` (tuples in ``columns`` order, by default the table's :data:`COLUMNS`)."""
        if not rows:
            return
        if table == "sources" and self.staged and columns is None:  # only what a source is met with
            table, columns, rows = STAGED, ("id", "url", "first_seen"), [(r[0], r[1], r[3]) for r in rows]
        sql, times = self._plan(table, columns or COLUMNS[table])
        times = [i for i in times if not isinstance(rows[0][i], str)]  # a worker may have formatted them
        if times:
            fixed = []
            for row in rows:
                row = list(row)
                for i in times:
                    if isinstance(row[i], datetime):
                        row[i] = row[i].isoformat(" ", "microseconds")
                fixed.append(row)
            rows = fixed
        self.db.executemany(sql, rows)

    def execute(self, sql: str, params: dict[str, Any] | Sequence[Any] = ()) -> None:
        self.db.execute(sql, params)

    def fetch(self, sql: str, params: dict[str, Any] | Sequence[Any] = ()) -> Iterator[tuple[Any, ...]]:
        """Rows of a query, streamed (datetimes as strings: see :func:`archive.clock.as_datetime`)."""
        return iter(self.db.execute(sql, params))

    def bind(self, value: Any) -> Any:
        return sqlite_datetime(value) if isinstance(value, datetime) else value

    def has_source(self, source_id: str) -> bool:
        table = STAGED if self.staged else "sources"
        return self.db.execute(f"SELECT 1 FROM {table} WHERE id = ?", (source_id,)).fetchone() is not None

    def settle(self, updates: list[dict[str, Any]]) -> None:
        """Source states (``archive.integrity.replay_states``); leases are released."""
        text = self.bind
        if updates and self.staged:
            self.db.executemany(
                f"INSERT INTO {SETTLED} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(u["sid"], u["state"], text(u["fetched"]), u["failures"], text(u["first_failure"]), u["reason"],
                  text(u["next_due"]), u["evidence"], u["latest"]) for u in updates])
        elif updates:
            self.db.executemany(
                "UPDATE sources SET state = ?, last_fetched = ?, failures = ?, first_failure = ?, reason = ?, "
                "next_due = ?, evidence_capture = ?, latest_good_capture = ?, lease_owner = NULL, "
                "lease_until = NULL WHERE id = ?",
                [(u["state"], text(u["fetched"]), u["failures"], text(u["first_failure"]), u["reason"],
                  text(u["next_due"]), u["evidence"], u["latest"], u["sid"]) for u in updates])

    # -- a rebuild: each source written once, with its state, instead of upserted as met and then updated --
    def stage_sources(self) -> None:
        """From now on sources go to a TEMP table and states to another, until :meth:`write_sources` (the
        rows, and the order of their columns and ids, are those of the upsert-then-UPDATE it replaces).
        Rows that point to a source come first, so foreign keys (if on) are checked at commit."""
        if not self.db.in_transaction:  # the stdlib driver begins one only at the first INSERT; the pragma
            self.db.execute("BEGIN")  # below lasts until the end of the transaction it is set in
        self.db.execute("PRAGMA defer_foreign_keys = ON")
        self.db.execute(f"CREATE TEMP TABLE {STAGED} (id TEXT PRIMARY KEY, url TEXT NOT NULL, "
                        "first_seen TIMESTAMP NOT NULL) WITHOUT ROWID")
        self.db.execute(f"CREATE TEMP TABLE {SETTLED} (id TEXT PRIMARY KEY, state TEXT, last_fetched TIMESTAMP, "
                        "failures INTEGER, first_failure TIMESTAMP, reason TEXT, next_due TIMESTAMP, "
                        "evidence_capture TEXT, latest_good_capture TEXT) WITHOUT ROWID")
        self.staged = True

    def write_sources(self) -> None:
        if not self.staged:
            return
        self.staged = False
        self.db.execute(
            f"INSERT INTO sources ({', '.join(COLUMNS['sources'])}) "
            f"SELECT s.id, s.url, coalesce(t.state, '{SourceState.PENDING}'), s.first_seen, t.last_fetched, "
            "t.next_due, coalesce(t.failures, 0), t.first_failure, t.reason, t.evidence_capture, t.latest_good_capture, "
            f"NULL, NULL FROM {STAGED} s LEFT JOIN {SETTLED} t ON t.id = s.id ORDER BY s.id")
        self.db.execute(f"DROP TABLE {STAGED}")
        self.db.execute(f"DROP TABLE {SETTLED}")

    # -- a fresh file: secondary indexes built once after the load (one sort) instead of row by row ---------
    def _drop(self, kind: str, which: str) -> list[str]:
        """Drop the ``kind`` objects (index, trigger) matching ``which``; their SQL, to create them again."""
        found = self.db.execute(f"SELECT name, sql FROM sqlite_master WHERE type = '{kind}' AND {which}").fetchall()
        for name, _sql in found:
            self.db.execute(f"DROP {kind.upper()} {name}")
        return [sql for _name, sql in found]

    def drop_indexes(self) -> list[str]:
        return self._drop("index", "sql IS NOT NULL AND sql NOT LIKE 'CREATE UNIQUE%'")

    def create_indexes(self, statements: list[str]) -> None:
        for sql in statements:
            self.db.execute(sql)

    # -- full-text search: filled once at the end of a rebuild instead of by a trigger per claim ------------
    def drop_fts_triggers(self) -> list[str]:
        return self._drop("trigger", f"name IN {FTS_TRIGGERS!r}")

    def restore_fts(self, triggers: list[str]) -> None:
        """Recreate the triggers exactly as the migration wrote them (their SQL as stored), then rebuild."""
        for sql in triggers:
            self.db.execute(sql)
        if self.db.execute("SELECT 1 FROM sqlite_master WHERE name = 'claims_fts'").fetchone():
            self.db.execute("INSERT INTO claims_fts(claims_fts) VALUES ('rebuild')")


class EngineRows:
    """The same interface over an SQLAlchemy connection, through :mod:`archive.index.writes` (PostgreSQL...)."""

    sqlite = False

    def __init__(self, conn: Connection, *, replace_sources: bool = True) -> None:
        self.conn = conn
        self.replace_sources = replace_sources

    def add(self, table: str, rows: Sequence[Sequence[Any]], columns: tuple[str, ...] | None = None) -> None:
        if not rows:
            return
        from archive.index import writes

        names = columns or COLUMNS[table]
        dicts = [dict(zip(names, row)) for row in rows]
        if table == VERDICTS:
            from sqlalchemy import text

            self.conn.execute(text(f"INSERT INTO {table} ({', '.join(quoted(names))}) VALUES "
                                   f"({', '.join(':' + n for n in names)})"), dicts)
        elif table == "sources" and self.replace_sources:
            _upsert_sources(self.conn, dicts)
        elif table == "source_events":
            writes.add_events(self.conn, dicts)
        elif table == "crawls":
            from archive.index.models import Crawl

            writes._insert_ignore(self.conn, Crawl, dicts)
        else:
            getattr(writes, f"add_{table}")(self.conn, dicts)

    def execute(self, sql: str, params: dict[str, Any] | Sequence[Any] = ()) -> None:
        from sqlalchemy import text

        self.conn.execute(text(sql), params or {})

    def fetch(self, sql: str, params: dict[str, Any] | Sequence[Any] = ()) -> Iterator[tuple[Any, ...]]:
        from sqlalchemy import text

        return (tuple(r) for r in self.conn.execute(text(sql), params or {}).all())

    def bind(self, value: Any) -> Any:
        return value

    def settle(self, updates: list[dict[str, Any]]) -> None:
        from archive.index import writes

        writes.settle_sources(self.conn, updates)

    def has_source(self, source_id: str) -> bool:
        return next(self.fetch("SELECT 1 FROM sources WHERE id = :s", {"s": source_id}), None) is not None

    def stage_sources(self) -> None:
        pass  # sources are upserted as met, then updated

    def write_sources(self) -> None:
        pass

    def drop_fts_triggers(self) -> list[str]:
        """The GIN index follows the rows by itself; only the per-document counts' trigger is paused (a
        rebuild counts every document once at the end, archive.index.counts), inside this transaction."""
        if self.conn.dialect.name == "postgresql":
            self.execute(f"ALTER TABLE sources DISABLE TRIGGER {COUNTS_TRIGGER}")
        return []

    def drop_indexes(self) -> list[str]:
        return []

    def create_indexes(self, statements: list[str]) -> None:
        pass

    def restore_fts(self, triggers: list[str]) -> None:
        if self.conn.dialect.name == "postgresql":
            self.execute(f"ALTER TABLE sources ENABLE TRIGGER {COUNTS_TRIGGER}")


def _upsert_sources(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Insert sources; one already there keeps the earliest first_seen and takes the newer URL."""
    from sqlalchemy import case

    from archive.index.models import Source

    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]
    stmt = insert(Source)
    stmt = stmt.on_conflict_do_update(index_elements=[Source.id], set_={
        "url": stmt.excluded.url,
        "first_seen": case((stmt.excluded.first_seen < Source.first_seen, stmt.excluded.first_seen),
                           else_=Source.first_seen),
    })
    conn.execute(stmt, rows)


Rows = SqliteRows | EngineRows


def driver(conn: Connection) -> sqlite3.Connection:
    """The ``sqlite3`` connection under an SQLAlchemy one (its transaction is SQLAlchemy's)."""
    raw = conn.connection.driver_connection
    assert raw is not None
    return raw  # type: ignore[no-any-return]


def is_empty(out: Rows) -> bool:
    return not any(next(out.fetch(f"SELECT 1 FROM {t} LIMIT 1"), None) for t in ("documents", "sources",
                                                                                 "captures", "crawls"))


def counts(out: Rows) -> dict[str, int]:
    return {t: int(next(out.fetch(f"SELECT COUNT(*) FROM {t}"))[0] or 0) for t in TABLES}


__all__ = ["SqliteRows", "EngineRows", "COLUMNS", "sqlite_datetime", "driver", "is_empty", "counts"]
