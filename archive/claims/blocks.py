"""From text blocks with located links to claims: the step every article reader (HTML, Markdown, text) shares.

A reader turns its document into :class:`Block` values: the text of one paragraph, heading, list item or
table cell, plus :class:`Link` spans that say which characters cite which sources. Splitting into sentences
happens here, per block, so a sentence never runs across a heading or a list item.

Short-fragment rule: a sentence with fewer than three words and fewer than 20 characters that cites nothing
("Analysis", "941 comments", a bare heading) is dropped, because it states nothing a reader could check;
the same fragment is kept when it carries a source, since then it is a citation.
"""
from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from typing import Iterable, Iterator

from archive.claims.model import ExtractedClaim, SourceRef
from archive.claims.quotes import longest_quote
from archive.claims.sentences import split_sentences
from archive.claims.urls import find_bare_urls, same_document

_WORD = re.compile(r"\w+")
_ANCHOR_LIMIT = 200
_LINE_BREAKS_TO_SPACE = str.maketrans({c: " " for c in "\n\r\t\f\v\x85\u2028\u2029"})


@dataclass(frozen=True)
class Link:
    """Sources cited by ``text[start:end]`` of a block.

    A footnote marker is a zero-width link (``start == end``) placed where the marker stood; it belongs to
    the sentence that ends at or contains that position.
    """

    start: int
    end: int
    sources: tuple[SourceRef, ...]


@dataclass
class Block:
    """One unit of main text (paragraph, heading, list item, cell) and the links inside it."""

    text: str
    links: list[Link] = field(default_factory=list)


@dataclass
class Article:
    """What an article reader hands over: the title and the main-text blocks in document order.

    ``document_urls`` are the URLs the document itself goes by (its URL, its canonical URL): links to
    them are not sources.
    """

    title: str | None
    blocks: list[Block]
    document_urls: frozenset[str] = frozenset()


class BlockBuilder:
    """Accumulates text and links while a reader walks inline content, then hands out finished blocks."""

    def __init__(self) -> None:
        self.blocks: list[Block] = []
        self._parts: list[str] = []
        self._starts: list[int] = []  # offset of each part, so text_since joins only the parts it needs
        self._length = 0
        self._links: list[Link] = []

    @property
    def position(self) -> int:
        """Current character offset in the block being built."""
        return self._length

    def add_text(self, text: str | None) -> None:
        """Append inline text; its line breaks are mere source formatting and become spaces."""
        if text:
            text = text.translate(_LINE_BREAKS_TO_SPACE)
            self._starts.append(self._length)
            self._parts.append(text)
            self._length += len(text)

    def add_break(self) -> None:
        """Append a hard line break (``<br>``): the sentence splitter ends a sentence there."""
        self._starts.append(self._length)
        self._parts.append("\n")
        self._length += 1

    def text_since(self, start: int) -> str:
        """The text added since offset ``start`` (a link's text, for its anchor)."""
        first = max(bisect_right(self._starts, start) - 1, 0)
        if not self._parts:
            return ""
        return "".join(self._parts[first:])[start - self._starts[first]:]

    def add_link(self, start: int, end: int, sources: Iterable[SourceRef]) -> None:
        sources = tuple(sources)
        if sources:
            self._links.append(Link(start, end, sources))

    def flush(self) -> None:
        """Close the current block (if it holds any text) and start a new one."""
        text = "".join(self._parts)
        if text.strip():
            self.blocks.append(Block(text, self._links))
        self._parts, self._starts, self._length, self._links = [], [], 0, []


def normalize_space(text: str) -> str:
    """Collapse runs of whitespace to one space and strip the ends.

    >>> normalize_space("  two\\n\\t words ")
    'two words'
    """
    return " ".join(text.split())


def shorten_anchor(text: str) -> str:
    """Cut a footnote's text to about 200 characters, at a word boundary, to serve as a source's anchor.

    >>> len(shorten_anchor("word " * 100)), shorten_anchor("word " * 100)[-6:], shorten_anchor("Report, p. 2.")
    (195, ' word…', 'Report, p. 2.')
    """
    if len(text) > _ANCHOR_LIMIT:
        return text[: _ANCHOR_LIMIT - 1].rsplit(" ", 1)[0] + "…"
    return text


def is_short_fragment(text: str) -> bool:
    """True for a fragment too short to be a claim on its own (see the module docstring).

    >>> is_short_fragment("Analysis"), is_short_fragment("941 comments"), is_short_fragment("Prices rose again.")
    (True, True, False)
    """
    return len(_WORD.findall(text)) < 3 and len(text) < 20


def claims_from_blocks(blocks: Iterable[Block], document_urls: frozenset[str] = frozenset()) -> Iterator[ExtractedClaim]:
    """Split each block into sentences and attach to each the sources it cites, in document order."""
    for block in blocks:
        yield from _block_claims(block, document_urls)


def _block_claims(block: Block, document_urls: frozenset[str]) -> Iterator[ExtractedClaim]:
    spans = split_sentences(block.text)
    if not spans:
        return
    # (position in the block, source): sorting by position keeps document order across links and bare URLs.
    per_sentence: list[list[tuple[int, SourceRef]]] = [[] for _ in spans]
    starts = [start for start, _ in spans]
    ends = [end for _, end in spans]
    for link in block.links:
        index = _owner(starts, ends, link, block.text)
        per_sentence[index].extend((link.start, ref) for ref in link.sources)
    for (start, end), cited in zip(spans, per_sentence):
        raw = block.text[start:end]
        text = normalize_space(raw)
        if not text:
            continue
        cited.extend((start + url_start, SourceRef(url)) for url_start, _, url in find_bare_urls(raw))
        cited.sort(key=lambda item: item[0])  # stable: a link's anchor wins over the same URL written out
        sources = dedupe_sources([ref for _, ref in cited], document_urls)
        if not sources and is_short_fragment(text):
            continue
        yield ExtractedClaim(text=text, quote=longest_quote(text), sources=sources)


def _owner(starts: list[int], ends: list[int], link: Link, text: str) -> int:
    """Index of the sentence a link belongs to (``starts``/``ends``: the sentence spans, in order).

    A link with text belongs to the sentence holding its first non-space character; a zero-width footnote
    marker belongs to the sentence it follows (markers come after the sentence they support).

    >>> starts, ends = [0, 10, 20], [8, 18, 28]
    >>> [_owner(starts, ends, Link(p, p, ()), "x" * 30) for p in (0, 5, 8, 9, 10, 15, 29)]
    [0, 0, 0, 0, 0, 1, 2]
    >>> [_owner(starts, ends, Link(p, p + 2, ()), "x" * 30) for p in (0, 8, 12, 28)]
    [0, 1, 1, 2]
    """
    if link.start == link.end:
        # the first sentence with start < position <= end; a position at or before a start: the one before
        index = bisect_left(starts, link.start)  # first sentence starting at or after the position
        if index > 0 and link.start <= ends[index - 1]:
            return index - 1
        if index < len(starts):
            return max(index - 1, 0)
        return len(starts) - 1
    first = link.start
    while first < link.end - 1 and text[first].isspace():
        first += 1
    return min(bisect_right(ends, first), len(ends) - 1)


def dedupe_sources(sources: Iterable[SourceRef], document_urls: frozenset[str]) -> tuple[SourceRef, ...]:
    """Keep the first mention of each URL, dropping links to the document itself."""
    seen: set[str] = set()
    out: list[SourceRef] = []
    for ref in sources:
        if ref.url in seen or same_document(ref.url, document_urls):
            continue
        seen.add(ref.url)
        out.append(ref)
    return tuple(out)
