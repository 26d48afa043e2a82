"""The ``verification`` object of the claim JSON, built from stored rows (one query for many claims).

This module is on the ``lookup``/``show`` path: SQLAlchemy Core and the standard library only, no WARC
reads, no matching code. Shape (README "Checking the evidence")::

    {"method": "quote"|"key_terms", "heuristic": bool,
     "verdict": "found"|"close"|"not_found"|"unreadable"            (method quote)
              | "supported"|"partial"|"unsupported"|"unreadable",   (method key_terms, a heuristic)
     "score": float|null, "span": [start, end]|null, "passage": str|null,
     "selector": [{"type": "TextQuoteSelector", "exact", "prefix", "suffix"},
                  {"type": "TextPositionSelector", "start", "end"}]|null,
     "text_fragment_url": str|null,
     "anchor": {"state": "original"|"present"|"moved"|"edited"|"deleted",
                "baseline_capture_id": str, "diff": [[op, words], ...]|null}|null,
     "terms": {"found": [str], "missing": [str]}|null, "reason": str|null,
     "text": "raw"|"rendered"}     (which text the verdict is from: archive.checks.rendered)

Every value is a function of the claim and the capture's payload (no check time): ``citevault check`` after
``citevault reindex`` gives back the same JSON.
"""
from __future__ import annotations

import json
from typing import Any, Mapping, Sequence

from sqlalchemy import Connection, bindparam, text

from archive.shapes import Anchor, Terms, Verification

_COLUMNS = (
    "claim_id", "capture_id", "method", "verdict", "score", "span_start", "span_end", "exact", "prefix",
    "suffix", "fragment_url", "anchor_state", "baseline_capture_id", "diff", "detail",
)
_QUERY = text(
    f"SELECT {', '.join(_COLUMNS)} FROM verifications WHERE claim_id IN :ids"
).bindparams(bindparam("ids", expanding=True))


def verifications_for_claims(conn: Connection, claim_ids: Sequence[str]) -> dict[tuple[str, str], Verification]:
    """``{(claim_id, capture_id): verification object}`` for ``claim_ids``, in one statement."""
    if not claim_ids:
        return {}
    rows = conn.execute(_QUERY, {"ids": list(claim_ids)}).mappings().all()
    return {(row["claim_id"], row["capture_id"]): verification_json(dict(row)) for row in rows}


def verification_json(row: Mapping[str, Any]) -> Verification:
    """One stored row as the ``verification`` object.

    >>> v = verification_json({"method": "quote", "verdict": "close", "score": 0.91, "span_start": 4,
    ...     "span_end": 9, "exact": "there", "prefix": "Hi, ", "suffix": "!", "fragment_url": None,
    ...     "anchor_state": None, "baseline_capture_id": None, "diff": None, "detail": None})
    >>> v["verdict"], v["span"], v["selector"][1]
    ('close', [4, 9], {'type': 'TextPositionSelector', 'start': 4, 'end': 9})
    """
    detail = json.loads(row["detail"]) if row["detail"] else {}
    has_span = row["span_start"] is not None
    anchor: Anchor | None = None
    if row["anchor_state"]:
        anchor = {
            "state": row["anchor_state"],
            "baseline_capture_id": row["baseline_capture_id"],
            "diff": json.loads(row["diff"]) if row["diff"] else None,
        }
    terms: Terms | None = None
    if "terms_found" in detail:
        terms = {"found": detail["terms_found"], "missing": detail["terms_missing"]}
    return {
        "method": row["method"],
        "heuristic": row["method"] == "key_terms",
        "verdict": row["verdict"],
        "score": row["score"],
        "span": [row["span_start"], row["span_end"]] if has_span else None,
        "passage": row["exact"] if has_span else None,
        "selector": [
            {"type": "TextQuoteSelector", "exact": row["exact"], "prefix": row["prefix"] or "",
             "suffix": row["suffix"] or ""},
            {"type": "TextPositionSelector", "start": row["span_start"], "end": row["span_end"]},
        ] if has_span else None,
        "text_fragment_url": row["fragment_url"],
        "anchor": anchor,
        "terms": terms,
        "reason": detail.get("reason"),
        "text": detail.get("text", "raw"),
    }


def verification_line(verification: Verification | None) -> str:
    """One line for the human ``show`` output.

    >>> verification_line({"method": "quote", "verdict": "close", "score": 0.91, "anchor": None})
    'quote close (0.91)'
    >>> verification_line({"method": "quote", "verdict": "found", "score": 1.0, "anchor": None, "text": "rendered"})
    'quote found (1.00); in the rendered page'
    >>> verification_line({"method": "key_terms", "verdict": "partial", "score": 0.5,
    ...                    "anchor": {"state": "edited", "diff": [["-", "seven"], ["+", "eight"]]}})
    'key terms partial (0.50, heuristic); passage edited: [-seven-] {+eight+}'
    """
    if verification is None:
        return "not checked"
    label = "quote" if verification["method"] == "quote" else "key terms"
    score = verification.get("score")
    extra = [] if score is None else [f"{score:.2f}"]
    if verification["method"] != "quote":
        extra.append("heuristic")
    line = f"{label} {verification['verdict']}" + (f" ({', '.join(extra)})" if extra else "")
    if verification.get("reason"):
        line += f": {verification['reason']}"
    if verification.get("text") == "rendered":
        line += "; in the rendered page"
    anchor = verification.get("anchor")
    if anchor and anchor["state"] not in ("original", "present"):
        line += f"; passage {anchor['state']}"
        diff = anchor.get("diff")
        if diff:
            marks = {"=": "{}", "-": "[-{}-]", "+": "{{+{}+}}"}
            line += ": " + " ".join(marks[op].format(words) for op, words in diff if op != "=")
    return line
