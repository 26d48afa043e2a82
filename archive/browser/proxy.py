"""warcprox inside the browser worker: the recording proxy every byte the browser exchanges goes through.

warcprox (GPL-2.0+, the optional ``citevault[browser]`` extra) runs in-process in the worker
(:mod:`archive.browser.worker`), never in the crawl's own process. Its own WARC writer is off (``--prefix -``,
no stats or dedup database); an early postfetch plugin, :class:`RecordTap`, takes each exchange's raw
request and response bytes off warcprox's temporary file and hands them to :class:`RecordWriter`, which writes
them into citevault's own WARC files (:mod:`archive.browser.records`), so naming, warcinfo and digests follow
the rest of the archive.

One warcprox per parallel page (a :class:`Slot`): every exchange is then known to belong to the page its
slot is rendering. Three hooks on warcprox's handler class (it offers no other way in):
``_connect_to_remote_server`` checks the address really connected to (:mod:`archive.browser.guard`),
``_proxy_request`` counts exchanges in flight per page, and ``RecordedUrl.__init__`` tags each exchange
with its page.
"""
from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from archive.browser.guard import Destinations
from archive.browser.records import RawExchange, exchange_records
from archive.warc.builder import BROWSER_ROLE

_SLOTS: dict[int, Slot] = {}  # id(warcprox's server object) -> its slot
_TL = threading.local()  # handler thread -> the page run current when its request started


@dataclass
class PageRun:
    """One page being rendered through a slot: what its exchanges became."""

    url: str
    crawl_id: str | None
    destinations: Destinations
    page_response_id: str | None = None
    exchanges: int = 0
    truncated: int = 0
    aborting: bool = False
    loaded: bool = False  #: the page's load event fired: top-level navigations are answered 204 from now on
    documents: int = 0  #: top-level navigations let through (the page itself, and the hops of its redirects)
    document_status: int | None = None  #: the status of the last one
    navigations_blocked: int = 0
    inflight: int = 0
    #: ``time.monotonic()`` when the last exchange in flight ended (the page's network went silent)
    silent_since: float = field(default_factory=time.monotonic)
    done: threading.Condition = field(default_factory=threading.Condition)

    def started(self) -> None:
        with self.done:
            self.inflight += 1

    def finished(self) -> None:
        with self.done:
            self.inflight -= 1
            if self.inflight <= 0:
                self.silent_since = time.monotonic()
            self.done.notify_all()

    def wait_idle(self, until: float) -> None:
        with self.done:
            while self.inflight > 0:
                left = until - time.monotonic()
                if left <= 0:
                    return
                self.done.wait(min(left, 0.2))


class RecordWriter:
    """The worker's one WARC writer (a :class:`~archive.warc.store.WarcStore` behind a lock): records from
    every slot's tap thread and renderings from the page loop. Rows are kept for the worker to index."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self.lock = threading.Lock()
        self.captures: list[dict[str, Any]] = []

    def exchange(self, run: PageRun, ex: RawExchange) -> str:
        from archive.index.rows import capture_row

        own = run.page_response_id is None and ex.url == run.url
        role = BROWSER_ROLE if own else "asset"
        response, request = exchange_records(self.store.factory, ex, role=role, crawl_id=run.crawl_id)
        with self.lock:
            written = self.store.write_group([response.record, request.record])
            self.store.flush()
            where = written[0]
            status = ex.response_head.split(b" ", 2)[1:2]
            head = ex.response_head.decode("latin-1")
            content_type = next((line.split(":", 1)[1].strip() for line in head.split("\r\n")[1:]
                                 if line.lower().startswith("content-type:")), None)
            location = next((line.split(":", 1)[1].strip() for line in head.split("\r\n")[1:]
                             if line.lower().startswith("location:")), None)
            code = int(status[0]) if status and status[0].isdigit() else None
            redirect = None
            if location and code is not None and 300 <= code < 400:
                from urllib.parse import urljoin

                redirect = urljoin(ex.url, location)
            self.captures.append(capture_row(
                record_id=response.record_id, record_type="response", url=ex.url, fetched_at=ex.fetched_at,
                warc_file=where.warc_file, warc_offset=where.offset, warc_length=where.length, http_status=code,
                content_type=content_type, payload_digest=response.payload_digest,
                payload_sha256=response.payload_sha256, payload_length=response.payload_length,
                redirect_to=redirect, crawl_id=run.crawl_id, role=role))
        if own:
            run.page_response_id = response.record_id
        run.exchanges += 1
        run.truncated += bool(ex.truncated)
        return response.record_id


def _incomplete(head: bytes, body: bytes) -> bool:
    """Is a response body shorter than its Content-Length, or without its last chunk?

    >>> _incomplete(b"HTTP/1.1 200 OK\\r\\nContent-Length: 5\\r\\n\\r\\n", b"abc")
    True
    >>> _incomplete(b"HTTP/1.1 200 OK\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n", b"3\\r\\nabc\\r\\n0\\r\\n\\r\\n")
    False
    """
    lines = head.decode("latin-1").lower().split("\r\n")[1:]
    values = {k.strip(): v.strip() for k, _, v in (line.partition(":") for line in lines if ":" in line)}
    if "chunked" in values.get("transfer-encoding", ""):
        return not body.endswith(b"0\r\n\r\n")
    length = values.get("content-length", "")
    return length.isdigit() and len(body) < int(length)


def _tap_class() -> type:
    import warcprox
    import warcprox.warcproxy

    class RecordTap(warcprox.BaseStandardPostfetchProcessor):  # type: ignore[misc]  # warcprox is untyped
        """Early in warcprox's postfetch chain, before its temporary file is closed: the raw bytes of each
        exchange to :class:`RecordWriter`."""

        CHAIN_POSITION = "early"

        def _process_url(self, recorded_url: Any) -> None:
            run: PageRun | None = getattr(recorded_url, "citevault_run", None)
            slot = _SLOTS.get(id(self.controller.proxy)) if self.controller is not None else None
            try:
                if run is None or slot is None or isinstance(recorded_url, warcprox.warcproxy.FailedUrl):
                    return
                recorder = recorded_url.response_recorder
                if recorder is None:
                    return
                tmp = recorder.tempfile
                tmp.seek(0)
                raw = tmp.read()
                head, body = raw[: recorder.payload_offset], raw[recorder.payload_offset:]
                truncated = recorded_url.truncated.decode() if recorded_url.truncated else None
                if truncated is None and run.aborting and _incomplete(head, body):
                    truncated = "time"  # the page's time limit cut the upstream connection
                url = recorded_url.url
                ip = recorded_url.remote_ip
                slot.writer.exchange(run, RawExchange(
                    url=url.decode("utf-8") if isinstance(url, bytes) else url, request=recorded_url.request_data,
                    response_head=head, response_body=body,
                    ip_address=ip.decode("ascii") if isinstance(ip, bytes) else ip,
                    fetched_at=recorded_url.timestamp or datetime.now(UTC), truncated=truncated))
            finally:
                if run is not None:
                    run.finished()

    return RecordTap


def _install_hooks() -> None:
    """Class patches on warcprox's handler (once per process); each finds its slot by ``self.server``."""
    import warcprox
    import warcprox.warcproxy

    handler = warcprox.warcproxy.WarcProxyHandler
    if getattr(handler, "_citevault", False):
        return
    handler.allow_localhost = True  # warcprox refuses 127.0.0.1 outright; archive.browser.guard decides
    connect, proxy_request = handler._connect_to_remote_server, handler._proxy_request
    recorded_init = warcprox.warcproxy.RecordedUrl.__init__

    def _connect_to_remote_server(self: Any) -> Any:
        slot = _SLOTS.get(id(self.server))
        run = slot.current if slot is not None else None
        if run is not None and _navigation(self):
            redirected = run.document_status is not None and 300 <= run.document_status < 400
            if run.loaded or (run.documents > 0 and not redirected):
                # the page navigates away: 204 No Content keeps the browser on it (not recorded)
                run.navigations_blocked += 1
                _answer(self, 204, b"")
                raise warcprox.RequestBlockedByRule(f"citevault: navigation to {self.url} blocked")
            run.documents += 1
        sock = connect(self)
        ip = sock.getpeername()[0]
        if run is None or not run.destinations.allows(self.hostname, int(self.port), ip):
            try:
                sock.close()
            except OSError:
                pass
            _answer(self, 403, b"refused by citevault: a rendered page may not reach this address\n")
            raise warcprox.RequestBlockedByRule(f"citevault: {self.hostname}:{self.port} ({ip}) refused")
        return sock

    def _proxy_request(self: Any, *args: Any, **kwargs: Any) -> Any:
        slot = _SLOTS.get(id(self.server))
        run = slot.current if slot is not None else None
        _TL.run = run
        if run is not None:
            run.started()
        try:
            recorded = proxy_request(self, *args, **kwargs)
            if run is not None and _navigation(self):
                run.document_status = getattr(recorded, "status", None)
            return recorded
        except BaseException:
            if run is not None and not getattr(_TL, "queued", False):
                run.finished()
            raise
        finally:
            _TL.run = None
            _TL.queued = False

    def _recorded_init(self: Any, *args: Any, **kwargs: Any) -> None:
        recorded_init(self, *args, **kwargs)
        self.citevault_run = getattr(_TL, "run", None)
        _TL.queued = self.citevault_run is not None  # from here on the tap owns the in-flight count

    handler._connect_to_remote_server = _connect_to_remote_server
    handler._proxy_request = _proxy_request
    warcprox.warcproxy.RecordedUrl.__init__ = _recorded_init
    handler._citevault = True


def _navigation(handler: Any) -> bool:
    """Is the request a top-level navigation (Chromium's Fetch Metadata headers; frames say ``iframe``)?"""
    headers = handler.headers
    return bool(headers.get("Sec-Fetch-Mode") == "navigate" and headers.get("Sec-Fetch-Dest") == "document")


def _answer(handler: Any, status: int, body: bytes) -> None:
    """Answer the browser from the proxy itself (warcprox leaves that to whoever blocks a request)."""
    try:
        handler.send_response_only(status)
        handler.send_header("Content-Length", str(len(body)))
        handler.send_header("Content-Type", "text/plain; charset=utf-8")
        handler.send_header("Connection", "close")
        handler.end_headers()
        handler.wfile.write(body)
        handler.close_connection = True
    except OSError:
        pass


class Slot:
    """One warcprox (its own port, threads and postfetch chain) serving one page at a time."""

    def __init__(self, workdir: Path, writer: RecordWriter, fetch_timeout: float) -> None:
        import warcprox
        import warcprox.controller
        import warcprox.main

        _install_hooks()
        self.writer = writer
        self.current: PageRun | None = None
        self.stragglers: list[PageRun] = []  # pages that ended with exchanges still being written
        ca = workdir / "warcprox-ca.pem"
        argv = ["warcprox", "--address", "127.0.0.1", "--port", "0", "--cacert", str(ca),
                "--certs-dir", str(workdir / "warcprox-certs"), "--dir", str(workdir / "unused"),
                "--digest-algorithm", "sha1", "--base32", "--stats-db-file", "", "--dedup-db-file", "",
                "--fetch-timeout", str(fetch_timeout), "--socket-timeout", str(fetch_timeout),
                "--plugin", "archive.browser.proxy.RecordTap", "--prefix", "-", "-q"]
        args = warcprox.main.parse_args(argv)
        self.options = warcprox.Options(**vars(args))
        self.controller = warcprox.controller.WarcproxController(self.options)
        _SLOTS[id(self.controller.proxy)] = self
        self.controller.start()
        self.ca_path = ca
        self.proxy_url = f"http://127.0.0.1:{self.controller.proxy.server_port}"

    def begin(self, run: PageRun) -> None:
        self.current = run

    def end(self, run: PageRun, deadline: float) -> None:
        """Wait for the page's exchanges to be written; past ``deadline``, cut its upstream connections
        (their responses are written with ``WARC-Truncated: time``) and give them two seconds."""
        run.wait_idle(deadline)
        if run.inflight > 0:
            self.cut(run)
            run.wait_idle(time.monotonic() + 2.0)
        if run.inflight > 0:
            self.stragglers.append(run)  # written later, by the same tap: close() waits for them
        self.current = None

    def cut(self, run: PageRun) -> None:
        """The page's time is up: shut the upstream connections of its exchanges still in flight, so what
        they received so far is written (``WARC-Truncated: time``) and nothing more arrives."""
        run.aborting = True
        proxy = self.controller.proxy
        with proxy.remote_server_socks_lock:
            socks = list(proxy.remote_server_socks)
        for sock in socks:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def drain(self, until: float) -> None:
        """Wait (until ``until``, a ``time.monotonic()``) for the exchanges of pages that ended early: a
        response cut at the time limit is still being read when its page is done."""
        for run in self.stragglers:
            run.wait_idle(until)

    def idle(self) -> bool:
        """Has every exchange of this slot's pages been written (none in flight or queued to be)?"""
        runs = [*self.stragglers, *([self.current] if self.current is not None else [])]
        return all(run.inflight <= 0 for run in runs)

    def stop_postfetch(self) -> None:
        """Tell warcprox's postfetch threads to stop once their queues are empty. Its own shutdown stops
        them one after the other, each waking from a 0.5 s poll: told together, beforehand, they are all
        gone after one poll (4 slots took 4.5 s to close one by one, bench/README.md "browser.py")."""
        for processor in self.controller._postfetch_chain:
            processor.stop.set()
        self.controller.stop.set()  # its fetch watchdog too

    def close(self, wait: float = 15.0) -> None:
        """Stop this warcprox once the exchanges of pages that ended early are written (at most ``wait``
        seconds)."""
        self.drain(time.monotonic() + wait)
        self.controller.shutdown()
        _SLOTS.pop(id(self.controller.proxy), None)


def __getattr__(name: str) -> Any:
    """``archive.browser.proxy.RecordTap``, the class warcprox's ``--plugin`` loads, made on first use so
    that importing this module does not import warcprox."""
    if name == "RecordTap":
        tap = _tap_class()
        globals()["RecordTap"] = tap
        return tap
    raise AttributeError(name)
