"""Page assets (issue 11) that are sources too, and page -> asset links that survive ``kill -9``.

Real crawls (the CLI as a subprocess) of pages on the test site (``/mutable/NAME``, set per test), the server
counting requests per path; WARCs read back with warcio, the index with sqlite3.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import CLI, _cli_env, citevault, db, read_records, warc_files, warcio_check


def _page(server: Any, name: str, *assets: str) -> str:
    images = "".join(f'<img src="{a}" alt="">' for a in assets)
    html = (f"<!doctype html><html><head><meta charset=utf-8><title>{name}</title></head><body>"
            f"<p>The harbour council approved the barrier budget on Monday.</p>{images}</body></html>")
    return server.set_page(name, html)


def _claims(path: Path, *sources: str) -> Path:
    path.write_text("".join(json.dumps({"text": f"Claim {i} holds.", "sources": [s]}) + "\n"
                            for i, s in enumerate(sources)))
    return path


def _link(home: Path, page_url: str, asset_url: str) -> Any:
    conn = db(home)
    try:
        return conn.execute(
            "SELECT pa.capture_id, c.role, c.source_id, c.http_status, c.record_type FROM page_assets pa "
            "JOIN captures p ON p.id = pa.page_id LEFT JOIN captures c ON c.id = pa.capture_id "
            "WHERE p.url = ? AND pa.url = ?", (page_url, asset_url)).fetchone()
    finally:
        conn.close()


def _source(home: Path, url: str) -> Any:
    conn = db(home)
    try:
        return conn.execute("SELECT state, evidence_capture FROM sources WHERE url = ?", (url,)).fetchone()
    finally:
        conn.close()


def _check_shared(home: Path, page_url: str, shared_url: str) -> None:
    """The shared URL was archived once, as the source (its state decided), and the page links to it."""
    responses = [r for f in warc_files(home) for r in read_records(f) if r["type"] in ("response", "revisit")
                 and r["uri"] == shared_url]
    assert len(responses) == 1, responses
    assert "Citevault-Role" not in responses[0]["headers"]
    assert responses[0]["headers"]["Citevault-Source-URL"] == shared_url
    state, evidence = _source(home, shared_url)
    assert state == "archived" and evidence
    link = _link(home, page_url, shared_url)
    assert link is not None and tuple(link) == (evidence, None, link["source_id"], 200, "response")
    assert link["source_id"]
    assert _source(home, page_url)[0] == "archived"


def _replays(home: Path, page_url: str, asset_url: str, body: bytes) -> None:
    """The page replays with the shared URL's capture as its image (``citevault serve``'s app, in-process)."""
    from fastapi.testclient import TestClient

    from archive.api import Archive
    from archive.web.app import create_app

    conn = db(home)
    stamp = conn.execute("SELECT timestamp FROM captures WHERE url = ?", (page_url,)).fetchone()[0]
    conn.close()
    archive = Archive.open(str(home))
    try:
        with TestClient(create_app(archive)) as client:
            reply = client.get(f"/replay/{stamp}im_/{asset_url}")
            assert reply.status_code == 200 and reply.content == body
    finally:
        archive.close()


def _settled_in_the_index(home: Path, url: str) -> None:
    """What a page needing ``url`` after the crawler forgot its fetch reads (archive.crawl.asset_sources)."""
    from sqlalchemy import create_engine

    from archive.crawl.asset_sources import sources_among
    from archive.ids import source_id

    conn = db(home)
    crawl = conn.execute("SELECT id FROM crawls").fetchone()[0]
    conn.close()
    engine = create_engine(f"sqlite:///{home / 'citevault.sqlite'}")
    try:
        with engine.connect() as c:
            found = sources_among(c, crawl, [source_id(url), "0" * 40])
            later = sources_among(c, "another-crawl", [source_id(url)])
    finally:
        engine.dispose()
    evidence = _source(home, url)[1]
    assert list(found) == [source_id(url)]
    assert (found[source_id(url)].settled, found[source_id(url)].capture) == (True, evidence)
    assert not later[source_id(url)].settled and not later[source_id(url)].mine


@pytest.mark.parametrize("delay", [0, 1.5], ids=["together", "source-first"])
def test_an_asset_that_is_a_source_is_fetched_once(site_server: Any, tmp_path: Path, delay: float) -> None:
    """Page and shared source claimed in one batch: the page waits for the source's fetch (``together``), or
    finds it done already when the page is slow (``source-first``)."""
    case = f"{tmp_path.name}-{delay}"
    shared = f"/image.png?shared={case}"
    own = f"/image.png?own={case}"
    page = _page(site_server, f"shared-{case}".replace(".", "-"), shared, own) + f"?delay={delay}"
    home = tmp_path / "home"
    claims = _claims(tmp_path / "claims.jsonl", page, site_server.url(shared))
    result = citevault(home, "archive", str(claims), "--browser", "never")
    assert result.code == 0, result
    assert len(site_server.requests_for(shared)) == 1
    assert len(site_server.requests_for(own)) == 1
    _check_shared(home, page, site_server.url(shared))
    own_link = _link(home, page, site_server.url(own))
    assert own_link["role"] == "asset" and own_link["source_id"] is None
    for f in warc_files(home):
        assert warcio_check(f).returncode == 0
    _replays(home, page, site_server.url(shared), site_server.served_body(shared))
    _settled_in_the_index(home, site_server.url(shared))
    fresh = tmp_path / "fresh"
    (fresh / "warcs").mkdir(parents=True)
    for f in warc_files(home):
        shutil.copy2(f, fresh / "warcs" / f.name)
    assert citevault(fresh, "reindex").code == 0
    _check_shared(fresh, page, site_server.url(shared))


def test_an_asset_that_is_another_documents_source_is_claimed_and_fetched_as_that_source(
        site_server: Any, tmp_path: Path) -> None:
    """``archive`` of one document crawls its sources only; its page's image is a pending source of another
    document: the crawl claims it and fetches it once, as that source."""
    case = tmp_path.name
    shared = f"/image.png?other={case}"
    page = _page(site_server, f"other-{case}", shared)
    home = tmp_path / "home"
    added = citevault(home, "add", str(_claims(tmp_path / "b.jsonl", site_server.url(shared))))
    assert added.code == 0, added
    assert _source(home, site_server.url(shared))[0] == "pending"
    result = citevault(home, "archive", str(_claims(tmp_path / "a.jsonl", page)), "--browser", "never")
    assert result.code == 0, result
    assert len(site_server.requests_for(shared)) == 1
    _check_shared(home, page, site_server.url(shared))
    assert citevault(home, "verify").code == 0


def _asset_captures(home: Path) -> int:
    if not (home / "citevault.sqlite").exists():  # sqlite3 would create it
        return 0
    conn = db(home)
    try:
        return conn.execute("SELECT COUNT(*) FROM captures WHERE role = 'asset'").fetchone()[0]
    except sqlite3.Error:  # the schema is not there yet
        return 0
    finally:
        conn.close()


def _asset_links(home: Path, page_url: str) -> dict[str, tuple[Any, ...]]:
    conn = db(home)
    try:
        rows = conn.execute(
            "SELECT pa.url, pa.kind, c.role, c.http_status FROM page_assets pa JOIN captures p ON p.id = pa.page_id "
            "JOIN captures c ON c.id = pa.capture_id WHERE p.url = ?", (page_url,)).fetchall()
        return {r[0]: tuple(r[1:]) for r in rows}
    finally:
        conn.close()


def test_links_of_a_page_whose_last_asset_never_came_survive_kill_9(site_server: Any, tmp_path: Path) -> None:
    """The crawl is killed (both processes) while the page's last asset is still on its way: the assets
    already archived stay linked to the page, in the index the crawl left, after ``reindex`` from the WARC
    files alone, and after the next crawl's catch-up (asset records name the pages waiting for them; what a
    page found fetched already is in its ``page-assets-partial`` record)."""
    case = tmp_path.name
    # two images, one behind a redirect chain, one answered 500 first (retried): the links name each
    # fetch's last capture, as the page's list would; and one another page loaded first (fetched already
    # when this page, slower, arrives)
    known = f"/image.png?known={case}"
    first = _page(site_server, f"first-{case}", known)
    fast = [f"/image.png?kill={case}&n={n}" for n in range(2)] + ["/redirect/a", f"/flaky?key={case}"]
    slow = f"/slow?seconds=30&kill={case}"
    page = _page(site_server, f"kill-{case}", known, *fast, slow)
    home = tmp_path / "home"
    claims = _claims(tmp_path / "claims.jsonl", first, page + "?delay=2")
    page += "?delay=2"
    proc = subprocess.Popen([*CLI, "--home", str(home), "archive", str(claims), "--browser", "never"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
                            env=_cli_env())
    deadline = time.monotonic() + 60
    while _asset_captures(home) < len(fast) + 3 or len(_asset_links(home, page)) < len(fast) + 1:  # committed
        assert proc.poll() is None and time.monotonic() < deadline, "the crawl ended or stalled"
        time.sleep(0.05)
    assert site_server.requests_for(slow)
    os.killpg(proc.pid, signal.SIGKILL)
    assert proc.stderr is not None
    proc.stderr.read()
    proc.stderr.close()
    proc.wait(timeout=60)
    wanted = {site_server.url(p): ("image", "asset", 200) for p in [known, *fast]}
    assert _asset_links(home, page) == wanted  # committed with the assets' captures
    conn = db(home)
    target = conn.execute("SELECT c.url FROM page_assets pa JOIN captures c ON c.id = pa.capture_id "
                          "WHERE pa.url = ?", (site_server.url("/redirect/a"),)).fetchone()[0]
    conn.close()
    assert target == site_server.url("/articles/target.html")

    fresh = tmp_path / "fresh"
    (fresh / "warcs").mkdir(parents=True)
    for f in warc_files(home):
        shutil.copy2(f, fresh / "warcs" / f.name)
    rebuilt = citevault(fresh, "reindex")
    assert rebuilt.code == 0, rebuilt
    for f in warc_files(fresh):
        check = warcio_check(f)
        assert check.returncode == 0, check.stdout + check.stderr
    records = [r for f in warc_files(fresh) for r in read_records(f) if r["type"] == "metadata"]
    lists = [(r["headers"].get("Citevault-Record"), json.loads(r["body"])["page"]) for r in records
             if r["headers"].get("Citevault-Record", "").startswith("page-assets")]
    assert [p for kind, p in lists if kind == "page-assets"] == [first], "the page's list got out"
    # (the first page's image arrived before this page did, unless the machine is very slow)
    assert [p for kind, p in lists if kind == "page-assets-partial"] in ([page], [])
    assert _asset_links(fresh, page) == wanted

    # The next crawl's catch-up, for rows the killed crawl never committed: drop those of every record after
    # the page's own (the recorder commits in the order it writes), as if the crawl had died sooner.
    conn = db(home)
    file, offset, page_id = conn.execute("SELECT warc_file, warc_offset, id FROM captures WHERE url = ?",
                                         (page,)).fetchone()
    assert conn.execute("DELETE FROM captures WHERE warc_file = ? AND warc_offset > ?", (file, offset)).rowcount
    assert conn.execute("DELETE FROM page_assets WHERE page_id = ?", (page_id,)).rowcount == len(wanted)
    conn.commit()
    conn.close()
    again = citevault(home, "crawl", "--browser", "never")
    assert again.code == 0, again
    assert "repaired" in again.err, again
    assert _asset_links(home, page) == wanted
