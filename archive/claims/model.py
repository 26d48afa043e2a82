"""Plain values that claim extraction produces; nothing here knows about HTML or the index."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator


@dataclass(frozen=True)
class SourceRef:
    """One source a claim cites.

    ``url`` is absolute, without ``#fragment``; ``anchor`` is the link text (or the footnote's text) as the
    article shows it, so a reader can see *how* the claim cites it.
    """

    url: str
    anchor: str | None = None


@dataclass(frozen=True)
class ExtractedClaim:
    """One sentence of the main text (or one row of a claim list) and what it cites.

    ``quote`` is the text the sentence puts in quotation marks (the longest quoted span, quotes stripped),
    or None. ``sources`` keeps document order, without duplicates; it may be empty (unsourced claim).
    """

    text: str
    quote: str | None = None
    sources: tuple[SourceRef, ...] = ()


@dataclass
class ExtractedDocument:
    """An article or claim list after extraction.

    ``kind`` is one of ``html``, ``markdown``, ``text``, ``json``, ``jsonl``, ``csv``.
    ``claims`` is consumed once, in document order.
    """

    kind: str
    url: str | None
    title: str | None
    claims: Iterator[ExtractedClaim] = field(default_factory=lambda: iter(()))
