"""The ``verification`` object of the claim JSON, built from stored rows (one query for many claims).

This module is on the ``lookup``/``show`` path: plain SQL (:mod:`archive.index.statements`) and the standard
library only, no WARC reads, no matching code. Shape (docs/checking.md)::

    {"method": "quote"|"key_terms", "heuristic": bool,
     "verdict": "found"|"close"|"misquoted"|"not_found"|"unreadable"                 (method quote)
              | "supported"|"partial"|"contradicted"|"no_match"|"unreadable",        (key_terms, a heuristic)
     "label": str,                                     (the verdict in words: "no matching passage (heuristic)")
     "differences": [{"kind": "number"|"negation"|"name"|"word", "quote": str, "source": str}]|null,
     "score": float|null, "span": [start, end]|null, "passage": str|null,
     "selector": [{"type": "TextQuoteSelector", "exact", "prefix", "suffix"},
                  {"type": "TextPositionSelector", "start", "end"}]|null,
     "text_fragment_url": str|null,
     "anchor": {"state": "original"|"present"|"moved"|"edited"|"deleted",
                "baseline_capture_id": str, "diff": [[op, words], ...]|null}|null,
     "terms": {"found": [str], "missing": [str]}|null, "reason": str|null,
     "text": "raw"|"rendered"}     (which text the verdict is from: archive.checks.rendered)

Every value is a function of the claim and the capture's payload (no check time): ``citevault check`` after
``citevault reindex`` gives back the same JSON. Verdicts stored by older versions are read in today's words
(``unsupported`` is ``no_match``, :data:`archive.states.LEGACY_VERDICTS`).
"""
from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Mapping, Sequence

from archive.index.statements import Statements, statements
from archive.states import current_verdict, verdict_words

if TYPE_CHECKING:  # types only: `lookup` does not import archive.shapes (nor SQLAlchemy)
    from sqlalchemy import Connection

    from archive.shapes import Anchor, Terms, Verification

_COLUMNS = (
    "claim_id", "capture_id", "method", "verdict", "score", "span_start", "span_end", "exact", "prefix",
    "suffix", "fragment_url", "anchor_state", "baseline_capture_id", "diff", "detail",
)
_QUERY = f"SELECT {', '.join(_COLUMNS)} FROM verifications WHERE claim_id IN :ids"


def verifications_for_claims(conn: Connection | Statements,
                             claim_ids: Sequence[str]) -> dict[tuple[str, str], Verification]:
    """``{(claim_id, capture_id): verification object}`` for ``claim_ids``, in one statement."""
    if not claim_ids:
        return {}
    rows = statements(conn).maps(_QUERY, {"ids": list(claim_ids)})
    return {(row["claim_id"], row["capture_id"]): verification_json(row) for row in rows}


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
        "verdict": current_verdict(row["verdict"]),
        "label": verdict_words(row["verdict"]),
        "differences": detail.get("differences"),
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
        "text_seen": detail.get("text_seen"),
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
    >>> verification_line({"method": "quote", "verdict": "misquoted", "score": 0.93, "anchor": None,
    ...     "differences": [{"kind": "number", "quote": "300", "source": "500"}]})
    'quote misquoted (0.93): number "300" in the quote, "500" in the source'
    """
    if verification is None:
        return "not checked"
    label = "quote" if verification["method"] == "quote" else "key terms"
    score = verification.get("score")
    extra = [] if score is None else [f"{score:.2f}"]
    if verification["method"] != "quote":
        extra.append("heuristic")
    line = f"{label} {current_verdict(verification['verdict']).replace('_', ' ')}" + (f" ({', '.join(extra)})" if extra else "")
    if verification.get("reason"):
        line += f": {verification['reason']}"
    if verification.get("differences"):
        line += ": " + differences_text(verification["differences"],
                                        "quote" if verification["method"] == "quote" else "claim")
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


def differences_text(differences: Sequence[Mapping[str, str]] | Sequence[Any] | None, said: str = "quote") -> str:
    """The words a misquote (or a contradiction) changed, in one line.

    >>> differences_text([{"kind": "negation", "quote": "", "source": "not"},
    ...                   {"kind": "name", "quote": "Snow", "source": "Sopel"}])
    'negation (nothing) in the quote, "not" in the source; name "Snow" in the quote, "Sopel" in the source'
    """
    def words(value: str) -> str:
        return f'"{value}"' if value else "(nothing)"

    return "; ".join(f"{d['kind']} {words(d['quote'])} in the {said}, {words(d['source'])} in the source"
                     for d in differences or ())
