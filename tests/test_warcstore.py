"""The WARC store and record builder, without a crawl: real files, read back with warcio."""
from __future__ import annotations

import hashlib
import itertools
from datetime import datetime, timezone
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

from archive.warc.builder import HttpExchange, RecordFactory, sha1_b32
from archive.warc.reader import copy_payload
from archive.warc.store import WarcStore
from tests.helpers import read_records, warcio_check

MOMENT = datetime(2026, 11, 28, 5, 0, 0, tzinfo=timezone.utc)


def _fixed_store(directory: Path, **kwargs: object) -> WarcStore:
    counter = itertools.count(1)
    factory = RecordFactory(lambda: f"<urn:uuid:00000000-0000-4000-8000-{next(counter):012d}>")
    return WarcStore(directory, factory=factory, clock=lambda: MOMENT, **kwargs)  # type: ignore[arg-type]


def _exchange(n: int, body: bytes = b"<html><p>hello</p></html>") -> HttpExchange:
    return HttpExchange(
        url=f"http://127.0.0.1:8000/p/{n}.html", status=200, reason="OK", protocol="HTTP/1.1",
        response_headers=[("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(body)))],
        body=body, request_headers=[("User-Agent", "citevault-test")], ip_address="127.0.0.1",
        fetched_at=MOMENT,
    )


def _write(store: WarcStore, n: int) -> list:
    response, request = store.factory.exchange(_exchange(n))
    return store.write_group([response.record, request.record])


def test_records_are_byte_for_byte_reproducible(tmp_path: Path) -> None:
    outputs = []
    for run in ("a", "b"):
        store = _fixed_store(tmp_path / run)
        _write(store, 1)
        store.close()
        outputs.append((tmp_path / run / store.closed_files[0]).read_bytes())
    assert outputs[0] == outputs[1]


def test_open_suffix_until_closed_then_valid(tmp_path: Path) -> None:
    store = _fixed_store(tmp_path)
    _write(store, 1)
    store.flush()
    names = [p.name for p in tmp_path.iterdir()]
    assert len(names) == 1 and names[0].endswith(".warc.gz.open")
    store.close()
    final = tmp_path / store.closed_files[0]
    assert final.exists() and not any(p.name.endswith(".open") for p in tmp_path.iterdir())
    assert warcio_check(final).returncode == 0
    records = read_records(final)
    assert [r["type"] for r in records] == ["warcinfo", "response", "request"]
    assert records[1]["headers"]["WARC-Payload-Digest"] == sha1_b32(b"<html><p>hello</p></html>")
    assert records[2]["headers"]["WARC-Concurrent-To"] == records[1]["headers"]["WARC-Record-ID"]


def test_offsets_read_back_each_record_alone(tmp_path: Path) -> None:
    store = _fixed_store(tmp_path)
    written = [w for n in range(5) for w in _write(store, n)]
    store.close()
    path = tmp_path / store.closed_files[0]
    import io
    import zlib

    data = path.read_bytes()
    for where in written:
        member = data[where.offset:where.offset + where.length]
        inflater = zlib.decompressobj(31)
        inflater.decompress(member)
        assert inflater.eof and inflater.unused_data == b""  # exactly one whole gzip member
        records = list(ArchiveIterator(io.BytesIO(member)))
        assert len(records) == 1
    out = io.BytesIO()
    copy_payload(path, written[4].offset, out)
    assert out.getvalue() == b"<html><p>hello</p></html>"


def test_rollover_starts_new_file_with_warcinfo(tmp_path: Path) -> None:
    store = _fixed_store(tmp_path, max_size=1)  # every pair past the first rolls over
    for n in range(3):
        _write(store, n)
    store.close()
    assert len(store.closed_files) == 3
    serials = [name.split("-")[2] for name in store.closed_files]
    assert serials == ["00001", "00002", "00003"]
    for name in store.closed_files:
        records = read_records(tmp_path / name)
        assert [r["type"] for r in records] == ["warcinfo", "response", "request"]
        assert records[0]["headers"]["WARC-Filename"] == name


def test_large_body_digests(tmp_path: Path) -> None:
    body = hashlib.sha256(b"x").digest() * 200_000  # 6.4 MB
    store = _fixed_store(tmp_path)
    response, request = store.factory.exchange(_exchange(1, body))
    assert response.payload_sha256 == hashlib.sha256(body).hexdigest()
    store.write(response.record)
    store.close()
    assert warcio_check(tmp_path / store.closed_files[0]).returncode == 0
