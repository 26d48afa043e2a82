"""Reading ``.warc.gz`` files fast, for ``reindex``, ``verify`` and crash repair (docs/integrity.md ("Rebuilding and
verifying the index").

Three layers, as in warcio: :class:`WarcReader` walks the gzip members of a file and knows their compressed
offsets and lengths; :meth:`WarcReader._read_head` parses one record's WARC headers; :class:`Record` hands out
its block as a stream limited to the record. It streams: a file is read in 1 MiB blocks, each member is
inflated in pieces of at most 256 KiB whatever its ratio, and no record or file is ever held whole.

A damaged member (bad deflate data, CRC mismatch, a record shorter than its Content-Length) is reported with
its file and offset, and reading resumes at the next member that starts a WARC record; a file cut short ends
with a "truncated record" problem. Nothing is raised for a bad record.
"""
from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

from archive.clock import naive_utc

try:  # ISA-L inflates faster than zlib (bench/README.md): same format, same errors
    from isal import isal_zlib as _zlib
except ImportError:  # pragma: no cover - zlib fallback
    import zlib as _zlib  # type: ignore[no-redef]

_ZlibError: type[Exception] = _zlib.error  # type: ignore[assignment]  # isal has no stubs

if TYPE_CHECKING:
    from archive.home import DataHome

OPEN_SUFFIX = ".open"
DOCUMENT_URN = "urn:citevault:document:"  # same values as archive.ingest (not imported: it pulls claims)
ARTICLE_URN = "urn:citevault:article:"
READ_BLOCK = 1 << 20  # file reads
FIND_BLOCK = 1 << 16  # file reads while looking for the next gzip member (cutting units, resyncing)
FEED = 1 << 16  # compressed bytes handed to the inflater per call
PIECE = 1 << 18  # most decompressed bytes produced per call: bounds memory whatever the ratio
MAX_HEADER = 1 << 20  # a WARC or HTTP header block larger than this is treated as corrupt
GZIP_MAGIC = b"\x1f\x8b\x08"


_NAMES: dict[str, str] = {}  # header name as written -> its key in Record.headers (stripped, lower case)


class RecordError(Exception):
    """A record that cannot be read; ``offset`` is where its gzip member starts."""

    def __init__(self, offset: int, message: str) -> None:
        super().__init__(message)
        self.offset = offset


class Truncated(RecordError):
    """The file ends inside a gzip member."""


class BadRecord(ValueError):
    """A record that was read whole but lacks what the index needs (no WARC-Record-ID, a bad date...)."""


class Record:
    """One WARC record being read: headers parsed, block streamed by :meth:`chunks` (once)."""

    __slots__ = ("offset", "length", "headers", "type", "http_head", "status", "http_headers", "error",
                 "finished", "_reader", "_rest", "_left")

    def __init__(self, reader: WarcReader, offset: int, headers: dict[str, str], first: bytes, size: int) -> None:
        self._reader = reader
        self.offset = offset
        self.length = 0  # compressed member length, set by finish()
        self.headers = headers
        self.type = headers.get("warc-type", "")
        self.http_head: bytes | None = None  # raw HTTP header block (status line .. CRLFCRLF), if any
        self.status: int | None = None
        self.http_headers: list[tuple[str, str]] = []
        self.error: RecordError | None = None  # set when the stream broke inside this record
        self.finished = False
        self._rest = first[:size]  # block bytes already inflated, not yet handed out
        self._left = size - len(self._rest)  # block bytes still inside the inflater
        if len(first) > size:
            reader._tail = first[size:]  # the record's trailing CRLFs (checked by finish)

    def get(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def _more(self) -> bytes:
        if self._rest:
            data, self._rest = self._rest, b""
            return data
        if self._left <= 0:
            return b""
        try:
            data = self._reader._inflate(self.offset)
        except RecordError as exc:
            self.error = exc
            raise
        if not data:
            self.error = RecordError(self.offset, f"record ends {self._left} bytes short of its Content-Length")
            raise self.error
        if len(data) > self._left:
            self._reader._tail = data[self._left:]
            data = data[: self._left]
        self._left -= len(data)
        return data

    def parse_http(self) -> bool:
        """Split the HTTP header block off the block (response, request, revisit); False if there is none."""
        head = b""
        while True:
            data = self._more()
            if not data:
                break
            head += data
            end = head.find(b"\r\n\r\n")
            if end >= 0:
                self._rest = head[end + 4:] + self._rest
                head = head[: end + 4]
                break
            if len(head) > MAX_HEADER:
                break
        first = head[: head.find(b"\r\n")]
        if not head.endswith(b"\r\n\r\n") or not (first.startswith(b"HTTP/") or b" HTTP/" in first):
            self._rest = head + self._rest  # not HTTP: the whole block is the payload
            return False
        self.http_head = head
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(None, 2)
        if lines[0].startswith("HTTP/"):  # a response's status line (a request line has no status)
            try:
                self.status = int(parts[1])
            except (IndexError, ValueError):
                self.status = None
        for line in lines[1:]:
            if line:
                name, _, value = line.partition(":")
                self.http_headers.append((name.strip(), value.strip()))
        return True

    def http_header(self, name: str, last: bool = False) -> str | None:
        found = None
        for key, value in self.http_headers:
            if key.lower() == name:
                if not last:
                    return value
                found = value
        return found

    def chunks(self) -> Iterator[bytes]:
        """The rest of the block (the payload, after :meth:`parse_http`), in pieces of at most 256 KiB."""
        while True:
            data = self._more()
            if not data:
                return
            yield data

    def read_all(self, limit: int) -> bytes:
        """The rest of the block, for small bodies (metadata JSON); past ``limit`` bytes it is cut."""
        out = b""
        for data in self.chunks():
            out += data
            if len(out) > limit:
                return out[:limit]
        return out

    def finish(self) -> None:
        """Read to the end of the gzip member (CRC checked) and set :attr:`length`. Raises
        :class:`RecordError` (and keeps it in :attr:`error`) if the member is damaged."""
        if self.finished:
            return
        if self.error is not None:
            raise self.error
        for _ in self.chunks():
            pass
        try:
            self._reader._end_member(self)
        except RecordError as exc:
            self.error = exc
            raise
        self.finished = True


class WarcReader:
    """Iterate the records of one ``.warc.gz`` file from ``start``, stopping at the first member that begins
    at or after ``end``; :attr:`stop` is then where the next member starts (or the file size).

    Bad records are appended to :attr:`problems` (offset, message) and skipped: reading resumes at the next
    gzip member that starts a WARC record.
    """

    def __init__(self, path: Path, start: int = 0, end: int | None = None) -> None:
        self.path = path
        self.fh = path.open("rb")
        self.fh.seek(start)
        self.end = end
        self.buf = b""
        self.view = memoryview(self.buf)
        self.base = start  # file offset of buf[0]
        self.pos = 0  # index in buf of the next compressed byte
        self.stop = start
        self.problems: list[tuple[int, str]] = []
        self.records = 0
        self._member: Any = None
        self._tail = b""

    def close(self) -> None:
        self.fh.close()

    # -- compressed side ----------------------------------------------------------------------------
    @property
    def tell(self) -> int:
        return self.base + self.pos

    def _fill(self) -> bool:
        self.base += len(self.buf)
        self.buf = self.fh.read(READ_BLOCK)
        self.view = memoryview(self.buf)
        self.pos = 0
        return bool(self.buf)

    def _inflate(self, offset: int) -> bytes:
        """Up to PIECE decompressed bytes of the current member; b"" once it ended."""
        if self._tail:
            data, self._tail = self._tail, b""
            return data
        d = self._member
        while not d.eof:
            if self.pos >= len(self.buf) and not self._fill():
                raise Truncated(offset, "truncated record: the file ends inside it")
            piece = self.view[self.pos:self.pos + FEED]
            try:
                out: bytes = d.decompress(piece, PIECE)
            except _ZlibError as exc:
                raise RecordError(offset, f"corrupt gzip data ({exc})") from None
            self.pos += len(piece) - len(d.unused_data if d.eof else d.unconsumed_tail)
            if out:
                return out
        return b""

    def _end_member(self, record: Record) -> None:
        rest = self._tail
        self._tail = b""
        while True:
            if rest.strip(b"\r\n"):
                raise RecordError(record.offset, "unexpected data after the record in its gzip member")
            rest = self._inflate(record.offset)
            if not rest:
                break
        record.length = self.tell - record.offset

    # -- records --------------------------------------------------------------------------------------
    def __iter__(self) -> Iterator[Record]:
        """Records in file order. The caller may read a record's block, call :meth:`Record.finish` and catch
        :class:`RecordError`; whatever it leaves is drained here, and a damaged member is reported and
        skipped whoever found it."""
        try:
            while True:
                offset = self._next_member()
                if offset is None:
                    return
                try:
                    record = self._read_head(offset)
                    if record is None:
                        continue
                    yield record
                    record.finish()
                    self.records += 1
                except RecordError as exc:
                    self.problems.append((exc.offset, str(exc)))
                    if isinstance(exc, Truncated):
                        self.stop = self.tell
                        return
                    self._resync(offset + 1)
        finally:
            self.fh.close()

    def _next_member(self) -> int | None:
        while self.pos >= len(self.buf):
            if not self._fill():
                self.stop = self.base
                return None
        offset = self.tell
        if self.end is not None and offset >= self.end:
            self.stop = offset
            return None
        if self.buf[self.pos:self.pos + 3] != GZIP_MAGIC and not self._magic_across_blocks():
            self.problems.append((offset, "not the start of a gzip member (not a .warc.gz file, or damaged)"))
            self._resync(offset + 1)
            return self._next_member()
        self._member = _zlib.decompressobj(31)
        return offset

    def _magic_across_blocks(self) -> bool:
        if len(self.buf) - self.pos >= 3:
            return False
        keep = self.buf[self.pos:]
        base = self.tell
        more = self.fh.read(READ_BLOCK)
        self.buf = keep + more
        self.view = memoryview(self.buf)
        self.base, self.pos = base, 0
        return self.buf[:3] == GZIP_MAGIC

    def _read_head(self, offset: int) -> Record | None:
        head = b""
        while True:
            data = self._inflate(offset)
            if not data:
                if head.strip():
                    raise RecordError(offset, "record ends inside its WARC headers")
                record = Record(self, offset, {}, b"", 0)  # an empty member: skip it quietly
                self._end_member(record)
                return None
            head += data
            end = head.find(b"\r\n\r\n")
            if end >= 0:
                break
            if len(head) > MAX_HEADER:
                raise RecordError(offset, "no end of WARC headers in the first 1 MiB")
        if not head.startswith(b"WARC/"):
            raise RecordError(offset, "gzip member does not start with a WARC record")
        headers: dict[str, str] = {}
        names = _NAMES
        for line in head[:end].decode("utf-8", "replace").split("\r\n")[1:]:
            name, _, value = line.partition(":")
            key = names.get(name)
            if key is None:
                key = name.strip().lower()
                if len(names) < 1024:  # the few header names a crawl writes, not whatever a file holds
                    names[name] = key
            if key not in headers:  # the first of repeated fields
                headers[key] = value.strip()
        try:
            size = int(headers["content-length"])
        except (KeyError, ValueError):
            raise RecordError(offset, "record without a valid Content-Length") from None
        return Record(self, offset, headers, head[end + 4:], size)

    def _resync(self, after: int) -> None:
        """Move to the first gzip member after ``after`` that inflates to a WARC record (or to the end)."""
        found = find_member(self.path, after, self.end)
        self._member = None
        self._tail = b""
        self.fh.seek(found)
        self.base, self.buf, self.view, self.pos = found, b"", memoryview(b""), 0


def find_member(path: Path, after: int, limit: int | None = None) -> int:
    """Offset of the first gzip member at or after ``after`` whose data starts ``WARC/``, else ``limit`` or
    the file size. A chance ``1f 8b 08`` inside compressed data is rejected by inflating a little of it."""
    size = path.stat().st_size
    limit = size if limit is None else min(limit, size)
    with path.open("rb") as fh:
        pos = after
        while pos < limit:
            fh.seek(pos)
            window = fh.read(FIND_BLOCK + 8192)  # a member is usually found in the first few KiB: read little
            i = window.find(GZIP_MAGIC)
            while 0 <= i < FIND_BLOCK:
                if pos + i >= limit:
                    return limit
                if _starts_record(window[i:i + 8192]):
                    return pos + i
                i = window.find(GZIP_MAGIC, i + 1)
            pos += FIND_BLOCK
    return limit


def _starts_record(data: bytes) -> bool:
    try:
        out: bytes = _zlib.decompressobj(31).decompress(data, 16)
    except _ZlibError:
        return False
    return out.startswith(b"WARC/")


def parse_warc_date(value: str | None) -> datetime | None:
    """WARC-Date as a naive UTC datetime (what the index stores).

    >>> parse_warc_date("2026-11-28T05:00:01.250000Z")
    datetime.datetime(2026, 11, 28, 5, 0, 1, 250000)
    >>> parse_warc_date("2026-11-28T05:00:01Z")
    datetime.datetime(2026, 11, 28, 5, 0, 1)
    """
    if not value:
        return None
    if len(value) in (20, 27) and value[-1] == "Z":  # what citevault and warcio write: naive UTC at once
        try:
            return datetime.fromisoformat(value[:-1])
        except ValueError:
            pass
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        from warcio.timeutils import iso_date_to_datetime

        try:
            moment = iso_date_to_datetime(value)
        except Exception:
            return None
    return naive_utc(moment)


def warc_files(home: DataHome) -> list[Path]:
    """Finished files and ``.open`` ones, in name order (which is time order for citevault's names)."""
    if not home.warcs.is_dir():
        return []
    names = [p for p in home.warcs.iterdir() if p.is_file() and (p.name.endswith(".warc.gz")
                                                               or p.name.endswith(".warc.gz" + OPEN_SUFFIX))]
    return sorted(names, key=lambda p: (index_name(p), p.name))


def index_name(path: Path) -> str:
    """The name the index stores: an unfinished file is recorded under the name it gets when closed."""
    return path.name[: -len(OPEN_SUFFIX)] if path.name.endswith(OPEN_SUFFIX) else path.name


__all__ = ["WarcReader", "Record", "RecordError", "Truncated", "BadRecord", "find_member", "parse_warc_date",
           "warc_files", "index_name", "OPEN_SUFFIX", "DOCUMENT_URN", "ARTICLE_URN"]
