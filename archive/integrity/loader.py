"""Unit rows -> the index: what the parent process does with each unit a worker read.

Shared by the rebuild (:mod:`archive.integrity.reindex`) and crash recovery (:mod:`archive.integrity.catch_up`); they differ in
what an existing row means. Rebuilding, the index starts empty and a later claims record of a document
replaces an earlier one (WARC-Date, then file order). Recovering, rows already in the index are kept
(INSERT OR IGNORE), except a document added by URL and still ``pending`` there, which its extracted claims
record completes.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from archive.index.rows import CAPTURE_COLUMNS
from archive.integrity.replay_states import add_verdicts
from archive.integrity.unit_rows import ClaimsRecord, UnitRows, Verdict, iter_claims
from archive.integrity.writers import COLUMNS
from archive.states import DocumentStatus, SourceState
from archive.warc.scan import BadRecord, RecordError, WarcReader

if TYPE_CHECKING:
    from archive.integrity.writers import Rows

BATCH = 5000
SOURCE_CACHE = 1 << 18  # sources whose earliest first_seen is remembered (a cache: forgotten ones are upserted)


@dataclass
class Problem:
    file: str
    offset: int
    problem: str


def source_row(sid: str, url: str, first_seen: datetime) -> tuple[Any, ...]:
    """A source as the claims (or a fetch) first name it: pending until its checks are replayed."""
    return (sid, url, SourceState.PENDING, first_seen, None, None, 0, None, None, None, None, None, None)


@dataclass
class Loader:
    """Feed :class:`UnitRows` to a writer. ``rebuild``: the index was empty (see the module docstring)."""

    out: Rows
    paths: list[Path]
    rebuild: bool = True
    records: int = 0
    problems: list[Problem] = field(default_factory=list)
    verdicts: list[Verdict] = field(default_factory=list)  # kept here when not rebuilding
    touched: set[str] = field(default_factory=set)  # sources with a capture or a verdict read
    crawl_ids: set[str] = field(default_factory=set)
    winners: dict[str, tuple[datetime, int, int]] = field(default_factory=dict)
    deferred: list[ClaimsRecord] = field(default_factory=list)
    first_seen: dict[str, datetime] = field(default_factory=dict)
    renderings: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # rendering id -> its records' parts

    def _add_sources(self, rows: list[tuple[Any, ...]]) -> None:
        """Sources as met (claims records, fetches): rebuilding, a source already written with an earlier or
        equal first_seen is skipped here rather than upserted again (half the cost of the sources table)."""
        if self.rebuild:
            seen, fresh = self.first_seen, []
            for row in rows:
                known = seen.get(row[0])
                if known is not None and known <= row[3]:
                    continue
                fresh.append(row)
                if len(seen) >= SOURCE_CACHE:
                    seen.clear()
                seen[row[0]] = row[3]
            rows = fresh
        self.out.add("sources", rows)

    def take(self, rows: UnitRows) -> None:
        self.records += rows.records
        name = self.paths[rows.file_index].name
        self.problems.extend(Problem(name, offset, why) for offset, why in rows.problems)
        self._add_sources([source_row(sid, url, seen) for sid, (url, seen) in rows.sources.items()])
        for i in range(0, len(rows.captures), BATCH):
            self.out.add("captures", rows.captures[i:i + BATCH])
        if not self.rebuild and rows.captures:
            sid_at, crawl_at = CAPTURE_COLUMNS.index("source_id"), CAPTURE_COLUMNS.index("crawl_id")
            self.touched.update(c[sid_at] for c in rows.captures if c[sid_at])
            self.crawl_ids.update(c[crawl_at] for c in rows.captures if c[crawl_at])
        self.out.add("page_assets", rows.page_assets)  # page → asset links (archive.crawl.page_assets)
        for part in rows.renderings:  # a rendering's two records may lie in two units: joined in finish()
            self.renderings.setdefault(part["id"], []).append(part)
        for record in rows.claim_records:
            if record.complete:
                self._claims(record)
            else:
                self.deferred.append(record)
        if self.rebuild:
            add_verdicts(self.out, rows.verdicts)
        else:
            self.verdicts.extend(rows.verdicts)
            self.touched.update(v.source_id for v in rows.verdicts)
        known = [(v.source_id, v.url, v.last_fetched or v.at) for v in rows.verdicts if v.url]
        self._add_sources([source_row(*k) for k in known])

    def finish(self) -> None:
        """The claims records too big to travel from a worker, parsed here, streaming, in record order."""
        for record in sorted(self.deferred, key=lambda r: r.key):
            name = self.paths[record.file_index].name
            try:
                self._big_claims(self.paths[record.file_index], record)
            except RecordError as exc:
                self.problems.append(Problem(name, exc.offset, str(exc)))
            except BadRecord as exc:
                self.problems.append(Problem(name, record.offset, str(exc)))
        self.deferred = []
        if self.renderings:
            from archive.browser.rendering import merge_parts

            rows = [merge_parts(parts) for parts in self.renderings.values()]
            self.out.add("renderings", [tuple(row[c] for c in COLUMNS["renderings"]) for row in rows])
            self.renderings = {}

    # -- claims records ----------------------------------------------------------------------------------
    def _wins(self, record: ClaimsRecord) -> bool:
        """Does this claims record write its document (and claims, citations)?"""
        doc_id = record.doc_id
        current = self.winners.get(doc_id)
        if current is not None and current >= record.key:
            return False
        if self.rebuild:
            if current is not None:  # a later record of the same document: it replaces the earlier one
                self._drop_document(doc_id)
        elif current is None:
            row = next(self.out.fetch("SELECT status FROM documents WHERE id = :d", {"d": doc_id}), None)
            extracted = record.document is not None and record.document.get("status") != DocumentStatus.PENDING
            if row is not None and not (row[0] == DocumentStatus.PENDING and extracted):
                return False  # the index has it already
            if row is not None:
                self._drop_document(doc_id)
        else:
            self._drop_document(doc_id)
        self.winners[doc_id] = record.key
        return True

    def _drop_document(self, doc_id: str) -> None:
        params = {"d": doc_id}
        self.out.execute("DELETE FROM citations WHERE claim_id IN (SELECT id FROM claims WHERE document_id = :d)",
                         params)
        self.out.execute("DELETE FROM claims WHERE document_id = :d", params)
        self.out.execute("DELETE FROM documents WHERE id = :d", params)

    def _sources(self, record: ClaimsRecord, date: datetime) -> None:
        self._add_sources([source_row(sid, url, date) for sid, url in record.sources.items()])

    def _claims(self, record: ClaimsRecord) -> None:
        self._sources(record, record.date)
        if record.document is not None and self._wins(record):
            self.out.add("documents", [tuple(record.document[c] for c in COLUMNS["documents"])])
            self.out.add("claims", record.claims)
            self.out.add("citations", record.citations)

    def _big_claims(self, path: Path, stub: ClaimsRecord) -> None:
        reader = WarcReader(path, stub.offset, stub.offset + 1)
        try:
            record = next(iter(reader), None)
            if record is None:
                raise RecordError(stub.offset, reader.problems[0][1] if reader.problems else "record not found")
            part = ClaimsRecord(stub.date, stub.file_index, stub.offset, stub.doc_id)
            won = None
            for part in iter_claims(record, part, BATCH):
                if won is None:
                    won = part.document is not None and self._wins(part)
                    if won and part.document is not None:
                        self.out.add("documents", [tuple(part.document[c] for c in COLUMNS["documents"])])
                self._sources(part, stub.date)
                if won:
                    self.out.add("claims", part.claims)
                    self.out.add("citations", part.citations)
            record.finish()
        finally:
            reader.close()


def fix_revisits(out: Rows) -> None:
    """A revisit carries its original's payload: take its sha256 and length from the original's row (only
    where they are missing, so rows the crawl wrote are left as they are)."""
    out.execute(
        "UPDATE captures SET "
        "payload_sha256 = (SELECT o.payload_sha256 FROM captures o WHERE o.id = captures.refers_to), "
        "payload_length = (SELECT o.payload_length FROM captures o WHERE o.id = captures.refers_to) "
        "WHERE record_type = 'revisit' AND payload_sha256 IS NULL AND refers_to IN (SELECT id FROM captures)"
    )


__all__ = ["Loader", "Problem", "fix_revisits", "source_row"]
