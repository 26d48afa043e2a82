"""WARC records -> index rows: what one unit of a WARC file contributes to the index (docs/integrity.md ("Rebuilding and
verifying the index").

Runs in the worker processes of ``reindex`` (and in-process for crash repair). Four kinds of record matter:

* captures: ``response``, ``revisit``, ``metadata`` with ``Citevault-Error`` (a failed fetch) and the article
  ``resource`` records, turned into rows by :func:`archive.index.rows.capture_row`, the crawl's own row builder;
* claims records (``resource`` ``urn:citevault:document:ID``): the document, its claims, citations, sources;
* verdict records (``metadata`` with ``Citevault-Record: source-state``): a source's state after a check that
  the captures alone do not decide (a re-check, a wall, a soft-404). Not captures;
* page-assets records (``metadata`` with ``Citevault-Record: page-assets``): a page's links to the assets it
  needed (:mod:`archive.crawl.page_assets`), rows of ``page_assets``. Not captures; the assets' own records are
  captures with ``role`` ``asset`` (``Citevault-Role``), and since ``Citevault-Asset-Of`` name the pages that
  were waiting for them: the same rows, so a page whose list a killed crawl never wrote keeps its links;
* everything else (``request``, ``warcinfo``, other ``metadata``) is only counted.

Rows travel to the parent as tuples in column order (the column names once per unit), datetimes as naive UTC
``datetime`` objects.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Iterator

from archive import ids
from archive.browser.rendering import header_parts, is_rendering, row_part
from archive.crawl.page_assets import record_link_rows
from archive.index.rows import CAPTURE_COLUMNS, capture_row
from archive.integrity.units import Unit
from archive.states import DocumentStatus, SourceState
from archive.warc.scan import (
    ARTICLE_URN,
    DOCUMENT_URN,
    BadRecord,
    Record,
    RecordError,
    WarcReader,
    index_name,
    parse_warc_date,
)

#: A claims record with more claims than this is parsed again by the parent, streaming, at the end.
CLAIMS_IN_UNIT = 100_000
STATE_RECORD = "source-state"  # the value of Citevault-Record on a verdict record (archive.warc.builder)
PAGE_ASSETS_RECORD = "page-assets"  # ... and on a page's asset list
PAGE_ASSETS_RECORDS = (PAGE_ASSETS_RECORD, "page-assets-partial")  # ... or on what of it was settled at once

#: A document row, in column order (``archive.integrity.writers.COLUMNS`` takes it from here).
DOCUMENT_KEYS = ("id", "url", "title", "kind", "origin", "sha256", "status", "added_at", "claim_count",
                 "check_every")


@dataclass
class ClaimsRecord:
    """A document's claims record, parsed by a worker (``complete`` False: too big, left to the parent).

    ``claims`` rows are (id, document_id, position, text, quote); ``citations`` rows are (claim_id,
    source_id, position, anchor); ``document`` is a dict with :data:`DOCUMENT_KEYS`.
    """

    date: datetime
    file_index: int
    offset: int
    doc_id: str
    complete: bool = True
    document: dict[str, Any] | None = None
    claims: list[tuple[Any, ...]] = field(default_factory=list)
    citations: list[tuple[Any, ...]] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)  # id -> url

    @property
    def key(self) -> tuple[datetime, int, int]:
        """Order of claims records: the last one of a document wins (WARC-Date, then file, then offset)."""
        return (self.date, self.file_index, self.offset)


@dataclass
class Verdict:
    """A verdict record: the source's state as the crawl decided it after one check (``archive.crawl.recorder``)."""

    source_id: str
    crawl_id: str | None
    at: datetime  # when the crawl decided (its schedule clock, ``CITEVAULT_NOW`` in tests)
    file_index: int
    offset: int
    url: str | None
    state: SourceState
    outcome: str
    detail: str | None
    reason: str | None
    failures: int
    first_failure: datetime | None
    next_due: datetime | None
    last_fetched: datetime | None  # the checked fetch's time: the WARC-Date of its final capture
    evidence: str | None
    latest: str | None

    @property
    def key(self) -> tuple[datetime, int, int]:
        return (self.at, self.file_index, self.offset)


@dataclass
class UnitRows:
    """What one unit of a WARC file contributes to the index (built in a worker)."""

    file_index: int
    start: int
    stop: int
    records: int = 0
    captures: list[tuple[Any, ...]] = field(default_factory=list)  # capture rows as tuples, in capture_columns order
    sources: dict[str, tuple[str, datetime]] = field(default_factory=dict)  # id -> (url, first fetch)
    claim_records: list[ClaimsRecord] = field(default_factory=list)
    verdicts: list[Verdict] = field(default_factory=list)
    page_assets: list[tuple[Any, ...]] = field(default_factory=list)  # ``writers.COLUMNS["page_assets"]`` order
    renderings: list[dict[str, Any]] = field(default_factory=list)  # parts of rows (archive.browser.rendering)
    problems: list[tuple[int, str]] = field(default_factory=list)

    @property
    def capture_columns(self) -> tuple[str, ...]:
        """The columns of the :attr:`captures` tuples."""
        return CAPTURE_COLUMNS


_SOURCE_IDS: dict[str, str] = {}


def source_id_of(url: str) -> str:
    """:func:`archive.ids.source_id`, remembered: only for WARC files written before ``Citevault-Source-ID``
    (normalizing a URL costs more than inflating its record)."""
    sid = _SOURCE_IDS.get(url)
    if sid is None:
        if len(_SOURCE_IDS) >= 1 << 16:
            _SOURCE_IDS.clear()
        sid = _SOURCE_IDS[url] = ids.source_id(url)
    return sid


def _payload_sha256(record: Record) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    for data in record.chunks():
        digest.update(data)
        size += len(data)
    return digest.hexdigest(), size


def is_capture(record: Record) -> bool:
    """Does the record get a capture row? (``verify`` checks the index by the same rule.)"""
    kind = record.type
    if kind not in ("response", "revisit", "metadata", "resource"):
        return False
    if (record.get("warc-target-uri") or "").startswith(DOCUMENT_URN):
        return False  # a claims record
    # Only failed fetches are captures; verdicts are read by verdict_of, the rest is skipped.
    return kind != "metadata" or record.get("citevault-error") is not None


def capture_of(record: Record, name: str) -> dict[str, Any] | None:
    """The capture row of a record, or None for records that are not captures."""
    if not is_capture(record):
        return None
    kind = record.type
    uri = record.get("warc-target-uri") or ""
    record_id = record.get("warc-record-id")
    fetched_at = parse_warc_date(record.get("warc-date"))
    if not record_id or fetched_at is None:
        raise BadRecord("record without WARC-Record-ID or a valid WARC-Date")
    source_url = record.get("citevault-source-url")
    sid = record.get("citevault-source-id") or (source_id_of(source_url) if source_url else None)
    values: dict[str, Any] = {
        "record_id": record_id, "record_type": kind, "url": uri, "fetched_at": fetched_at, "source_id": sid,
        "document_id": record.get("citevault-document-id"), "crawl_id": record.get("citevault-crawl-id"),
        "role": record.get("citevault-role"),
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
    if source_url and sid:
        row["_source_url"] = source_url
    return row


def _when(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def verdict_body(*, source_id: str, url: str, state: str, outcome: str, detail: str | None, reason: str | None,
                 failures: int, first_failure: datetime | None, next_due: datetime | None,
                 last_fetched: datetime | None, evidence_capture: str | None, latest_good_capture: str | None,
                 at: datetime | None, **more: Any) -> dict[str, Any]:
    """The JSON body of a verdict record, as :func:`verdict_of` reads it back: written by the recorder for a
    check (:mod:`archive.crawl.recorder`) and by the browser pass for a state decided again from the rendered
    text (:mod:`archive.recheck.rendered_state`, which adds ``decided_from``)."""
    return {"source_id": source_id, "url": url, "state": state, "outcome": outcome, "detail": detail,
            "reason": reason, "failures": failures, "first_failure": _iso(first_failure),
            "next_due": _iso(next_due), "last_fetched": _iso(last_fetched), "evidence_capture": evidence_capture,
            "latest_good_capture": latest_good_capture, "at": _iso(at), **more}


def verdict_of(record: Record, file_index: int) -> Verdict:
    """Parse a verdict record (``Citevault-Record: source-state``)."""
    body = record.read_all(1 << 20)
    try:
        v = json.loads(body)
        at = _when(v["at"])
        if at is None or not v.get("source_id") or not v.get("state"):
            raise ValueError("no source_id, state or at")
        return Verdict(
            source_id=v["source_id"], crawl_id=record.get("citevault-crawl-id"), at=at, file_index=file_index,
            offset=record.offset, url=v.get("url") or None, state=SourceState(v["state"]),
            outcome=v.get("outcome") or "", detail=v.get("detail"), reason=v.get("reason"), failures=int(v.get("failures") or 0),
            first_failure=_when(v.get("first_failure")), next_due=_when(v.get("next_due")),
            last_fetched=_when(v.get("last_fetched")), evidence=v.get("evidence_capture"),
            latest=v.get("latest_good_capture"),
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise BadRecord(f"unreadable source-state record: {exc!r}") from None


def page_links_of(record: Record) -> list[tuple[Any, ...]]:
    """The ``page_assets`` rows of a page-assets record, in column order."""
    from archive.crawl.page_assets import link_rows

    page = record.get("warc-refers-to")
    try:
        body = json.loads(record.read_all(16 << 20))
        if not page or not isinstance(body, dict):
            raise ValueError("no WARC-Refers-To or no JSON object")
        rows = link_rows(page, body)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise BadRecord(f"unreadable page-assets record: {exc!r}") from None
    return [(r["page_id"], r["position"], r["url"], r["kind"], r["capture_id"], r["cut"]) for r in rows]


def scan_for_sqlite(unit: Unit) -> UnitRows:
    """:func:`scan_for_index` with the captures' times already in SQLite's text form (less work for the
    parent, which writes every row)."""
    return scan_for_index(unit, text_times=True)


def scan_for_index(unit: Unit, text_times: bool = False) -> UnitRows:
    """Worker: read one unit and turn its records into rows (see :class:`UnitRows`)."""
    name = index_name(unit.path)
    out = UnitRows(unit.file_index, unit.start, unit.start)
    reader = WarcReader(unit.path, unit.start, unit.end)
    for record in reader:
        row = claims = verdict = links = part = None
        try:
            if record.type == "resource" and (record.get("warc-target-uri") or "").startswith(DOCUMENT_URN):
                date = parse_warc_date(record.get("warc-date"))
                if date is None:
                    raise BadRecord("claims record without a valid WARC-Date")
                uri = record.get("warc-target-uri") or ""
                claims = ClaimsRecord(date, unit.file_index, record.offset, uri[len(DOCUMENT_URN):])
                parse_claims(record, claims, CLAIMS_IN_UNIT)
            elif record.type == "metadata" and record.get("citevault-record") == STATE_RECORD:
                verdict = verdict_of(record, unit.file_index)
            elif record.type == "metadata" and record.get("citevault-record") in PAGE_ASSETS_RECORDS:
                links = page_links_of(record)
            else:
                row = capture_of(record, name)
                if record.type == "resource" and is_rendering(record.get("warc-target-uri") or ""):
                    part = header_parts(record)  # a screenshot or rendered text: a capture and a rendering
            record.finish()  # the member must end cleanly (CRC) before its row counts
        except RecordError:
            continue  # reported by the reader
        except BadRecord as exc:
            out.problems.append((record.offset, str(exc)))
            continue
        if part is not None and row is not None:
            found = row_part(part, name, record.offset, record.length, row["fetched_at"])
            if found is not None:
                out.renderings.append(found)
        if row is not None:
            if row["role"] is not None:
                # an asset's record names the pages waiting for it (rows its page's list repeats, if written)
                out.page_assets.extend((r["page_id"], r["position"], r["url"], r["kind"], r["capture_id"], r["cut"])
                                       for r in record_link_rows(record.get, row["url"], row["id"]))
            row["warc_length"] = record.length
            source_url = row.pop("_source_url", None)
            if source_url:
                known = out.sources.get(row["source_id"])
                if known is None or row["fetched_at"] < known[1]:
                    out.sources[row["source_id"]] = (source_url, row["fetched_at"])
            if text_times:
                row["fetched_at"] = row["fetched_at"].isoformat(" ", "microseconds")
            out.captures.append(tuple(row.values()))
        elif claims is not None:
            out.claim_records.append(claims)
        elif verdict is not None:
            out.verdicts.append(verdict)
        elif links is not None:
            out.page_assets.extend(links)
    out.records = reader.records
    out.stop = reader.stop
    out.problems = sorted(out.problems + reader.problems)
    return out


# -- claims records: a document line, then one line per claim ----------------------------------------------
def _iter_lines(record: Record) -> Iterator[bytes]:
    rest = b""
    for data in record.chunks():
        lines = (rest + data).split(b"\n")
        rest = lines.pop()
        yield from lines
    if rest:
        yield rest


def parse_claims(record: Record, into: ClaimsRecord, limit: int) -> None:
    """Worker: all of a claims record into ``into``, or mark it incomplete past ``limit`` claims."""
    for _ in iter_claims(record, into, limit + 1):
        if len(into.claims) > limit:
            into.complete = False
            into.claims, into.citations, into.sources = [], [], {}
        return


def iter_claims(record: Record, into: ClaimsRecord, batch: int) -> Iterator[ClaimsRecord]:
    """Parse a claims record into ``into``, yielding it each time ``batch`` claims are in it (the caller
    empties the lists) and once at the end."""
    lines = _iter_lines(record)
    try:
        header = json.loads(next(lines))["document"]
        doc = {k: header.get(k) for k in DOCUMENT_KEYS}
        doc["id"] = into.doc_id
        doc["added_at"] = parse_warc_date(header.get("added_at")) or into.date
        # A document added by URL keeps kind "url" until the crawl extracts it: it is still pending.
        if doc["kind"] == "url":
            doc["status"] = DocumentStatus.PENDING
        doc["claim_count"] = int(doc["claim_count"] or 0)
        doc["check_every"] = int(doc["check_every"]) if doc["check_every"] is not None else None
        into.document = doc
        for line in lines:
            if not line.strip():
                continue
            claim = json.loads(line)
            cid = claim["id"]
            for position, ref in enumerate(claim.get("sources") or []):
                url = ref["url"]
                sid = ref.get("id") or source_id_of(url)  # "id": written since source ids went into WARCs
                into.sources.setdefault(sid, url)
                into.citations.append((cid, sid, position, ref.get("anchor")))
            into.claims.append((cid, into.doc_id, claim["position"], claim["text"], claim.get("quote")))
            if len(into.claims) >= batch:
                yield into
                into.claims, into.citations, into.sources = [], [], {}
    except (ValueError, KeyError, TypeError, StopIteration) as exc:
        raise BadRecord(f"unreadable claims record: {exc!r}") from None
    yield into


__all__ = ["ClaimsRecord", "Verdict", "UnitRows", "scan_for_index", "scan_for_sqlite", "capture_of", "is_capture",
           "verdict_of", "iter_claims", "parse_claims", "CLAIMS_IN_UNIT"]
