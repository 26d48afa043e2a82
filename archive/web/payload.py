"""Reading one capture's bytes for the web UI: the raw WARC record (file + offset + length, exactly as
stored) and the archived HTTP response (status, headers, content-decoded payload stream).

Records are read through :meth:`archive.home.DataHome.warc_path`, so the index never holds a path, and
streamed in chunks: a 1 GB PDF is never read whole.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Iterator

from warcio.archiveiterator import ArchiveIterator

from archive.errors import StoreError
from archive.home import DataHome

CHUNK = 1 << 16


def _open(home: DataHome, row: dict[str, Any]) -> IO[bytes]:
    path: Path = home.warc_path(row["warc_file"])
    try:
        return path.open("rb")
    except FileNotFoundError:
        if path.with_name(path.name + ".open").exists():
            raise StoreError(f"{row['warc_file']} is still being written by a crawl: try again when it ends") from None
        raise StoreError(f"cannot read {path}: no such file (run `citevault reindex` if WARCs moved)") from None
    except OSError as exc:
        raise StoreError(f"cannot read {path}: {exc.strerror}") from None


def raw_record(home: DataHome, row: dict[str, Any]) -> Iterator[bytes]:
    """The record's gzip member, byte for byte: ``warc_length`` bytes from ``warc_offset``."""
    fh = _open(home, row)  # opened before the first chunk, so a missing file fails before headers go out
    return _copy_range(fh, row["warc_offset"], row["warc_length"])


def _copy_range(fh: IO[bytes], offset: int, length: int) -> Iterator[bytes]:
    with fh:
        fh.seek(offset)
        left = length
        while left > 0:
            chunk = fh.read(min(CHUNK, left))
            if not chunk:
                raise StoreError(f"WARC file ends before the record's end (offset {offset}, length {length}): "
                                 "run `citevault verify`")
            left -= len(chunk)
            yield chunk


@dataclass
class ArchivedResponse:
    """An archived HTTP response (or resource record) opened for reading. Use as a context manager, or
    hand :meth:`chunks` to a streaming response, which closes the file when done."""

    status: int | None
    headers: list[tuple[str, str]]
    content_type: str | None
    _stream: Any = field(repr=False)
    _file: IO[bytes] = field(repr=False)
    _records: Any = field(default=None, repr=False)  # the iterator the record came from: kept alive with it
    _head: bytes = field(default=b"", repr=False)  # what :meth:`read` took from the stream, for :meth:`chunks`

    def header(self, name: str) -> str | None:
        lower = name.lower()
        return next((v for k, v in self.headers if k.lower() == lower), None)

    def read(self, limit: int) -> bytes | None:
        """The content-decoded payload if it is at most ``limit`` bytes, else None. Call once, before
        :meth:`chunks`, which still streams the whole payload."""
        self._head = self._stream.read(limit + 1)
        return None if len(self._head) > limit else self._head

    def chunks(self) -> Iterator[bytes]:
        try:
            if self._head:
                head, self._head = self._head, b""
                yield head
            for chunk in iter(lambda: self._stream.read(CHUNK), b""):
                yield chunk
        finally:
            self.close()

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> ArchivedResponse:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_response(home: DataHome, row: dict[str, Any]) -> ArchivedResponse:
    """Open the record of ``row`` (a ``response`` or ``resource`` capture; resolve revisits first with
    :func:`archive.index.lookup.payload_capture`). Gzip, deflate and brotli Content-Encoding is undone."""
    fh = _open(home, row)
    try:
        fh.seek(row["warc_offset"])
        records = ArchiveIterator(fh)
        record = next(records, None)
        if record is None:
            raise StoreError(f"no WARC record at {row['warc_file']}@{row['warc_offset']} (run `citevault verify`)")
        if record.http_headers is not None and record.rec_type in ("response", "revisit"):
            http = record.http_headers
            status = int(http.get_statuscode()) if http.get_statuscode().isdigit() else None
            headers = list(http.headers)
            content_type = http.get_header("Content-Type")
            stream = record.content_stream()
        else:
            status = None
            headers = []
            content_type = record.rec_headers.get_header("Content-Type")
            stream = record.raw_stream
        return ArchivedResponse(status, headers, content_type, stream, fh, records)
    except Exception:
        fh.close()
        raise
