"""Words for verdicts, anchor states and passages, shared by the Markdown and HTML reports."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from archive.checks.anchor import CONTEXT  # characters of prefix / suffix an anchor stores
from archive.checks.shape import differences_text
from archive.states import SourceState, current_verdict, verdict_words

_CONTEXT_SHOWN = 60


def verdict_label(v: dict[str, Any] | None) -> str:
    """A verdict in words.

    >>> verdict_label({"method": "quote", "verdict": "close", "score": 0.934})
    'quote close (similarity 0.93)'
    >>> verdict_label({"method": "quote", "verdict": "misquoted", "score": 0.95,
    ...                "differences": [{"kind": "number", "quote": "300", "source": "500"}]})
    'misquoted: number "300" in the quote, "500" in the source (similarity 0.95)'
    >>> verdict_label({"method": "key_terms", "verdict": "partial", "score": 0.5, "terms": {"found": ["a"], "missing": ["b"]}})
    'partly supported (0.50 of key terms found; heuristic; missing: b)'
    >>> verdict_label({"method": "key_terms", "verdict": "unsupported", "score": 0.2})
    'no matching passage (0.20 of key terms found; heuristic)'
    >>> verdict_label(None)
    'not checked'
    """
    if v is None:
        return "not checked"
    verdict = current_verdict(v["verdict"])
    if verdict == "unreadable":
        return f"unreadable: {v.get('reason') or 'no text'}"
    said = "quote" if v["method"] == "quote" else "claim"
    changed = f": {differences_text(v['differences'], said)}" if v.get("differences") else ""
    if v["method"] == "quote":
        if verdict == "found":
            return "quote found"
        if verdict == "close":
            return f"quote close (similarity {v['score']:.2f})"
        if verdict == "misquoted":
            return f"misquoted{changed} (similarity {v['score'] or 0:.2f})"
        return f"quote not found (best similarity {v['score'] or 0:.2f})"
    missing = (v.get("terms") or {}).get("missing") or []
    note = f"; missing: {', '.join(missing)}" if missing else ""
    words = verdict_words(verdict).replace(" (heuristic)", "")
    return f"{words}{changed} ({v['score'] or 0:.2f} of key terms found; heuristic{note})"


def anchor_label(v: dict[str, Any] | None) -> str | None:
    """Where the passage stands since the first capture, or None when there is nothing to say.

    >>> anchor_label({"anchor": {"state": "moved", "baseline_capture_id": "x", "diff": None}})
    'passage moved since the first capture'
    """
    anchor = (v or {}).get("anchor")
    if not anchor or anchor["state"] == "original":
        return None
    if anchor["state"] == "present":
        return "passage unchanged since the first capture"
    return f"passage {anchor['state']} since the first capture"


def passage_parts(v: dict[str, Any] | None) -> tuple[str, str, str] | None:
    """``(before, passage, after)`` for display: whitespace collapsed (a space kept where the passage meets
    its context), context cut to whole words. A stored context is cut at a fixed number of characters,
    often inside a word: that partial word is dropped, and "…" marks the cut.

    >>> passage_parts({"selector": [{"exact": "held", "prefix": "xx The wall ", "suffix": ", for\\n\\nyears."}]})
    ('xx The wall ', 'held', ', for years.')
    >>> cut = "x" * 50 + "ntinued, the wall "
    >>> passage_parts({"selector": [{"exact": "held", "prefix": cut[-64:], "suffix": " for years and yea" + "r" * 46}]})
    ('…the wall ', 'held', ' for years and…')
    """
    selector = (v or {}).get("selector")
    if not selector:
        return None
    quote = selector[0]
    before = " ".join(quote["prefix"].split()) + (" " if quote["prefix"][-1:].isspace() else "")
    after = (" " if quote["suffix"][:1].isspace() else "") + " ".join(quote["suffix"].split())
    if len(quote["prefix"]) >= CONTEXT or len(before) > _CONTEXT_SHOWN:  # cut: its first word may be partial
        before = "\u2026" + before[-_CONTEXT_SHOWN:].split(" ", 1)[-1]
    if len(quote["suffix"]) >= CONTEXT or len(after) > _CONTEXT_SHOWN:
        after = after[:_CONTEXT_SHOWN].rsplit(" ", 1)[0] + "\u2026"
    return before, " ".join(quote["exact"].split()), after


def short_time(value: str | None) -> str:
    """An ISO time, to the second, for people.

    >>> short_time("2026-11-28T05:41:14.309000Z")
    '2026-11-28 05:41:14Z'
    """
    if not value:
        return ""
    return value[:19].replace("T", " ") + "Z"


def source_status(source: dict[str, Any]) -> str:
    """What happened to a source, in a few words."""
    last = source.get("last_fetch")
    if source["state"] == SourceState.PENDING or last is None:
        return "not fetched yet"
    if last["http_status"] is None:
        return f"{source['state']}: {last['error'] or 'fetch failed'}"
    return f"{source['state']} (HTTP {last['http_status']}, {short_time(last['fetched_at'])})"


TOTAL_LABELS = (
    ("claims", "claims"), ("sourced_claims", "sourced"), ("sources", "sources"), ("archived", "archived"),
    ("changed", "changed"), ("gone", "gone"), ("failed", "failed"), ("pending", "pending"),
)
QUOTE_LABELS = (
    ("quotes", "quotes"), ("quotes_found", "found"), ("quotes_close", "close"), ("quotes_misquoted", "misquoted"),
    ("quotes_not_found", "not found"), ("quotes_unreadable", "unreadable"), ("quotes_unchecked", "not checked"),
)


def support_note(totals: dict[str, int]) -> str:
    """The key-terms totals and the passages' fate, in one sentence."""
    return (f"{totals['key_terms_supported']} supported, {totals['key_terms_partial']} partly supported, "
            f"{totals['key_terms_contradicted']} contradicted, {totals['key_terms_no_match']} with no matching "
            f"passage. Passages since the first capture: {totals['passages_moved']} moved, "
            f"{totals['passages_edited']} edited ({totals['passages_meaning_changed']} in meaning), "
            f"{totals['passages_deleted']} deleted.")


def change_text(change: Mapping[str, str] | Any) -> str:
    """One meaning change of a cited passage between two captures.

    >>> change_text({"kind": "number", "before": "7", "after": "5"})
    'number "7" became "5"'
    """
    if change["kind"] == "deleted":
        return "passage deleted"
    before = f'"{change["before"]}"' if change["before"] else "(nothing)"
    after = f'"{change["after"]}"' if change["after"] else "(nothing)"
    return f"{change['kind']} {before} became {after}"
