"""Shared fixtures of the web, WACZ, Memento and browser tests (no tests here).

``evidence``: a data home built once per session the way a user builds one. A small loopback site serves a
news article whose sentences cite an evidence page (with a stylesheet, a logo, an unarchived image and
links to the live web), a hostile page whose script goes after the UI's cookies and API, a PDF, a photo and
a page that is gone; ``citevault archive`` (the real CLI, in a subprocess) crawls it. Then the site is
stopped (replay must never need it) and the real :class:`archive.crawl.recorder.Recorder` writes two older
captures of the evidence page, in 2019 and, unchanged, in 2021 (a revisit), so Memento has a history.

The fixtures ``evidence`` and ``client`` are registered for the whole suite by tests/conftest.py (so the
session one is built once, whichever module asks first); test modules import only the constants and classes.
"""
from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterator

import pytest

from tests.helpers import citevault, db
from tests.server import make_pdf, make_png

REPORT_SENTENCE = "The flood barrier will cost 3.5 million euros, the commission found."
OLD_SENTENCE = "The commission has not yet costed the flood barrier."
HOSTILE_TEXT = "This page tries to steal what it can."

STORY = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Harbour barrier: what the evidence says</title></head>
<body>
<header><nav><a href="/">Home</a> <a href="/about">About</a></nav></header>
<main><article>
<h1>Harbour barrier: what the evidence says</h1>
<p>The harbour commission published its annual report on Monday, after a year of delays and public hearings.</p>
<p>According to the <a href="/evidence/report.html">commission's report</a>, the flood barrier will cost 3.5 million euros.</p>
<p>The chair said "we will build it before winter", as the <a href="/evidence/report.html#quote">report</a> records.</p>
<p>The commission styles its reports with a <a href="/evidence/style.css">house stylesheet</a> and a <a href="/evidence/logo.png">logo</a>.</p>
<p>A <a href="/evidence/hostile.html">blog post</a> claimed that the council never voted on the barrier.</p>
<p>The audit office published <a href="/evidence/audit.pdf">its audit as a PDF</a> in the spring.</p>
<p>A <a href="/evidence/photo.png">photograph</a> shows the old harbour wall after the storm of 2021.</p>
<p>The <a href="/evidence/removed.html">original engineering memo</a> has since been taken down.</p>
<p>The commission's <a href="/evidence/moved">old report address</a> now forwards to the new report.</p>
<p>An <a href="http://127.0.0.1:9/analysis.html">independent analysis</a> could not be reached when this story was archived.</p>
<p>Residents will be consulted again before construction starts next year.</p>
</article></main>
<footer><a href="/privacy">Privacy</a></footer>
</body></html>
"""

REPORT_V2 = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Harbour commission annual report</title>
<link rel="stylesheet" href="style.css" integrity="sha384-deadbeef" crossorigin="anonymous">
<script src="https://cdn.example.net/track.js"></script>
</head><body>
<h1>Harbour commission annual report</h1>
<img src="logo.png" alt="Commission logo" width="120" height="40"> <img src="missing.png" alt="not archived">
<p id="cost">{REPORT_SENTENCE}</p>
<p id="quote">The chair said: "we will build it before winter".</p>
<div style="background-image: url('logo.png')">Styled block</div>
<p><a href="appendix.html">Appendix</a> · <a href="https://live.example.org/elsewhere">Elsewhere on the web</a></p>
</body></html>
"""

REPORT_V1 = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Harbour commission annual report (draft)</title></head>
<body><h1>Harbour commission annual report</h1><p id="cost">{OLD_SENTENCE}</p></body></html>
"""

STYLE = """h1 { color: rgb(200, 0, 0); }
body { background: #fffdf5 url("logo.png") no-repeat right top; }
@import url("https://fonts.example.com/font.css");
"""

# The hostile page reports what its script managed into #report (read by the browser tests).
HOSTILE = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Totally normal blog post</title></head><body>
<h1>Totally normal blog post</h1>
<p>{HOSTILE_TEXT}</p>
<pre id="report">script did not run</pre>
<script>
var out = {{ran: true}};
function done() {{ document.getElementById("report").textContent = JSON.stringify(out); }}
try {{ out.cookie = "read: " + document.cookie; }} catch (e) {{ out.cookie = "error: " + e.name; }}
try {{ out.parentCookie = "read: " + window.parent.document.cookie; }} catch (e) {{ out.parentCookie = "error: " + e.name; }}
try {{ localStorage.setItem("x", "1"); out.storage = "ok"; }} catch (e) {{ out.storage = "error: " + e.name; }}
try {{ new Image().src = "/api/documents?from=hostile-image&c=" + encodeURIComponent(out.cookie); }} catch (e) {{}}
try {{
  fetch("/api/documents?from=hostile-fetch", {{credentials: "include"}})
    .then(function (r) {{ return r.text(); }})
    .then(function (t) {{ out.api = "read " + t.length + " bytes"; done(); }},
          function (e) {{ out.api = "error: " + e.name; done(); }});
}} catch (e) {{ out.api = "error: " + e.name; done(); }}
done();
</script>
</body></html>
"""


class _Site(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, pages: dict[str, tuple[str, bytes]]) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.pages = pages


class _Handler(BaseHTTPRequestHandler):
    server: _Site

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        if self.path == "/evidence/moved":
            self.send_response(302)
            self.send_header("Location", "/evidence/report.html")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        page = self.server.pages.get(self.path.split("?")[0])
        status, (ctype, body) = (200, page) if page else (404, ("text/html; charset=utf-8", b"<h1>Not found</h1>"))
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


def site_pages() -> dict[str, tuple[str, bytes]]:
    html = "text/html; charset=utf-8"
    return {
        "/story.html": (html, STORY.encode()),
        "/evidence/report.html": (html, REPORT_V2.encode()),
        "/evidence/style.css": ("text/css", STYLE.encode()),
        "/evidence/logo.png": ("image/png", make_png(120, 40)),
        "/evidence/photo.png": ("image/png", make_png(64, 48)),
        "/evidence/audit.pdf": ("application/pdf", make_pdf("Harbour audit")),
        "/evidence/hostile.html": (html, HOSTILE.encode()),
    }


@dataclass
class Evidence:
    home: Path
    base: str
    document_id: str
    notes_id: str = ""
    pages: dict[str, tuple[str, bytes]] = field(default_factory=site_pages, repr=False)

    def url(self, path: str) -> str:
        return self.base + path

    def capture(self, path: str, record_type: str = "response") -> dict[str, Any]:
        """The newest capture row of a URL of the evidence site."""
        row = db(self.home).execute(
            "SELECT * FROM captures WHERE url = ? AND record_type = ? ORDER BY fetched_at DESC",
            (self.url(path), record_type)).fetchone()
        assert row is not None, (path, record_type)
        return dict(row)

    def claim_citing(self, path: str) -> str:
        """The first claim of the story citing ``path``."""
        row = db(self.home).execute(
            "SELECT c.id FROM citations ci JOIN sources s ON s.id = ci.source_id JOIN claims c ON c.id = ci.claim_id "
            "WHERE s.url = ? AND c.document_id = ? ORDER BY c.position", (self.url(path), self.document_id)).fetchone()
        return str(row[0])


OLD_TIMES = (datetime(2019, 5, 1, 12, 0, 0, tzinfo=timezone.utc), datetime(2021, 3, 1, 12, 0, 0, tzinfo=timezone.utc))


def _add_history(home: Path, url: str) -> None:
    """Two older captures of ``url`` through the crawl's own writer: 2019, then the same bytes in 2021."""
    from archive.api import Archive
    from archive.crawl.recorder import Recorder
    from archive.warc.builder import HttpExchange

    archive = Archive.open(str(home))
    recorder = Recorder(archive.home, archive.engine(), crawl_id="history")
    body = REPORT_V1.encode()
    for moment in OLD_TIMES:
        exchange = HttpExchange(
            url=url, status=200, reason="OK", protocol="HTTP/1.1", body=body, fetched_at=moment,
            response_headers=[("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(body)))],
            request_headers=[("User-Agent", "citevault-test")], ip_address="127.0.0.1",
        )
        recorder.record_exchange(exchange, record_id=recorder.new_record_id(), source_url=url, document_id=None)
    stats = recorder.close()
    archive.close()
    assert stats.errors == [] and stats.revisits == 1, stats


def build_evidence(home: Path) -> Evidence:
    pages = site_pages()
    site = _Site(pages)
    thread = threading.Thread(target=site.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{site.server_address[1]}"
    try:
        # --no-assets: this home shows replay of what was *not* archived (missing.png, track.js, the
        # @import on another host); tests/test_assets.py replays a page archived with its assets.
        result = citevault(home, "archive", f"{base}/story.html", "--json", "--no-assets")
    finally:
        site.shutdown()
        site.server_close()
    assert result.code == 0, result
    states = dict(db(home).execute("SELECT state, COUNT(*) FROM sources GROUP BY state").fetchall())
    assert states == {"archived": 7, "gone": 1, "failed": 1}, (states, result.err)
    document_id = result.json()[0]["document"]["id"]
    _add_history(home, f"{base}/evidence/report.html")
    notes = home.with_name(home.name + "-notes.jsonl")  # a second document, added but never crawled: pending evidence
    notes.write_text(json.dumps({"text": "The barrier's budget is in the commission's report.",
                                 "sources": [f"{base}/evidence/report.html"]}) + "\n"
                     + json.dumps({"text": "A second opinion was never fetched.",
                                   "sources": [f"{base}/evidence/second-opinion.html"]}) + "\n")
    added = citevault(home, "add", str(notes), "--json")
    assert added.code == 0, added
    return Evidence(home, base, document_id, added.json()[0]["document"]["id"], pages)


@pytest.fixture(scope="session")
def evidence(tmp_path_factory: pytest.TempPathFactory) -> Evidence:
    """The evidence data home (built once per session, whichever module asks first). Read-only."""
    return build_evidence(tmp_path_factory.mktemp("evidence-home"))


@pytest.fixture(scope="session")
def evidence_on_postgres(evidence: Evidence, pg_cluster: Any) -> str:
    """The evidence home's index rebuilt into a new PostgreSQL database from its WARC files (``reindex``,
    then ``check``, as a user moving to PostgreSQL does): its URL. The home itself is not touched."""
    url = str(pg_cluster.empty_database("evidence"))
    for command in ("reindex", "check"):
        done = citevault(evidence.home, "--db", url, command)
        assert done.code == 0, done
    return url


@pytest.fixture(scope="module", params=("sqlite", "postgresql"))
def client(request: pytest.FixtureRequest, evidence: Evidence) -> Iterator[Any]:
    """The app in-process (FastAPI's TestClient) over the evidence home, once per index backend: its SQLite
    file, then the same index on PostgreSQL (:func:`evidence_on_postgres`)."""
    from fastapi.testclient import TestClient

    from archive.api import Archive
    from archive.web.app import create_app

    db = request.getfixturevalue("evidence_on_postgres") if request.param == "postgresql" else None
    archive = Archive.open(str(evidence.home), db)
    with TestClient(create_app(archive)) as test_client:
        test_client.citevault_db = ["--db", db] if db else []  # type: ignore[attr-defined]  # for CLI calls
        yield test_client
    archive.close()


class LiveServer:
    """The app under a real uvicorn on 127.0.0.1:0, in a thread of this process, recording every request
    it receives (``requests``: "PATH?QUERY" strings) so tests can prove what never reached it."""

    def __init__(self, home: Path) -> None:
        import socket

        import uvicorn

        from archive.api import Archive
        from archive.web.app import LOOPBACK_HOSTS, create_app

        self.archive = Archive.open(str(home))
        app = create_app(self.archive, allowed_hosts=LOOPBACK_HOSTS)
        self.requests: list[str] = []

        async def recording(scope: Any, receive: Any, send: Any) -> None:
            if scope["type"] == "http":
                query = scope.get("query_string", b"").decode("latin-1")
                self.requests.append(scope["path"] + (f"?{query}" if query else ""))
            await app(scope, receive, send)

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.base = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.server = uvicorn.Server(uvicorn.Config(recording, log_level="warning", access_log=False))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    def __enter__(self) -> LiveServer:
        import time

        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.sock.close()
        self.archive.close()
