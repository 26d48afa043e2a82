"""Quote checks while the crawl goes on, in a process of their own, instead of all of them after the crawl.

The recorder hands over the sources of each batch of 2xx captures it has committed; a child process checks
the claims citing them (:func:`archive.checks.verify_document_captures` restricted to those sources and to
this crawl's captures, reading the committed rows from the index as any other connection would), in
batches: everything queued since the last pass goes into the next. A process, not a thread: checks cost
about twice what recording does per page, and a thread beside the recorder shared its GIL, so the
recorder (and through it the crawler) waited for them. The child starts on the first sources it is given
and runs on whichever core the crawler and recorder leave.

It is a fresh interpreter (``python -m archive.crawl.checker``, what a ``spawn`` start does), not a
``multiprocessing`` child: the recorder runs in a daemonic process, which multiprocessing forbids to have
children. Source ids go down its stdin, one batch a line, which a thread in the child drains at once, so
the recorder never waits for a check; the database URL goes in the first line, not on the command line.
At the end of the crawl :meth:`Checker.close` closes that pipe and waits for the child to finish what is
queued: the crawl ends only when every capture it was given is checked. An error is logged, never fatal
(a check that failed, a child that died): the crawl's own end-of-crawl pass (``crawl_id``) then does what
was left, and ``citevault check`` can redo anything. Verdicts are the same as those of ``citevault check``.
On PostgreSQL two passes run side by side (:func:`passes_at_once`): one extracts while the other's writes
wait on the server.
"""
from __future__ import annotations

import json
import logging
import os
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Iterable
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from archive.home import DataHome

logger = logging.getLogger(__name__)
SOURCES_PER_PASS = 50  # a backlog is checked in passes of this many sources: texts of a pass are held together


class Checker:
    """Checks the claims citing the sources it is given, as they come, in a child process."""

    def __init__(self, home: DataHome, crawl_id: str) -> None:
        """The child opens its own engine on ``home``'s database."""
        self.home = home
        self.crawl_id = crawl_id
        self.checked = 0
        self.errors: list[str] = []
        self._child: subprocess.Popen[str] | None = None
        self._closed = False

    def submit(self, source_ids: Iterable[str]) -> None:
        """Sources whose new captures are committed (their rows readable by another connection)."""
        ids = sorted(set(source_ids))
        if not ids or self._closed:
            return
        if self._child is None:
            self._child = self._start()
        if self._child.stdin is not None and not self._child.stdin.closed:
            try:
                self._child.stdin.write(" ".join(ids) + "\n")
                self._child.stdin.flush()
            except (OSError, ValueError) as exc:
                self._failed(f"cannot reach the checker process ({exc})")

    def close(self) -> None:
        """Check what is queued, then stop. Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        child = self._child
        if child is None:
            return
        try:
            if child.stdin is not None and not child.stdin.closed:
                child.stdin.close()
        except OSError:
            pass
        out = ""
        if child.stdout is not None:
            with child.stdout:
                out = child.stdout.read()
        code = child.wait()
        lines = out.strip().splitlines()
        try:
            result = json.loads(lines[-1])
            self.checked += int(result["checked"])
            self.errors.extend(str(e) for e in result["errors"])
        except (IndexError, ValueError, KeyError, TypeError):
            self._failed(f"the checker process ended before it finished (exit code {code})")

    def _start(self) -> subprocess.Popen[str]:
        import archive

        package_root = os.path.dirname(os.path.dirname(os.path.abspath(archive.__file__)))
        env = dict(os.environ)  # this code, whatever sys.path the crawl was started with
        env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
        child = subprocess.Popen([sys.executable, "-m", "archive.crawl.checker"], stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE, env=env, text=True, encoding="utf-8")
        assert child.stdin is not None
        child.stdin.write(json.dumps({"root": str(self.home.root), "db_url": self.home.db_url,
                                      "crawl_id": self.crawl_id}) + "\n")
        return child

    def _failed(self, message: str) -> None:
        logger.warning("citevault: quote checks while crawling: %s", message)
        self.errors.append(message)


def main() -> None:
    """The child: a JSON header line, then lines of source ids until end-of-file; answers one JSON line
    ``{"checked": N, "errors": [...]}`` on stdout (anything else printed goes to stderr)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the crawler, which closes us in order
    answer: IO[str] = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    header = json.loads(sys.stdin.readline() or "null")
    if not header:  # started for a crawl that never sent anything
        return
    arrived: queue.SimpleQueue[list[str] | None] = queue.SimpleQueue()

    def receive() -> None:  # drain the pipe at once: the recorder must never wait on a full pipe
        for line in sys.stdin:
            if line.strip():
                arrived.put(line.split())
        arrived.put(None)  # end-of-file: the crawl is over, or the recorder is gone

    threading.Thread(target=receive, name="citevault-checker-receive", daemon=True).start()
    checked, errors = serve(arrived, header["root"], header["db_url"], header["crawl_id"])
    try:
        answer.write(json.dumps({"checked": checked, "errors": errors}) + "\n")
        answer.close()
    except OSError:  # the recorder is gone (killed): its verdicts are written all the same
        pass


def serve(arrived: queue.SimpleQueue[list[str] | None], root: str, db_url: str,
          crawl_id: str) -> tuple[int, list[str]]:
    """Check the sources that arrive until ``None``; how many verdicts were written, and the errors."""
    from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

    from archive.api import Archive
    from archive.home import DataHome

    checked, errors = 0, []
    try:
        archive = Archive(DataHome.resolve(root, db_url))
        try:
            engine = archive.engine()
            lanes = passes_at_once(engine.dialect.name)
            running: set[Future[tuple[int, str | None]]] = set()

            def collect(done: set[Future[tuple[int, str | None]]]) -> None:
                nonlocal checked
                for future in done:
                    count, error = future.result()
                    checked += count
                    if error:
                        errors.append(error)

            def free_a_lane() -> None:
                nonlocal running
                if len(running) >= lanes:
                    done, running = wait(running, return_when=FIRST_COMPLETED)
                    collect(done)

            with ThreadPoolExecutor(lanes, thread_name_prefix="citevault-check") as pool:
                stop = False
                while not stop:
                    free_a_lane()  # first: what queues meanwhile joins the next pass
                    batch: set[str] = set()
                    item = arrived.get()
                    while True:  # everything queued so far goes into one pass
                        if item is None:
                            stop = True
                        else:
                            batch.update(item)
                        try:
                            item = arrived.get_nowait()
                        except queue.Empty:
                            break
                    ids = sorted(batch)
                    for i in range(0, len(ids), SOURCES_PER_PASS):
                        free_a_lane()
                        running.add(pool.submit(_check, engine, archive.home, crawl_id, ids[i:i + SOURCES_PER_PASS]))
                done, running = wait(running)
                collect(done)
        finally:
            archive.close()
    except Exception as exc:  # noqa: BLE001 - e.g. the index cannot be opened: the end-of-crawl pass redoes it
        logger.warning("citevault: quote checks while crawling stopped: %s", exc)
        errors.append(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
    return checked, errors


def passes_at_once(dialect: str) -> int:
    """Passes run side by side, each in a thread with its own transaction. On PostgreSQL two: a pass's
    writes wait on the server (it compresses each stored text), and the other pass extracts meanwhile
    (py-spy: the checker, the busiest process of a crawl, waited there ~19% of its time with one). On SQLite
    one: its writes are in-process and take the database's one write lock anyway."""
    return 2 if dialect == "postgresql" else 1


def _check(engine: Engine, home: DataHome, crawl_id: str, source_ids: list[str]) -> tuple[int, str | None]:
    from archive.checks import verify_document_captures

    try:
        stats = verify_document_captures(engine, home, crawl_id=crawl_id, source_ids=source_ids)
        return stats.checked, None
    except Exception as exc:  # noqa: BLE001 - the end-of-crawl pass (or `citevault check`) redoes it
        logger.warning("citevault: quote checks while crawling failed: %s", exc)
        return 0, str(exc).splitlines()[0] if str(exc) else type(exc).__name__


if __name__ == "__main__":
    main()
