"""Scheduling a scan: WARC files cut into units at gzip member boundaries, read by worker processes.

:func:`plan_units` cuts; :class:`UnitRunner` runs a scan function over the units (in a process pool when
there is more than one worker) and hands the results back in unit order, at most four units per worker in
flight; :func:`in_order` checks that consecutive units of a file meet, and reads on from where a unit
stopped when a cut turned out not to be a member boundary. Shared by ``reindex``, ``verify`` and crash repair.
"""
from __future__ import annotations

import os
import threading
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

from archive.warc.scan import find_member


@dataclass(frozen=True)
class Unit:
    file_index: int
    path: Path
    start: int
    end: int | None  # None: to the end of the file


def plan_units(paths: list[Path], workers: int, unit_bytes: int | None = None) -> list[Unit]:
    """Cut the files into about four units per worker, of ``unit_bytes`` (by default 1 to 16 MiB: a unit's
    rows travel to the parent in one piece, so this bounds memory too). Small units start the parent's
    writes early and end the workers' reads together, so less of the run is one process working alone;
    but each costs a round trip to the parent (bench/README.md has the measurements behind four)."""
    sizes = [p.stat().st_size for p in paths]
    target = unit_bytes or max(1 << 20, min(16 << 20, sum(sizes) // max(1, workers * 4)))
    units: list[Unit] = []
    for i, (path, size) in enumerate(zip(paths, sizes)):
        starts = [0]
        while workers > 1 and starts[-1] + target < size:
            nxt = find_member(path, starts[-1] + target)
            if nxt >= size:
                break
            starts.append(nxt)
        ends: list[int | None] = [*starts[1:], None]
        units.extend(Unit(i, path, a, b) for a, b in zip(starts, ends))
    return units


#: Units per worker submitted ahead of the caller. Two were too few: while the caller spent 80 ms writing
#: one unit's claims, both workers finished what they had and waited for work.
IN_FLIGHT = 4


class UnitRunner:
    """``scan(unit)`` for each unit, results in unit order; in worker processes when ``workers`` > 1.

    The workers start on ``__enter__``, so the caller can do its own set-up while they read. At most
    :data:`IN_FLIGHT` units per worker are in flight: results never pile up in memory.
    """

    def __init__(self, units: list[Unit], scan: Callable[[Unit], Any], workers: int) -> None:
        self.units = units
        self.scan = scan
        self.workers = min(workers, len(units))
        self.pool: Any = None
        self.pending: deque[Any] = deque()
        self.todo = iter(units)

    def __enter__(self) -> UnitRunner:
        if self.workers > 1:
            import multiprocessing

            # fork is cheapest (the parent's imports are shared) but unsafe once threads run: spawn then.
            methods = multiprocessing.get_all_start_methods()
            method = "fork" if threading.active_count() == 1 and "fork" in methods else "spawn"
            self.pool = multiprocessing.get_context(method).Pool(self.workers)
            for _ in range(IN_FLIGHT * self.workers):
                self._submit()
        return self

    def _submit(self) -> None:
        unit = next(self.todo, None)
        if unit is not None:
            self.pending.append(self.pool.apply_async(self.scan, (unit,)))

    def __iter__(self) -> Iterator[Any]:
        if self.pool is None:
            for unit in self.todo:
                yield self.scan(unit)
            return
        while self.pending:
            result = self.pending.popleft().get()
            self._submit()
            yield result

    def close(self) -> None:
        """Stop the workers (once every result is in: the caller's own work then runs alone)."""
        if self.pool is not None:
            self.pool.terminate()
            self.pool.join()
            self.pool = None

    def __exit__(self, *exc: object) -> None:
        self.close()


def in_order(units: list[Unit], results: Iterator[Any], scan: Callable[[Unit], Any]) -> Iterator[Any]:
    """The units' results, checked to meet: a unit that ran past its end (its cut was not a member boundary
    after all) voids the rest of its file's units, and the file is read on from where it stopped, here."""
    expected: dict[int, int | None] = {}  # file index -> where its next unit must start (None: voided)
    for unit, result in zip(units, results):
        want = expected.get(unit.file_index, 0)
        if want is None:
            continue
        if unit.start != want:
            expected[unit.file_index] = None
            yield scan(Unit(unit.file_index, unit.path, want, None))
            continue
        expected[unit.file_index] = None if unit.end is not None and result.stop < unit.end else result.stop
        yield result


def default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


__all__ = ["Unit", "plan_units", "UnitRunner", "in_order", "default_workers"]
