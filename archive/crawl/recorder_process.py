"""The crawl's recorder in a process of its own, so recording runs beside the crawler instead of taking turns.

:class:`archive.crawl.recorder.Recorder` does its work in a thread; in the crawler's process that thread holds the
GIL for all the Python work of building records and index rows, and the reactor waits for it (the
measurement is in bench/README.md). :class:`RecorderProcess` has the same
calls, but pickles each one down a socket pair to a child process that runs a plain :class:`Recorder`: the
crawler's cost per fetch drops to a share of one pickle and one write (calls go in batches of up to
:data:`BATCH`; the crawl session flushes a partial batch every 0.2 s), and the two processes use both cores.

Nothing about the order of writes changes: the child's Recorder still writes and flushes the WARC record
before it commits the rows that point to it. When the crawler dies (kill -9), the child reads end-of-file,
finishes what it was sent, settles the sources whose page came in a batch and whose verdict never did
(:mod:`archive.crawl.leftovers`), closes its WARC file and releases the crawl's leases; when both are killed,
the next crawl repairs the ``.open`` file as before. The child ignores SIGINT: Ctrl-C stops the crawler, which
then closes the recorder in order.
"""
from __future__ import annotations

import logging
import multiprocessing
import pickle
import signal
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

from archive.crawl.recorder import RecorderStats
from archive.warc.builder import RecordFactory

if TYPE_CHECKING:
    from datetime import datetime
    from multiprocessing.connection import Connection

    from archive.claims import ExtractedDocument
    from archive.crawl.frontier import Claimed
    from archive.home import DataHome
    from archive.recheck.outcomes import Outcome
    from archive.warc.builder import HttpExchange

logger = logging.getLogger(__name__)

FLUSH, CLOSE, BODY = b"flush", b"close", b"body"  # control messages (a batch is a pickle: starts b"\x80")
BATCH = 32  # calls pickled and written together: fewer, larger writes
BATCH_BYTES = 1 << 20  # ... or fewer, once their bodies reach 1 MiB (a 60 MB page goes alone)
QUEUED_BATCHES = 32  # batches the child holds before it stops reading (the crawler then waits)


_started: tuple[multiprocessing.process.BaseProcess, Connection] | None = None


def prestart() -> None:
    """Start the recorder process now, before the crawler imports Scrapy: its own imports (~0.5 s) then
    overlap the crawler's start-up. The next :class:`RecorderProcess` takes it over."""
    global _started
    if _started is None:
        _started = _spawn()


def _spawn() -> tuple[multiprocessing.process.BaseProcess, Connection]:
    # spawn, not fork: the crawler's process has threads (and a reactor) that a fork would copy mid-step.
    context = multiprocessing.get_context("spawn")
    conn, child = context.Pipe(duplex=True)
    process = context.Process(target=serve, args=(child,), name="citevault-recorder", daemon=True)
    process.start()
    child.close()
    return process, conn


@dataclass(frozen=True)
class RecorderSpec:
    """What the child needs to open the same archive and build the same Recorder (all picklable)."""

    root: str
    db_url: str
    crawl_id: str
    operator: str | None
    robots: str
    compresslevel: int
    max_size: int
    check: bool = False  # quote checks while crawling, handed by the child to a checker process (archive.crawl.checker)


class RecorderProcess:
    """:class:`archive.crawl.recorder.Recorder`'s calls, carried out by a child process."""

    def __init__(self, home: DataHome, *, crawl_id: str, operator: str | None = None, robots: str = "obey",
                 compresslevel: int = 3, max_size: int = 1_000_000_000,
                 on_death: Callable[[str], None] | None = None, check: bool = False) -> None:
        """``on_death(message)`` is called once if the child dies early: nothing more can be recorded.
        ``check``: the child also hands what it records to a checker process (:mod:`archive.crawl.checker`)."""
        spec = RecorderSpec(str(home.root), home.db_url, crawl_id, operator, robots, compresslevel, max_size,
                            check)
        global _started
        (self._process, self._conn), _started = _started or _spawn(), None
        self._conn.send(spec)
        self.factory = RecordFactory()
        self.stats = RecorderStats()
        self.closed_files: list[str] = []
        self._on_death = on_death
        self.failure: str | None = None  # why recording stopped before close(), if it did
        self._dead = False
        self._pending: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []
        self._pending_bytes = 0

    # -- the Recorder's calls -----------------------------------------------------------------------------
    def new_record_id(self) -> str:
        return self.factory.new_id()

    # The signatures are :class:`archive.crawl.sink.RecordingSink`'s (documented there).
    def record_exchange(self, ex: HttpExchange, *, record_id: str, source_url: str | None,
                        document_id: str | None, redirect_to: str | None = None, fresh: bool = False,
                        role: str | None = None, links: dict[str, str] | None = None) -> None:
        exchange = ex
        kwargs = dict(record_id=record_id, source_url=source_url, document_id=document_id, redirect_to=redirect_to,
                      fresh=fresh, role=role, links=links)
        if len(exchange.body) >= BATCH_BYTES and not self._dead:
            # A large body goes as a message of its own, written from the response's own bytes: pickled, it
            # would be copied once more here and once more in the child.
            from dataclasses import replace

            self.flush()
            if self._write(BODY) and self._write(exchange.body):
                self._send("record_exchange", (replace(exchange, body=b""),), {**kwargs, "body_follows": True})
                self.flush()
            return
        self._pending_bytes += len(exchange.body) + len(exchange.request_body or b"")
        self._send("record_exchange", (exchange,), kwargs)

    def record_failure(self, url: str, reason: str, *, record_id: str, source_url: str | None,
                       document_id: str | None, detail: dict[str, Any] | None = None,
                       moment: datetime | None = None, role: str | None = None,
                       links: dict[str, str] | None = None) -> None:
        self._send("record_failure", (url, reason), dict(record_id=record_id, source_url=source_url,
                                                         document_id=document_id, detail=detail, moment=moment,
                                                         role=role, links=links))

    def source_done(self, source_id: str, outcome: Outcome, fetched_at: datetime, capture_id: str | None = None,
                    known: Claimed | None = None, url: str | None = None) -> None:
        self._send("source_done", (source_id, outcome, fetched_at, capture_id, known, url), {})

    def page_assets(self, page_record_id: str, page_url: str, body: dict[str, Any],
                    moment: datetime | None = None) -> None:
        self._send("page_assets", (page_record_id, page_url, body, moment), {})

    def document_fetched(self, document_id: str, extracted: ExtractedDocument) -> None:
        from dataclasses import replace

        # the claims are an iterator, consumed once: send them as a list
        self._send("document_fetched", (document_id, replace(extracted, claims=iter(list(extracted.claims)))), {})

    def flush_wait(self, timeout: float = 120) -> None:
        """Return once everything sent so far is written and committed."""
        if self.flush() and self._write(FLUSH):
            self._reply("flush", timeout)

    def close(self) -> RecorderStats:
        """Let the child drain, commit and close its WARC file; its statistics become ours. Safe twice."""
        if self._conn.closed:
            return self.stats
        if self._process.is_alive() and self.flush() and self._write(CLOSE):
            result = self._reply("close", timeout=None)
            if result is not None:
                self.stats, self.closed_files = result
        self._process.join()
        self._conn.close()
        if self._process.exitcode != 0 and self.failure is None:
            self.failure = f"the recorder process ended with exit code {self._process.exitcode}"
            self.stats.errors.append(self.failure)
        return self.stats

    # -- the socket pair -------------------------------------------------------------------------------
    def _send(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> bool:
        if self._dead:
            return False
        self._pending.append((name, args, kwargs))
        return self.flush() if len(self._pending) >= BATCH or self._pending_bytes >= BATCH_BYTES else True

    def _write(self, message: bytes) -> bool:
        """Write one message (a control word, a batch, a large body); False: the child is gone."""
        try:
            self._conn.send_bytes(message)
            return True
        except OSError as exc:  # say it once, the crawl summary will show it too
            self._died(f"cannot reach the recorder process ({exc})")
            return False

    def flush(self) -> bool:
        """Write the calls not sent yet (the crawl session calls this every 0.2 s); False: the child is gone."""
        if self._dead or not self._pending:
            return not self._dead
        batch, self._pending, self._pending_bytes = self._pending, [], 0
        return self._write(pickle.dumps(batch, protocol=pickle.HIGHEST_PROTOCOL))

    def _reply(self, what: str, timeout: float | None = 120) -> Any:
        try:
            if timeout is not None and not self._conn.poll(timeout):
                self._died(f"the recorder process did not answer {what} within {timeout:.0f}s")
                return None
            return self._conn.recv()
        except (EOFError, OSError) as exc:
            self._died(f"the recorder process ended while waiting for {what} ({exc or 'end of file'})")
            return None

    def _died(self, message: str) -> None:
        if not self._dead:
            self._dead = True
            self.failure = message
            logger.error("citevault: %s; what it had not written is not archived", message)
            self.stats.errors.append(message)
            if self._on_death is not None:
                self._on_death(message)


def serve(conn: Connection) -> None:
    """The child: wait for a :class:`RecorderSpec`, then run a Recorder on the calls that arrive until
    ``close`` or end-of-file."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    from archive.api import Archive
    from archive.crawl.recorder import Recorder
    from archive.home import DataHome

    try:
        spec = conn.recv()
    except (EOFError, OSError):  # started ahead of a crawl that never came
        return
    archive = Archive(DataHome.resolve(spec.root, spec.db_url))
    recorder = Recorder(archive.home, archive.engine(), crawl_id=spec.crawl_id, operator=spec.operator,
                        robots=spec.robots, compresslevel=spec.compresslevel, max_size=spec.max_size,
                        queue_size=QUEUED_BATCHES, check=spec.check)
    # This thread only receives: the Recorder's writer thread unpickles and runs the calls, so the
    # crawler's writes into the socket are taken at once. A short switch interval lets this thread have the
    # GIL back quickly after each receive while the writer thread works.
    sys.setswitchinterval(0.001)
    closing = False
    bodies: list[bytes] = []  # large bodies received ahead of the batch that names them
    try:
        while True:
            try:
                message = conn.recv_bytes()
                if message == BODY:
                    bodies.append(conn.recv_bytes())
                    continue
            except (EOFError, OSError):  # the crawler is gone: finish what it sent
                break
            if message == CLOSE:
                closing = True
                break
            if message == FLUSH:
                recorder.flush_wait()
                conn.send(None)
            else:
                recorder.submit_calls(message, bodies)
                bodies = []
    finally:
        stats = recorder.close()
        archive.close()
        if closing:
            conn.send((stats, recorder.store.closed_files))
        conn.close()
