"""One WARC record re-hashed, streaming: what a receipt states about a record, and what checking it
finds again. Reads the record at (file, offset) with the reader ``citevault verify`` uses
(:class:`archive.warc.scan.WarcReader`) and hashes its block and payload in one pass: SHA-256 of each,
and the algorithms its ``WARC-Block-Digest`` and ``WARC-Payload-Digest`` headers name."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from archive.errors import StoreError
from archive.integrity.fixity import parse_digest
from archive.warc.scan import RecordError, WarcReader


@dataclass(frozen=True)
class RecordDigests:
    """What the record at one place holds, hashed now."""

    record_id: str | None
    warc_date: str | None
    record_type: str
    block_digest: str | None  #: the WARC-Block-Digest header
    payload_digest: str | None  #: the WARC-Payload-Digest header
    block_sha256: str
    payload_sha256: str
    problems: list[str]  #: header digests that the bytes do not match
    length: int  #: the gzip member's length


def rehash(path: Path, offset: int) -> RecordDigests:
    """Hash the record whose gzip member starts at ``offset`` of ``path``."""
    try:
        reader = WarcReader(path, offset)
    except OSError as exc:
        raise StoreError(f"cannot read {path}: {exc.strerror}") from None
    try:
        record = next(iter(reader), None)
        if record is None or record.offset != offset:
            raise StoreError(f"no WARC record at {path.name}@{offset}")
        checks: list[tuple[str, Any, bytes]] = []
        for header, name in (("warc-block-digest", "block"), ("warc-payload-digest", "payload")):
            value = record.get(header)
            if value and not (name == "payload" and record.type == "revisit"):  # a revisit's payload is elsewhere
                parsed = parse_digest(value)
                if isinstance(parsed, str):
                    raise StoreError(f"{path.name}@{offset}: {header}: {parsed}")
                checks.append((name, parsed[0], parsed[1]))
        block_sha, payload_sha = hashlib.sha256(), hashlib.sha256()
        if record.type in ("response", "request", "revisit") and \
                (record.get("content-type") or "").lower().startswith("application/http"):
            record.parse_http()
            if record.http_head:
                block_sha.update(record.http_head)
                for name, hasher, _ in checks:
                    if name == "block":
                        hasher.update(record.http_head)
        for data in record.chunks():
            block_sha.update(data)
            payload_sha.update(data)
            for _, hasher, _ in checks:
                hasher.update(data)
        record.finish()
    except RecordError as exc:
        raise StoreError(f"{path.name}@{offset}: damaged record ({exc})") from None
    finally:
        reader.close()
    problems = [f"{name} digest mismatch (WARC-{name.capitalize()}-Digest)"
                for name, hasher, want in checks if hasher.digest() != want]
    return RecordDigests(record.get("warc-record-id"), record.get("warc-date"), record.type,
                         record.get("warc-block-digest"), record.get("warc-payload-digest"),
                         block_sha.hexdigest(), payload_sha.hexdigest(), problems, record.length)
