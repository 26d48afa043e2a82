"""Crawl workers on several "hosts" sharing one PostgreSQL index and one warcs/ directory (issue 14).

Each worker is a separate ``citevault crawl`` process with its own node name (``--node``), so none can
check another's pid: a worker killed with SIGKILL (its whole process group, recorder included, as if its
machine went down) loses its leases only when they expire (``CITEVAULT_LEASE_SECONDS``, short here), and
the others take them after indexing what its WARC files hold. Every source ends archived with exactly one
200 capture; ``verify`` is clean; a reindex into a fresh PostgreSQL database gives the same claim JSON for
every claim.
"""
from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import CLI, _cli_env, citevault

HOSTS = 30
PER_HOST = 20  # 600 sources
LEASE_SECONDS = "12"  # short, yet long enough for a live worker starved of CPU on a loaded machine


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a killed worker resets its connections: expected here


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        if self.path == "/robots.txt":
            body, status = b"", 404
        else:
            time.sleep(0.01)
            body, status = f"<html><body><p>Page {self.path} on {self.server.server_address[0]}.</p></body></html>".encode(), 200
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def hosts() -> Iterator[list[str]]:
    """30 web servers, one per loopback address 127.0.0.2 … 127.0.0.31, on one port."""
    servers: list[_Server] = []
    port = 0
    for i in range(2, 2 + HOSTS):
        server = _Server((f"127.0.0.{i}", port), _Handler)
        port = server.server_address[1]
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
    try:
        yield [f"http://127.0.0.{i}:{port}" for i in range(2, 2 + HOSTS)]
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()


def _claims(path: Path, hosts: list[str]) -> list[str]:
    urls = [f"{h}/page/{n}" for n in range(PER_HOST) for h in hosts]
    path.write_text("".join(json.dumps({"text": f"Claim {i} about harbour works.", "sources": [u]}) + "\n"
                            for i, u in enumerate(urls)))
    return urls


def _worker(home: Path, db: str, node: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen([*CLI, "--home", str(home), "--db", db, "crawl", "--node", node],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=_cli_env(env),
                            start_new_session=True)  # its own process group: SIGKILL takes its recorder too


@contextlib.contextmanager
def _served(home: Path, db: str) -> Iterator[str]:
    """``citevault serve`` in a subprocess on a free loopback port: its base URL."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.Popen([*CLI, "--home", str(home), "--db", db, "serve", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=_cli_env())
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, "citevault serve did not start"
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(30)


def _scalar(cluster: Any, db: str, sql: str) -> Any:
    return cluster.execute(sql, database=db.rsplit("/", 1)[1])[0][0]


def test_workers_on_three_nodes_one_killed(pg_cluster: Any, hosts: list[str], tmp_path: Path) -> None:
    db = pg_cluster.database("workers")
    home = tmp_path / "home"
    urls = _claims(tmp_path / "claims.jsonl", hosts)
    assert citevault(home, "--db", db, "add", str(tmp_path / "claims.jsonl")).code == 0
    env = {"CITEVAULT_LEASE_SECONDS": LEASE_SECONDS}
    killed = _worker(home, db, "node-a", env)
    deadline = time.monotonic() + 120
    while _scalar(pg_cluster, db, "SELECT COUNT(*) FROM captures c JOIN crawls w ON w.id = c.crawl_id "
                                  "WHERE w.host = 'node-a' AND c.record_type = 'response'") < 30:
        assert time.monotonic() < deadline and killed.poll() is None, "node a never got going"
        time.sleep(0.05)
    os.killpg(killed.pid, signal.SIGSTOP)  # frozen while `status` looks, so it still holds leases after
    workers = citevault(home, "--db", db, "status", "--workers", "--json", env=env)
    assert workers.code == 0, workers
    listed = {w["node"]: w for w in workers.json()}
    assert "node-a" in listed and listed["node-a"]["leases"] > 0, workers
    os.killpg(killed.pid, signal.SIGKILL)  # the machine goes down: crawler and recorder at once
    killed.communicate(timeout=10)
    others = [_worker(home, db, node, env) for node in ("node-b", "node-c")]
    human = citevault(home, "--db", db, "status", "--workers", env=env)
    assert human.code == 0 and "node-a  pid " in human.out and " leases" in human.out, human
    errs = []
    for proc in others:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err.decode()
        errs.append(err.decode())
    # every source archived, each with exactly one 200 capture
    states = dict(pg_cluster.execute("SELECT state, COUNT(*) FROM sources GROUP BY state", database=db.rsplit("/", 1)[1]))
    assert states == {"archived": len(urls)}, states
    per_source = pg_cluster.execute(
        "SELECT COUNT(*), COUNT(DISTINCT source_id) FROM captures WHERE record_type = 'response' "
        "AND http_status = 200 AND role IS NULL", database=db.rsplit("/", 1)[1])[0]
    assert per_source == (len(urls), len(urls)), per_source
    nodes = {r[0] for r in pg_cluster.execute("SELECT DISTINCT w.host FROM captures c JOIN crawls w "
                                              "ON w.id = c.crawl_id", database=db.rsplit("/", 1)[1])}
    assert "node-a" in nodes and nodes - {"node-a"} and nodes <= {"node-a", "node-b", "node-c"}, nodes
    # node a's .open file is repaired by a live node once node a has been silent for a whole lease: during
    # the run when a live node took its leases, else by the next crawl (when node a had settled every source
    # it leased before it died, nobody needed to take anything over)
    time.sleep(float(LEASE_SECONDS) + 1)
    assert citevault(home, "--db", db, "crawl", "--due", "--node", "node-b", env=env).code == 0
    names = sorted(p.name for p in (home / "warcs").iterdir())
    assert not [n for n in names if n.endswith(".open")], (names, errs)
    from archive.crawl.pids import node_name

    # each node wrote only files named after it (the add wrote one on this machine's own name)
    assert {n.split("-")[3] for n in names} <= {"node_a", "node_b", "node_c", node_name()}, names
    verified = citevault(home, "--db", db, "verify", "--json")
    assert verified.code == 0, verified
    # the same claim JSON from the index the workers built and from rebuilds of it
    from archive.api import Archive

    claim_ids = [r[0] for r in pg_cluster.execute("SELECT id FROM claims ORDER BY id", database=db.rsplit("/", 1)[1])]
    # the killed worker's captures were never quote-checked (its crawl never ended): `check` does it
    assert citevault(home, "--db", db, "check").code == 0
    built = Archive.open(str(home), db)
    shown = built.show_claims(claim_ids)
    built.close()
    fresh = pg_cluster.empty_database("rebuilt")
    for target in (["--db", fresh],):
        assert citevault(home, *target, "reindex", *(["--force"] if not target else [])).code == 0
        assert citevault(home, *target, "check").code == 0  # quote checks are derived data, recomputed
        again = Archive.open(str(home), fresh if target else None)
        try:
            rebuilt = again.show_claims(claim_ids)
            assert len(rebuilt) == len(shown)
            for one, other in zip(rebuilt, shown):
                assert json.dumps(one, sort_keys=True, indent=1).splitlines() == json.dumps(other, sort_keys=True, indent=1).splitlines()
        finally:
            again.close()


def test_shared_warcs_read_from_another_home(pg_cluster: Any, hosts: list[str], tmp_path: Path) -> None:
    """The index stores WARC file names relative to ``warcs/``: a second node whose data home mounts the
    same directory (here a symlink to where it was moved) and uses the same database reads everything the
    first wrote: cat, the web UI's replay, verify, export and a reindex; and a crawl from it writes only
    files named after its own node."""
    import zipfile

    from archive.api import Archive

    db = pg_cluster.database("shared")
    first = tmp_path / "first"
    claims = tmp_path / "claims.jsonl"
    claims.write_text("".join(json.dumps({"text": f"Shared claim {n}.", "sources": [f"{h}/shared/{n}"]}) + "\n"
                              for n, h in enumerate(hosts[:10])))
    assert citevault(first, "--db", db, "archive", str(claims), "--node", "first").code == 0
    bad = pg_cluster.execute("SELECT warc_file FROM captures WHERE warc_file LIKE '%/%' OR warc_file LIKE '.%'",
                             database=db.rsplit("/", 1)[1])
    assert bad == []  # names only, never paths
    shared = tmp_path / "nfs" / "warcs"
    shared.parent.mkdir()
    (first / "warcs").rename(shared)  # the first node's home now mounts it too
    (first / "warcs").symlink_to(shared)
    second = tmp_path / "second"
    second.mkdir()
    (second / "warcs").symlink_to(shared)
    row = pg_cluster.execute("SELECT id FROM captures WHERE record_type = 'response' AND url LIKE '%/shared/%' "
                             "ORDER BY url LIMIT 1", database=db.rsplit("/", 1)[1])[0]
    page = citevault(second, "--db", db, "cat", str(row[0]))
    assert page.code == 0 and "Page /shared/" in page.out, page
    assert citevault(second, "--db", db, "verify").code == 0
    wacz = tmp_path / "all.wacz"
    assert citevault(second, "--db", db, "export", "--wacz", str(wacz)).code == 0
    assert any(n.endswith(".warc.gz") for n in zipfile.ZipFile(wacz).namelist())
    with _served(second, db) as base:  # `citevault serve` on the second node
        with urllib.request.urlopen(f"{base}/api/lookup?q=shared+claim") as response:
            found = json.load(response)
        assert len(found) == 10
        capture = found[0]["sources"][0]["captures"][0]
        stamp = capture["fetched_at"][:19].translate({ord(c): None for c in "-:T"})
        with urllib.request.urlopen(f"{base}/replay/{stamp}/{capture['url']}") as response:
            assert response.status == 200 and b"Page /shared/" in response.read()
    fresh = pg_cluster.empty_database("shared_rebuilt")
    assert citevault(second, "--db", fresh, "reindex").code == 0
    count = "SELECT COUNT(*), COUNT(DISTINCT warc_file) FROM captures"
    assert pg_cluster.execute(count, database=fresh.rsplit("/", 1)[1]) == pg_cluster.execute(
        count, database=db.rsplit("/", 1)[1])
    # the same crawl indexed in SQLite (the second home's own file) shows every claim as PostgreSQL does
    assert citevault(second, "reindex").code == 0 and citevault(second, "check").code == 0
    ids = [str(r[0]) for r in pg_cluster.execute("SELECT id FROM claims ORDER BY id", database=db.rsplit("/", 1)[1])]
    on_pg, on_sqlite = Archive.open(str(second), db), Archive.open(str(second))
    try:
        assert on_sqlite.show_claims(ids) == on_pg.show_claims(ids)
    finally:
        on_pg.close()
        on_sqlite.close()
    more = tmp_path / "more.jsonl"
    more.write_text(json.dumps({"text": "One more.", "sources": [f"{hosts[0]}/shared/more"]}) + "\n")
    before = {p.name for p in shared.iterdir()}
    assert citevault(second, "--db", db, "archive", str(more), "--node", "second").code == 0
    new = {p.name for p in shared.iterdir()} - before
    assert new and {n.split("-")[3] for n in new} == {"second"}, new


def test_dropped_connections_mid_crawl_lose_nothing(pg_cluster: Any, hosts: list[str], tmp_path: Path) -> None:
    """For three seconds of a crawl every connection to its database is terminated as soon as it appears
    (``pg_terminate_backend``, as a restarted server or a network cut does): the worker retries with
    backoff and goes on; it exits 0, every source archived with exactly one 200 capture."""
    db = pg_cluster.database("dropped")
    name = db.rsplit("/", 1)[1]
    home = tmp_path / "home"
    urls = [f"{h}/dropped/{n}" for n in range(10) for h in hosts]
    claims = tmp_path / "claims.jsonl"
    claims.write_text("".join(json.dumps({"text": f"Dropped {i}.", "sources": [u]}) + "\n" for i, u in enumerate(urls)))
    assert citevault(home, "--db", db, "add", str(claims)).code == 0
    worker = _worker(home, db, "flaky", {"CITEVAULT_LEASE_SECONDS": "30"})
    deadline = time.monotonic() + 120
    while _scalar(pg_cluster, db, "SELECT COUNT(*) FROM captures WHERE record_type = 'response'") < 20:
        assert time.monotonic() < deadline and worker.poll() is None, "the crawl never got going"
        time.sleep(0.05)
    terminated = 0
    until = time.monotonic() + 3
    while time.monotonic() < until:
        terminated += len(pg_cluster.execute(
            f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}' "
            "AND pid <> pg_backend_pid()"))
        time.sleep(0.05)
    assert terminated > 0
    _, err = worker.communicate(timeout=300)
    assert worker.returncode == 0, err.decode()
    states = dict(pg_cluster.execute("SELECT state, COUNT(*) FROM sources GROUP BY state", database=name))
    assert states == {"archived": len(urls)}, (states, err.decode())
    per_source = pg_cluster.execute("SELECT COUNT(*), COUNT(DISTINCT source_id) FROM captures WHERE "
                                    "record_type = 'response' AND http_status = 200 AND role IS NULL", database=name)[0]
    assert per_source == (len(urls), len(urls)), per_source
