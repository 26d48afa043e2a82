"""The evidence report of a document as plain data: every claim in order, its sources and their verdicts.

Renderers (:mod:`archive.report.markdown`, :mod:`archive.report.html`) and exports (Robust Links,
ClaimReview) all start from :func:`build_report`; ``citevault report --format json`` prints it as is.

Per source, the report shows the *evidence capture* (the newest 2xx capture: what the archive holds now),
its verification, and the *last fetch* (newest non-redirect attempt, which may be a 404 or a timeout
after the evidence was archived).

Archived links are Memento URI-Ms of ``citevault serve``, ``{replay_base}/replay/{timestamp}/{url}`` (see
:func:`archived_url`); with an empty ``replay_base`` they are ``urn:citevault:capture:{capture_id}``.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection

from archive.clock import timestamp14
from archive.report import DEFAULT_REPLAY_BASE
from archive.states import SourceState

if TYPE_CHECKING:
    from archive.shapes import CaptureJSON, ClaimJSON, ClaimRow, SourceJSON, Verification

_CHUNK = 500
# Best first: a claim citing several sources gets the best verdict any of them gives.
_RANK = {"found": 0, "close": 1, "supported": 2, "partial": 3, "misquoted": 4, "contradicted": 5, "not_found": 6,
         "no_match": 7, "unreadable": 8}


def archived_url(capture: Mapping[str, Any], replay_base: str | None = DEFAULT_REPLAY_BASE) -> str:
    """The link to an archived capture: its Memento URI-M on ``citevault serve``
    (``/replay/{14-digit timestamp}/{url}``), the capture page for a non-HTTP URL (an added file), or a
    ``urn:citevault:capture:`` URN when there is no replay base.

    >>> cap = {"id": "0b6f3c5e", "url": "https://e.org/r?a=1", "fetched_at": "2026-11-28T05:41:14.3Z"}
    >>> archived_url(cap)
    'http://127.0.0.1:8000/replay/20261128054114/https://e.org/r?a=1'
    >>> archived_url({**cap, "url": "urn:citevault:article:ab12"}, "https://evidence.example.org/")
    'https://evidence.example.org/captures/0b6f3c5e'
    >>> archived_url(cap, "")
    'urn:citevault:capture:0b6f3c5e'
    """
    if not replay_base:
        return f"urn:citevault:capture:{capture['id']}"
    base = replay_base.rstrip("/")
    if not capture["url"].startswith(("http://", "https://")):
        return f"{base}/captures/{capture['id']}"
    return f"{base}/replay/{timestamp14(capture['fetched_at'])}/{capture['url']}"


def build_report(conn: Connection, document_id: str, *, replay_base: str | None = DEFAULT_REPLAY_BASE) -> dict[str, Any]:
    """The report of ``document_id`` (see the module docstring); raises NotFoundError for unknown ids."""
    from archive import __version__
    from archive.checks.shape import verifications_for_claims
    from archive.clock import iso_time, real_now
    from archive.index import lookup as reads

    doc = reads.document(conn, document_id)
    listed = reads.document_claims(conn, document_id)
    claims: list[dict[str, Any]] = []
    for i in range(0, len(listed), _CHUNK):
        part = listed[i:i + _CHUNK]
        ids = [c["id"] for c in part]
        full = {c["id"]: c for c in reads.claims_json(conn, ids)}
        checks = verifications_for_claims(conn, ids)
        for summary in part:
            claims.append(_claim(summary, full.get(summary["id"]), checks, replay_base))
    return {
        "meaning_changes": _meaning_changes(claims),
        "document": {"id": doc["id"], "url": doc["url"], "title": doc["title"], "kind": doc["kind"],
                     "origin": doc["origin"], "added_at": iso_time(doc["added_at"]),
                     "fetch_error": doc["fetch_error"]},
        "generated_at": real_now().replace(microsecond=0).isoformat() + "Z",
        "generator": f"citevault {__version__}",
        "replay_base": replay_base or None,
        "totals": _totals(claims),
        "claims": claims,
    }


def _claim(summary: ClaimRow, full: ClaimJSON | None, checks: Mapping[tuple[str, str], Verification],
           replay_base: str | None) -> dict[str, Any]:
    sources = [_source(summary["id"], s, checks, replay_base) for s in (full["sources"] if full else [])]
    verdicts = [s["verification"] for s in sources if s["verification"]]
    best = min(verdicts, key=lambda v: (_RANK.get(v["verdict"], 9), -(v["score"] or 0))) if verdicts else None
    return {
        "id": summary["id"],
        "position": summary["position"],
        "text": summary["text"],
        "quote": summary["quote"],
        "state": summary["state"],
        "verdict": None if best is None else {"method": best["method"], "verdict": best["verdict"],
                                              "score": best["score"], "heuristic": best["heuristic"],
                                              "label": best["label"], "differences": best["differences"]},
        "sources": sources,
    }


def _meaning_changes(claims: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Cited passages whose meaning changed since the first capture (numbers, negations, names, opposite
    words, or deleted): what a reader must see first (:func:`archive.recheck.drift.passage_changes`)."""
    return [{"claim_id": c["id"], "position": c["position"], "url": s["url"], "changes": s["passage_changes"]}
            for c in claims for s in c["sources"] if s["passage_changes"]]


def _source(claim_id: str, source: SourceJSON, checks: Mapping[tuple[str, str], Verification],
            replay_base: str | None) -> dict[str, Any]:
    captures = source["captures"]
    good = [c for c in captures if c["http_status"] is not None and 200 <= c["http_status"] < 300]
    fetches = [c for c in captures if c["http_status"] is None or not 300 <= c["http_status"] < 400]
    evidence = good[-1] if good else None
    last = fetches[-1] if fetches else None
    verification = checks.get((claim_id, evidence["id"])) if evidence else None
    from archive.recheck.drift import passage_changes

    return {
        "url": source["url"],
        "state": source["state"],
        "captures": len(captures),
        "first_capture": _capture(good[0], replay_base) if good else None,
        "evidence": _capture(evidence, replay_base) if evidence else None,
        "last_fetch": None if last is None else {"capture_id": last["id"], "fetched_at": last["fetched_at"],
                                                 "http_status": last["http_status"], "error": last["error"]},
        "verification": verification,
        "passage_changes": passage_changes(verification["anchor"]) if verification else [],
    }


def _capture(cap: CaptureJSON, replay_base: str | None) -> dict[str, Any]:
    return {
        "id": cap["id"], "url": cap["url"], "fetched_at": cap["fetched_at"], "http_status": cap["http_status"],
        "content_type": cap["content_type"], "archived_url": archived_url(cap, replay_base),
        "warc_file": cap["warc_file"], "warc_offset": cap["warc_offset"], "payload_sha256": cap["payload_sha256"],
    }


def _totals(claims: list[dict[str, Any]]) -> dict[str, int]:
    states: Counter[str] = Counter()
    seen: dict[str, str] = {}  # url -> its SourceState
    for claim in claims:
        for source in claim["sources"]:
            seen[source["url"]] = source["state"]
    states.update(seen.values())
    quote_claims = [c for c in claims if c["quote"] and c["sources"]]
    verdicts = Counter(c["verdict"]["verdict"] for c in quote_claims if c["verdict"] and c["verdict"]["method"] == "quote")
    support = Counter(c["verdict"]["verdict"] for c in claims
                      if not c["quote"] and c["verdict"] and c["verdict"]["method"] == "key_terms")
    anchors = Counter(s["verification"]["anchor"]["state"] for c in claims for s in c["sources"]
                      if s["verification"] and s["verification"]["anchor"])
    return {
        "claims": len(claims),
        "sourced_claims": sum(1 for c in claims if c["sources"]),
        "unsourced_claims": sum(1 for c in claims if not c["sources"]),
        "sources": len(seen),
        "archived": states[SourceState.ARCHIVED],
        "changed": states[SourceState.CHANGED],
        "gone": states[SourceState.GONE],
        "failed": states[SourceState.FAILED],
        "pending": states[SourceState.PENDING],
        "quotes": len(quote_claims),
        "quotes_found": verdicts["found"],
        "quotes_close": verdicts["close"],
        "quotes_misquoted": verdicts["misquoted"],
        "quotes_not_found": verdicts["not_found"],
        "quotes_unreadable": verdicts["unreadable"],
        "quotes_unchecked": len(quote_claims) - sum(verdicts.values()),
        "key_terms_supported": support["supported"],
        "key_terms_partial": support["partial"],
        "key_terms_contradicted": support["contradicted"],
        "key_terms_no_match": support["no_match"],
        "passages_moved": anchors["moved"],
        "passages_edited": anchors["edited"],
        "passages_meaning_changed": sum(1 for c in claims for s in c["sources"] if s["verification"]
                                        and s["verification"]["anchor"] and s["verification"]["anchor"]["state"]
                                        == "edited" and s["passage_changes"]),
        "passages_deleted": anchors["deleted"],
    }
