"""Text normalization for matching, with a map back to the original characters.

A quote matches a source when both read the same after: Unicode NFKC, case folding, curly quotes made
straight, every dash and hyphen made ``-``, invisible characters (soft hyphen, zero-width space/joiners,
BOM) dropped, and every run of whitespace made one space. The verdict must still point at the *original*
text (the span a reader sees), so :func:`normalize_with_map` also returns where each normalized character
came from. The map is a short list of breakpoints, not one entry per character: ASCII text (most of any
page) maps one to one and costs nothing.

Stdlib only: this module is imported by the matcher and the anchoring code, never by ``lookup``.
"""
from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

# After NFKC: quotation marks to ' or ", every dash/hyphen/minus to -.
_TRANSLATE = str.maketrans({
    **{c: "'" for c in "\u2018\u2019\u201a\u201b\u2032\u02bc\u00b4"},
    **{c: '"' for c in "\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb\u300c\u300d\u300e\u300f"},
    **{c: "-" for c in "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d\u2e3a\u2e3b"},
})
_INVISIBLE_CLASS = "\u00ad\u200b\u200c\u200d\u2060\ufeff"  # soft hyphen, zero-width space/joiners, BOM
_INVISIBLE = frozenset(_INVISIBLE_CLASS)
# What normalization may change: runs of whitespace and invisible characters other than a single space,
# and runs of non-ASCII characters (an ASCII character right before one goes with it: "e" + U+0301
# composes to one character). Everything between two matches is ASCII text that maps one to one.
_SPECIAL = re.compile(rf"[\s{_INVISIBLE_CLASS}]{{2,}}|[^\S ]|[{_INVISIBLE_CLASS}]|[\x21-\x7e]?[^\x00-\x7f\s]+")
# The same, found faster: a non-ASCII run is matched alone and takes the ASCII character before it back
# in the loop (an optional leading character made the engine try every position twice); ASCII text needs
# only the whitespace part.
_SPECIAL_FAST = re.compile(rf"[\s{_INVISIBLE_CLASS}]{{2,}}|[^\S ]|[{_INVISIBLE_CLASS}]|[^\x00-\x7f\s]+")
_SPECIAL_ASCII = re.compile(r"\s{2,}|[^\S ]")
_NON_ASCII_RUN = re.compile(r"[^\x00-\x7f\s]+")
_ODD = re.compile(r"[^\x20-\x7e]")  # not printable ASCII, not a space: where most runs start


def _fold(chunk: str) -> str:
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", chunk).casefold()).translate(_TRANSLATE)


def normalize(text: str) -> str:
    """The matching form of ``text``: exactly the text :func:`normalize_with_map` produces.

    >>> print(normalize("  \u201cWe\u2019re   BACK\u201d \u2014 Stra\u00dfe\u00a0\ufb01ne "))
    "we're back" - strasse fine
    """
    if text.isascii():
        return " ".join(text.lower().split())
    return normalize_with_map(text).text


@dataclass(frozen=True)
class Normalized:
    """A normalized text and the way back: ``original_offset(i)`` for a position ``i`` in ``text``."""

    text: str
    original: str
    _norm_points: tuple[int, ...]
    _orig_points: tuple[int, ...]

    def original_offset(self, index: int) -> int:
        """Offset in the original text of normalized position ``index`` (``len(text)`` maps to the end).

        >>> n = normalize_with_map("a  \u201cB\u201d\\n\\nc ")
        >>> n.text, n.original_offset(2), n.original_offset(len(n.text))
        ('a "b" c', 3, 9)
        """
        if index >= len(self.text):
            return len(self.original.rstrip())
        k = bisect_right(self._norm_points, index) - 1
        return self._orig_points[k] + (index - self._norm_points[k])

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """The original span covering normalized ``[start, end)``: it ends where the next character begins.

        >>> n = normalize_with_map("x \ufb01ne  Cafe\u0301 y")
        >>> s = n.text.index("caf\u00e9"); len(n.original[slice(*n.original_span(s, s + 4))])
        5
        """
        begin = self.original_offset(start)
        # A following space maps to where the whitespace run starts, so trailing whitespace is never included.
        finish = self.original_offset(end)
        return begin, max(finish, begin + (end > start))


def normalize_with_map(text: str) -> Normalized:
    """Normalize ``text`` like :func:`normalize`, remembering where each character came from.

    >>> n = normalize_with_map("Caf\u00e9 \ufb01ne  end")
    >>> n.text, n.original_span(n.text.index("fine"), n.text.index("fine") + 4)
    ('café fine end', (5, 8))
    """
    parts: list[str] = []
    norm_points: list[int] = [0]
    orig_points: list[int] = [0]
    pos = 0  # length of the normalized output so far
    pending_space: int | None = None  # original offset of whitespace not yet written out

    def emit(chunk: str, at: int, linear: bool = True) -> None:
        """Append ``chunk``, which maps linearly onto the original from offset ``at`` (or, when not
        ``linear``, every character of it onto ``at``)."""
        nonlocal pos, pending_space
        if pending_space is not None and pos > 0:
            norm_points.append(pos)
            orig_points.append(pending_space)
            parts.append(" ")
            pos += 1
        pending_space = None
        for piece in (chunk,) if linear else chunk:
            norm_points.append(pos)
            orig_points.append(at)
            parts.append(piece)
            pos += len(piece)

    def emit_clusters(run: str, offset: int) -> None:
        """Fold a run that changes length one cluster (base + combining marks) at a time."""
        nonlocal pending_space
        i = 0
        while i < len(run):
            j = i + 1
            while j < len(run) and _joins_previous(run[j]):
                j += 1
            for piece in re.split(r"(\s+)", _fold_visible(run[i:j])):
                if piece.isspace():
                    pending_space = offset + i
                elif piece:
                    emit(piece, offset + i, linear=len(piece) == j - i)
            i = j

    last = len(text) - len(text.lstrip())  # original offset up to which the text has been consumed
    stop = len(text.rstrip())
    for start, end in special_runs(text, last, stop):
        if start > last:
            emit(text[last:start].lower(), last)
        run = text[start:end]
        if all(c.isspace() or c in _INVISIBLE for c in run):
            if any(c.isspace() for c in run):  # invisible characters alone vanish, whitespace becomes a space
                pending_space = start
        elif not any(_joins_previous(c) for c in run) and all(len(_fold_char(c)) == 1 for c in run):
            emit("".join(_fold_char(c) for c in run), start)  # one character for one: a linear piece
        else:
            emit_clusters(run, start)
        last = end
    if last < stop:
        emit(text[last:stop].lower(), last)
    return Normalized("".join(parts), text, tuple(norm_points), tuple(orig_points))


def special_runs(text: str, pos: int, stop: int) -> Iterator[tuple[int, int]]:
    """The spans ``_SPECIAL.finditer(text, pos, stop)`` gives, found about twice as fast (tests compare
    the two).

    >>> t = "a  b" + chr(10) + "cafe" + chr(0x301) + "!"
    >>> list(special_runs(t, 0, len(t))), [m.span() for m in _SPECIAL.finditer(t, 0, len(t))]
    ([(1, 3), (4, 5), (8, 10)], [(1, 3), (4, 5), (8, 10)])
    """
    special = _SPECIAL_ASCII if text.isascii() else _SPECIAL_FAST
    while True:
        match = _next_special(special, text, pos, stop)
        if match is None:
            return
        start, end = match.span()
        if start > pos and "\x21" <= text[start - 1] <= "\x7e" and not text[start].isspace():
            # As _SPECIAL: a printable ASCII character and the non-ASCII run after it are one run (a letter
            # and its combining mark), invisible characters included.
            end = _NON_ASCII_RUN.match(text, start, stop).end()  # type: ignore[union-attr]
            start -= 1
        yield start, end
        pos = end


def _next_special(special: re.Pattern[str], text: str, pos: int, stop: int) -> re.Match[str] | None:
    """``special.search(text, pos, stop)``, found faster: a match starts at a character other than printable
    ASCII and the space, or at a space before one, or at two spaces. Those are found by a pattern of one
    character class and by ``str.find`` (both scan in C; the alternation tried every position in turn)."""
    while True:
        odd = _ODD.search(text, pos, stop)
        first = odd.start() if odd is not None else stop
        double = text.find("  ", pos, first)
        if double >= 0:
            first = double
        elif odd is None:
            return None
        if first > pos and text[first - 1] == " ":  # " \n": the run starts at the space
            match = special.match(text, first - 1, stop)
            if match is not None:
                return match
        match = special.match(text, first, stop)
        if match is not None:
            return match
        pos = first + 1  # a control character that is not whitespace: no run starts there


def _joins_previous(char: str) -> bool:
    """Combining marks, Hangul medial/final jamo and half-width sound marks compose with what precedes."""
    return bool(unicodedata.combining(char)) or "\u1160" <= char <= "\u11ff" or char in "\uff9e\uff9f"


@lru_cache(maxsize=8192)
def _fold_char(char: str) -> str:
    return "" if char in _INVISIBLE else _fold(char)


def _fold_visible(chunk: str) -> str:
    return "".join(c for c in _fold(chunk) if c not in _INVISIBLE)


def word_bounded(text: str, start: int, end: int) -> tuple[int, int]:
    """Widen ``[start, end)`` to whole words of ``text``.

    >>> word_bounded("the quick brown fox", 6, 12)
    (4, 15)
    """
    while start > 0 and text[start - 1].isalnum():
        start -= 1
    while end < len(text) and end > 0 and text[end - 1].isalnum() and text[end].isalnum():
        end += 1
    return start, end
