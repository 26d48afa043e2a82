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


__all__ = ["CLAIM_PRECEDENCE", "ClaimState", "DocumentStatus", "SourceState"]
