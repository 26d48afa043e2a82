"""WARC files under the data home: open, write gzip members, roll over, close and rename.

A file is written as ``….warc.gz.open`` and renamed when closed, so a finished file is never half-written.
Every file starts with a ``warcinfo`` record. Each record is its own gzip member, so any record can be
read alone from (filename, offset, length) — the triple the index stores.
"""
from __future__ import annotations

import os
import socket
import zlib
from io import BufferedWriter
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from warcio.warcwriter import WARCWriter

from archive import __version__
from archive.crawl.pids import node_name
from archive.warc.builder import RecordFactory

OPEN_SUFFIX = ".open"
DEFAULT_MAX_SIZE = 1_000_000_000
#: zlib level 3 rather than warcio's 9: compression is the recorder's biggest cost, and level 3 costs a
#: fraction of level 9's time for files a few percent larger (figures: bench/README.md).
DEFAULT_COMPRESSLEVEL = 3


@dataclass(frozen=True)
class WrittenRecord:
    """Where a record landed: the index stores exactly this."""

    warc_file: str
    offset: int
    length: int


class _GzipMember:
    """A write-only stream that turns everything written before ``flush()`` into one gzip member."""

    def __init__(self, out, level: int) -> None:  # type: ignore[no-untyped-def]
        self.out = out
        self.compressor = zlib.compressobj(level, zlib.DEFLATED, zlib.MAX_WBITS + 16)

    def write(self, data: bytes) -> None:
        self.out.write(self.compressor.compress(data))

    def flush(self) -> None:
        self.out.write(self.compressor.flush())


class WarcStore:
    """Appends records to the current WARC file of ``directory``; thread-confined (one writer)."""

    def __init__(
        self,
        directory: Path,
        *,
        max_size: int = DEFAULT_MAX_SIZE,
        compresslevel: int = DEFAULT_COMPRESSLEVEL,
        operator: str | None = None,
        robots: str = "obey",
        factory: RecordFactory | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.directory = directory
        self.max_size = max_size
        self.compresslevel = compresslevel
        self.operator = operator
        self.robots = robots
        self.factory = factory or RecordFactory()
        self.clock = clock or (lambda: datetime.now(timezone.utc))
        self.hostname = node_name()  # the node writes only files named after it (shared warcs/)
        self._writer = WARCWriter(None, gzip=False, warc_version="1.1")
        self._file: BufferedWriter | None = None
        self._name: str | None = None
        self._serial = 0
        self.closed_files: list[str] = []

    def _new_name(self) -> str:
        self._serial += 1
        stamp = self.clock().strftime("%Y%m%d%H%M%S%f")
        return f"citevault-{stamp}-{self._serial:05d}-{self.hostname}-{os.getpid()}.warc.gz"

    def _open(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self._name = self._new_name()
        self._file = open(self.directory / (self._name + OPEN_SUFFIX), "xb")
        info = {
            "software": f"citevault/{__version__} (warcio)",
            "format": "WARC File Format 1.1",
            "conformsTo": "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/",
            "hostname": socket.gethostname(),
            "operator": self.operator or "",
            "robots": self.robots,
        }
        self._write(self.factory.warcinfo(self._name, info, self.clock()))

    def _write(self, record: object) -> WrittenRecord:
        assert self._file is not None and self._name is not None
        offset = self._file.tell()
        self._writer._write_warc_record(_GzipMember(self._file, self.compresslevel), record)
        return WrittenRecord(self._name, offset, self._file.tell() - offset)

    def write(self, record: object) -> WrittenRecord:
        """Append one record as one gzip member, rolling over to a new file past ``max_size``."""
        return self.write_group([record])[0]

    def write_group(self, records: list[object]) -> list[WrittenRecord]:
        """Append records that belong together (a response and its request) to the same file."""
        if self._file is not None and self._file.tell() >= self.max_size:
            self.close()
        if self._file is None:
            self._open()
        return [self._write(record) for record in records]

    def flush(self) -> None:
        """Push written records to the OS: call before indexing them, so the index never points past the file."""
        if self._file is not None:
            self._file.flush()

    def close(self) -> None:
        """Close the current file and drop its ``.open`` suffix."""
        if self._file is None:
            return
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        assert self._name is not None
        os.replace(self.directory / (self._name + OPEN_SUFFIX), self.directory / self._name)
        self.closed_files.append(self._name)
        self._file = None
        self._name = None

    def __enter__(self) -> WarcStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
