"""Rebuild the index from the WARC files alone (README "Rebuilding and verifying the index").

Every id is derived from content (:mod:`archive.ids`) and every row comes from a WARC record, so the rebuilt
index is the one the crawl wrote: captures from ``response``/``revisit``/``metadata``/``resource`` records
(through :func:`archive.index.capture_row`, the crawl's own row builder), documents, claims, citations and
sources from the ``urn:citevault:document:`` claims records (the last one of a document wins), source states
and crawls from the captures.

The reading half is shared with :mod:`archive.verify`. It streams: a WARC file is read in 1 MiB blocks, each
gzip member is inflated in bounded pieces (:class:`WarcReader`), payloads are hashed as they pass, and no
record or file is ever held whole. Files are cut into units at gzip member boundaries and scanned by worker
processes in parallel; the parent only writes rows, in big ``executemany`` batches inside one transaction.

A damaged member (bad deflate data, CRC mismatch, a record shorter than its Content-Length) is reported with
its file and offset, and the scan resumes at the next member that starts a WARC record; a file cut short
ends with a "truncated record" problem. Nothing is raised for a bad record.
"""
from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from collections import deque
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator

try:  # ISA-L inflates ~1.6x faster than zlib; same format, same errors
    from isal import isal_zlib as _zlib
except ImportError:  # pragma: no cover - isal is a declared dependency
    import zlib as _zlib  # type: ignore[no-redef]

_ZlibError: type[Exception] = _zlib.error  # type: ignore[assignment]  # isal has no stubs

from archive.errors import StoreError

if TYPE_CHECKING:
    from sqlalchemy import Connection
    from sqlalchemy.engine import Engine

    from archive.home import DataHome

OPEN_SUFFIX = ".open"
DOCUMENT_URN = "urn:citevault:document:"  # same values as archive.documents (not imported: it pulls claims)
ARTICLE_URN = "urn:citevault:article:"
READ_BLOCK = 1 << 20  # file reads
FEED = 1 << 16  # compressed bytes handed to the inflater per call
PIECE = 1 << 18  # most decompressed bytes produced per call: bounds memory whatever the ratio
MAX_HEADER = 1 << 20  # a WARC or HTTP header block larger than this is treated as corrupt
GZIP_MAGIC = b"\x1f\x8b\x08"
BATCH = 5000


# =====================================================================================================
# Reading: gzip members -> WARC records, with compressed offsets and lengths
# =====================================================================================================
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
        for line in head[:end].decode("utf-8", "replace").split("\r\n")[1:]:
            name, _, value = line.partition(":")
            headers.setdefault(name.strip().lower(), value.strip())
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
            window = fh.read(READ_BLOCK + 4096)
            i = window.find(GZIP_MAGIC)
            while 0 <= i < READ_BLOCK:
                if pos + i >= limit:
                    return limit
                if _starts_record(window[i:i + 8192]):
                    return pos + i
                i = window.find(GZIP_MAGIC, i + 1)
            pos += READ_BLOCK
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
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        from warcio.timeutils import iso_date_to_datetime  # type: ignore[import-untyped]

        try:
            moment = iso_date_to_datetime(value)
        except Exception:
            return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return moment


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


# =====================================================================================================
# Scanning in parallel: files cut into units at member boundaries, one worker process per CPU
# =====================================================================================================
@dataclass(frozen=True)
class Unit:
    file_index: int
    path: Path
    start: int
    end: int | None  # None: to the end of the file


def plan_units(paths: list[Path], workers: int, unit_bytes: int | None = None) -> list[Unit]:
    """Cut the files into about four units per worker, of ``unit_bytes`` (by default 8 to 64 MiB: a unit's
    rows travel to the parent in one piece, so this bounds memory too)."""
    sizes = [p.stat().st_size for p in paths]
    target = unit_bytes or max(8 << 20, min(64 << 20, sum(sizes) // max(1, workers * 4)))
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


class UnitRunner:
    """``scan(unit)`` for each unit, results in unit order; in worker processes when ``workers`` > 1.

    The workers start on ``__enter__``, so the caller can do its own set-up while they read. At most two
    units per worker are in flight: results never pile up in memory.
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
            for _ in range(2 * self.workers):
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

    def __exit__(self, *exc: object) -> None:
        if self.pool is not None:
            self.pool.terminate()
            self.pool.join()


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


# =====================================================================================================
# Reindex: records -> rows
# =====================================================================================================
#: A claims record with more claims than this is parsed again by the parent, streaming, at the end.
CLAIMS_IN_UNIT = 100_000


@dataclass
class ClaimsRecord:
    """A document's claims record, parsed by a worker (``complete`` False: too big, left to the parent)."""

    date: datetime
    file_index: int
    offset: int
    doc_id: str
    complete: bool = True
    document: dict[str, Any] | None = None
    claims: list[dict[str, Any]] = field(default_factory=list)
    citations: list[dict[str, Any]] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)  # id -> url

    @property
    def key(self) -> tuple[datetime, int, int]:
        """Order of claims records: the last one of a document wins (WARC-Date, then file, then offset)."""
        return (self.date, self.file_index, self.offset)


@dataclass
class UnitRows:
    """What one unit of a WARC file contributes to the index (built in a worker)."""

    file_index: int
    start: int
    stop: int
    records: int = 0
    captures: list[dict[str, Any]] = field(default_factory=list)
    sources: dict[str, tuple[str, datetime]] = field(default_factory=dict)  # id -> (url, first fetch)
    claim_records: list[ClaimsRecord] = field(default_factory=list)
    problems: list[tuple[int, str]] = field(default_factory=list)


_SOURCE_IDS: dict[str, str] = {}


def _source_id(url: str) -> str:
    """:func:`archive.ids.source_id`, remembered: a source's URL is met in its claims records and again in
    every hop of every fetch of it, and normalizing a URL costs more than inflating its record."""
    sid = _SOURCE_IDS.get(url)
    if sid is None:
        from archive.ids import source_id

        if len(_SOURCE_IDS) >= 1 << 16:
            _SOURCE_IDS.clear()
        sid = _SOURCE_IDS[url] = source_id(url)
    return sid


def _payload_sha256(record: Record) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    for data in record.chunks():
        digest.update(data)
        size += len(data)
    return digest.hexdigest(), size


def _capture(record: Record, name: str) -> dict[str, Any] | None:
    """The capture row of a record, or None for records that are not captures."""
    from archive import ids
    from archive.index import capture_row

    kind = record.type
    uri = record.get("warc-target-uri") or ""
    if kind not in ("response", "revisit", "metadata", "resource") or uri.startswith(DOCUMENT_URN):
        return None
    if kind == "metadata" and record.get("citevault-error") is None:
        return None  # only failed fetches are captures; other metadata (outlinks...) is not indexed
    record_id = record.get("warc-record-id")
    fetched_at = parse_warc_date(record.get("warc-date"))
    if not record_id or fetched_at is None:
        raise BadRecord("record without WARC-Record-ID or a valid WARC-Date")
    source_url = record.get("citevault-source-url")
    values: dict[str, Any] = {
        "record_id": record_id, "record_type": kind, "url": uri, "fetched_at": fetched_at,
        "source_id": _source_id(source_url) if source_url else None,
        "document_id": record.get("citevault-document-id"), "crawl_id": record.get("citevault-crawl-id"),
    }
    if kind == "metadata":
        body = record.read_all(1 << 20)
        try:
            error = json.loads(body).get("error")
        except (ValueError, AttributeError):
            error = None
        values["error"] = error or record.get("citevault-error")
    elif kind == "resource":
        values["content_type"] = record.get("content-type")
        values["payload_digest"] = record.get("warc-payload-digest")
        values["payload_sha256"], values["payload_length"] = _payload_sha256(record)
        if uri.startswith(ARTICLE_URN):
            values["document_id"] = uri[len(ARTICLE_URN):]
    else:
        if record.parse_http():
            values["http_status"] = record.status
            values["content_type"] = record.http_header("content-type")
            location = record.http_header("location", last=True)
            if location and record.status is not None and 300 <= record.status < 400:
                from urllib.parse import urljoin

                values["redirect_to"] = urljoin(uri, location)
        values["payload_digest"] = record.get("warc-payload-digest")
        if kind == "response":
            values["payload_sha256"], values["payload_length"] = _payload_sha256(record)
        else:
            refers = record.get("warc-refers-to")
            values["refers_to"] = ids.capture_id(refers) if refers else None
    row = capture_row(warc_file=name, warc_offset=record.offset, warc_length=0, **values)
    if source_url:
        row["_source_url"] = source_url
    return row


def scan_for_index(unit: Unit) -> UnitRows:
    """Worker: read one unit and turn its records into rows (see :class:`UnitRows`)."""
    name = index_name(unit.path)
    out = UnitRows(unit.file_index, unit.start, unit.start)
    reader = WarcReader(unit.path, unit.start, unit.end)
    for record in reader:
        uri = record.get("warc-target-uri") or ""
        row = None
        claims = None
        try:
            if record.type == "resource" and uri.startswith(DOCUMENT_URN):
                date = parse_warc_date(record.get("warc-date"))
                if date is None:
                    raise BadRecord("claims record without a valid WARC-Date")
                claims = ClaimsRecord(date, unit.file_index, record.offset, uri[len(DOCUMENT_URN):])
                _parse_claims(record, claims, CLAIMS_IN_UNIT)
            else:
                row = _capture(record, name)
            record.finish()  # the member must end cleanly (CRC) before its row counts
        except RecordError:
            continue  # reported by the reader
        except BadRecord as exc:
            out.problems.append((record.offset, str(exc)))
            continue
        if row is not None:
            row["warc_length"] = record.length
            source_url = row.pop("_source_url", None)
            if source_url:
                known = out.sources.get(row["source_id"])
                if known is None or row["fetched_at"] < known[1]:
                    out.sources[row["source_id"]] = (source_url, row["fetched_at"])
            out.captures.append(row)
        if claims is not None:
            out.claim_records.append(claims)
    out.records = reader.records
    out.stop = reader.stop
    out.problems = sorted(out.problems + reader.problems)
    return out


@dataclass
class Problem:
    file: str
    offset: int
    problem: str


@dataclass
class ReindexStats:
    files: int = 0
    bytes: int = 0
    records: int = 0
    seconds: float = 0.0
    counts: dict[str, int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    unfinished: list[str] = field(default_factory=list)  # .open files: a crawl did not close them

    @property
    def records_per_second(self) -> float:
        return self.records / self.seconds if self.seconds else 0.0

    def as_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["records_per_second"] = round(self.records_per_second, 1)
        out["seconds"] = round(self.seconds, 3)
        return out


def reindex(home: DataHome, engine: Engine, *, workers: int | None = None, unit_bytes: int | None = None,
            fresh_file: bool = False) -> ReindexStats:
    """Rebuild every table of the (empty) index behind ``engine`` from the WARC files of ``home``.

    The schema is created (or migrated) here, while the worker processes already read. Raises
    :class:`StoreError` if the index holds any row. ``fresh_file``: the SQLite file is new and thrown away
    on failure, so journaling and fsync are turned off while it is built.
    """
    from archive.db import ensure_schema

    started = time.perf_counter()
    paths = warc_files(home)
    stats = ReindexStats(files=len(paths), bytes=sum(p.stat().st_size for p in paths))
    stats.unfinished = [p.name for p in paths if p.name.endswith(OPEN_SUFFIX)]
    workers = workers or default_workers()
    units = plan_units(paths, workers, unit_bytes)
    if workers > 1 and len(units) > 1:
        from archive import index

        index.urlkey("http://example.org/")  # import capture_row's dependencies once, before the fork
    with UnitRunner(units, scan_for_index, workers) as runner:
        ensure_schema(engine)  # alembic runs while the workers read their first units
        with engine.connect() as conn:
            if not is_empty(conn):
                raise StoreError(f"the index at {engine.url} is not empty: run `citevault reindex --force` "
                                 "to replace it")
            sqlite = conn.dialect.name == "sqlite"
            if sqlite and fresh_file:
                conn.exec_driver_sql("PRAGMA journal_mode=OFF")
                conn.exec_driver_sql("PRAGMA synchronous=OFF")
            if sqlite:
                _drop_fts_triggers(conn)
            out = _Rows(conn)
            _load_captures(out, paths, units, iter(runner), stats)
            _fix_revisits(conn)
            _states_and_crawls(out)
            if sqlite:
                _restore_fts(conn)
            stats.counts = counts(conn)
            conn.commit()
    stats.problems.sort(key=lambda p: (p.file, p.offset))
    stats.seconds = time.perf_counter() - started
    return stats


def rebuild(home: DataHome, *, force: bool = False, workers: int | None = None) -> ReindexStats:
    """What ``citevault reindex`` does: :func:`reindex` into the home's database, refusing a non-empty one
    unless ``force``.

    The embedded SQLite file (or any SQLite file URL) is built beside the old one as ``NAME.reindex`` with
    journaling off, then moved over it atomically: until then the old index stays whole and readable, and
    a failed rebuild leaves it as it was. Another database (``--db``) is rebuilt in place; ``force`` first
    drops every table (the migrations' downgrade) and recreates them.
    """
    from sqlalchemy.engine import make_url

    from archive.db import make_engine

    if not home.warcs.is_dir():
        raise StoreError(f"no WARC files to rebuild from: {home.warcs} does not exist (set --home or "
                         "CITEVAULT_HOME to the data home)")
    url = make_url(home.db_url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        return _rebuild_sqlite_file(home, Path(url.database), force=force, workers=workers)
    engine = make_engine(home.db_url)
    try:
        if force:
            _drop_all(engine)
        return reindex(home, engine, workers=workers)
    finally:
        engine.dispose()


def _rebuild_sqlite_file(home: DataHome, path: Path, *, force: bool, workers: int | None) -> ReindexStats:
    import sqlite3

    from archive.db import current_revision, make_engine, sqlite_url

    if path.exists():
        old = make_engine(sqlite_url(path))
        try:
            if current_revision(old) is not None and not force:
                with old.connect() as conn:
                    if not is_empty(conn):
                        raise StoreError(f"the index {path} is not empty: run `citevault reindex --force` to "
                                         "rebuild it from the WARC files and replace it")
        finally:
            old.dispose()
    tmp = path.with_name(path.name + ".reindex")
    for stale in (tmp, Path(f"{tmp}-journal"), Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
        stale.unlink(missing_ok=True)
    engine = make_engine(sqlite_url(tmp))
    try:
        stats = reindex(home, engine, workers=workers, fresh_file=True)
    except BaseException:
        engine.dispose()
        tmp.unlink(missing_ok=True)
        raise
    engine.dispose()
    with tmp.open("rb+") as fh:
        os.fsync(fh.fileno())
    if path.exists():
        # Fold the old file's write-ahead log in and close it, so no stale -wal is replayed onto the new file.
        old_db = sqlite3.connect(path, timeout=30)
        try:
            busy = old_db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
        finally:
            old_db.close()
        if busy:
            tmp.unlink(missing_ok=True)
            raise StoreError(f"the index {path} is in use (a crawl or `citevault serve`?): stop it and run "
                             "`citevault reindex --force` again")
    os.replace(tmp, path)
    for side in (Path(f"{path}-wal"), Path(f"{path}-shm")):
        side.unlink(missing_ok=True)
    return stats


def _drop_all(engine: Engine) -> None:
    """Drop every table through the migrations' own downgrade, so nothing of the schema is guessed here."""
    from alembic import command
    from alembic.config import Config

    from archive.db import MIGRATIONS_DIR, current_revision

    if current_revision(engine) is None:
        return
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "base")


class _Rows:
    """Bulk writes for the rebuild: one ``executemany`` per batch through the DBAPI cursor.

    Values are converted by each column's own SQLAlchemy type (the bind processor the ORM path would
    use), so the stored rows are byte-identical to what :mod:`archive.index` writes; only the per-row
    overhead of SQLAlchemy's statement layer is skipped (it was half the rebuild time). On databases other
    than SQLite the :mod:`archive.index` functions are used as they are.
    """

    def __init__(self, conn: Connection) -> None:
        from archive.models import Capture, Citation, Claim, Document, Source

        self.conn = conn
        self.sqlite = conn.dialect.name == "sqlite"
        self.models = {m.__tablename__: m for m in (Capture, Citation, Claim, Document, Source)}
        self.plans: dict[tuple[str, frozenset[str]], tuple[str, list[str], list[tuple[int, Any]], dict[str, Any]]] = {}

    def _plan(self, table: str, keys: frozenset[str]) -> tuple[str, list[str], list[tuple[int, Any]], dict[str, Any]]:
        """The INSERT for rows with these keys; other columns get their scalar Python default, as an ORM
        insert would give them, or are left to the database (server default, NULL)."""
        plan = self.plans.get((table, keys))
        if plan is None:
            columns = self.models[table].__table__.columns
            defaults = {c.name: c.default.arg for c in columns if c.name not in keys and c.default is not None
                        and c.default.is_scalar}
            used = [c for c in columns if c.name in keys or c.name in defaults]
            names = [c.name for c in used]
            dialect = self.conn.dialect
            procs = [(i, proc) for i, c in enumerate(used)
                     if (proc := c.type.dialect_impl(dialect).bind_processor(dialect)) is not None]
            verb, tail = "INSERT OR IGNORE", ""
            if table == "sources":  # seen again (a later fetch, another claims record): earliest first_seen
                verb, tail = "INSERT", (" ON CONFLICT(id) DO UPDATE SET url = excluded.url, "
                                        "first_seen = min(sources.first_seen, excluded.first_seen)")
            sql = f"{verb} INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))}){tail}"
            plan = self.plans[(table, keys)] = (sql, names, procs, defaults)
        return plan

    def add(self, table: str, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        if not self.sqlite:
            from archive import index

            if table == "sources":
                _upsert_sources(self.conn, rows)
            else:
                getattr(index, f"add_{table}")(self.conn, rows)
            return
        sql, names, procs, defaults = self._plan(table, frozenset(rows[0]))
        values = []
        for row in rows:
            v = [row[n] if n in row else defaults[n] for n in names]
            for i, proc in procs:
                if v[i] is not None:
                    v[i] = proc(v[i])
            values.append(tuple(v))
        self.conn.exec_driver_sql(sql, values)

    def drop_document(self, doc_id: str) -> None:
        """Forget a document's rows (a later claims record of it replaces them)."""
        from sqlalchemy import text

        params = {"d": doc_id}
        self.conn.execute(text("DELETE FROM citations WHERE claim_id IN "
                               "(SELECT id FROM claims WHERE document_id = :d)"), params)
        self.conn.execute(text("DELETE FROM claims WHERE document_id = :d"), params)
        self.conn.execute(text("DELETE FROM documents WHERE id = :d"), params)

    def states(self, updates: list[dict[str, Any]]) -> None:
        from archive import index

        if not self.sqlite:
            index.set_source_states(self.conn, updates)
            return
        column = self.models["sources"].__table__.columns["last_fetched"]
        fmt: Callable[[Any], Any] = (column.type.dialect_impl(self.conn.dialect).bind_processor(self.conn.dialect)
                                     or (lambda value: value))
        self.conn.exec_driver_sql("UPDATE sources SET state = ?, last_fetched = ? WHERE id = ?",
                                  [(u["state"], fmt(u["fetched"]), u["sid"]) for u in updates])


def is_empty(conn: Connection) -> bool:
    from sqlalchemy import text

    for table in ("documents", "sources", "captures", "crawls"):
        if conn.execute(text(f"SELECT 1 FROM {table} LIMIT 1")).first() is not None:
            return False
    return True


def counts(conn: Connection) -> dict[str, int]:
    from sqlalchemy import text

    tables = ("documents", "claims", "citations", "sources", "captures", "crawls")
    return {t: int(conn.execute(text(f"SELECT COUNT(*) FROM {t}")).scalar() or 0) for t in tables}


def _load_captures(out: _Rows, paths: list[Path], units: list[Unit], results: Iterator[UnitRows],
                   stats: ReindexStats) -> None:
    """Insert each unit's sources, captures and claims as the workers hand them over, then the claims
    records too big to travel (parsed here, streaming)."""
    claims = _Claims(out)
    for rows in in_order(units, results, scan_for_index):
        stats.records += rows.records
        stats.problems.extend(Problem(paths[rows.file_index].name, off, msg) for off, msg in rows.problems)
        out.add("sources", [{"id": sid, "url": url, "state": "pending", "first_seen": seen, "last_fetched": None}
                            for sid, (url, seen) in rows.sources.items()])
        for i in range(0, len(rows.captures), BATCH):
            out.add("captures", rows.captures[i:i + BATCH])
        for record in rows.claim_records:
            claims.take(record)
    for record in sorted(claims.deferred, key=lambda r: r.key):
        try:
            claims.take_big(paths[record.file_index], record)
        except RecordError as exc:
            stats.problems.append(Problem(paths[record.file_index].name, exc.offset, str(exc)))
        except BadRecord as exc:
            stats.problems.append(Problem(paths[record.file_index].name, record.offset, str(exc)))


class _Claims:
    """Documents, claims and citations from the last claims record of each document (by
    :attr:`ClaimsRecord.key`, whatever order they arrive in); sources from every claims record."""

    def __init__(self, out: _Rows) -> None:
        self.out = out
        self.winners: dict[str, tuple[datetime, int, int]] = {}
        self.deferred: list[ClaimsRecord] = []

    def _wins(self, record: ClaimsRecord) -> bool:
        current = self.winners.get(record.doc_id)
        if current is not None and current >= record.key:
            return False
        if current is not None:  # a later record of the same document: it replaces the earlier one
            self.out.drop_document(record.doc_id)
        self.winners[record.doc_id] = record.key
        return True

    def take(self, record: ClaimsRecord) -> None:
        if not record.complete:
            self.deferred.append(record)
            return
        self.out.add("sources", [{"id": sid, "url": url, "state": "pending", "first_seen": record.date,
                                  "last_fetched": None} for sid, url in record.sources.items()])
        if record.document is not None and self._wins(record):
            self.out.add("documents", [record.document])
            self.out.add("claims", record.claims)
            self.out.add("citations", record.citations)

    def take_big(self, path: Path, stub: ClaimsRecord) -> None:
        reader = WarcReader(path, stub.offset, stub.offset + 1)
        try:
            record = next(iter(reader), None)
            if record is None:
                raise RecordError(stub.offset, reader.problems[0][1] if reader.problems else "record not found")
            batch = ClaimsRecord(stub.date, stub.file_index, stub.offset, stub.doc_id)
            won = None
            for part in _iter_claims(record, batch, BATCH):
                if won is None:
                    won = part.document is not None and self._wins(part)
                    if won and part.document is not None:
                        self.out.add("documents", [part.document])
                self.out.add("sources", [{"id": sid, "url": url, "state": "pending", "first_seen": stub.date,
                                          "last_fetched": None} for sid, url in part.sources.items()])
                if won:
                    self.out.add("claims", part.claims)
                    self.out.add("citations", part.citations)
            record.finish()
        finally:
            reader.close()


def _iter_lines(record: Record) -> Iterator[bytes]:
    rest = b""
    for data in record.chunks():
        lines = (rest + data).split(b"\n")
        rest = lines.pop()
        yield from lines
    if rest:
        yield rest


def _parse_claims(record: Record, into: ClaimsRecord, limit: int) -> None:
    """Worker: all of a claims record into ``into``, or mark it incomplete past ``limit`` claims."""
    for _ in _iter_claims(record, into, limit + 1):
        if len(into.claims) > limit:
            into.complete = False
            into.claims, into.citations, into.sources = [], [], {}
        return


def _iter_claims(record: Record, into: ClaimsRecord, batch: int) -> Iterator[ClaimsRecord]:
    """Parse a claims record (a document line, then one line per claim) into ``into``, yielding it each
    time ``batch`` claims are in it (the caller empties the lists) and once at the end."""
    lines = _iter_lines(record)
    try:
        header = json.loads(next(lines))["document"]
        doc = {k: header.get(k) for k in ("url", "title", "kind", "origin", "sha256", "status", "claim_count")}
        doc["id"] = into.doc_id
        doc["added_at"] = parse_warc_date(header.get("added_at")) or into.date
        # A document added by URL keeps kind "url" until the crawl extracts it: it is still pending.
        if doc["kind"] == "url":
            doc["status"] = "pending"
        doc["claim_count"] = int(doc["claim_count"] or 0)
        into.document = doc
        sid_of: dict[str, str] = {}
        for line in lines:
            if not line.strip():
                continue
            claim = json.loads(line)
            for position, ref in enumerate(claim.get("sources") or []):
                url = ref["url"]
                sid = sid_of.get(url)
                if sid is None:
                    sid = sid_of[url] = _source_id(url)
                    into.sources[sid] = url
                into.citations.append({"claim_id": claim["id"], "source_id": sid, "position": position,
                                       "anchor": ref.get("anchor")})
            into.claims.append({"id": claim["id"], "document_id": into.doc_id, "position": claim["position"],
                                "text": claim["text"], "quote": claim.get("quote")})
            if len(into.claims) >= batch:
                yield into
                into.claims, into.citations, into.sources = [], [], {}
    except (ValueError, KeyError, TypeError, StopIteration) as exc:
        raise BadRecord(f"unreadable claims record: {exc!r}") from None
    yield into


def _upsert_sources(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Insert sources; one already there (a fetch placeholder, or cited earlier) keeps the earliest
    first_seen and takes the claims record's URL."""
    if not rows:
        return
    from sqlalchemy import case

    from archive.models import Source

    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]
    stmt = insert(Source)
    stmt = stmt.on_conflict_do_update(index_elements=[Source.id], set_={
        "url": stmt.excluded.url,
        "first_seen": case((stmt.excluded.first_seen < Source.first_seen, stmt.excluded.first_seen),
                           else_=Source.first_seen),
    })
    conn.execute(stmt, rows)


def _fix_revisits(conn: Connection) -> None:
    """A revisit carries its original's payload: take its sha256 and length from the original's row."""
    from sqlalchemy import text

    conn.execute(text(
        "UPDATE captures SET "
        "payload_sha256 = (SELECT o.payload_sha256 FROM captures o WHERE o.id = captures.refers_to), "
        "payload_length = (SELECT o.payload_length FROM captures o WHERE o.id = captures.refers_to) "
        "WHERE record_type = 'revisit' AND refers_to IN (SELECT id FROM captures)"
    ))


def _state(http_status: int | None, record_type: str) -> str:
    from archive.recorder import state_for_status

    return "failed" if record_type == "metadata" else state_for_status(http_status)


def _states_and_crawls(out: _Rows) -> None:
    """Source states and crawl rows from the captures, in one pass over them sorted by source and time.

    A fetched source's state is decided by its last capture (the final hop of the last fetch, or the
    failure that ended it), and last_fetched is that capture's time; never fetched: pending. A crawl's row
    spans its first to last capture, and counts each source by its last capture in that crawl.
    """
    from sqlalchemy import text

    from archive import index

    conn = out.conn
    rows = conn.execute(text(
        "SELECT source_id, crawl_id, http_status, record_type, fetched_at FROM captures "
        "WHERE source_id IS NOT NULL AND record_type IN ('response', 'revisit', 'metadata') "
        "ORDER BY source_id, fetched_at, warc_file, warc_offset"
    ))  # streamed: the updates go to another table
    counts: dict[str, dict[str, int]] = {}
    batch: list[dict[str, Any]] = []

    def done(group: list[Any]) -> None:
        last = group[-1]
        batch.append({"sid": last[0], "state": _state(last[2], last[3]), "fetched": _as_datetime(last[4])})
        final_in_crawl = {row[1]: row for row in group}  # later rows overwrite: the last of each crawl
        for crawl_id, row in final_in_crawl.items():
            if crawl_id is not None:
                state = _state(row[2], row[3])
                bucket = counts.setdefault(crawl_id, {})
                bucket[state] = bucket.get(state, 0) + 1

    group: list[Any] = []
    for row in rows:
        if group and row[0] != group[0][0]:
            done(group)
            group = []
            if len(batch) >= BATCH:
                out.states(batch)
                batch = []
        group.append(tuple(row))
    if group:
        done(group)
    if batch:
        out.states(batch)
    spans = conn.execute(text("SELECT crawl_id, MIN(fetched_at), MAX(fetched_at) FROM captures "
                              "WHERE crawl_id IS NOT NULL GROUP BY crawl_id")).all()
    for crawl_id, first, last in spans:
        index.start_crawl(conn, crawl_id, _as_datetime(first))
        index.finish_crawl(conn, crawl_id, _as_datetime(last), counts.get(crawl_id, {}))


def _as_datetime(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


# -- full-text search: filled once at the end instead of by a trigger per claim ----------------------------
_FTS_TRIGGERS = ("claims_fts_insert", "claims_fts_delete", "claims_fts_update")


def _drop_fts_triggers(conn: Connection) -> None:
    from sqlalchemy import text

    found = conn.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name IN "
                              "('claims_fts_insert', 'claims_fts_delete', 'claims_fts_update')")).all()
    conn.info["citevault_fts_triggers"] = [sql for _name, sql in found]
    for name, _sql in found:
        conn.execute(text(f"DROP TRIGGER {name}"))


def _restore_fts(conn: Connection) -> None:
    """Recreate the triggers exactly as the migration wrote them (their SQL as stored), then rebuild."""
    from sqlalchemy import text

    for sql in conn.info.pop("citevault_fts_triggers", []):
        conn.execute(text(sql))
    if conn.execute(text("SELECT 1 FROM sqlite_master WHERE name = 'claims_fts'")).first():
        conn.execute(text("INSERT INTO claims_fts(claims_fts) VALUES ('rebuild')"))


__all__ = ["ReindexStats", "Problem", "reindex", "rebuild", "WarcReader", "Record", "RecordError", "warc_files"]
