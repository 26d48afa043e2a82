"""The per-host limit holds: a server counts the requests in flight to it while a whole crawl runs.

Scrapy 2.19 under the asyncio reactor let every queued request of a host through at once (23 in flight
with a limit of 4); crawler/downloader.py keeps the limit. Pages and their assets both count.
"""
from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator

import pytest

from tests.helpers import citevault


class _Counter:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.now = 0
        self.peak = 0
        self.served = 0


def _handler(counter: _Counter) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (stdlib signature)
            pass

        def do_GET(self) -> None:
            if self.path == "/robots.txt":
                self._send(404, b"", "text/plain")
                return
            with counter.lock:
                counter.now += 1
                counter.peak = max(counter.peak, counter.now)
            try:
                time.sleep(0.15)  # long enough for the queue to build up behind the limit
                if self.path.startswith("/page"):
                    number = self.path[5:].split(".")[0]
                    assets = "".join(f'<img src="/img{number}-{i}.png">' for i in range(3))
                    self._send(200, f"<html><body><p>Page {number}.</p>{assets}</body></html>".encode(), "text/html")
                else:
                    self._send(200, b"\x89PNG\r\n\x1a\n", "image/png")
            finally:
                with counter.lock:
                    counter.now -= 1
                    counter.served += 1

        def _send(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


@pytest.fixture
def counted_site() -> Iterator[tuple[str, _Counter]]:
    counter = _Counter()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(counter))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", counter
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("per_host", [2, 4])
def test_requests_in_flight_to_one_host_never_exceed_the_limit(tmp_path: Path, counted_site: tuple[str, _Counter],
                                                                per_host: int) -> None:
    base, counter = counted_site
    article = tmp_path / "article.md"
    article.write_text("".join(f"Claim {n} cites [a page]({base}/page{n}.html).\n\n" for n in range(16)))
    result = citevault(tmp_path / "home", "archive", str(article), "-s", f"CITEVAULT_PER_HOST={per_host}")
    assert result.code == 0, result
    assert counter.served == 16 * 4, counter.served  # every page and its three images were fetched
    assert 1 <= counter.peak <= per_host, f"{counter.peak} requests in flight to one host, limit {per_host}"
