"""Opening the index database: the embedded SQLite file by default, or any SQLAlchemy URL.

Opening is on the hot path of ``citevault lookup``, so it imports no Alembic unless the schema is behind:
the revision stored in ``alembic_version`` is compared with :data:`HEAD_REVISION` first. SQLAlchemy itself
is imported by the functions that use it: ``reindex`` reads :data:`HEAD_REVISION` and builds a new SQLite
file with the stdlib driver, and importing SQLAlchemy would be 0.2 s of its start-up.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from archive.errors import StoreError

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

#: The newest migration in archive/index/migrations/versions; bump it with every new migration.
HEAD_REVISION = "0007_document_counts"
MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    # WAL: readers (lookup, the web UI) never block the crawl's writer, and a crash loses no committed row.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def make_engine(url: str) -> Engine:
    """An engine for ``url`` with citevault's connection settings (WAL and foreign keys on SQLite)."""
    from sqlalchemy import create_engine, event

    try:
        engine = create_engine(url)
    except Exception as exc:  # bad URL, missing driver
        raise StoreError(f"cannot use database {url!r}: {exc}") from None
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def current_revision(engine: Engine) -> str | None:
    from sqlalchemy import text

    with engine.connect() as conn:
        try:
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        except Exception:
            return None


def ensure_schema(engine: Engine) -> None:
    """Migrate the database to :data:`HEAD_REVISION` if it is behind (creating it when empty)."""
    revision = current_revision(engine)
    if revision == HEAD_REVISION:
        return
    upgrade(engine)


def upgrade(engine: Engine, revision: str = "head") -> None:
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        try:
            command.upgrade(config, revision)
        except Exception as exc:
            raise StoreError(f"cannot migrate the index at {engine.url}: {exc}") from None
