"""The test site (tests/server.py) behaves as its route table says; fast, loopback only."""
from __future__ import annotations

import gzip
import hashlib
import http.client
import json
import re
import socket
import struct
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
import zlib
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.server import (
    CHUNKED_PAGE,
    GZIP_BYTES,
    GZIP_PAGE,
    LATIN1_TEXT,
    META_CHARSET_TEXT,
    PDF_BYTES,
    ROBOTS_TXT,
    SITE_ROOT,
    TARGET_SENTENCE,
    SiteServer,
)

REPO = Path(__file__).resolve().parent.parent


def request(server: SiteServer, path: str, method: str = "GET", headers: dict | None = None,
            conn: http.client.HTTPConnection | None = None):
    """One request over http.client (no redirect following, no decoding): (status, headers, raw body)."""
    own = conn is None
    if own:
        host, port = server.server_address[:2]
        conn = http.client.HTTPConnection(host, port, timeout=10)
    try:
        conn.request(method, path, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.headers, response.read()
    finally:
        if own:
            conn.close()


# ---- static files -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path, content_type",
    [
        ("/articles/sample.html", "text/html; charset=utf-8"),
        ("/articles/target.html", "text/html; charset=utf-8"),
        ("/articles/sample.md", "text/markdown; charset=utf-8"),
        ("/articles/sample.txt", "text/plain; charset=utf-8"),
        ("/articles/sample.expected.json", "application/json"),
        ("/claims/sample.jsonl", "application/x-ndjson"),
        ("/claims/sample.csv", "text/csv; charset=utf-8"),
    ],
)
def test_static_files(site_server, path, content_type):
    status, headers, body = request(site_server, path)
    assert status == 200
    assert headers["Content-Type"] == content_type
    assert int(headers["Content-Length"]) == len(body)
    assert body == (SITE_ROOT / path.lstrip("/")).read_bytes()
    assert site_server.served_body(path) == body


def test_directory_index_and_missing_files(site_server):
    status, _, body = request(site_server, "/")
    assert status == 200 and b"citevault test site" in body
    for path in ("/nope.html", "/../pyproject.toml", "/%2e%2e/pyproject.toml", "/articles/../../pyproject.toml"):
        assert request(site_server, path)[0] == 404, path


def test_target_page_has_the_distinctive_sentence(site_server):
    assert TARGET_SENTENCE.encode() in request(site_server, "/articles/target.html")[2]


# ---- dynamic routes -----------------------------------------------------------------------------------


def test_robots_and_private_page(site_server):
    status, headers, body = request(site_server, "/robots.txt")
    assert (status, body) == (200, ROBOTS_TXT) and headers["Content-Type"].startswith("text/plain")
    assert request(site_server, "/private/secret.html")[0] == 200


def test_redirect_chain(site_server, site_url):
    status, headers, _ = request(site_server, "/redirect/a")
    assert (status, headers["Location"]) == (302, "/redirect/b")
    status, headers, _ = request(site_server, "/redirect/b")
    assert (status, headers["Location"]) == (301, "/articles/target.html")
    with urllib.request.urlopen(site_url + "/redirect/a", timeout=10) as response:
        assert response.url == site_url + "/articles/target.html"
        assert TARGET_SENTENCE.encode() in response.read()


def test_redirect_loop(site_server):
    status, headers, _ = request(site_server, "/redirect/loop")
    assert (status, headers["Location"]) == (302, "/redirect/loop")


@pytest.mark.parametrize("code", [404, 410, 500, 503])
def test_status_routes(site_server, code):
    status, headers, body = request(site_server, f"/status/{code}")
    assert status == code and headers["Content-Type"] == "text/html; charset=utf-8"
    assert str(code).encode() in body and int(headers["Content-Length"]) == len(body)


def test_flaky_fails_once_per_key(site_server):
    path = f"/flaky?key={uuid.uuid4().hex}"
    assert [request(site_server, path)[0] for _ in range(3)] == [500, 200, 200]
    site_server.reset_flaky()
    assert request(site_server, path)[0] == 500


def test_gzip(site_server):
    status, headers, raw = request(site_server, "/gzip.html")
    assert status == 200 and headers["Content-Encoding"] == "gzip"
    assert int(headers["Content-Length"]) == len(raw)
    assert raw == GZIP_BYTES == gzip.compress(GZIP_PAGE, mtime=0)  # stable bytes
    assert gzip.decompress(raw) == GZIP_PAGE
    assert site_server.served_body("/gzip.html") == raw  # the payload digest covers the encoded bytes


def test_chunked(site_server):
    status, headers, body = request(site_server, "/chunked.html")
    assert status == 200 and headers["Transfer-Encoding"] == "chunked"
    assert headers["Content-Length"] is None
    assert body == CHUNKED_PAGE == site_server.served_body("/chunked.html")


def test_chunked_framing_on_the_wire(site_server):
    with socket.create_connection(site_server.server_address[:2], timeout=10) as sock:
        sock.sendall(b"GET /chunked.html HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        raw = b""
        while chunk := sock.recv(65536):
            raw += chunk
    head, _, rest = raw.partition(b"\r\n\r\n")
    assert b"transfer-encoding: chunked" in head.lower()
    sizes = []
    while True:
        size_line, _, rest = rest.partition(b"\r\n")
        size = int(size_line, 16)
        if size == 0:
            break
        sizes.append(size)
        rest = rest[size + 2 :]
    assert len(sizes) >= 3 and sum(sizes) == len(CHUNKED_PAGE)


def test_latin1(site_server):
    status, headers, body = request(site_server, "/latin1.html")
    assert headers["Content-Type"] == "text/html; charset=iso-8859-1"
    assert LATIN1_TEXT in body.decode("iso-8859-1")
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")


@pytest.mark.parametrize("charset", sorted(META_CHARSET_TEXT))
def test_meta_charset(site_server, charset):
    status, headers, body = request(site_server, f"/meta-charset/{charset}.html")
    assert status == 200 and headers["Content-Type"] == "text/html"
    assert f'<meta charset="{charset}">'.encode() in body
    assert META_CHARSET_TEXT[charset] in body.decode(charset)
    assert META_CHARSET_TEXT[charset] not in body.decode("latin-1")
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")


def test_slow(site_server):
    started = time.monotonic()
    assert request(site_server, "/slow?seconds=0.3")[0] == 200
    assert time.monotonic() - started >= 0.3
    assert request(site_server, "/slow?seconds=soon")[0] == 400


def test_big(site_server):
    status, headers, body = request(site_server, "/big?mb=2")
    assert status == 200 and headers["Content-Type"] == "application/octet-stream"
    assert len(body) == int(headers["Content-Length"]) == 2 * 1024 * 1024
    served = site_server.served_body("/big?mb=2")
    assert hashlib.sha256(served).digest() == hashlib.sha256(body).digest()


def test_truncated(site_server):
    host, port = site_server.server_address[:2]
    conn = http.client.HTTPConnection(host, port, timeout=10)
    try:
        conn.request("GET", "/truncated")
        response = conn.getresponse()
        assert response.getheader("Content-Length") == "1024"
        with pytest.raises(http.client.IncompleteRead):
            response.read()
    finally:
        conn.close()


def test_pdf(site_server):
    status, headers, body = request(site_server, "/pdf")
    assert status == 200 and headers["Content-Type"] == "application/pdf" and body == PDF_BYTES
    assert body.startswith(b"%PDF-1.4") and body.rstrip().endswith(b"%%EOF")
    xref = int(re.search(rb"startxref\n(\d+)\n", body).group(1))
    assert body[xref:].startswith(b"xref\n")
    offsets = [int(m) for m in re.findall(rb"(\d{10}) 00000 n", body)]
    for number, offset in enumerate(offsets, 1):
        assert body[offset:].startswith(b"%d 0 obj" % number)
    assert b"(CiteVault test report) Tj" in body


def test_png(site_server):
    status, headers, body = request(site_server, "/image.png")
    assert status == 200 and headers["Content-Type"] == "image/png"
    assert body[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks = 8, {}
    while pos < len(body):
        (length,) = struct.unpack(">I", body[pos : pos + 4])
        tag, data = body[pos + 4 : pos + 8], body[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", body[pos + 8 + length : pos + 12 + length])
        assert crc == zlib.crc32(tag + data) & 0xFFFFFFFF
        chunks[tag] = data
        pos += 12 + length
    width, height = struct.unpack(">II", chunks[b"IHDR"][:8])
    assert len(zlib.decompress(chunks[b"IDAT"])) == height * (1 + 3 * width)
    assert b"IEND" in chunks


def test_numbered_pages(site_server):
    status, _, body = request(site_server, "/pages/42.html")
    assert status == 200 and b"generated page number 42." in body and b"<title>Page 42</title>" in body
    assert 1500 <= len(body) <= 3000
    assert b'href="/pages/' not in body
    _, _, linked = request(site_server, "/pages/42.html?links=2")
    assert re.findall(rb'href="(/pages/\d+\.html)"', linked) == [b"/pages/43.html", b"/pages/44.html"]
    assert request(site_server, "/pages/forty.html")[0] == 404


def test_echo_headers(site_server):
    status, headers, body = request(site_server, "/echo-headers", headers={"User-Agent": "citevault-test/1"})
    assert status == 200 and headers["Content-Type"] == "application/json"
    assert json.loads(body)["User-Agent"] == "citevault-test/1"


# ---- server mechanics ---------------------------------------------------------------------------------


def test_requests_are_recorded(site_server):
    marker = uuid.uuid4().hex
    path = f"/pages/7.html?m={marker}"
    request(site_server, path, headers={"X-Citevault-Test": marker})
    [recorded] = site_server.requests_for(path)
    assert (recorded.method, recorded.url_path) == ("GET", "/pages/7.html")
    assert recorded.headers["x-citevault-test"] == marker
    assert recorded in site_server.requests


def test_keep_alive(site_server):
    host, port = site_server.server_address[:2]
    marker = uuid.uuid4().hex
    conn = http.client.HTTPConnection(host, port, timeout=10)
    try:
        paths = [f"/{p}?k={marker}" for p in ("gzip.html", "chunked.html", "status/404", "articles/target.html")]
        statuses = [request(site_server, path, conn=conn)[0] for path in paths]
    finally:
        conn.close()
    assert statuses == [200, 200, 404, 200]
    clients = {r.client for r in site_server.requests if marker in r.path}
    assert len(clients) == 1  # all four over one connection


def test_head_and_other_methods(site_server):
    status, headers, body = request(site_server, "/articles/target.html", method="HEAD")
    expected = (SITE_ROOT / "articles/target.html").read_bytes()
    assert status == 200 and body == b"" and int(headers["Content-Length"]) == len(expected)
    assert request(site_server, "/articles/target.html", method="POST")[0] == 405


def test_served_body_lookup(site_server, site_url):
    request(site_server, "/pages/5.html?v=1")
    body = site_server.served_body(site_url + "/pages/5.html?v=1")
    assert body == site_server.served_body("/pages/5.html") and b"number 5." in body
    with pytest.raises(KeyError):
        site_server.served_body("/never-requested")


def test_stop_does_not_wait_for_slow_or_idle_connections():
    server = SiteServer()
    server.start()
    host, port = server.server_address[:2]
    idle = http.client.HTTPConnection(host, port, timeout=10)
    slow = http.client.HTTPConnection(host, port, timeout=10)
    errors = []

    def slow_request():
        try:
            request(server, "/slow?seconds=30", conn=slow)
        except (http.client.HTTPException, OSError) as exc:
            errors.append(exc)

    try:
        request(server, "/pages/1.html", conn=idle)
        thread = threading.Thread(target=slow_request)
        thread.start()
        time.sleep(0.2)
        started = time.monotonic()
        server.stop()
        thread.join(5)
        assert time.monotonic() - started < 3 and not thread.is_alive() and errors
    finally:
        idle.close()
        slow.close()


def test_standalone_process_prints_its_url():
    proc = subprocess.Popen(
        [sys.executable, "tests/server.py", "--port", "0", "--root", "tests/site"],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    try:
        base = proc.stdout.readline().strip()
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", base), base
        with urllib.request.urlopen(base + "/pages/1.html", timeout=10) as response:
            assert response.status == 200 and b"generated page number 1." in response.read()
    finally:
        proc.terminate()
        proc.wait(10)
        proc.stdout.close()


# ---- the fixtures' own claims -------------------------------------------------------------------------


class _Links(HTMLParser):
    """Collects (href, in_main_text) for every <a href>, and the text of the story body."""

    VOID = {"meta", "link", "br", "img", "hr", "input"}
    MAIN = {"story-body", "footnotes"}

    def __init__(self):
        super().__init__()
        self.stack: list[set[str]] = []
        self.links: list[tuple[str, bool]] = []
        self.body_text: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        in_main = any(self.MAIN & classes for classes in self.stack)
        if tag == "a" and "href" in attrs:
            self.links.append((attrs["href"], in_main))
        if tag not in self.VOID:
            self.stack.append(set((attrs.get("class") or "").split()))

    def handle_endtag(self, tag):
        if tag not in self.VOID:
            self.stack.pop()

    def handle_data(self, data):
        if any("story-body" in classes for classes in self.stack):
            self.body_text.append(data)


def _unique(items):
    return list(dict.fromkeys(items))


def test_sample_html_matches_its_expected_json():
    expected = json.loads((SITE_ROOT / "articles/sample.expected.json").read_text("utf-8"))
    parser = _Links()
    parser.feed((SITE_ROOT / "articles/sample.html").read_text("utf-8"))
    assert not parser.stack
    main = [href for href, in_main in parser.links if in_main]
    # claim order: the footnote marker stands for the note's link; the notes list itself adds nothing new
    notes = {"#fn1": "/pdf"}
    skip = set(expected["body_links_not_sources"]) - set(notes)
    sources = [notes.get(h) or h.split("#")[0] for h in main if h not in skip]
    assert _unique(sources) == expected["body_sources"]
    assert _unique(h for h in main if h in expected["body_links_not_sources"]) == expected["body_links_not_sources"]
    assert _unique(href for href, in_main in parser.links if not in_main) == expected["boilerplate_links"]

    text = " ".join("".join(parser.body_text).split())
    for citation in expected["citations"]:
        assert (citation.get("sentence") or citation["sentence_startswith"]) in text
    for sentence in expected["unsourced_sentences"]:
        assert sentence in text
    assert len(expected["citations"]) + len(expected["unsourced_sentences"]) == expected["story_body_sentences"]
    assert len(expected["unsourced_sentences"]) >= expected["unsourced_sentences_min"]
    for needle in ("U.S.", "Oct. 7", "Dr. "):
        assert needle in text


def test_sample_md_matches_its_expected_json():
    expected = json.loads((SITE_ROOT / "articles/sample.md.expected.json").read_text("utf-8"))
    markdown = (SITE_ROOT / "articles/sample.md").read_text("utf-8")
    assert "[^1]: See the [report](/pdf)." in markdown
    refs = dict(re.findall(r"^\[(\w+)\]: (\S+)", markdown, flags=re.M))
    body = markdown.split("\n\n[")[0]
    links = re.findall(r"\]\((/[^)]*)\)|\]\[(\w+)\]|\[\^1\]", body)
    found = [inline or refs.get(ref) or "/pdf" for inline, ref in links]
    assert _unique(found) == expected["body_sources"]
    plain = re.sub(r"\[\^1\]", "", body)
    plain = " ".join(re.sub(r"\[([^\]]+)\](\([^)]*\)|\[\w+\])", r"\1", plain).split())
    for sentence in expected["unsourced_sentences"]:
        assert sentence in plain
    for citation in expected["citations"]:
        assert citation["sentence_contains"] in plain


@pytest.mark.parametrize("relpath", ["claims/sample.jsonl", "claims/sample.json", "claims/sample.csv"])
def test_render_site_file(render_site_file, site_url, tmp_path, relpath):
    rendered = render_site_file(relpath)
    assert rendered == tmp_path / relpath
    text = rendered.read_text("utf-8")
    assert "{base}" not in text and f"{site_url}/articles/target.html" in text
    if relpath.endswith(".jsonl"):
        rows = [json.loads(line) for line in text.splitlines()]
        assert rows[0]["sources"] == [f"{site_url}/articles/target.html"]
    elif relpath.endswith(".json"):
        assert len(json.loads(text)["claims"]) == 5
