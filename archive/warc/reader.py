"""Reading one record back by (file, offset): the index stores where, this module fetches what.

A capture row names its record by WARC file name, offset and length (STYLE.md "Store WARC filenames, not
paths"); :meth:`archive.home.DataHome.warc_path` resolves the name, so the index never holds a path. The
record is read three ways, each streamed in chunks (a 1 GB PDF is never read whole):

* :func:`raw_record`: the record's gzip member, byte for byte (the web UI's WARC download);
* :func:`open_response`: the archived HTTP response, with its status and headers and the payload as a
  content-decoded stream (replay);
* :func:`copy_payload`: that payload written to a file object (``citevault cat``, text extraction).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Iterator, Mapping

from warcio.archiveiterator import ArchiveIterator

from archive.errors import StoreError

if TYPE_CHECKING:
    from archive.home import DataHome

CHUNK = 1 << 16


def open_warc(path: Path) -> IO[bytes]:
    """Open a WARC file for reading, or raise :class:`StoreError` saying what to do."""
    try:
        return path.open("rb")
    except FileNotFoundError:
        if path.with_name(path.name + ".open").exists():
            raise StoreError(f"{path.name} is still being written by a crawl: try again when it ends") from None
        raise StoreError(f"cannot read {path}: no such file (run `citevault reindex` if WARCs moved)") from None
    except OSError as exc:
        raise StoreError(f"cannot read {path}: {exc.strerror}") from None


def read_range(path: Path, offset: int, length: int) -> Iterator[bytes]:
    """``length`` bytes from ``offset``, in chunks. The file is opened now, so a missing one fails before
    the first chunk is asked for (before a web response's headers go out)."""
    fh = open_warc(path)
    return _chunks(fh, offset, length)


def _chunks(fh: IO[bytes], offset: int, length: int) -> Iterator[bytes]:
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


def open_record(path: Path, offset: int) -> ArchivedResponse:
    """Open the record at ``offset``: a response's (or revisit's) HTTP status, headers and payload with its
    gzip, deflate or brotli Content-Encoding undone; another record's Content-Type and block as stored."""
    fh = open_warc(path)
    try:
        fh.seek(offset)
        records = ArchiveIterator(fh)
        record = next(records, None)
        if record is None:
            raise StoreError(f"no WARC record at {path.name}@{offset} (run `citevault verify`)")
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


def copy_payload(path: Path, offset: int, out: IO[bytes]) -> None:
    """Stream the payload of the record at ``offset`` to ``out``, HTTP content-decoded for responses."""
    with open_record(path, offset) as record:
        for chunk in record.chunks():
            out.write(chunk)


# -- by capture row: the file name resolved under the data home ------------------------------------------
def raw_record(home: DataHome, row: Mapping[str, Any]) -> Iterator[bytes]:
    """The gzip member of capture ``row``'s record, byte for byte: ``warc_length`` bytes from ``warc_offset``."""
    return read_range(home.warc_path(row["warc_file"]), row["warc_offset"], row["warc_length"])


def open_response(home: DataHome, row: Mapping[str, Any]) -> ArchivedResponse:
    """:func:`open_record` for capture ``row`` (a ``response`` or ``resource`` capture; resolve revisits
    first with :func:`archive.index.lookup.payload_capture`)."""
    return open_record(home.warc_path(row["warc_file"]), row["warc_offset"])


__all__ = [
    "CHUNK",
    "ArchivedResponse",
    "copy_payload",
    "open_record",
    "open_response",
    "open_warc",
    "raw_record",
    "read_range",
]
