"""Sentence splitting with character offsets, so links found in a block can be given to their sentence.

pysbd (rule-based, the "Golden Rules" set) decides where sentences end: it knows abbreviations ("U.S.",
"Dr.", "Oct. 7"), initials, decimals and quotations with inner punctuation. We use only its boundaries and
map them back onto the original text ourselves, because pysbd's own ``char_span`` mode silently drops a
sentence whenever its processing altered the sentence's characters. If the mapping fails anyway, a small
conservative regex splitter takes over for that block: text is never lost, at worst split less finely.

A newline in a block is a hard break (an HTML ``<br>``, a Markdown hard break): pysbd ends a sentence there.

Long blocks are cut into pieces of a few thousand characters before pysbd sees them, because pysbd's
abbreviation rules rewrite the whole text once per abbreviation found, which is quadratic on a book-long
paragraph (200 KB took 43 s). Cuts go only at *safe* sentence ends, where pysbd ends a sentence anyway: a
newline, or ``.``/``!``/``?`` after a lower-case word that is no abbreviation, then spaces and a capitalised
word, with quotes and brackets balanced since the last cut. Blocks up to :data:`PIECE_LIMIT` characters (any
normal paragraph) are split exactly as before.
"""
from __future__ import annotations

import re

from archive.claims.sbd import split as pysbd_split
from archive.claims.urls import find_bare_urls

# Fallback: end after . ! ? (and closing quotes/brackets) before whitespace and a capital or opening quote,
# unless the word before is a known abbreviation or a single initial.
_FALLBACK_END = re.compile(r"[.!?…]+[\"'”’»)\]]*(?=\s+[\"'“‘«(\[]?[A-Z\u00C0-\u024F0-9])")
#: Blocks longer than this are cut into pieces for pysbd (see the module docstring).
PIECE_LIMIT = 8000
_PIECE_MIN = 6000  # a piece runs to the first safe end after this many characters...
_PIECE_MAX = 16000  # ...or is cut at a weaker point (any sentence punctuation, then any space) before this.
_SAFE_END = re.compile(r"(?<=[a-z]{2}[.!?])[ \t]+(?=[A-Z][a-z])|\n")
_WEAK_END = re.compile(r"(?<=[.!?;:])\s+")
_SPACE = re.compile(r"\s+")
_OPEN_CLOSE = (("(", ")"), ("[", "]"), ("“", "”"), ("«", "»"))
_ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof sr jr st mt ft gen col lt sgt rep sen gov pres rev inc ltd co corp vs etc "
    "e.g i.e u.s u.k u.n no jan feb mar apr jun jul aug sep sept oct nov dec".split()
)


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Return ``(start, end)`` spans of the sentences in ``text``, trimmed of surrounding whitespace.

    >>> t = 'The U.S. economy grew 3.5 percent, Dr. Smith said on Oct. 7. He said "Stop. Now." and left.'
    >>> [t[a:b] for a, b in split_sentences(t)]
    ['The U.S. economy grew 3.5 percent, Dr. Smith said on Oct. 7.', 'He said "Stop. Now." and left.']
    >>> split_sentences("   ")
    []
    """
    if not text.strip():
        return []
    masked = _mask_urls(text)
    starts: list[int] = []
    for start, end in _pieces(masked):
        piece = masked[start:end]
        found = _pysbd_starts(piece)
        if found is None:
            found = _fallback_starts(piece)
        starts.extend(start + offset for offset in found)
    return _spans_from_starts(text, starts)


def _pieces(text: str) -> list[tuple[int, int]]:
    """Cut ``text`` into pieces pysbd can take in linear time: only when longer than PIECE_LIMIT.

    >>> _pieces("short.")
    [(0, 6)]
    >>> text = "Word " * 1300 + "is here. Next one " + "word " * 1000
    >>> [(a, b, text[a:a + 4]) for a, b in _pieces(text)]
    [(0, 6509, 'Word'), (6509, 11518, 'Next')]
    """
    if len(text) <= PIECE_LIMIT:
        return [(0, len(text))]
    pieces: list[tuple[int, int]] = []
    start = 0
    while len(text) - start > PIECE_LIMIT:
        cut = _safe_cut(text, start)
        pieces.append((start, cut))
        start = cut
    if start < len(text):
        pieces.append((start, len(text)))
    return pieces


def _safe_cut(text: str, start: int) -> int:
    """Where the piece starting at ``start`` ends (the start of the next one, after the whitespace)."""
    low, high = start + _PIECE_MIN, min(start + _PIECE_MAX, len(text))
    for match in _SAFE_END.finditer(text, low, high):
        if match.group() == "\n" or _balanced(text[start:match.start()]):
            return match.end()
    for pattern in (_WEAK_END, _SPACE):
        last = None
        for last in pattern.finditer(text, low, high):
            pass
        if last is not None:
            return last.end()
    return high


def _balanced(text: str) -> bool:
    """No quotation or bracket left open (a sentence end inside a quotation is not one for pysbd).

    >>> _balanced('He said "Stop. Now." and'), _balanced('He said "Stop.'), _balanced("(see p. 4")
    (True, False, False)
    """
    if text.count('"') % 2:
        return False
    return all(text.count(o) == text.count(c) for o, c in _OPEN_CLOSE)


def _mask_urls(text: str) -> str:
    """Hide written-out URLs from the splitter (their ``?`` and ``.`` are not sentence ends), same length.

    >>> _mask_urls("See https://e.org/r?id=7. Then")
    'See UUUUUUUUUUUUUUUUUUUU. Then'
    """
    parts: list[str] = []
    pos = 0
    for start, end, _ in find_bare_urls(text):
        parts += [text[pos:start], "U" * (end - start)]
        pos = end
    parts.append(text[pos:])
    return "".join(parts)


def _pysbd_starts(text: str) -> list[int] | None:
    """Start offsets of pysbd's sentences in ``text``, or None when they cannot be mapped back."""
    try:
        sentences = pysbd_split(text)
    except Exception:  # noqa: BLE001 - a third-party rule engine; fall back rather than fail the document
        return None
    starts: list[int] = []
    pos = 0
    for sentence in sentences:
        sentence = sentence.strip()
        if not sentence:
            continue
        index = text.find(sentence, pos)
        if index < 0:  # pysbd changed the sentence's spacing: match it character by character
            index = pos
            while index < len(text) and text[index].isspace():
                index += 1
            walked = _walk(text, index, sentence)
            if walked is None:
                return None
            pos = walked
        else:
            pos = index + len(sentence)
        starts.append(index)
    return starts


def _walk(text: str, pos: int, sentence: str) -> int | None:
    """Match ``sentence`` against ``text`` from ``pos`` ignoring whitespace; return the end offset."""
    for char in sentence:
        if char.isspace():
            continue
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos >= len(text) or text[pos] != char:
            return None
        pos += 1
    return pos


def _fallback_starts(text: str) -> list[int]:
    starts = [0]
    for match in _FALLBACK_END.finditer(text):
        word_start = match.start()
        while word_start > 0 and not text[word_start - 1].isspace():  # the word before, read backwards
            word_start -= 1
        before = text[word_start:match.start()].lower().strip("\"'“‘«([")
        if before in _ABBREVIATIONS or (len(before) == 1 and before.isalpha()):
            continue
        nxt = match.end()
        while nxt < len(text) and text[nxt].isspace():
            nxt += 1
        starts.append(nxt)
    return starts


def _spans_from_starts(text: str, starts: list[int]) -> list[tuple[int, int]]:
    """Turn sentence starts into trimmed spans that together cover every non-space character."""
    if not starts:
        return []
    starts = sorted(set(starts))
    starts[0] = 0
    bounds = starts + [len(text)]
    spans = []
    for start, end in zip(bounds, bounds[1:]):
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if start < end:
            spans.append((start, end))
    return spans
