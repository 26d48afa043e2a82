"""A private PostgreSQL cluster for the tests (Debian's postgresql package; .ci/run installs it).

:class:`Cluster` runs ``initdb`` and ``pg_ctl`` in a temporary folder, listening on a free loopback port.
One migrated database, ``citevault_template``, is made once; every test database is a copy of it
(``CREATE DATABASE … TEMPLATE``, a file copy: tens of milliseconds, no migration replayed).
"""
from __future__ import annotations

import glob
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

BINARIES = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
TEMPLATE = "citevault_template"


def available() -> bool:
    return bool(BINARIES) and Path(BINARIES[-1], "initdb").exists()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Cluster:
    def __init__(self) -> None:
        self.bindir = BINARIES[-1]
        # Not under pytest's tmp dir: its parents are private to root, and the server runs as "postgres".
        self.data = Path(tempfile.mkdtemp(prefix="citevault-pg-"))
        self.port = _free_port()
        self._as = ["su", "postgres", "-c"] if os.geteuid() == 0 else ["sh", "-c"]
        self._names = itertools.count(1)
        self._template = False

    def _run(self, command: str, check: bool = True) -> None:
        subprocess.run([*self._as, command], check=check, capture_output=True, timeout=120)

    def start(self) -> Cluster:
        if os.geteuid() == 0:
            shutil.chown(self.data, "postgres")
        self._run(f"{self.bindir}/initdb -D {self.data} -A trust -U postgres --no-sync")
        # fsync off: a test cluster is thrown away, durability would only cost time
        self._run(f"{self.bindir}/pg_ctl -D {self.data} -w -o '-c listen_addresses=127.0.0.1 -p {self.port} "
                  f"-k {self.data} -c fsync=off -c synchronous_commit=off -c full_page_writes=off' "
                  f"-l {self.data}/log start")
        return self

    def stop(self) -> None:
        self._run(f"{self.bindir}/pg_ctl -D {self.data} -m immediate stop", check=False)
        shutil.rmtree(self.data, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def execute(self, *sql: str, database: str = "postgres") -> list[tuple[object, ...]]:
        """Run statements on one connection (autocommit); the rows of the last."""
        import psycopg

        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname={database}",
                             autocommit=True) as conn:
            for statement in sql:
                cur = conn.execute(statement)  # type: ignore[arg-type]
            return list(cur.fetchall()) if cur.description else []

    def empty_database(self, prefix: str = "t") -> str:
        """A new database with nothing in it (not even the schema): its URL."""
        name = f"{prefix}_{os.getpid()}_{next(self._names)}"
        self.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def database(self, prefix: str = "t") -> str:
        """A new database migrated to head (a copy of the template): its URL."""
        if not self._template:
            from archive.index.db import ensure_schema, make_engine

            self.execute(f"CREATE DATABASE {TEMPLATE}")
            engine = make_engine(self.url(TEMPLATE))
            ensure_schema(engine)
            engine.dispose()
            self._template = True
        name = f"{prefix}_{os.getpid()}_{next(self._names)}"
        self.execute(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}")
        return self.url(name)
