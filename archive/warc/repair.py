"""Repair WARC files left ``.open`` by a crawl that died (``kill -9``, power loss).

A record is complete when its gzip member ends and the WARC record inside has all the bytes its
Content-Length promises. The file is truncated after its last complete record, closed and renamed;
the caller then indexes whatever records the index does not have yet (``archive.integrity.reindex``).
Files whose writer is still alive are left alone: on this node, a live pid; on another node sharing the
``warcs/`` directory (where the pid means nothing), a worker whose heartbeat the index still sees (``live``).
"""
from __future__ import annotations

import os
import zlib
from dataclasses import dataclass
from pathlib import Path

from archive.crawl.pids import alive, node_name
from archive.warc.store import OPEN_SUFFIX

CHUNK = 1 << 16


@dataclass(frozen=True)
class Repaired:
    name: str  # the final file name (without .open)
    kept_bytes: int
    dropped_bytes: int
    records: int


def _writer_alive(name: str, live: set[tuple[str, int]] | None = None) -> bool:
    """``citevault-{ts}-{serial}-{node}-{pid}.warc.gz.open``: is that process still writing it? ``live``: the
    (node, pid) of workers whose heartbeat is recent; None: another node's file is never touched."""
    stem = name[: -len(".warc.gz" + OPEN_SUFFIX)]
    try:
        _, _, _, host, pid = stem.split("-", 4)
        pid_number = int(pid)
    except ValueError:
        return False
    beating = live is not None and (host, pid_number) in live
    if host != node_name():
        # another node's file on shared storage: its pid cannot be checked here, its heartbeat can
        return live is None or beating
    if pid_number == os.getpid():  # this process's own file mid-crawl, or a dead one's whose pid it reused
        return beating
    return alive(pid_number)


def _record_complete(head: bytes, total: int) -> bool:
    """Does the decompressed member hold a whole WARC record (headers, Content-Length bytes, CRLF CRLF)?"""
    end = head.find(b"\r\n\r\n")
    if not head.startswith(b"WARC/") or end < 0:
        return False
    length = None
    for line in head[:end].split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            try:
                length = int(value.strip())
            except ValueError:
                return False
    return length is not None and total >= end + 4 + length + 4


def complete_prefix(path: Path) -> tuple[int, int]:
    """(bytes up to the end of the last complete record, number of complete records), streaming."""
    good_end = 0
    records = 0
    with path.open("rb") as fh:
        offset = 0
        inflater = zlib.decompressobj(31)
        head = b""
        total = 0
        pending = b""
        while True:
            chunk = pending or fh.read(CHUNK)
            pending = b""
            if not chunk:
                return good_end, records
            try:
                out = inflater.decompress(chunk)
            except zlib.error:
                return good_end, records
            total += len(out)
            if len(head) < CHUNK:
                head += out[: CHUNK - len(head)]
            if inflater.eof:
                used = len(chunk) - len(inflater.unused_data)
                member_end = offset + used
                if not _record_complete(head, total):
                    return good_end, records
                good_end = member_end
                records += 1
                pending = inflater.unused_data
                offset = member_end
                inflater = zlib.decompressobj(31)
                head, total = b"", 0
            else:
                offset += len(chunk)


def repair_open_files(directory: Path, live: set[tuple[str, int]] | None = None) -> list[Repaired]:
    """Truncate and close every abandoned ``.open`` WARC file in ``directory`` (``live``: see
    :func:`_writer_alive`)."""
    repaired: list[Repaired] = []
    if not directory.is_dir():
        return repaired
    for path in sorted(directory.glob(f"*.warc.gz{OPEN_SUFFIX}")):
        if _writer_alive(path.name, live):
            continue
        size = path.stat().st_size
        keep, records = complete_prefix(path)
        final = path.with_name(path.name[: -len(OPEN_SUFFIX)])
        if records == 0:  # not even the warcinfo made it: nothing to keep
            path.unlink()
            continue
        with path.open("r+b") as fh:
            fh.truncate(keep)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(path, final)
        repaired.append(Repaired(final.name, keep, size - keep, records))
    return repaired
