"""Re-hash every WARC record and check the index against the WARC files (docs/integrity.md "Rebuilding and verifying
the index").

Two checks, one streaming pass over the files (shared reader: :class:`archive.warc.scan.WarcReader`, files cut
into units read by worker processes, :mod:`archive.integrity.units`):

* each record's ``WARC-Block-Digest`` and ``WARC-Payload-Digest`` against its bytes (any hashlib algorithm;
  base32, base16 or base64 values), and each gzip member whole (CRC, Content-Length, no truncation);
* each capture row of the index against the record at its ``warc_file``/``warc_offset``: the same
  WARC-Record-ID, and the same SHA-256 of the payload; and each capture-like record present in the index.

A problem names the file, the offset, the record id, and the claims the record backs (capture -> source ->
citations -> claims; a document's own records back all of its claims).
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

from archive.integrity.unit_rows import is_capture
from archive.integrity.units import Unit, UnitRunner, default_workers, in_order, plan_units
from archive.warc.scan import (
    ARTICLE_URN,
    DOCUMENT_URN,
    Record,
    RecordError,
    WarcReader,
    index_name,
    warc_files,
)

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from archive.home import DataHome


# -- worker side ------------------------------------------------------------------------------------------
@dataclass
class Entry:
    """A record read whole: where it is and what the index must say about it."""

    offset: int
    length: int
    record_id: str | None
    type: str
    indexed: bool  # should have a capture row (:func:`archive.integrity.unit_rows.is_capture`)
    sha256: str | None  # of the payload, for records whose capture row stores one


@dataclass
class Bad:
    offset: int
    record_id: str | None
    problem: str
    source_url: str | None = None
    document_id: str | None = None
    concurrent_to: str | None = None
    source_id: str | None = None  # Citevault-Source-ID, when the record has it (no URL to normalize then)


@dataclass
class UnitCheck:
    file_index: int
    start: int
    stop: int = 0
    records: int = 0
    entries: list[Entry] = field(default_factory=list)
    bad: list[Bad] = field(default_factory=list)
    damaged: list[tuple[int, str]] = field(default_factory=list)  # unreadable members: (offset, why)


def parse_digest(value: str) -> tuple[Any, bytes] | str:
    """``"sha1:BASE32"`` -> (a fresh hasher, the expected digest bytes), or a problem description.

    >>> parse_digest("sha1:3I42H3S6NNFQ2MSVX7XZKYAYSCX5QBYJ")[1].hex()
    'da39a3ee5e6b4b0d3255bfef95601890afd80709'
    >>> parse_digest("sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")[1][:2].hex()
    'e3b0'
    >>> parse_digest("crc99:xyz")
    "unknown digest algorithm 'crc99'"
    """
    algo, sep, encoded = value.strip().partition(":")
    name = algo.lower().replace("-", "")
    if not sep or not encoded:
        return f"malformed digest {value!r}"
    try:
        hasher = hashlib.new(name)
    except ValueError:
        return f"unknown digest algorithm {algo!r}"
    size = hasher.digest_size
    for decode in (_b32, _b16, _b64):
        raw = decode(encoded.strip())
        if raw is not None and len(raw) == size:
            return hasher, raw
    return f"malformed {algo} digest {encoded!r}"


def _b32(text: str) -> bytes | None:
    try:
        return base64.b32decode(text.upper() + "=" * (-len(text) % 8))
    except (binascii.Error, ValueError):
        return None


def _b16(text: str) -> bytes | None:
    try:
        return bytes.fromhex(text)
    except ValueError:
        return None


def _b64(text: str) -> bytes | None:
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None


def _check(record: Record) -> tuple[str | None, list[str]]:
    """Hash the record's block and payload as they stream; (payload sha256 or None, problems)."""
    problems: list[str] = []
    block = payload = None
    if record.get("warc-block-digest"):
        parsed = parse_digest(record.get("warc-block-digest") or "")
        if isinstance(parsed, str):
            problems.append(f"WARC-Block-Digest: {parsed}")
        else:
            block = parsed
    if record.get("warc-payload-digest") and record.type != "revisit":  # a revisit's payload is elsewhere
        parsed = parse_digest(record.get("warc-payload-digest") or "")
        if isinstance(parsed, str):
            problems.append(f"WARC-Payload-Digest: {parsed}")
        else:
            payload = parsed
    content_type = (record.get("content-type") or "").lower()
    if record.type in ("response", "request", "revisit") and content_type.startswith("application/http"):
        record.parse_http()
        if block is not None and record.http_head:
            block[0].update(record.http_head)
    want_sha = record.type in ("response", "resource")
    sha256 = hashlib.sha256() if want_sha else None
    for data in record.chunks():
        if block is not None:
            block[0].update(data)
        if payload is not None:
            payload[0].update(data)
        if sha256 is not None:
            sha256.update(data)
    if block is not None and block[0].digest() != block[1]:
        problems.append("block digest mismatch (WARC-Block-Digest)")
    if payload is not None and payload[0].digest() != payload[1]:
        problems.append("payload digest mismatch (WARC-Payload-Digest)")
    return (sha256.hexdigest() if sha256 is not None else None), problems


def scan_for_verify(unit: Unit) -> UnitCheck:
    """Worker: hash every record of one unit."""
    out = UnitCheck(unit.file_index, unit.start)
    reader = WarcReader(unit.path, unit.start, unit.end)
    for record in reader:
        record_id = record.get("warc-record-id")
        try:
            sha256, problems = _check(record)
            record.finish()
        except RecordError:
            continue  # reported by the reader
        out.entries.append(Entry(record.offset, record.length, record_id, record.type, is_capture(record), sha256))
        for problem in problems:
            out.bad.append(_bad(record, record_id, problem))
    out.records = reader.records
    out.stop = reader.stop
    out.damaged = reader.problems
    return out


def _bad(record: Record, record_id: str | None, problem: str) -> Bad:
    uri = record.get("warc-target-uri") or ""
    doc = record.get("citevault-document-id")
    for urn in (ARTICLE_URN, DOCUMENT_URN):
        if uri.startswith(urn):
            doc = uri[len(urn):]
    return Bad(record.offset, record_id, problem, record.get("citevault-source-url"), doc,
               record.get("warc-concurrent-to"), record.get("citevault-source-id"))


# -- parent side ------------------------------------------------------------------------------------------
@dataclass
class VerifyProblem:
    file: str
    offset: int
    record_id: str | None
    problem: str
    claims: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {"file": self.file, "offset": self.offset, "record_id": self.record_id, "problem": self.problem,
                "claims": self.claims}


@dataclass
class VerifyReport:
    files: int = 0
    records: int = 0
    captures: int = 0
    indexed: bool = True  # False: no index to check against (the WARC files alone were checked)
    seconds: float = 0.0
    problems: list[VerifyProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "records": self.records, "problems": [p.as_json() for p in self.problems]}


@dataclass
class _Found:
    """A problem before its claims are looked up."""

    file: str
    offset: int
    record_id: str | None
    problem: str
    capture_ids: set[str] = field(default_factory=set)
    source_ids: set[str] = field(default_factory=set)
    source_urls: set[str] = field(default_factory=set)  # of records without a Citevault-Source-ID
    document_ids: set[str] = field(default_factory=set)


def verify(home: DataHome, *, workers: int | None = None) -> VerifyReport:
    """Check every WARC record of ``home`` and the index against them (the index check is skipped, and
    said so, when the home has no index)."""
    from archive.index.db import make_engine

    started = time.perf_counter()
    paths = warc_files(home)
    report = VerifyReport(files=len(paths))
    workers = workers or default_workers()
    units = plan_units(paths, workers)
    names = [index_name(p) for p in paths]
    embedded = home.db_url.startswith("sqlite:///") and not Path(home.db_url[len("sqlite:///"):]).exists()
    engine = None if embedded else make_engine(home.db_url)
    found: list[_Found] = []
    try:
        with UnitRunner(units, scan_for_verify, workers) as runner:
            if engine is None:
                report.indexed = False
                for check in in_order(units, iter(runner), scan_for_verify):
                    report.records += check.records
                    found.extend(_unit_problems(names[check.file_index], check, {}))
            else:
                from archive.index.db import ensure_schema

                ensure_schema(engine)
                with engine.connect() as conn:
                    _merge(conn, names, in_order(units, iter(runner), scan_for_verify), report, found)
                    report.problems = _with_claims(conn, _per_record(found))
        if engine is None:
            report.problems = [VerifyProblem(f.file, f.offset, f.record_id, f.problem) for f in _per_record(found)]
    finally:
        if engine is not None:
            engine.dispose()
    report.problems.sort(key=lambda p: (p.file, p.offset))
    report.seconds = time.perf_counter() - started
    return report


def _unit_problems(name: str, check: UnitCheck, at: dict[int, Any]) -> list[_Found]:
    """Digest problems and unreadable members of one unit; ``at``: capture rows by offset in this file."""
    out = []
    for bad in check.bad:
        f = _Found(name, bad.offset, bad.record_id, bad.problem)
        if bad.record_id:
            f.capture_ids.add(_cid(bad.record_id))
        if bad.concurrent_to:
            f.capture_ids.add(_cid(bad.concurrent_to))
        if bad.source_id:
            f.source_ids.add(bad.source_id)
        elif bad.source_url:
            f.source_urls.add(bad.source_url)
        if bad.document_id:
            f.document_ids.add(bad.document_id)
        out.append(f)
    for offset, why in check.damaged:
        row = at.get(offset)
        f = _Found(name, offset, row.warc_record_id if row is not None else None, why)
        if row is not None:
            f.capture_ids.add(row.id)
        out.append(f)
    return out


def _cid(record_id: str) -> str:
    from archive.ids import capture_id

    return capture_id(record_id)


def _captures(conn: Connection) -> Iterator[Any]:
    from sqlalchemy import text

    collate = ' COLLATE "C"' if conn.dialect.name == "postgresql" else ""
    return iter(conn.execute(text(
        "SELECT id, warc_file, warc_offset, warc_record_id, payload_sha256, record_type FROM captures "
        f"ORDER BY warc_file{collate}, warc_offset"
    )))


def _merge(conn: Connection, names: list[str], checks: Iterator[UnitCheck], report: VerifyReport,
           found: list[_Found]) -> None:
    """Walk the files' records and the index's capture rows together, both in (file, offset) order."""
    rows = _captures(conn)
    row = next(rows, None)

    def orphan(r: Any, why: str) -> None:
        f = _Found(r.warc_file, r.warc_offset, r.warc_record_id, why)
        f.capture_ids.add(r.id)
        found.append(f)

    current: str | None = None
    pending: list[UnitCheck] = []

    def finish_file(name: str, checks_of_file: list[UnitCheck]) -> None:
        nonlocal row
        while row is not None and row.warc_file < name:
            report.captures += 1
            orphan(row, f"the index points to a WARC file that is missing ({row.warc_file})")
            row = next(rows, None)
        here: dict[int, Any] = {}
        for check in checks_of_file:
            report.records += check.records
            damaged = {offset for offset, _ in check.damaged}
            for entry in check.entries:
                while row is not None and row.warc_file == name and row.warc_offset < entry.offset:
                    report.captures += 1
                    if row.warc_offset in damaged:
                        here[row.warc_offset] = row
                    else:
                        orphan(row, "the index points to no record at this offset")
                    row = next(rows, None)
                if row is not None and row.warc_file == name and row.warc_offset == entry.offset:
                    report.captures += 1
                    _compare(name, entry, row, found)
                    row = next(rows, None)
                elif entry.indexed:
                    f = _Found(name, entry.offset, entry.record_id,
                               "record is not in the index (run `citevault reindex --force`)")
                    if entry.record_id:
                        f.capture_ids.add(_cid(entry.record_id))
                    found.append(f)
        damaged_in_file = {offset for check in checks_of_file for offset, _ in check.damaged}
        while row is not None and row.warc_file == name:
            report.captures += 1
            if row.warc_offset in damaged_in_file:
                here[row.warc_offset] = row
            else:
                orphan(row, "the index points past the last record of the file")
            row = next(rows, None)
        for check in checks_of_file:
            found.extend(_unit_problems(name, check, here))

    for check in checks:
        name = names[check.file_index]
        if current is not None and name != current:
            finish_file(current, pending)
            pending = []
        current = name
        pending.append(check)
    if current is not None:
        finish_file(current, pending)
    while row is not None:
        report.captures += 1
        orphan(row, f"the index points to a WARC file that is missing ({row.warc_file})")
        row = next(rows, None)


def _compare(name: str, entry: Entry, row: Any, found: list[_Found]) -> None:
    problems = []
    if entry.record_id != row.warc_record_id:
        problems.append(f"the index expects record {row.warc_record_id} here, the file has {entry.record_id}")
    elif row.payload_sha256 and entry.sha256 and row.record_type != "revisit" and entry.sha256 != row.payload_sha256:
        problems.append("payload SHA-256 differs from the index's payload_sha256")
    for problem in problems:
        f = _Found(name, entry.offset, entry.record_id, problem)
        f.capture_ids.add(row.id)
        found.append(f)


def _per_record(found: list[_Found]) -> list[_Found]:
    """One problem per record: its findings joined with "; "."""
    merged: dict[tuple[str, int], _Found] = {}
    index_checks = ("the index", "record is not in the index", "payload SHA-256")
    for f in sorted(found, key=lambda f: f.problem.startswith(index_checks)):  # the file's own findings first
        into = merged.get((f.file, f.offset))
        if into is None:
            merged[(f.file, f.offset)] = f
            continue
        into.problem += "; " + f.problem
        into.record_id = into.record_id or f.record_id
        into.capture_ids |= f.capture_ids
        into.source_ids |= f.source_ids
        into.source_urls |= f.source_urls
        into.document_ids |= f.document_ids
    return list(merged.values())


def _with_claims(conn: Connection, found: list[_Found]) -> list[VerifyProblem]:
    """Which claims each problem's record backs: capture -> source -> citations, and document -> claims."""
    from sqlalchemy import bindparam, text

    from archive.ids import source_id

    out = []
    for f in found:
        sources = f.source_ids | {source_id(u) for u in f.source_urls}
        documents = set(f.document_ids)
        if f.capture_ids:
            stmt = text("SELECT source_id, document_id FROM captures WHERE id IN :ids").bindparams(
                bindparam("ids", expanding=True))
            for sid, did in conn.execute(stmt, {"ids": sorted(f.capture_ids)}):
                if sid:
                    sources.add(sid)
                if did:
                    documents.add(did)
        claims: set[str] = set()
        if sources:
            stmt = text("SELECT claim_id FROM citations WHERE source_id IN :ids").bindparams(
                bindparam("ids", expanding=True))
            claims.update(r[0] for r in conn.execute(stmt, {"ids": sorted(sources)}))
        if documents:
            stmt = text("SELECT id FROM claims WHERE document_id IN :ids").bindparams(
                bindparam("ids", expanding=True))
            claims.update(r[0] for r in conn.execute(stmt, {"ids": sorted(documents)}))
        out.append(VerifyProblem(f.file, f.offset, f.record_id, f.problem, sorted(claims, key=_claim_order)))
    return out


def _claim_order(claim_id: str) -> tuple[str, int]:
    doc, _, position = claim_id.rpartition(".")
    return (doc, int(position)) if position.isdigit() else (claim_id, 0)


__all__ = ["verify", "VerifyReport", "VerifyProblem", "parse_digest"]
