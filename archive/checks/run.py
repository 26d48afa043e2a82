"""Checking claims against their captures: the pass ``citevault check`` runs, and a crawl runs at its end.

For every claim and every 2xx capture of a source it cites that has no current verdict:

1. the capture's text is taken from ``capture_texts`` or extracted from the WARC record once per payload
   (:mod:`archive.checks.texts`), optionally in worker processes;
2. its quote is matched, or its key terms counted (:mod:`archive.checks.match`);
3. the passage is anchored, and re-anchored against the claim's first anchored capture of that source
   (:mod:`archive.checks.anchor`);
4. verdicts are written per batch of claims, in one transaction each.

Source states (``changed`` included) are not touched here: the crawl decides them (``archive.recheck.drift``).
"""
from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any, Callable, Sequence

from archive.checks import rendered, store
from archive.checks.anchor import Anchor, anchor_at, reanchor, text_fragment_url
from archive.checks.match import Match, key_terms_support, match_quote
from archive.checks.normalize import Normalized, normalize_with_map
from archive.checks.termindex import TermIndex
from archive.checks.texts import CaptureText, payload_text
from archive.clock import real_now

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from archive.home import DataHome

BATCH = 500  # (claim, source) groups per transaction


@dataclass
class CheckStats:
    """What a check did; ``as_json`` is what ``citevault check --json`` prints."""

    checked: int = 0
    texts_extracted: int = 0
    texts_reused: int = 0
    unreadable_texts: int = 0
    seconds: float = 0.0
    verdicts: Counter[str] = field(default_factory=Counter)
    anchors: Counter[str] = field(default_factory=Counter)

    def as_json(self) -> dict[str, Any]:
        return {
            "checked": self.checked,
            "texts_extracted": self.texts_extracted,
            "texts_reused": self.texts_reused,
            "unreadable_texts": self.unreadable_texts,
            "seconds": round(self.seconds, 3),
            "verdicts": dict(sorted(self.verdicts.items())),
            "anchors": dict(sorted(self.anchors.items())),
        }


def verify_document_captures(
    engine: Engine,
    home: DataHome,
    document_ids: Sequence[str] | None = None,
    *,
    force: bool = False,
    workers: int = 1,
    crawl_id: str | None = None,
    progress: Callable[[str], None] | None = None,
    source_ids: Sequence[str] | None = None,
) -> CheckStats:
    """Check every claim of ``document_ids`` (all documents when None) against its captures not yet
    checked (every capture with ``force``; only the captures of ``crawl_id`` when given; only the sources
    ``source_ids`` when given: what a crawl's recorder just committed, see :mod:`archive.crawl.checker`).

    Meant to run at the end of each crawl, after the recorder committed its rows::

        verify_document_captures(engine, home, document_ids, crawl_id=crawl_id)

    Captures already checked are skipped, so the cost is proportional to what the crawl fetched. Problems
    with single payloads are recorded as ``unreadable`` verdicts, never raised; database errors are."""
    started = time.perf_counter()
    stats = CheckStats()
    with engine.connect() as conn:
        groups = store.pending_groups(conn, document_ids, force, crawl_id, source_ids)
        if not force:  # captures rendered (again) since they were checked: archive.checks.rendered
            stale = rendered.stale(conn, document_ids, crawl_id)
            if source_ids is not None:
                wanted = set(source_ids)
                stale = [group for group in stale if group[1] in wanted]
            groups = _merged(groups, stale)
    pool = None
    if workers > 1 and len(groups) > 4 * workers:
        from concurrent.futures import ProcessPoolExecutor

        pool = ProcessPoolExecutor(max_workers=workers)
    try:
        for i in range(0, len(groups), BATCH):
            chunk = groups[i:i + BATCH]
            with engine.begin() as conn:
                _check_chunk(conn, home, chunk, force, pool, stats)
            if progress:
                progress(f"checked {min(i + BATCH, len(groups))}/{len(groups)} claim sources")
    finally:
        if pool is not None:
            pool.shutdown()
    stats.seconds = time.perf_counter() - started
    return stats


def _check_chunk(conn: Any, home: DataHome, chunk: list[tuple[str, str]], force: bool, pool: Any,
                 stats: CheckStats) -> None:
    claim_ids = sorted({claim for claim, _ in chunk})
    source_ids = sorted({source for _, source in chunk})
    claims = store.claims_of(conn, claim_ids)
    captures = store.captures_of(conn, source_ids)
    refs = rendered.rendered_refs(conn, [cap.id for caps in captures.values() for cap in caps])
    done = {} if force else store.existing(conn, claim_ids)
    done = {pair: row for pair, row in done.items() if rendered.is_current(row, refs.get(pair[1]))}
    needed = {cap.key: cap for claim, source in chunk for cap in captures.get(source, [])
              if (claim, cap.id) not in done}
    texts = store.load_texts(conn, needed)
    stats.texts_reused += len(texts)
    missing = [needed[key] for key in needed if key not in texts]
    fresh = _extract(home, missing, pool)
    texts.update(fresh)
    stats.texts_extracted += len(fresh)
    stats.unreadable_texts += sum(1 for t in fresh.values() if t.status != "ok")
    now = real_now()
    needed_ids = {cap.id for claim, source in chunk for cap in captures.get(source, []) if (claim, cap.id) not in done}
    texts.update(rendered.texts_for(conn, home, [refs[i] for i in sorted(needed_ids) if i in refs], now))
    cache = _TextCache(texts)
    rows: list[dict[str, Any]] = []
    for claim_id, source_id in chunk:
        if claim_id not in claims:
            continue
        claim_text, quote = claims[claim_id]
        baseline: tuple[str, Anchor, str] | None = None  # (capture id, anchor, text key)
        for cap in captures.get(source_id, []):
            row = done.get((claim_id, cap.id))
            if row is None:
                verify = partial(_verify, claim_id, claim_text, quote, cache=cache, baseline=baseline, now=now)
                ref = refs.get(cap.id)  # rendered in a browser: both texts checked (archive.checks.rendered)
                row = verify(cap) if ref is None else rendered.check_both(verify, cap, ref)
                rows.append(row)
                stats.checked += 1
                stats.verdicts[f"{row['method']}:{row['verdict']}"] += 1
                if row["anchor_state"]:
                    stats.anchors[row["anchor_state"]] += 1
            if baseline is None and row["span_start"] is not None:
                baseline = (cap.id, Anchor(row["exact"], row["prefix"] or "", row["suffix"] or "",
                                           row["span_start"], row["span_end"]), row["text_key"] or cap.key)
    # Writes last: on SQLite the write lock is then held for the writes alone, not the work before them
    # (a crawl's recorder commits beside these checks).
    store.save_texts(conn, fresh, real_now())
    store.save_verifications(conn, rows)


def _merged(groups: list[tuple[str, str]], extra: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """``groups`` plus ``extra``, still ordered by source (its text is read once)."""
    if not extra:
        return groups
    return sorted(set(groups) | set(extra), key=lambda group: (group[1], group[0]))


class _TextCache:
    """Normalized texts and term indexes, computed once per payload for all the claims that cite it."""

    def __init__(self, texts: dict[str, CaptureText]) -> None:
        self.texts = texts
        self._norm: dict[str, Normalized] = {}
        self._terms: dict[str, TermIndex] = {}

    def normalized(self, key: str) -> Normalized:
        if key not in self._norm:
            self._norm[key] = normalize_with_map(self.texts[key].text)
        return self._norm[key]

    def terms(self, key: str) -> TermIndex:
        if key not in self._terms:
            self._terms[key] = TermIndex(self.normalized(key).text)
        return self._terms[key]


def _verify(claim_id: str, claim_text: str, quote: str | None, cap: store.CaptureRef, cache: _TextCache,
            baseline: tuple[str, Anchor, str] | None, now: Any) -> dict[str, Any]:
    method = "quote" if quote else "key_terms"
    ctext = cache.texts.get(cap.key) or CaptureText.unreadable("other", "text not available")
    row: dict[str, Any] = {
        "claim_id": claim_id, "capture_id": cap.id, "source_id": cap.source_id, "text_key": cap.key,
        "method": method, "verdict": "unreadable", "score": None, "span_start": None, "span_end": None,
        "exact": None, "prefix": None, "suffix": None, "fragment_url": None, "anchor_state": None,
        "baseline_capture_id": None, "diff": None, "detail": None, "version": store.VERSION, "checked_at": now,
    }
    if ctext.status != "ok":
        row["detail"] = json.dumps({"reason": ctext.error or "unreadable"})
        return row
    normalized = cache.normalized(cap.key)
    if quote:
        match: Match = match_quote(quote, normalized)
    else:
        match = key_terms_support(claim_text, normalized, cache.terms(cap.key))
    detail: dict[str, Any] = dict(match.detail() or {})  # key terms, the words a misquote or contradiction changed
    seen = ctext.seen()
    if seen is not None:  # a huge payload: say the verdict is about its beginning only
        detail["text_seen"] = seen
        detail["reason"] = (f"checked against the first {seen['bytes_read'] / 2**20:.1f} MiB of a "
                            f"{seen['payload_bytes'] / 2**20:.1f} MiB payload")
    if detail:
        row["detail"] = json.dumps(detail, ensure_ascii=False)
    row["verdict"], row["score"] = match.verdict, match.score
    if match.start is not None and match.end is not None:
        anchor = anchor_at(ctext.text, match.start, match.end)
        row.update(span_start=anchor.start, span_end=anchor.end, exact=anchor.exact, prefix=anchor.prefix,
                   suffix=anchor.suffix, fragment_url=text_fragment_url(cap.url, ctext.text, anchor.start, anchor.end))
    if baseline is None:
        if match.start is not None:
            row["anchor_state"], row["baseline_capture_id"] = "original", cap.id
        return row
    base_id, base_anchor, base_key = baseline
    row["baseline_capture_id"] = base_id
    if base_key == cap.key:
        row["anchor_state"] = "present"
        return row
    found = reanchor(base_anchor, ctext.text, normalized)
    row["anchor_state"] = found.state
    if found.diff:
        row["diff"] = json.dumps(found.diff, ensure_ascii=False)
    return row


def _extract(home: DataHome, captures: list[store.CaptureRef], pool: Any) -> dict[str, CaptureText]:
    jobs = [(str(home.warc_path(c.warc_file)), c.warc_offset, c.content_type) for c in captures]
    if pool is not None and len(jobs) > 8:
        results = list(pool.map(extract_job, jobs, chunksize=8))
    else:
        results = [extract_job(job) for job in jobs]
    return {c.key: result for c, result in zip(captures, results)}


def extract_job(job: tuple[str, int, str | None]) -> CaptureText:
    """Read one payload from its WARC record and extract its text (runs in worker processes too)."""
    from pathlib import Path

    path, offset, content_type = job
    return payload_text(Path(path), offset, content_type)
