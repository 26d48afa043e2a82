"""The read side's SQL, run on a SQLAlchemy ``Connection`` or straight on a PostgreSQL driver's connection.

``citevault lookup`` on PostgreSQL used to cost the import floor plus psycopg plus SQLAlchemy's engine and
PostgreSQL dialect (1.4x the floor, bench/README.md). Its handful of statements need none of SQLAlchemy: text
with ``:name`` parameters, some of them lists for ``IN :ids``. :class:`Statements` is that much, with two
implementations:

* :class:`EngineStatements` over a SQLAlchemy ``Connection`` (every caller that has one: the web UI,
  reports, SQLite, any other engine), lists bound as SQLAlchemy's expanding parameters;
* :class:`DriverStatements` over a DB-API connection of psycopg (3) or psycopg2, opened by :func:`direct`
  from the same ``--db`` URL. ``:name`` becomes the drivers' ``%(name)s`` and a list ``(%(name_0)s, …)``:
  what SQLAlchemy sends them for the same statement, so the rows (and the claim JSON) are the same.

Nothing here imports SQLAlchemy or a driver at module level.
"""
from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy import Connection, TextClause

#: A ``:name`` parameter as SQLAlchemy's ``text()`` reads one (not ``::`` casts, not ``\\:`` escapes).
_PARAM = re.compile(r"(?<![:\w\\]):(\w+)(?!:)")


class Statements:
    """Runs a SQL text with ``:name`` parameters (a list or tuple value binds an ``IN :name`` list)."""

    #: the database's kind, as SQLAlchemy names it: ``sqlite``, ``postgresql``, ...
    backend: str

    def rows(self, sql: str, params: Mapping[str, Any] | None = None) -> Sequence[Sequence[Any]]:
        """Every row, as a sequence of values in the statement's column order."""
        raise NotImplementedError

    def maps(self, sql: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """Every row as a dict of its columns."""
        raise NotImplementedError

    def scalar(self, sql: str, params: Mapping[str, Any] | None = None) -> Any:
        """The first column of the first row, None without rows."""
        found = self.rows(sql, params)
        return found[0][0] if found else None


@lru_cache(maxsize=256)
def _text(sql: str, lists: tuple[str, ...]) -> TextClause:
    from sqlalchemy import bindparam, text

    stmt = text(sql)
    return stmt.bindparams(*(bindparam(name, expanding=True) for name in lists)) if lists else stmt


class EngineStatements(Statements):
    """:class:`Statements` on a SQLAlchemy ``Connection`` (in its transaction)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.backend = conn.dialect.name

    def _execute(self, sql: str, params: Mapping[str, Any] | None) -> Any:
        params = params or {}
        lists = tuple(sorted(name for name, value in params.items() if isinstance(value, (list, tuple))))
        return self.conn.execute(_text(sql, lists), {k: list(v) if k in lists else v for k, v in params.items()})

    def rows(self, sql: str, params: Mapping[str, Any] | None = None) -> Sequence[Sequence[Any]]:
        return self._execute(sql, params).all()  # type: ignore[no-any-return]

    def maps(self, sql: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        return [dict(row) for row in self._execute(sql, params).mappings()]


@lru_cache(maxsize=256)
def _pyformat_parts(sql: str) -> tuple[str, ...]:
    """``sql`` with ``%`` doubled, split at its parameters: text, name, text, name, ..., text."""
    return tuple(_PARAM.split(sql.replace("%", "%%")))


def pyformat(sql: str, params: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """``sql`` and ``params`` in the drivers' ``%(name)s`` style, each list expanded as SQLAlchemy does.

    >>> pyformat("SELECT id FROM t WHERE k IN :ids AND n > :n AND s LIKE '%x'", {"ids": ["a", "b"], "n": 1})
    ("SELECT id FROM t WHERE k IN (%(ids_1)s, %(ids_2)s) AND n > %(n)s AND s LIKE '%%x'", {'ids_1': 'a', 'ids_2': 'b', 'n': 1})
    >>> pyformat("SELECT 1 WHERE x IN :e AND y::text = :y", {"e": [], "y": "z"})
    ('SELECT 1 WHERE x IN (NULL) AND y::text = %(y)s', {'y': 'z'})
    """
    parts = _pyformat_parts(sql)
    out = [parts[0]]
    bound: dict[str, Any] = {}
    for i in range(1, len(parts), 2):
        name = parts[i]
        value = params[name]
        if isinstance(value, (list, tuple)):
            names = [f"{name}_{n}" for n in range(1, len(value) + 1)]
            bound.update(zip(names, value))
            # IN (NULL) matches nothing, as SQLAlchemy's empty IN does
            out.append("(" + ", ".join(f"%({n})s" for n in names) + ")" if names else "(NULL)")
        else:
            bound[name] = value
            out.append(f"%({name})s")
        out.append(parts[i + 1])
    return "".join(out), bound


class DriverStatements(Statements):
    """:class:`Statements` on a DB-API connection whose paramstyle is ``pyformat`` (psycopg, psycopg2)."""

    def __init__(self, conn: Any, backend: str = "postgresql") -> None:
        self.conn = conn
        self.backend = backend

    def _cursor(self, sql: str, params: Mapping[str, Any] | None) -> Any:
        cursor = self.conn.cursor()
        cursor.execute(*pyformat(sql, params or {}))
        return cursor

    def rows(self, sql: str, params: Mapping[str, Any] | None = None) -> Sequence[Sequence[Any]]:
        cursor = self._cursor(sql, params)
        found: list[Sequence[Any]] = cursor.fetchall()
        cursor.close()
        return found

    def maps(self, sql: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        cursor = self._cursor(sql, params)
        names = [column[0] for column in cursor.description]
        found = [dict(zip(names, row)) for row in cursor.fetchall()]
        cursor.close()
        return found


def statements(conn: Connection | Statements) -> Statements:
    """``conn`` as :class:`Statements` (a SQLAlchemy ``Connection`` is wrapped)."""
    return conn if isinstance(conn, Statements) else EngineStatements(conn)


#: The schemes of the ``--db`` URLs :func:`direct` opens -> the driver modules to try, in order. A bare
#: ``postgresql://`` is psycopg for SQLAlchemy 2.1, psycopg2 for 2.0: whichever is installed.
DRIVERS = {"postgresql+psycopg": ("psycopg",), "postgresql+psycopg2": ("psycopg2",),
           "postgresql": ("psycopg", "psycopg2")}


@contextmanager
def direct(url: str, revision: str) -> Iterator[DriverStatements | None]:
    """A read-only use of the PostgreSQL database at SQLAlchemy URL ``url`` through its driver alone (no
    SQLAlchemy imported), when the URL names psycopg or psycopg2 and its schema is at ``revision``. Yields
    None otherwise (another database, a driver that is not installed, a connection refused, a schema to
    migrate): the caller then goes through SQLAlchemy, which migrates or says what is wrong, as before.

    The URL's part after ``://`` (user, password, host, port, database, ``?`` options) is a libpq
    connection URI, as SQLAlchemy hands it to the driver. The connection reads in one transaction, rolled
    back at the end, as SQLAlchemy's ``engine.connect()`` does."""
    scheme, sep, rest = url.partition("://")
    conn = None
    for module in DRIVERS.get(scheme, ()) if sep else ():
        import importlib

        try:
            driver: Any = importlib.import_module(module)
        except ImportError:
            continue
        try:
            conn = driver.connect("postgresql://" + rest)
        except Exception:  # noqa: BLE001 - a refused connection, a bad URL: SQLAlchemy's path says which
            conn = None
        break
    if conn is None:
        yield None
        return
    try:
        run = DriverStatements(conn)
        try:
            current = run.scalar("SELECT version_num FROM alembic_version")
        except Exception:  # noqa: BLE001 - no such table: a new database, to create through SQLAlchemy
            current = None
        if current != revision:
            conn.rollback()
            yield None
            return
        yield run
    finally:
        conn.close()  # ends the transaction (rolled back: nothing was written)


__all__ = ["DRIVERS", "DriverStatements", "EngineStatements", "Statements", "direct", "pyformat", "statements"]
