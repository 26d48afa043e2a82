"""Quote checks while the crawl goes on, beside the recorder, instead of all of them after the crawl.

The recorder hands over the sources of each batch of 2xx captures it has committed; a thread checks
the claims citing them (:func:`archive.checks.verify_document_captures` restricted to those sources and to
this crawl's captures), in batches: everything queued since the last pass goes into the next. With the
recorder in a process of its own (the default), this runs on the second core while the crawler fetches.

At the end of the crawl :meth:`Checker.close` finishes what is queued; the crawl's own end-of-crawl pass
(``crawl_id``) then finds nothing left, or only what this thread could not do (an error is logged, never
fatal: ``citevault check`` can redo it). Verdicts are the same as those of ``citevault check``.
"""
from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from archive.home import DataHome

logger = logging.getLogger(__name__)
_STOP = object()
SOURCES_PER_PASS = 50  # a backlog is checked in passes of this many sources: texts of a pass are held together


class Checker:
    """A thread that checks the claims citing the sources it is given, as they come."""

    def __init__(self, engine: Engine, home: DataHome, crawl_id: str) -> None:
        self.engine = engine
        self.home = home
        self.crawl_id = crawl_id
        self.checked = 0
        self.errors: list[str] = []
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="citevault-checker", daemon=True)
        self._thread.start()

    def submit(self, source_ids: Iterable[str]) -> None:
        """Sources whose new captures are committed (their rows readable by another connection)."""
        ids = sorted(set(source_ids))
        if ids:
            self._queue.put(ids)

    def close(self) -> None:
        """Check what is queued, then stop. Safe to call twice."""
        if self._thread.is_alive():
            self._queue.put(_STOP)
            self._thread.join()

    def _run(self) -> None:
        stop = False
        while not stop:
            batch: set[str] = set()
            item = self._queue.get()
            while True:  # everything queued so far goes into one pass
                if item is _STOP:
                    stop = True
                else:
                    batch.update(item)  # type: ignore[arg-type]
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
            ids = sorted(batch)
            for i in range(0, len(ids), SOURCES_PER_PASS):
                self._check(ids[i:i + SOURCES_PER_PASS])

    def _check(self, source_ids: list[str]) -> None:
        from archive.checks import verify_document_captures

        try:
            stats = verify_document_captures(self.engine, self.home, crawl_id=self.crawl_id, source_ids=source_ids)
            self.checked += stats.checked
        except Exception as exc:  # noqa: BLE001 - the end-of-crawl pass (or `citevault check`) redoes it
            logger.warning("citevault: quote checks while crawling failed: %s", exc)
            self.errors.append(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
