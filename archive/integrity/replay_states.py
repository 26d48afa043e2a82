"""Source states, their history and the crawl rows, rebuilt from captures and verdict records (README
"Rebuilding and verifying the index").

A source's checks are replayed in time order. A check is a *fetch*: the source's captures in one crawl (a
crawl fetches a source once; redirect hops and retries are captures of the same fetch), decided by its final
capture. For each fetch:

* if the crawl wrote a verdict record for it (same source, same ``Citevault-Crawl-ID``; the latest by its
  ``at``, then file order, if there are several), the verdict is taken as written: state, failures,
  first_failure, reason, next_due, evidence and latest good capture. The crawl writes one for every
  re-check of a source that already has evidence and for every first fetch the status alone does not decide
  (soft-404, walls, rate limits, 403, robots.txt);
* otherwise the verdict is derived from the final capture with :func:`archive.recheck.transitions.decide`, as the crawl
  decided it: a 2xx is ``ok`` (the first one becomes the evidence and the latest good capture), 404/410
  ``gone``, anything else (another status, a failed fetch) ``error``; ``now`` is the fetch time and the
  interval the smallest ``check_every`` of the documents citing the source, else the policy's default.

A verdict record whose fetch left no capture is replayed at its ``last_fetched``. Each step is one
``source_events`` row and counts toward its crawl's ``requested``/``archived``/``failed``.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Iterator, NamedTuple

from archive.clock import as_datetime
from archive.index.rows import capture_columns
from archive.integrity.unit_rows import Verdict
from archive.integrity.writers import VERDICTS, quoted
from archive.recheck.outcomes import Outcome, classify_failure, status_outcome
from archive.recheck.transitions import Known, decide
from archive.states import SourceState

if TYPE_CHECKING:
    from archive.integrity.writers import Rows
    from archive.recheck.policy import Policy

BATCH = 5000


class FetchCapture(NamedTuple):
    """What the replay reads back of a capture (the columns of these names)."""

    source_id: str
    crawl_id: str | None
    id: str
    record_type: str
    http_status: int | None
    error: str | None
    fetched_at: Any  # text on SQLite: see archive.clock.as_datetime


CAPTURE_SQL = ", ".join(capture_columns(*FetchCapture._fields))
FETCH_TYPES = "('response', 'revisit', 'metadata')"
VERDICT_COLUMNS = tuple(Verdict.__dataclass_fields__)
VERDICT_TYPES = {"at": "TIMESTAMP", "first_failure": "TIMESTAMP", "next_due": "TIMESTAMP",
                 "last_fetched": "TIMESTAMP", "file_index": "INTEGER", "offset": "INTEGER", "failures": "INTEGER"}


@dataclass
class Settled:
    """The columns of a ``sources`` row that checks decide."""

    state: SourceState = SourceState.PENDING
    failures: int = 0
    first_failure: datetime | None = None
    reason: str | None = None
    next_due: datetime | None = None
    last_fetched: datetime | None = None
    evidence: str | None = None
    latest: str | None = None

    def update(self, sid: str) -> dict[str, Any]:
        return {"sid": sid, "state": self.state, "fetched": self.last_fetched, "failures": self.failures,
                "first_failure": self.first_failure, "reason": self.reason, "next_due": self.next_due,
                "evidence": self.evidence, "latest": self.latest}


@dataclass
class Fetch:
    crawl_id: str | None
    final: FetchCapture  # the last capture
    at: datetime  # its time
    verdict: Verdict | None = None

    @property
    def capture_id(self) -> str | None:
        """The capture the crawl settled the source with: the final response, none for a failed fetch."""
        return self.final.id if self.final.record_type != "metadata" else None


@dataclass
class Replayed:
    state: Settled
    events: list[tuple[Any, ...]] = field(default_factory=list)  # source_events rows
    crawls: list[tuple[str | None, SourceState]] = field(default_factory=list)  # (crawl id, state) per check


def outcome_of(final: FetchCapture) -> Outcome:
    """The outcome a final capture stands for, when no verdict record says more."""
    if final.record_type == "metadata":
        return classify_failure(final.error or "error")
    return status_outcome(final.http_status)


def fetches_of(captures: list[tuple[Any, ...]]) -> list[Fetch]:
    """One source's captures (:class:`FetchCapture` rows, in time order) grouped into fetches, one per crawl."""
    last: dict[str | None, tuple[Any, ...]] = {}
    for row in captures:
        last[row[1]] = row  # by crawl_id; later rows overwrite: each crawl's final capture (dict keeps first order)
    fetches = []
    for crawl_id, row in last.items():
        final = FetchCapture._make(row)
        at = as_datetime(final.fetched_at)
        assert at is not None  # fetched_at is NOT NULL
        fetches.append(Fetch(crawl_id, final, at))
    return fetches


def replay(sid: str, start: Settled, fetches: list[Fetch], verdicts: list[Verdict],
           every: timedelta | None, policy: Policy) -> Replayed:
    """Apply ``fetches`` and ``verdicts`` (newer than ``start``) to ``start`` (changed in place); see the
    module docstring."""
    steps: list[Fetch | Verdict] = list(fetches)  # in time order (a source's crawls do not overlap)
    if verdicts:
        by_crawl = {f.crawl_id: f for f in fetches}
        loose: list[Verdict] = []
        for v in sorted(verdicts, key=lambda v: v.key):
            fetch = by_crawl.get(v.crawl_id)
            if fetch is not None:
                fetch.verdict = v  # sorted: the latest verdict of a fetch wins
            else:
                loose.append(v)
        if loose:
            steps += loose
            steps.sort(key=lambda x: (x.at, 0) if isinstance(x, Fetch) else (x.last_fetched or x.at, 1))
    s = start
    out = Replayed(s)
    for step in steps:
        fetch = step if isinstance(step, Fetch) else None
        verdict = fetch.verdict if fetch is not None else step
        if isinstance(verdict, Verdict):
            s.state, s.failures, s.first_failure = verdict.state, verdict.failures, verdict.first_failure
            s.reason, s.next_due = verdict.reason, verdict.next_due
            s.evidence, s.latest = verdict.evidence, verdict.latest
            s.last_fetched = verdict.last_fetched or (fetch.at if fetch is not None else s.last_fetched)
            capture = fetch.capture_id if fetch is not None else None
            out.events.append((sid, verdict.at, verdict.state, verdict.outcome, capture, verdict.crawl_id,
                               verdict.detail))
            out.crawls.append((verdict.crawl_id, verdict.state))
            continue
        assert fetch is not None
        outcome = outcome_of(fetch.final)
        now = fetch.at
        known = Known(s.state, s.evidence is not None, s.failures, s.first_failure)
        d = decide(known, outcome, changed=None, now=now, policy=policy, every=every)
        capture = fetch.capture_id
        s.state, s.failures, s.first_failure = d.state, d.failures, d.first_failure
        s.reason, s.next_due, s.last_fetched = d.reason, d.next_due, now
        if d.is_evidence:
            s.evidence = capture
        if d.is_latest_good:
            s.latest = capture
        out.events.append((sid, now, d.state, outcome.kind, capture, fetch.crawl_id, outcome.detail or None))
        out.crawls.append((fetch.crawl_id, d.state))
    return out


def intervals(out: Rows) -> dict[str, timedelta]:
    """Each source's re-check interval when a citing document has its own (the smallest), as the crawl
    computes it; sources missing here use the policy's default."""
    # Documents first (CROSS JOIN keeps SQLite to this order): few of them have their own interval.
    rows = out.fetch(
        "SELECT ci.source_id, MIN(d.check_every) FROM documents d CROSS JOIN claims c CROSS JOIN citations ci "
        "WHERE d.check_every IS NOT NULL AND c.document_id = d.id AND ci.claim_id = c.id GROUP BY ci.source_id")
    return {sid: timedelta(seconds=int(seconds)) for sid, seconds in rows if seconds}


def _groups(rows: Iterator[tuple[Any, ...]]) -> Iterator[tuple[str, list[tuple[Any, ...]]]]:
    group: list[tuple[Any, ...]] = []
    for row in rows:
        if group and row[0] != group[0][0]:
            yield group[0][0], group
            group = []
        group.append(row)
    if group:
        yield group[0][0], group


def create_verdict_table(out: Rows) -> None:
    columns = ", ".join(f"{q} {VERDICT_TYPES.get(c, 'TEXT')}" for q, c in zip(quoted(VERDICT_COLUMNS), VERDICT_COLUMNS))
    out.execute(f"CREATE TEMP TABLE {VERDICTS} ({columns})")


def add_verdicts(out: Rows, verdicts: list[Verdict]) -> None:
    if verdicts:
        out.add(VERDICTS, [tuple(getattr(v, c) for c in VERDICT_COLUMNS) for v in verdicts], VERDICT_COLUMNS)


def _stored_verdicts(out: Rows) -> Iterator[tuple[str, list[Verdict]]]:
    rows = out.fetch(f"SELECT {', '.join(quoted(VERDICT_COLUMNS))} FROM {VERDICTS} "
                     'ORDER BY source_id, at, file_index, "offset"')
    for sid, group in _groups(iter(rows)):
        verdicts = []
        for row in group:
            v = Verdict(*row)
            for name in ("at", "first_failure", "next_due", "last_fetched"):
                setattr(v, name, as_datetime(getattr(v, name)))
            v.state = SourceState(v.state)
            verdicts.append(v)
        yield sid, verdicts


def settle_all(out: Rows, policy: Policy) -> dict[str, Counter[SourceState]]:
    """Rebuild: every fetched source's state and history, in one ordered pass over the captures merged with
    the verdict table. Returns each crawl's count of states."""
    every = intervals(out)
    captures = _groups(out.fetch(f"SELECT {CAPTURE_SQL} FROM captures WHERE source_id IS NOT NULL AND record_type IN "
                                 f"{FETCH_TYPES} ORDER BY source_id, fetched_at, warc_file, warc_offset"))
    verdicts = _stored_verdicts(out)
    per_crawl: dict[str, Counter[SourceState]] = {}
    updates: list[dict[str, Any]] = []
    events: list[tuple[Any, ...]] = []
    cap = next(captures, None)
    ver = next(verdicts, None)
    while cap is not None or ver is not None:
        # Two streams in source id order (hex ids: SQL and Python agree on it).
        if cap is None:
            sid = ver[0]  # type: ignore[index]  # the loop runs while one of them is left
        else:
            sid = cap[0] if ver is None or cap[0] <= ver[0] else ver[0]
        rows: list[tuple[Any, ...]] = []
        found: list[Verdict] = []
        if cap is not None and cap[0] == sid:
            rows, cap = cap[1], next(captures, None)
        if ver is not None and ver[0] == sid:
            found, ver = ver[1], next(verdicts, None)
            if not rows and not out.has_source(sid):
                continue  # a verdict about a source nothing else names (no URL to give it a row)
        done = replay(sid, Settled(), fetches_of(rows), found, every.get(sid), policy)
        updates.append(done.state.update(sid))
        events.extend(done.events)
        for crawl_id, state in done.crawls:
            if crawl_id is not None:
                counter = per_crawl.get(crawl_id)
                if counter is None:  # (setdefault would build a Counter for every source)
                    counter = per_crawl[crawl_id] = Counter()
                counter[state] += 1
        if len(updates) >= BATCH or len(events) >= BATCH:
            out.settle(updates)
            out.add("source_events", events)
            updates, events = [], []
    out.settle(updates)
    out.add("source_events", events)
    return per_crawl


def settle_some(out: Rows, source_ids: set[str], verdicts: list[Verdict], policy: Policy) -> int:
    """Recovery: replay, onto each source's row as it is, the checks newer than its ``last_fetched`` (the
    captures now in the index, and the verdict records just read). Returns how many sources changed."""
    by_source: dict[str, list[Verdict]] = {}
    for v in verdicts:
        by_source.setdefault(v.source_id, []).append(v)
    updates, events = [], []
    for sid in sorted(source_ids):
        row = next(out.fetch("SELECT state, failures, first_failure, reason, next_due, last_fetched, "
                             "evidence_capture, latest_good_capture FROM sources WHERE id = :s", {"s": sid}), None)
        if row is None:
            continue
        state, failures, first_failure, reason, next_due, last_fetched, evidence, latest = row
        start = Settled(SourceState(state), failures or 0, as_datetime(first_failure), reason, as_datetime(next_due),
                            as_datetime(last_fetched), evidence, latest)
        since = start.last_fetched
        newer = "" if since is None else " AND fetched_at > :t"
        captures = list(out.fetch(f"SELECT {CAPTURE_SQL} FROM captures WHERE source_id = :s AND record_type IN "
                                  f"{FETCH_TYPES}{newer} ORDER BY fetched_at, warc_file, warc_offset",
                                  {"s": sid, "t": out.bind(since)}))
        found = [v for v in by_source.get(sid, []) if since is None or (v.last_fetched or v.at) > since]
        if not captures and not found:
            continue
        seconds = next(out.fetch(
            "SELECT MIN(d.check_every) FROM citations ci JOIN claims c ON c.id = ci.claim_id "
            "JOIN documents d ON d.id = c.document_id WHERE ci.source_id = :s", {"s": sid}))[0]
        every = timedelta(seconds=int(seconds)) if seconds else None
        done = replay(sid, start, fetches_of(captures), found, every, policy)
        updates.append(done.state.update(sid))
        events.extend(done.events)
    out.settle(updates)
    out.add("source_events", events)
    return len(updates)


def add_crawls(out: Rows, per_crawl: dict[str, Counter[SourceState]], crawl_ids: list[str] | None = None) -> None:
    """One ``crawls`` row per crawl id of the captures (first and last capture time, states counted by
    check); pid and host are not in the WARC files and stay NULL. Rows already there are kept."""
    params: dict[str, Any] = {}
    only = ""
    if crawl_ids is not None:
        if not crawl_ids:
            return
        params = {f"c{i}": c for i, c in enumerate(crawl_ids)}
        only = f" AND crawl_id IN ({', '.join(':' + k for k in params)})"
    sql = ("SELECT crawl_id, MIN(fetched_at), MAX(fetched_at) FROM captures WHERE crawl_id IS NOT NULL"
           f"{only} GROUP BY crawl_id")
    rows = []
    for crawl_id, first, last in out.fetch(sql, params):
        states = per_crawl.get(crawl_id, Counter())
        total = sum(states.values())
        archived = states.get(SourceState.ARCHIVED, 0)
        rows.append((crawl_id, as_datetime(first), as_datetime(last), total, archived, total - archived, None, None))
    out.add("crawls", rows)


__all__ = ["Settled", "Fetch", "FetchCapture", "replay", "settle_all", "settle_some", "add_crawls", "outcome_of",
           "fetches_of", "intervals"]
