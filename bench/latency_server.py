"""A static-file HTTP/1.1 server that waits ``--latency-ms`` before every response.

Used by ``bench/crawl_vs_wget.py`` (latency mode): nginx cannot add latency, so this one asyncio process
listens on many loopback addresses at once (127.0.1.1, 127.0.1.2, ... all on one port), keeps connections
alive, and serves the files under ``--root`` with ``await asyncio.sleep(latency)`` before each response, so
a few hundred concurrent connections cost nothing while they wait.

    python bench/latency_server.py --root DIR --hosts 50 --latency-ms 50

Prints ``READY <port>`` on stdout once every address listens; stops on SIGTERM / SIGINT and prints
``served <n> requests`` on stderr. Only loopback addresses (127.0.0.0/8) are accepted.
"""
from __future__ import annotations

import argparse
import asyncio
import ipaddress
import mimetypes
import signal
import socket
import sys
import time
from email.utils import formatdate
from pathlib import Path
from urllib.parse import unquote, urlsplit

IDLE_TIMEOUT = 60.0  # seconds a kept-alive connection may sit without a request
MAX_HEAD = 64 * 1024
BIND_ATTEMPTS = 20

_REASONS = {200: b"OK", 400: b"Bad Request", 404: b"Not Found", 405: b"Method Not Allowed"}


class Files:
    """Files under ``root``, read once and kept in memory (a benchmark's pages fit easily)."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.cache: dict[str, tuple[bytes, bytes] | None] = {}

    def get(self, path: str) -> tuple[bytes, bytes] | None:
        if path in self.cache:
            return self.cache[path]
        found = None
        target = (self.root / path.lstrip("/")).resolve()
        if target.is_relative_to(self.root) and target.is_file():
            ctype = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
            if ctype.startswith("text/"):
                ctype += "; charset=utf-8"
            found = (target.read_bytes(), ctype.encode("ascii"))
        self.cache[path] = found
        return found


class Server:
    def __init__(self, files: Files, latency: float) -> None:
        self.files = files
        self.latency = latency
        self.requests = 0
        self._date = b""
        self._date_at = 0.0

    def date(self) -> bytes:
        now = time.time()
        if now - self._date_at >= 1.0:
            self._date_at = now
            self._date = formatdate(now, usegmt=True).encode("ascii")
        return self._date

    def response(self, status: int, body: bytes, ctype: bytes, keep_alive: bool, head_only: bool) -> bytes:
        head = b"".join((
            b"HTTP/1.1 %d %s\r\n" % (status, _REASONS[status]),
            b"Server: citevault-bench-latency\r\n",
            b"Date: " + self.date() + b"\r\n",
            b"Content-Type: " + ctype + b"\r\n",
            b"Content-Length: %d\r\n" % len(body),
            b"Connection: " + (b"keep-alive" if keep_alive else b"close") + b"\r\n\r\n",
        ))
        return head if head_only else head + body

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                try:
                    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), IDLE_TIMEOUT)
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, asyncio.TimeoutError,
                        ConnectionError):
                    return
                lines = head.split(b"\r\n")
                parts = lines[0].split(b" ")
                if len(parts) != 3:
                    writer.write(self.response(400, b"bad request\n", b"text/plain", False, False))
                    await writer.drain()
                    return
                method, target, version = parts
                headers = {}
                for line in lines[1:]:
                    name, sep, value = line.partition(b":")
                    if sep:
                        headers[name.strip().lower()] = value.strip().lower()
                length = int(headers.get(b"content-length", b"0") or 0)
                if length:  # a body we do not need: read and drop it
                    await reader.readexactly(min(length, 10 * 1024 * 1024))
                conn = headers.get(b"connection", b"")
                keep_alive = (b"close" not in conn) if version == b"HTTP/1.1" else (b"keep-alive" in conn)
                self.requests += 1
                if self.latency > 0:
                    await asyncio.sleep(self.latency)
                if method not in (b"GET", b"HEAD"):
                    payload = self.response(405, b"method not allowed\n", b"text/plain", keep_alive, False)
                else:
                    path = unquote(urlsplit(target.decode("latin-1")).path or "/")
                    if path.endswith("/"):
                        path += "index.html"
                    found = self.files.get(path)
                    if found is None:
                        payload = self.response(404, b"not found\n", b"text/plain", keep_alive, method == b"HEAD")
                    else:
                        payload = self.response(200, found[0], found[1], keep_alive, method == b"HEAD")
                writer.write(payload)
                await writer.drain()
                if not keep_alive:
                    return
        except (ConnectionError, asyncio.IncompleteReadError):
            return
        finally:
            writer.close()


def addresses(first: str, count: int) -> list[str]:
    start = ipaddress.IPv4Address(first)
    out = [str(start + i) for i in range(count)]
    for addr in out:
        if not ipaddress.IPv4Address(addr).is_loopback:
            raise SystemExit(f"latency_server: {addr} is not a loopback address (127.0.0.0/8 only)")
    return out


def bind_all(addrs: list[str], port: int) -> tuple[int, list[socket.socket]]:
    """Listening sockets on every address, all on one port (``port`` 0: pick one free on all)."""
    for _ in range(BIND_ATTEMPTS):
        socks: list[socket.socket] = []
        chosen = port
        try:
            for addr in addrs:
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                socks.append(s)
                s.bind((addr, chosen))
                chosen = s.getsockname()[1]
                s.listen(1024)
                s.setblocking(False)
            return chosen, socks
        except OSError:
            for s in socks:
                s.close()
            if port:
                raise
    raise SystemExit(f"latency_server: no port free on all of {addrs[0]}..{addrs[-1]}")


async def serve(args: argparse.Namespace) -> int:
    addrs = addresses(args.first, args.hosts)
    server = Server(Files(Path(args.root)), args.latency_ms / 1000.0)
    port, socks = bind_all(addrs, args.port)
    servers = [await asyncio.start_server(server.handle, sock=s, limit=MAX_HEAD) for s in socks]
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print(f"READY {port}", flush=True)
    try:
        if args.max_seconds:
            await asyncio.wait_for(stop.wait(), args.max_seconds)
        else:
            await stop.wait()
    except asyncio.TimeoutError:
        print("latency_server: --max-seconds reached, stopping", file=sys.stderr)
    for s in servers:
        s.close()
    print(f"latency_server: served {server.requests} requests", file=sys.stderr, flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--root", required=True, help="directory served as /")
    p.add_argument("--first", default="127.0.1.1", help="first loopback address (default %(default)s)")
    p.add_argument("--hosts", type=int, default=50, help="number of consecutive addresses (default %(default)s)")
    p.add_argument("--port", type=int, default=0, help="port on every address; 0 picks a free one")
    p.add_argument("--latency-ms", type=float, default=50.0, help="delay before each response")
    p.add_argument("--max-seconds", type=float, default=3600.0,
                   help="stop by itself after this long (0: never; default %(default)s)")
    args = p.parse_args(argv)
    if not 1 <= args.hosts <= 254:
        p.error("--hosts must be 1-254")
    return asyncio.run(serve(args))


if __name__ == "__main__":
    sys.exit(main())
