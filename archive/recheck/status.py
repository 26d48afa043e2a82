"""Link rot and content drift, as reports: ``citevault status`` and ``citevault diff``."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from archive.clock import iso_time
from archive.errors import NotFoundError
from archive.index.lookup import document, fetch_error
from archive.index.statements import Statements, statements
from archive.recheck.drift import source_meaning_changes
from archive.shapes import DiffEntry, StatusEntry, StatusProblem
from archive.states import SourceState
from archive.urls import is_archivable, normalize_url

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from archive.home import DataHome

PROBLEM_STATES = (SourceState.CHANGED, SourceState.GONE, SourceState.FAILED)


#: Events are read for this many sources a statement.
_CHUNK = 500


def _since_all(run: Statements, current: dict[str, str]) -> dict[str, Any]:
    """Per source of ``current`` (id: state): when it entered that state, the first event of the latest run
    of it in its history. One statement per :data:`_CHUNK` sources."""
    out: dict[str, Any] = {}
    ids = list(current)
    stmt = ("SELECT source_id, at, state FROM source_events WHERE source_id IN :ids "
            "ORDER BY source_id, at DESC, id DESC")
    for i in range(0, len(ids), _CHUNK):
        done: set[str] = set()
        for sid, at, state in run.rows(stmt, {"ids": ids[i:i + _CHUNK]}):
            if sid in done:
                continue
            if state != current[sid]:
                done.add(sid)
                continue
            out[sid] = at
    return out


#: The sources of one document that ``status`` lists, each with the claims of the document it backs:
#: changed, gone or failed, or archived (or changed) with failing re-checks (suspect). Found through the
#: sources' state index, then each one's citations; the CROSS JOINs keep SQLite from walking the
#: document's claims instead (a million of them, for each source). One row per (source, claim).
_PROBLEMS = (
    "SELECT s.id, s.url, s.state, s.reason, s.last_fetched, s.next_due, s.failures, s.first_failure, "
    "ci.claim_id FROM sources s CROSS JOIN citations ci CROSS JOIN claims c "
    f"WHERE (s.state IN ('{SourceState.CHANGED}', '{SourceState.GONE}', '{SourceState.FAILED}') "
    f"OR (s.state = '{SourceState.ARCHIVED}' AND s.failures > 0)) AND ci.source_id = s.id AND c.id = ci.claim_id "
    "AND c.document_id = :d ORDER BY s.url, c.position")


def _problem_sources(run: Statements, document_id: str) -> list[tuple[Any, list[str]]]:
    """(source row, ids of the document's claims citing it in reading order), by URL."""
    found: dict[str, tuple[Any, list[str]]] = {}
    for row in run.maps(_PROBLEMS, {"d": document_id}):
        found.setdefault(row["id"], (row, []))[1].append(row["claim_id"])
    return list(found.values())


def status(conn: Connection | Statements, document_id: str | None = None) -> list[StatusEntry]:
    """Per document: counts of its sources by state, and each changed / gone / failed source with the
    claims it backs and since when. A changed source whose cited passages changed in meaning (a number, a
    negation, a name: :func:`archive.recheck.drift.source_meaning_changes`) comes first, with the words;
    other changed sources are ``cosmetic`` for the claims.

    The counts are read from :mod:`archive.index.counts` (a few rows per document) and only the problem
    sources are read one by one, so a healthy document of a million claims costs milliseconds. Plain
    statements (:mod:`archive.index.statements`), so that ``citevault status`` on PostgreSQL, like ``lookup``,
    runs on the driver alone."""
    from archive.index.counts import SOURCE, counts

    run = statements(conn)
    if document_id:
        docs = [document(run, document_id)]  # NotFoundError for an unknown id
    else:
        docs = [{**r, "fetch_error": fetch_error(run, r)} for r in run.maps(
            "SELECT id, url, title, origin, status FROM documents ORDER BY added_at, id")]
    by_doc = counts(run, [d["id"] for d in docs])
    out: list[StatusEntry] = []
    for doc in docs:
        states = by_doc[doc["id"]][SOURCE]
        problems: list[StatusProblem] = []
        found = _problem_sources(run, doc["id"])
        since = _since_all(run, {r["id"]: r["state"] for r, _claims in found})
        for r, claims in found:
            suspect = r["state"] in (SourceState.ARCHIVED, SourceState.CHANGED) and (r["failures"] or 0) > 0
            changes = source_meaning_changes(run, r["id"], claims) if r["state"] == SourceState.CHANGED else []
            problems.append({
                "url": r["url"], "state": r["state"], "reason": r["reason"],
                "since": iso_time(r["first_failure"] if suspect else since.get(r["id"])),
                "last_checked": iso_time(r["last_fetched"]), "next_check": iso_time(r["next_due"]),
                "failed_checks": r["failures"] or 0, "claims": claims,
                "change": ("meaning" if changes else "cosmetic") if r["state"] == SourceState.CHANGED else None,
                "meaning_changes": changes,
            })
        problems.sort(key=lambda p: p["change"] != "meaning")  # meaning changes first, the rest as they were
        out.append({"document": {"id": doc["id"], "url": doc["url"], "title": doc["title"], "origin": doc["origin"],
                                 "fetch_error": doc["fetch_error"]},
                    "sources": sum(states.values()), "states": dict(sorted(states.items())), "problems": problems})
    return out


def _sources_for(conn: Connection, target: str) -> list[Any]:
    from sqlalchemy import text

    if is_archivable(target):
        rows = conn.execute(text("SELECT * FROM sources WHERE url = :u"), {"u": normalize_url(target)}).mappings().all()
        if not rows:
            raise NotFoundError(f"no source {target!r} in the index")
        return list(rows)
    if conn.execute(text("SELECT 1 FROM claims WHERE id = :c"), {"c": target}).first() is None:
        raise NotFoundError(f"no claim {target!r} and no source URL like it in the index")
    return list(conn.execute(text(
        "SELECT s.* FROM sources s JOIN citations ci ON ci.source_id = s.id WHERE ci.claim_id = :c "
        "ORDER BY ci.position"), {"c": target}).mappings())


def diff(conn: Connection, home: DataHome, target: str) -> list[DiffEntry]:
    """For a claim id or a source URL: per source, the unified diff of the main text between the capture
    the claim relied on (the evidence) and the latest good capture."""
    from sqlalchemy import bindparam, text

    from archive.recheck.drift import compared_texts, unified_diff

    out: list[DiffEntry] = []
    for source in _sources_for(conn, target):
        old_id, new_id = source["evidence_capture"], source["latest_good_capture"]
        entry: DiffEntry = {"url": source["url"], "state": source["state"], "evidence": old_id,
                                 "latest": new_id, "diff": ""}
        if not old_id:
            entry["note"] = "never archived: nothing to compare"
        elif not new_id or new_id == old_id:
            entry["note"] = "no newer good capture yet"
        else:
            old, new = compared_texts(conn, home, old_id, new_id)  # rendered texts when both have one
            if old is None or new is None or old.status != "ok" or new.status != "ok":
                entry["note"] = "main text unreadable in one of the captures"
            else:
                times: dict[str, Any] = dict(conn.execute(text("SELECT id, fetched_at FROM captures WHERE id IN :ids").bindparams(
                    bindparam("ids", expanding=True)), {"ids": [old_id, new_id]}).all())
                entry["diff"] = unified_diff(old.text, new.text, f"{source['url']} @ {iso_time(times.get(old_id))}",
                                             f"{source['url']} @ {iso_time(times.get(new_id))}")
                if not entry["diff"]:
                    entry["note"] = "main text unchanged"
        out.append(entry)
    conn.commit()  # texts extracted on the way are cached
    return out
