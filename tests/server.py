"""A real HTTP test site on 127.0.0.1 for the crawl tests (stdlib only, no citevault imports).

It serves the checked-in ``tests/site/`` folder plus dynamic routes, one per HTTP edge case the crawler
has to survive. In-process (the ``site_server`` fixture in ``tests/conftest.py``)::

    server = SiteServer()
    base = server.start()          # "http://127.0.0.1:PORT"
    ...
    server.requests                # every request received (RecordedRequest), in arrival order
    server.served_body("/gzip.html")  # entity bytes last sent for that path (what a WARC payload digest covers)
    server.stop()

As a separate process (crawl subprocess tests, benchmarks); the first stdout line is the base URL::

    python tests/server.py --port 0 --root tests/site

Routes (dynamic routes win over static files; everything else is a static file or a 404):

==================================  ========================================================================
Route                               Response
==================================  ========================================================================
``/<file>``                         static file under ``--root``; ``dir/`` serves ``dir/index.html``.
                                    Type by extension: ``.html`` -> ``text/html; charset=utf-8`` except in a
                                    ``meta-charset/`` folder (plain ``text/html``); ``.md``, ``.txt``,
                                    ``.csv`` with ``charset=utf-8``; ``.json``; ``.jsonl`` ->
                                    ``application/x-ndjson``. Paths escaping the root -> 404.
``/robots.txt``                     ``User-agent: *`` / ``Disallow: /private/``
``/private/secret.html``            200 page; a robots-obeying crawler never asks for it
``/redirect/a``                     302, ``Location: /redirect/b``
``/redirect/b``                     301, ``Location: /articles/target.html`` (a static page)
``/redirect/loop``                  302, ``Location: /redirect/loop`` (loop)
``/status/N``                       status N (200 or 400-599: 404, 410, 500, 503 ...) with a small HTML body
``/flaky[?key=K]``                  500 on the first request per key per server lifetime, then 200 HTML.
                                    Use a fresh ``key`` per test (or ``reset_flaky()``) on a shared server
``/gzip.html``                      HTML sent ``Content-Encoding: gzip`` (fixed bytes, ``mtime=0``)
``/chunked.html``                   HTML sent ``Transfer-Encoding: chunked`` in 4 chunks, no Content-Length
``/latin1.html``                    ISO-8859-1 page, ``Content-Type: text/html; charset=iso-8859-1``
``/meta-charset/windows-1251.html`` Bulgarian page, charset only in ``<meta charset>``; header ``text/html``
``/meta-charset/euc-kr.html``       same, Korean
``/meta-charset/shift_jis.html``    same, Japanese
``/slow?seconds=N``                 sleeps N seconds (float, capped at 30), then 200 HTML
``/big?mb=N``                       N MiB (float ok) of ``application/octet-stream`` with Content-Length,
                                    streamed in 64 KiB blocks
``/truncated``                      promises ``Content-Length: 1024``, sends 100 bytes, closes the connection
``/pdf``                            a one-page PDF, ``application/pdf``
``/image.png``                      a 4x4 RGB PNG
``/trickle?seconds=N``              promises 64 KiB, sends 512 bytes every 0.1 s for N seconds (cap 60), closes
``/pages/N.html``                   generated ~2 KB page for integer N; ``?links=K`` adds links to N+1..N+K
``/echo-headers``                   JSON object of the request headers as received (name -> value)
``/mutable/NAME[?delay=N]``          what the test set with ``set_page(NAME, ...)`` (404 before), after N seconds
``/shared/N.html``                  generated page for integer N linking the one stylesheet all of them share,
                                    ``/shared/common.css`` (a static file); ``/styled/news.html`` (static) is
                                    the styled page whose assets the crawl archives (tests/test_assets.py)
==================================  ========================================================================

HTTP/1.1 with keep-alive; every response has a correct Content-Length except ``/chunked.html`` (chunked)
and ``/truncated`` (deliberately short). HEAD is answered for every GET route; other methods get 405.

The claim lists under ``claims/`` hold a ``{base}`` placeholder for the random port:
:func:`render_site_file` writes a copy with the real base URL.
"""
from __future__ import annotations

import argparse
import gzip
import json
import mimetypes
import re
import signal
import socket
import socketserver
import struct
import sys
import threading
import time
import zlib
from dataclasses import dataclass, field
from email.message import Message
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable, Optional, Union
from urllib.parse import parse_qs, unquote, urlsplit

SITE_ROOT = Path(__file__).resolve().parent / "site"
MiB = 1024 * 1024
BLOCK = 64 * 1024
SLOW_CAP_SECONDS = 30.0
BIG_CAP_MB = 4096

ROBOTS_TXT = b"User-agent: *\nDisallow: /private/\n"
TARGET_SENTENCE = "The committee approved the budget of 3.5 million euros."


def _page(title: str, body_html: str, head_extra: str = "") -> str:
    return (
        f'<!DOCTYPE html>\n<html>\n<head>\n{head_extra}<title>{title}</title>\n</head>\n'
        f"<body>\n<h1>{title}</h1>\n{body_html}\n</body>\n</html>\n"
    )


GZIP_SENTENCE = "This page was sent gzip-compressed by the test site."
GZIP_PAGE = _page(
    "Harbor association survey",
    f"<p>{GZIP_SENTENCE}</p>\n<p>Most members backed a barrier like those on the U.S. Gulf Coast.</p>",
    '<meta charset="utf-8">\n',
).encode("utf-8")
GZIP_BYTES = gzip.compress(GZIP_PAGE, mtime=0)

CHUNKED_SENTENCE = "This page was sent in chunks by the test site."
CHUNKED_PAGE = _page(
    "Council live stream",
    f"<p>{CHUNKED_SENTENCE}</p>\n" + "\n".join(f"<p>Update {i}: the debate goes on.</p>" for i in range(1, 9)),
    '<meta charset="utf-8">\n',
).encode("utf-8")
CHUNK_COUNT = 4

LATIN1_TEXT = "Herr Müller aus Zürich trank einen Café au lait. « C'est très naïf », dit Señor Núñez."
LATIN1_PAGE = _page("Entretien", f"<p>{LATIN1_TEXT}</p>").encode("iso-8859-1")

META_CHARSET_TEXT = {
    "windows-1251": "Общинският съвет одобри бюджет от 3,5 милиона евро. Строителството започва догодина.",
    "euc-kr": "시의회는 350만 유로의 예산을 승인했습니다. 공사는 내년 봄에 시작됩니다.",
    "shift_jis": "市議会は三百五十万ユーロの予算を承認しました。工事は来年の春に始まります。",
}
META_CHARSET_TITLE = {"windows-1251": "Новини", "euc-kr": "뉴스", "shift_jis": "ニュース"}


def meta_charset_page(charset: str) -> bytes:
    """The page for ``/meta-charset/{charset}.html``: its charset is declared only in ``<meta charset>``."""
    html = _page(
        META_CHARSET_TITLE[charset], f"<p>{META_CHARSET_TEXT[charset]}</p>", f'<meta charset="{charset}">\n'
    )
    return html.encode(charset)


PRIVATE_PAGE = _page("Private", "<p>This page is disallowed by robots.txt.</p>").encode("utf-8")
FLAKY_PAGE = _page("Flaky", "<p>The flaky route answered on a retry.</p>").encode("utf-8")
FLAKY_ERROR = _page("500 Internal Server Error", "<p>The flaky route fails the first time.</p>").encode("utf-8")


def make_pdf(text: str = "CiteVault test report") -> bytes:
    """A minimal valid one-page PDF, with a correct xref table.

    >>> pdf = make_pdf()
    >>> pdf[:8], pdf.rstrip().endswith(b"%%EOF")
    (b'%PDF-1.4', True)
    """
    return make_text_pdf([text])


def make_text_pdf(lines: list[str], *, compress: bool = False) -> bytes:
    """A one-page PDF with one text line per item (Helvetica, latin-1), correct xref table."""
    content = ("BT /F1 12 Tf 72 720 Td 16 TL " + " ".join(f"({line}) Tj T*" for line in lines) + " ET").encode("latin-1")
    stream_dict = b"<< /Length %d >>" % len(content)
    if compress:
        content = zlib.compress(content)
        stream_dict = b"<< /Length %d /Filter /FlateDecode >>" % len(content)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 4 0 R >> >> "
        b"/Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        stream_dict + b"\nstream\n" + content + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, obj in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + obj + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def make_png(width: int = 4, height: int = 4) -> bytes:
    r"""A small valid RGB PNG (a colour gradient).

    >>> make_png()[:8]
    b'\x89PNG\r\n\x1a\n'
    """

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    rows = b"".join(
        b"\x00" + b"".join(bytes((x * 60 % 256, y * 60 % 256, 128)) for x in range(width)) for y in range(height)
    )
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b"")


PDF_BYTES = make_pdf()
PNG_BYTES = make_png()

_FILLER = (
    "The harbor committee met again to review the tide gauges, the pump stations and the budget lines. "
    "Members read the minutes aloud, compared the figures with last year's and agreed to publish them. "
)


def numbered_page(number: int, links: int = 0) -> bytes:
    """The ~2 KB page for ``/pages/{number}.html``; ``links`` adds links to the next pages."""
    paragraphs = "\n".join(f"<p>{_FILLER}</p>" for _ in range(8))
    nav = "".join(f'<li><a href="/pages/{number + i}.html">Page {number + i}</a></li>' for i in range(1, links + 1))
    body = f"<p>This is generated page number {number}.</p>\n{paragraphs}\n" + (f"<ul>{nav}</ul>" if nav else "")
    return _page(f"Page {number}", body, '<meta charset="utf-8">\n').encode("utf-8")


_BIG_BLOCK = bytes(range(256)) * (BLOCK // 256)


def big_body(size: int) -> bytes:
    """What ``/big`` sends for ``size`` bytes (built in memory: only for checks, the route streams it)."""
    return (_BIG_BLOCK * (size // BLOCK + 1))[:size]


_GZIP_BOMB: list[bytes] = []


def gzip_bomb() -> bytes:
    if not _GZIP_BOMB:
        compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
        block = b"\0" * MiB
        data = b"".join(compressor.compress(block) for _ in range(50)) + compressor.flush()
        _GZIP_BOMB.append(data)
    return _GZIP_BOMB[0]


def status_page(code: int) -> bytes:
    try:
        phrase = HTTPStatus(code).phrase
    except ValueError:
        phrase = "Status"
    return _page(f"{code} {phrase}", f"<p>The test site answered {code} on purpose.</p>").encode("utf-8")


def redirect_page(location: str) -> bytes:
    return _page("Moved", f'<p>Moved to <a href="{location}">{location}</a>.</p>').encode("utf-8")


STATIC_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".htm": "text/html; charset=utf-8",
    ".md": "text/markdown; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".csv": "text/csv; charset=utf-8",
    ".json": "application/json",
    ".jsonl": "application/x-ndjson",
}


def static_content_type(path: Path) -> str:
    if path.suffix.lower() in (".html", ".htm") and "meta-charset" in path.parent.parts:
        return "text/html"  # the page declares its charset itself
    known = STATIC_TYPES.get(path.suffix.lower())
    if known:
        return known
    return mimetypes.guess_type(path.name)[0] or "application/octet-stream"


def render_site_file(relpath: str, base_url: str, tmp_path: Union[str, Path]) -> Path:
    """Copy ``tests/site/{relpath}`` to ``tmp_path/{relpath}`` with ``{base}`` replaced by ``base_url``.

    Byte-exact apart from the substitution (line endings are kept).
    """
    data = (SITE_ROOT / relpath).read_bytes().replace(b"{base}", base_url.rstrip("/").encode("ascii"))
    dest = Path(tmp_path) / relpath
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_bytes(data)
    return dest


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the server received it. ``path`` is the request target, query included."""

    method: str
    path: str
    headers: Message = field(repr=False)
    version: str = "HTTP/1.1"
    client: tuple = ()
    time: float = 0.0

    @property
    def url_path(self) -> str:
        """``path`` without the query string."""
        return urlsplit(self.path).path


Body = Union[bytes, Callable[[], bytes]]


class SiteHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "citevault-testsite/1.0"
    disable_nagle_algorithm = True
    timeout = 60  # idle keep-alive connections are dropped after this
    server: SiteServer

    # routes: (regex on the path without query, handler method name); first match wins
    ROUTES = [
        (r"/robots\.txt", "route_robots"),
        (r"/private/secret\.html", "route_private"),
        (r"/redirect/(a|b|loop)", "route_redirect"),
        (r"/status/(\d{3})", "route_status"),
        (r"/flaky", "route_flaky"),
        (r"/gzip\.html", "route_gzip"),
        (r"/chunked\.html", "route_chunked"),
        (r"/latin1\.html", "route_latin1"),
        (r"/meta-charset/(windows-1251|euc-kr|shift_jis)\.html", "route_meta_charset"),
        (r"/slow", "route_slow"),
        (r"/big", "route_big"),
        (r"/truncated", "route_truncated"),
        (r"/gzip-bomb", "route_gzip_bomb"),
        (r"/malformed-headers", "route_malformed_headers"),
        (r"/chain/(\d+)", "route_chain"),
        (r"/stream", "route_stream"),
        (r"/trickle", "route_trickle"),
        (r"/mutable/([\w-]+)", "route_mutable"),
        (r"/pdf", "route_pdf"),
        (r"/image\.png", "route_png"),
        (r"/pages/(-?\d+)\.html", "route_pages"),
        (r"/echo-headers", "route_echo_headers"),
        (r"/shared/(\d+)\.html", "route_shared"),
    ]
    _COMPILED = [(re.compile(pattern), name) for pattern, name in ROUTES]

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (stdlib signature)
        if self.server.verbose:
            super().log_message(format, *args)

    # ---- dispatch -------------------------------------------------------------------------------------

    def do_GET(self) -> None:
        self._dispatch(head=False)

    def do_HEAD(self) -> None:
        self._dispatch(head=True)

    def _not_allowed(self) -> None:
        self._record()
        self._drain_body()
        self.head = False
        self.send_bytes(405, status_page(405), "text/html; charset=utf-8", [("Allow", "GET, HEAD")])

    do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _not_allowed

    def _record(self) -> None:
        self.server._record(
            RecordedRequest(
                method=self.command,
                path=self.path,
                headers=self.headers,
                version=self.request_version,
                client=tuple(self.client_address),
                time=time.time(),
            )
        )

    def _drain_body(self) -> None:
        # keep the connection in sync when a client sends a body we ignore
        length = int(self.headers.get("Content-Length") or 0)
        while length > 0:
            data = self.rfile.read(min(length, BLOCK))
            if not data:
                break
            length -= len(data)

    def _dispatch(self, head: bool) -> None:
        self._record()
        self._drain_body()
        self.head = head
        parts = urlsplit(self.path)
        self.query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        for pattern, name in self._COMPILED:
            match = pattern.fullmatch(parts.path)
            if match:
                getattr(self, name)(*match.groups())
                return
        self.route_static(parts.path)

    # ---- response helpers -----------------------------------------------------------------------------

    def send_bytes(self, status: int, body: bytes, content_type: str, headers: list[tuple[str, str]] = ()) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        if not self.head:
            self.server._remember(self.path, body)  # before writing: the client may ask as soon as it has read
            self.wfile.write(body)

    def send_html(self, status: int, body: bytes, headers: list[tuple[str, str]] = ()) -> None:
        self.send_bytes(status, body, "text/html; charset=utf-8", headers)

    # ---- routes ---------------------------------------------------------------------------------------

    def route_static(self, path: str) -> None:
        root = self.server.root
        target = (root / unquote(path).lstrip("/")).resolve()
        if target.is_dir():
            target = target / "index.html"
        if not target.is_relative_to(root) or not target.is_file():
            self.send_html(404, status_page(404))
            return
        self.send_bytes(200, target.read_bytes(), static_content_type(target))

    def route_robots(self) -> None:
        self.send_bytes(200, ROBOTS_TXT, "text/plain; charset=utf-8")

    def route_private(self) -> None:
        self.send_html(200, PRIVATE_PAGE)

    def route_redirect(self, which: str) -> None:
        status, location = {
            "a": (302, "/redirect/b"),
            "b": (301, "/articles/target.html"),
            "loop": (302, "/redirect/loop"),
        }[which]
        self.send_html(status, redirect_page(location), [("Location", location)])

    def route_status(self, code: str) -> None:
        status = int(code)
        if status != 200 and not 400 <= status <= 599:
            self.send_html(404, status_page(404))
            return
        self.send_html(status, status_page(status))

    def route_flaky(self) -> None:
        if self.server._flaky_hit(self.query.get("key", "")) == 1:
            self.send_html(500, FLAKY_ERROR)
        else:
            self.send_html(200, FLAKY_PAGE)

    def route_gzip(self) -> None:
        self.send_bytes(200, GZIP_BYTES, "text/html; charset=utf-8", [("Content-Encoding", "gzip")])

    def route_chunked(self) -> None:
        body = CHUNKED_PAGE
        size = -(-len(body) // CHUNK_COUNT)
        chunks = [body[i : i + size] for i in range(0, len(body), size)]
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        chunked = self.request_version != "HTTP/1.0"
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:  # HTTP/1.0 has no chunking: end of body is end of connection
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if self.head:
            return
        self.server._remember(self.path, body)
        for chunk in chunks:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk) if chunked else chunk)
        if chunked:
            self.wfile.write(b"0\r\n\r\n")

    def route_latin1(self) -> None:
        self.send_bytes(200, LATIN1_PAGE, "text/html; charset=iso-8859-1")

    def route_meta_charset(self, charset: str) -> None:
        self.send_bytes(200, meta_charset_page(charset), "text/html")

    def _float_param(self, name: str, default: float) -> float | None:
        try:
            return max(0.0, float(self.query.get(name, default)))
        except ValueError:
            self.send_html(400, status_page(400))
            return None

    def route_slow(self) -> None:
        seconds = self._float_param("seconds", 1.0)
        if seconds is None:
            return
        if self.server._stopping.wait(min(seconds, SLOW_CAP_SECONDS)):
            self.close_connection = True
            return
        body = _page("Slow", f"<p>Answered after {seconds:g} seconds.</p>").encode("utf-8")
        self.send_html(200, body)

    def route_big(self) -> None:
        mb = self._float_param("mb", 1.0)
        if mb is None:
            return
        size = int(min(mb, BIG_CAP_MB) * MiB)
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(size))
        self.end_headers()
        if self.head:
            return
        self.server._remember(self.path, lambda: big_body(size))
        self._write_blocks(size)

    def route_truncated(self) -> None:
        body = b"x" * 100
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", "1024")
        self.end_headers()
        self.close_connection = True
        if not self.head:
            self.server._remember(self.path, body)
            self.wfile.write(body)

    def _write_blocks(self, size: int) -> None:
        """``size`` bytes of the fixed pattern, 64 KiB at a time (never built in memory)."""
        remaining = size
        while remaining > 0:
            n = min(remaining, BLOCK)
            self.wfile.write(_BIG_BLOCK[:n])
            remaining -= n

    def route_gzip_bomb(self) -> None:
        """~50 KB on the wire that inflates to 50 MiB of zeros."""
        self.send_bytes(200, gzip_bomb(), "text/html; charset=utf-8", [("Content-Encoding", "gzip")])

    def route_malformed_headers(self) -> None:
        """A status line and header block no HTTP parser should accept."""
        self.close_connection = True
        body = b"<html><body>garbage headers</body></html>"
        self.server._remember(self.path, body)
        self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type text/html\r\n\x00\x01bad header line\r\n"
                         b"Content-Length: banana\r\n\r\n" + body)

    def route_chain(self, hops: str) -> None:
        """``/chain/N`` redirects to ``/chain/N-1`` ... ``/chain/0`` redirects to the target page."""
        n = int(hops)
        location = f"/chain/{n - 1}" if n > 0 else "/articles/target.html"
        self.send_html(302, redirect_page(location), [("Location", location)])

    def route_stream(self) -> None:
        """``/stream?mb=N``: N MiB with no Content-Length (close-delimited), so a size limit can only be
        enforced while the body arrives."""
        mb = self._float_param("mb", 1.0)
        if mb is None:
            return
        size = int(min(mb, BIG_CAP_MB) * MiB)
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        if self.head:
            return
        try:
            self._write_blocks(size)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up, as it should past its size limit

    def route_trickle(self) -> None:
        """``/trickle?seconds=N``: promises 64 KiB (Content-Length), sends 512 bytes every 0.1 s for N seconds
        (default 60, capped at 60), then closes: a download that outlasts a browser capture's time limit."""
        seconds = self._float_param("seconds", 60.0)
        if seconds is None:
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(64 * 1024))
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        if self.head:
            return
        stop = time.monotonic() + min(seconds, 60.0)
        try:
            while time.monotonic() < stop and not self.server._stopping.is_set():
                self.wfile.write(b"t" * 512)
                self.wfile.flush()
                time.sleep(0.1)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up

    def route_mutable(self, name: str) -> None:
        """Whatever the test last set with ``SiteServer.set_page(name, ...)``; 404 before that.
        ``?delay=N`` answers after N seconds (capped like ``/slow``)."""
        delay = self._float_param("delay", 0.0)
        if delay is None:
            return
        if delay and self.server._stopping.wait(min(delay, SLOW_CAP_SECONDS)):
            self.close_connection = True
            return
        page = self.server._mutable_page(name)
        if page is None:
            self.send_html(404, status_page(404))
            return
        status, body, content_type, headers = page
        self.send_bytes(status, body, content_type, headers)

    def route_pdf(self) -> None:
        self.send_bytes(200, PDF_BYTES, "application/pdf")

    def route_png(self) -> None:
        self.send_bytes(200, PNG_BYTES, "image/png")

    def route_pages(self, number: str) -> None:
        try:
            links = min(max(int(self.query.get("links", 0)), 0), 100)
        except ValueError:
            links = 0
        self.send_html(200, numbered_page(int(number), links))

    def route_shared(self, number: str) -> None:
        body = _page(f"Shared {number}", f"<p>Shared page {number} is styled like the others.</p>",
                     '<meta charset="utf-8">\n<link rel="stylesheet" href="/shared/common.css">\n')
        self.send_html(200, body.encode("utf-8"))

    def route_echo_headers(self) -> None:
        received: dict[str, str] = {}
        for name, value in self.headers.items():
            received[name] = f"{received[name]}, {value}" if name in received else value
        body = json.dumps(received, indent=2, sort_keys=True).encode("utf-8")
        self.send_bytes(200, body, "application/json", [("Cache-Control", "no-store")])


class SiteServer(ThreadingHTTPServer):
    """The test site. ``start()`` serves from a daemon thread; ``stop()`` ends it and closes every socket."""

    daemon_threads = True

    def __init__(self, root: Union[str, Path] = SITE_ROOT, host: str = "127.0.0.1", port: int = 0,
                 *, verbose: bool = False) -> None:
        self.root = Path(root).resolve()
        self.verbose = verbose
        self.requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._served: dict[str, Body] = {}
        self._flaky: dict[str, int] = {}
        self._mutable: dict[str, tuple[int, bytes, str, list[tuple[str, str]]]] = {}
        self._connections: set[socket.socket] = set()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        super().__init__((host, port), SiteHandler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind calls getfqdn(), a reverse DNS lookup that can stall; we know the name
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = host, port

    @property
    def base_url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def set_page(self, name: str, body: Union[str, bytes] = b"", status: int = 200,
                 content_type: str = "text/html; charset=utf-8", headers: Optional[list] = None) -> str:
        """Make ``/mutable/<name>`` answer this from now on (pages that change, vanish and return);
        returns the URL. ``status=None`` removes the page (404)."""
        data = body.encode("utf-8") if isinstance(body, str) else body
        with self._lock:
            self._mutable[name] = (status, data, content_type, list(headers or []))
        return self.url(f"/mutable/{name}")

    def _mutable_page(self, name: str) -> Optional[tuple[int, bytes, str, list[tuple[str, str]]]]:
        with self._lock:
            return self._mutable.get(name)

    def url(self, path: str) -> str:
        return self.base_url + path

    def start(self) -> str:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self.serve_forever, kwargs={"poll_interval": 0.05}, name="citevault-test-site", daemon=True
            )
            self._thread.start()
        return self.base_url

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self.shutdown()
            self._thread.join()
        with self._lock:
            connections = list(self._connections)
        for conn in connections:  # wake handler threads blocked on idle keep-alive connections
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self.server_close()

    def __enter__(self) -> SiteServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- bookkeeping (called from handler threads) ------------------------------------------------------

    def process_request(self, request, client_address) -> None:  # type: ignore[no-untyped-def]
        with self._lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request) -> None:  # type: ignore[no-untyped-def]
        with self._lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request, client_address) -> None:  # type: ignore[no-untyped-def]
        error = sys.exc_info()[1]
        if isinstance(error, (ConnectionError, TimeoutError)) or self._stopping.is_set():
            return  # clients hanging up mid-response is an expected edge case here
        super().handle_error(request, client_address)

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def _remember(self, target: str, body: Body) -> None:
        with self._lock:
            self._served[target] = body
            self._served[urlsplit(target).path] = body

    def _flaky_hit(self, key: str) -> int:
        with self._lock:
            self._flaky[key] = self._flaky.get(key, 0) + 1
            return self._flaky[key]

    # ---- public inspection ------------------------------------------------------------------------------

    def served_body(self, path: str) -> bytes:
        """Entity bytes last sent for ``path`` (request target or full URL; query optional).

        Content-Encoding kept, chunking removed: the bytes a WARC-Payload-Digest covers.
        Raises KeyError when nothing was sent for it (HEAD requests do not count).
        """
        parts = urlsplit(path)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        with self._lock:
            body = self._served.get(target, self._served.get(parts.path))
        if body is None:
            raise KeyError(f"the test site has not sent a body for {path!r}")
        return body() if callable(body) else body

    def requests_for(self, path: str) -> list[RecordedRequest]:
        """Requests whose target equals ``path``, or whose path does when ``path`` has no query."""
        with self._lock:
            snapshot = list(self.requests)
        return [r for r in snapshot if r.path == path or ("?" not in path and r.url_path == path)]

    def clear_requests(self) -> None:
        with self._lock:
            self.requests.clear()

    def reset_flaky(self) -> None:
        with self._lock:
            self._flaky.clear()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Serve the citevault test site; prints its base URL first.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--root", default=str(SITE_ROOT), help="folder of static files (default: tests/site)")
    parser.add_argument("--verbose", action="store_true", help="log each request on stderr")
    args = parser.parse_args(argv)
    server = SiteServer(args.root, args.host, args.port, verbose=args.verbose)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    signal.signal(signal.SIGINT, signal.default_int_handler)  # background shells start us with SIGINT ignored
    print(server.base_url, flush=True)
    try:
        server.serve_forever(poll_interval=0.1)
    except KeyboardInterrupt:
        pass
    finally:
        server._stopping.set()
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
