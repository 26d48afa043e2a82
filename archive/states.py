"""The states of sources, claims and documents, each written once (DESIGN.md "Source states").

They are :class:`~enum.StrEnum` members: each *is* its string, so it compares equal to it, is stored as it in
the index and printed as it in JSON and text, and a state read back from the index (a plain ``str``) compares
equal to the member. Code names the member; the words users see are unchanged.

>>> import json
>>> SourceState.GONE == "gone", f"{SourceState.GONE}", json.dumps({"state": SourceState.GONE})
(True, 'gone', '{"state": "gone"}')
"""
from __future__ import annotations

from enum import StrEnum


class SourceState(StrEnum):
    """Where a cited URL stands (``sources.state``)."""

    PENDING = "pending"  # never fetched
    ARCHIVED = "archived"  # the final response was a 2xx: the claims have evidence
    FAILED = "failed"  # timeout, DNS, refused, TLS, 5xx, too large, robots.txt: may succeed later
    CHANGED = "changed"  # re-checked: the main text differs from the capture the claims relied on
    GONE = "gone"  # 404 or 410 (for an archived source: confirmed by repeated checks)


class ClaimState(StrEnum):
    """One word per claim for its evidence: the worst state of its sources, or ``unsourced`` without any.
    Declared in the order the web UI lists them."""

    ARCHIVED = "archived"
    CHANGED = "changed"
    PENDING = "pending"
    FAILED = "failed"
    GONE = "gone"
    UNSOURCED = "unsourced"


#: A claim is as good as its worst source: its state is the first of these that one of its sources is in,
#: else ``archived`` (``unsourced`` without sources). :data:`archive.index.lookup.CLAIM_STATE_SQL` is written
#: from it.
CLAIM_PRECEDENCE = (ClaimState.GONE, ClaimState.FAILED, ClaimState.PENDING, ClaimState.CHANGED)


class DocumentStatus(StrEnum):
    """``documents.status``: a document added by URL is pending until the crawl fetches it and extracts
    its claims."""

    PENDING = "pending"
    EXTRACTED = "extracted"


class QuoteVerdict(StrEnum):
    """What the check found for a claim's quotation in one capture (docs/checking.md)."""

    FOUND = "found"  # the words are there (after normalization: typography, case, whitespace)
    CLOSE = "close"  # nearly: typography left, typos, accents, words left out or added, elisions
    MISQUOTED = "misquoted"  # the passage, but for a number, a negation, a name or an opposite word
    NOT_FOUND = "not_found"
    UNREADABLE = "unreadable"  # the capture has no text to check


class SupportVerdict(StrEnum):
    """The key-terms heuristic for a claim without a quotation: never a finding, always labelled one."""

    SUPPORTED = "supported"  # a passage carries the claim's key terms
    PARTIAL = "partial"  # a passage carries half of them or more
    CONTRADICTED = "contradicted"  # the passage carries the terms, but another number or a negation
    NO_MATCH = "no_match"  # no matching passage (stored as "unsupported" before version 2 of the checks)
    UNREADABLE = "unreadable"


#: Verdicts stored by older versions, read as their current word (rows are rewritten by the next check).
LEGACY_VERDICTS = {"unsupported": SupportVerdict.NO_MATCH}

#: Each verdict in words, for people: the key-terms ones say they are a heuristic.
VERDICT_LABELS = {
    QuoteVerdict.FOUND: "quote found",
    QuoteVerdict.CLOSE: "quote close",
    QuoteVerdict.MISQUOTED: "misquoted",
    QuoteVerdict.NOT_FOUND: "quote not found",
    SupportVerdict.SUPPORTED: "supported (heuristic)",
    SupportVerdict.PARTIAL: "partly supported (heuristic)",
    SupportVerdict.CONTRADICTED: "contradicted (heuristic)",
    SupportVerdict.NO_MATCH: "no matching passage (heuristic)",
    QuoteVerdict.UNREADABLE: "unreadable",
}


def current_verdict(verdict: str) -> str:
    """A stored verdict in today's words.

    >>> current_verdict("unsupported"), current_verdict("close")
    ('no_match', 'close')
    """
    return str(LEGACY_VERDICTS.get(verdict, verdict))


def verdict_words(verdict: str) -> str:
    """A verdict (stored or current) as people read it.

    >>> verdict_words("unsupported"), verdict_words("misquoted")
    ('no matching passage (heuristic)', 'misquoted')
    """
    verdict = current_verdict(verdict)
    labels: dict[str, str] = {str(k): v for k, v in VERDICT_LABELS.items()}
    return labels.get(verdict, verdict.replace("_", " "))


__all__ = ["CLAIM_PRECEDENCE", "LEGACY_VERDICTS", "VERDICT_LABELS", "ClaimState", "DocumentStatus", "QuoteVerdict",
           "SourceState", "SupportVerdict", "current_verdict", "verdict_words"]
