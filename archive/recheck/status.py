"""Link rot and content drift, as reports: ``citevault status`` and ``citevault diff``."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, text

from archive.clock import iso_time
from archive.errors import NotFoundError
from archive.index.lookup import document, fetch_error
from archive.recheck.drift import source_meaning_changes
from archive.shapes import DiffEntry, StatusEntry, StatusProblem
from archive.states import SourceState
from archive.urls import is_archivable, normalize_url

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from archive.home import DataHome

PROBLEM_STATES = (SourceState.CHANGED, SourceState.GONE, SourceState.FAILED)


def _since(conn: Connection, source_id: str, state: str) -> Any:
    """When the source entered its current state: the first event of the latest run of that state."""
    since = None
    for row in conn.execute(text("SELECT at, state FROM source_events WHERE source_id = :s ORDER BY at DESC, id DESC"),
                            {"s": source_id}):
        if row.state != state:
            break
        since = row.at
    return since


#: The sources of one document that ``status`` lists: changed, gone or failed, or archived (or changed) with
#: failing re-checks (suspect). Found through the sources' state index, not by reading every citation.
_PROBLEMS = (
    "SELECT s.id, s.url, s.state, s.reason, s.last_fetched, s.next_due, s.failures, s.first_failure "
    f"FROM sources s WHERE (s.state IN ('{SourceState.CHANGED}', '{SourceState.GONE}', '{SourceState.FAILED}') "
    f"OR (s.state = '{SourceState.ARCHIVED}' AND s.failures > 0)) AND EXISTS (SELECT 1 FROM citations ci "
    "JOIN claims c ON c.id = ci.claim_id WHERE ci.source_id = s.id AND c.document_id = :d) ORDER BY s.url")


def _claims_backed(conn: Connection, document_id: str, source_id: str) -> list[str]:
    rows = conn.execute(text("SELECT ci.claim_id FROM citations ci JOIN claims c ON c.id = ci.claim_id "
                             "WHERE ci.source_id = :s AND c.document_id = :d ORDER BY c.position"),
                        {"s": source_id, "d": document_id})
    return [r[0] for r in rows]


def status(conn: Connection, document_id: str | None = None) -> list[StatusEntry]:
    """Per document: counts of its sources by state, and each changed / gone / failed source with the
    claims it backs and since when. A changed source whose cited passages changed in meaning (a number, a
    negation, a name: :func:`archive.recheck.drift.source_meaning_changes`) comes first, with the words;
    other changed sources are ``cosmetic`` for the claims.

    The counts are read from :mod:`archive.index.counts` (a few rows per document) and only the problem
    sources are read one by one, so a healthy document of a million claims costs milliseconds."""
    from archive.index.counts import SOURCE, counts

    if document_id:
        docs = [document(conn, document_id)]  # NotFoundError for an unknown id
    else:
        docs = [{**r, "fetch_error": fetch_error(conn, r)} for r in conn.execute(text(
            "SELECT id, url, title, origin, status FROM documents ORDER BY added_at, id")).mappings()]
    by_doc = counts(conn, [d["id"] for d in docs])
    out: list[StatusEntry] = []
    for doc in docs:
        states = by_doc[doc["id"]][SOURCE]
        problems: list[StatusProblem] = []
        for r in conn.execute(text(_PROBLEMS), {"d": doc["id"]}).mappings().all():
            suspect = r["state"] in (SourceState.ARCHIVED, SourceState.CHANGED) and (r["failures"] or 0) > 0
            claims = _claims_backed(conn, doc["id"], r["id"])
            changes = source_meaning_changes(conn, r["id"], claims) if r["state"] == SourceState.CHANGED else []
            problems.append({
                "url": r["url"], "state": r["state"], "reason": r["reason"],
                "since": iso_time(r["first_failure"] if suspect else _since(conn, r["id"], r["state"])),
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
