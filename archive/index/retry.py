"""Riding out a dropped database connection (a restarted PostgreSQL, a network blip between hosts).

A crawl worker's writes are all re-playable: a batch is one transaction, rolled back whole when the
connection drops, and retried whole on a new connection. :func:`retrying` waits with a doubling backoff
(0.2 s up to 5 s) while the error is a lost or refused connection, for at most :data:`PATIENCE` seconds
(``CITEVAULT_DB_PATIENCE``); any other error, or one that outlasts that, is raised as it is. What the worker
wrote to its WARC file is on disk either way: the next crawl's catch-up indexes it
(:mod:`archive.integrity.catch_up`).
"""
from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")
PATIENCE = 300.0
logger = logging.getLogger(__name__)


def patience() -> float:
    return float(os.environ.get("CITEVAULT_DB_PATIENCE") or PATIENCE)


def is_disconnect(exc: BaseException) -> bool:
    """Is ``exc`` a lost, refused or reset database connection (worth trying again), not a bad statement?"""
    from sqlalchemy.exc import DBAPIError

    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated:
            return True
        orig = getattr(exc, "orig", None)
        if orig is None or not type(orig).__module__.startswith("psycopg"):
            return False  # SQLite is a local file: its OperationalErrors are no network blips
        # psycopg: OperationalError (connection refused, terminated by administrator, server closed it);
        # AdminShutdown / CannotConnectNow (57P01-57P03) are subclasses of it
        return type(orig).__name__ in ("OperationalError", "AdminShutdown", "CannotConnectNow", "CrashShutdown",
                                       "InterfaceError")
    return False


def retrying(func: Callable[[], T], what: str, *, on_retry: Callable[[], None] | None = None) -> T:
    """``func()``, called again after a backoff while it fails with a dropped connection (see the module
    docstring). ``on_retry`` runs before each new try (e.g. a rollback of the caller's connection)."""
    deadline = time.monotonic() + patience()
    delay = 0.2
    while True:
        try:
            return func()
        except Exception as exc:
            if not is_disconnect(exc) or time.monotonic() + delay > deadline:
                raise
            logger.warning("citevault: database connection lost while %s (%s); retrying in %.1f s", what,
                           str(exc).splitlines()[0], delay)
        time.sleep(delay)
        delay = min(delay * 2, 5.0)
        if on_retry is not None:
            try:
                on_retry()
            except Exception as exc:  # noqa: BLE001 - the next try reports what is still wrong
                logger.debug("citevault: rollback before retrying failed: %s", exc)
