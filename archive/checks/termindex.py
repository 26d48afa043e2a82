"""Where a claim's key terms occur in one page's text: the part of the key-terms check that reads the page.

A page is cited by one claim or by a few, and a claim has a dozen terms while a page has thousands of
words: so nothing is built for the whole page up front. A term is looked up where it occurs (``str.find``
of its stem, then a look at the characters on either side), and the page's sentences are split and
case-folded once per page, on first use, for all the claims that cite it. The answers are exactly those
of a token set (every ``_TERM`` token of the normalized text, and its 5-letter stem) and of a
sentence-by-sentence scan with :func:`archive.checks.normalize.normalize` (tests/test_termindex.py
compares the two); building those cost more than the rest of the key-terms check.
"""
from __future__ import annotations

import re
from bisect import bisect_right

from archive.checks.normalize import normalize

#: A key term: a number (``3.5``, ``1,000``) or a run of letters; the tokens of a text.
TERM = re.compile(r"\d+(?:[.,]\d+)*|[^\W\d_]+")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")  # the number tokens of TERM (letters never hold digits)
_LETTER = re.compile(r"[^\W\d_]")
# A sentence ends at . ! ? (and their CJK forms) before whitespace, or at a line break. Matched from the
# punctuation mark: a pattern starting with a look-behind made the engine try every character, 12x slower.
# The pattern starts with one character class, so the engine skips to candidates fast; the look-behind
# tells a line break (\n+) from a sentence end (punctuation, then whitespace, captured).
_SENTENCE_BREAK = re.compile(r"[\n.!?\u3002\uff01\uff1f](?:(?<=\n)\n*|(\s+))")


def stem(token: str) -> str:
    """A word's first five letters (words of six letters or more); numbers and short words stay whole.

    >>> stem("approved"), stem("euros"), stem("3.5")
    ('appro', 'euros', '3.5')
    """
    return token[:5] if len(token) >= 6 and not token[0].isdigit() else token


def script(term: str) -> str:
    """``hangul``, ``cjk`` or ``other``, by the term's first character (Hangul and CJK are matched as
    substrings: they are not written with spaces between words)."""
    ch = term[0]
    if "\uac00" <= ch <= "\ud7a3" or "\u1100" <= ch <= "\u11ff":
        return "hangul"
    if "\u3040" <= ch <= "\u30ff" or "\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff":
        return "cjk"
    return "other"


def _letter(ch: str) -> bool:
    return ch.isalpha() if ch.isascii() else _LETTER.match(ch) is not None


class TermIndex:
    """What terms a normalized text holds: whole tokens, 5-letter stems, and substrings for Hangul/CJK.

    >>> index = TermIndex("the harbor authority approved 3,5 million for the harbour")
    >>> [index.has(t) for t in ("harbor", "authorities", "approval", "3.5", "arbor", "mill", "million")]
    [True, True, True, True, False, False, True]
    """

    def __init__(self, normalized: str) -> None:
        self.text = normalized
        self._sentences: _Sentences | None = None

    def has(self, term: str) -> bool:
        """``term`` is a token of the text, or has the stem of one (a term of 3-4 letters: is one)."""
        if script(term) != "other":
            return term in self.text
        if term[0].isdecimal():
            return self._has_number(term)
        # A token starts where a letter follows a non-letter (tokens are the runs of letters). A term of
        # five letters or more matches every token starting with its stem; a shorter one (or one starting
        # with a digit such as "²", whose stem is itself), only itself.
        text, part = self.text, stem(term)
        whole = len(part) < 5 or term[0].isdigit()
        at = text.find(part)
        while at >= 0:
            if at == 0 or not _letter(text[at - 1]):
                end = at + len(part)
                if not whole or end == len(text) or not _letter(text[end]):
                    return True
            at = text.find(part, at + 1)
        return False

    def _has_number(self, term: str) -> bool:
        """A number token of the text, with "," read as "." (as ``term`` was)."""
        text = self.text
        head = term.split(".", 1)[0]  # its first run of digits
        at = text.find(head)
        while at >= 0:
            # a number token starts at a digit that does not continue one ("1,5": "5" does)
            before = text[at - 1] if at else ""
            if not before.isdecimal() and not (before in ".," and at >= 2 and text[at - 2].isdecimal()):
                found = _NUMBER.match(text, at)
                if found is not None and found.group().replace(",", ".") == term:
                    return True
            at = text.find(head, at + 1)
        return False

    def best_passage(self, terms: tuple[str, ...], original: str) -> tuple[int, int, frozenset[str]] | None:
        """The sentence (or line) of ``original`` holding most of ``terms``' stems, as substrings (cheap, and
        good enough to point at a passage): its span, and the terms that it and its neighbours hold."""
        if self._sentences is None or self._sentences.original is not original:
            self._sentences = _Sentences(original)
        return self._sentences.best(terms)


class _Sentences:
    """A text's sentences (where they start and end) and their case-folded text, in one string ``joined``
    where sentence ``k`` starts at ``starts[k]`` (a stem holds no whitespace nor NUL, so none spans two)."""

    def __init__(self, original: str) -> None:
        self.original = original
        # a break is the whitespace after the punctuation mark (group 1), or the line breaks
        breaks = [(max(found.start(), found.start(1)), found.end()) for found in _SENTENCE_BREAK.finditer(original)]
        self.bounds = [(start, end) for start, end in zip([0] + [b[1] for b in breaks],
                                                          [b[0] for b in breaks] + [len(original)])
                       if start < end and (not original[start].isspace() or not original[start:end].isspace())]
        if original.isascii():  # lower() keeps every offset: one string for all the sentences
            self.joined = original.lower()
            self.starts = [start for start, _ in self.bounds]
            return
        # A stem holds no whitespace, so it occurs in the lower-cased sentence exactly when it occurs in the
        # normalized one (whitespace runs made one space): the cheap fold for ASCII sentences.
        folded = [piece.lower() if piece.isascii() else normalize(piece)
                  for piece in (original[start:end] for start, end in self.bounds)]
        self.starts = []
        size = 0
        for piece in folded:
            self.starts.append(size)
            size += len(piece) + 1
        self.joined = "\x00".join(folded)

    def span(self, k: int) -> tuple[int, int]:
        """Sentence ``k`` without the whitespace around it."""
        start, end = self.bounds[k]
        piece = self.original[start:end]
        return start + len(piece) - len(piece.lstrip()), start + len(piece.rstrip())

    def holding(self, part: str) -> set[int]:
        """The sentences whose folded text holds ``part``."""
        out: set[int] = set()
        joined, starts = self.joined, self.starts
        at = joined.find(part)
        while at >= 0:
            k = bisect_right(starts, at) - 1
            out.add(k)
            if k + 1 >= len(starts):
                break
            at = joined.find(part, starts[k + 1])
        return out

    def best(self, terms: tuple[str, ...]) -> tuple[int, int, frozenset[str]] | None:
        stems = [stem(t) for t in terms]
        where = {part: self.holding(part) for part in set(stems)}
        counts = [0] * len(self.bounds)
        for part in stems:  # a stem twice (two terms) counts twice
            for k in where[part]:
                counts[k] += 1
        top = max(counts, default=0)
        if top == 0:
            return None
        best = counts.index(top)
        near = set(range(max(0, best - 1), best + 2))
        held = frozenset(t for t, part in zip(terms, stems) if where[part] & near)
        return (*self.span(best), held)
