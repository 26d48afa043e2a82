"""Sentence splitting with character offsets, so links found in a block can be given to their sentence.

pysbd (rule-based, the "Golden Rules" set) decides where sentences end: it knows abbreviations ("U.S.",
"Dr.", "Oct. 7"), initials, decimals and quotations with inner punctuation. We use only its boundaries and
map them back onto the original text ourselves, because pysbd's own ``char_span`` mode silently drops a
sentence whenever its processing altered the sentence's characters. If the mapping fails anyway, a small
conservative regex splitter takes over for that block: text is never lost, at worst split less finely.

A newline in a block is a hard break (an HTML ``<br>``, a Markdown hard break): pysbd ends a sentence there.
"""
from __future__ import annotations

import re
import warnings

from archive.claims.urls import find_bare_urls

with warnings.catch_warnings():
    # pysbd 0.3.4 has regex literals with invalid escapes; only compiling them without a .pyc warns.
    warnings.filterwarnings("ignore", category=DeprecationWarning, message="invalid escape sequence")
    warnings.filterwarnings("ignore", category=SyntaxWarning, message="invalid escape sequence")
    from pysbd.languages import Language
    from pysbd.processor import Processor

_ENGLISH = Language.get_language_code("en")

# Fallback: end after . ! ? (and closing quotes/brackets) before whitespace and a capital or opening quote,
# unless the word before is a known abbreviation or a single initial.
_FALLBACK_END = re.compile(r"[.!?…]+[\"'”’»)\]]*(?=\s+[\"'“‘«(\[]?[A-Z\u00C0-\u024F0-9])")
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
    starts = _pysbd_starts(masked)
    if starts is None:
        starts = _fallback_starts(masked)
    return _spans_from_starts(text, starts)


def _mask_urls(text: str) -> str:
    """Hide written-out URLs from the splitter (their ``?`` and ``.`` are not sentence ends), same length.

    >>> _mask_urls("See https://e.org/r?id=7. Then")
    'See UUUUUUUUUUUUUUUUUUUU. Then'
    """
    for start, end, _ in find_bare_urls(text):
        text = text[:start] + "U" * (end - start) + text[end:]
    return text


def _pysbd_starts(text: str) -> list[int] | None:
    """Start offsets of pysbd's sentences in ``text``, or None when they cannot be mapped back."""
    try:
        sentences = Processor(text, _ENGLISH, char_span=False).process()
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
        word = re.search(r"(\S+)$", text[: match.start()])
        before = word.group(1).lower().strip("\"'“‘«([") if word else ""
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
