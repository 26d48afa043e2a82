"""Anchoring a passage the way annotation tools do, and finding it again in a later capture.

A passage is kept as a W3C Web Annotation ``TextQuoteSelector`` (the exact text, plus up to
:data:`CONTEXT` characters before and after it) and a ``TextPositionSelector`` (its character offsets).
Offsets count characters of the capture's *extracted text* (what ``archive.checks.texts`` stores),
not of the HTML.

When a source is fetched again, :func:`reanchor` looks for the passage in the new text, the way Hypothesis
re-attaches annotations: at the same position, else by its exact text (the context decides between
several occurrences), else by fuzzy matching. States:

- ``present``: the exact passage is there, at its old offsets or with its old context around it;
- ``moved``: the exact passage is there, but elsewhere (different offsets and different context);
- ``edited``: only a similar passage (similarity >= :data:`EDITED`); ``diff`` says what changed, word by word;
- ``deleted``: nothing similar is left.

:func:`text_fragment_url` links to the passage on the live page (``#:~:text=``, the URL Fragment Text
Directive that Chromium, Safari and Firefox follow).
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass
from urllib.parse import quote as _quote

from archive.checks.normalize import Normalized, normalize, normalize_with_map, word_bounded

CONTEXT = 64
EDITED = 0.7
_FRAGMENT_WORDS = 4  # words of textStart / textEnd for a long passage
_CONTEXT_WORDS = 3  # words of prefix- / -suffix


@dataclass(frozen=True)
class Anchor:
    exact: str
    prefix: str
    suffix: str
    start: int
    end: int

    def selectors(self) -> list[dict[str, object]]:
        """The passage as W3C Web Annotation selectors."""
        return [
            {"type": "TextQuoteSelector", "exact": self.exact, "prefix": self.prefix, "suffix": self.suffix},
            {"type": "TextPositionSelector", "start": self.start, "end": self.end},
        ]


def anchor_at(text: str, start: int, end: int) -> Anchor:
    """The selectors of ``text[start:end]``.

    >>> a = anchor_at("One. The wall held. Two.", 5, 19)
    >>> a.exact, a.prefix, a.suffix, a.start, a.end
    ('The wall held.', 'One. ', ' Two.', 5, 19)
    """
    return Anchor(text[start:end], text[max(0, start - CONTEXT):start], text[end:end + CONTEXT], start, end)


@dataclass(frozen=True)
class Reanchored:
    state: str  # "present" | "moved" | "edited" | "deleted"
    start: int | None = None
    end: int | None = None
    diff: list[list[str]] | None = None


def reanchor(old: Anchor, text: str, normalized: Normalized | None = None) -> Reanchored:
    """Find ``old`` in ``text`` (a later capture's text).

    >>> old = anchor_at("Intro. The wall held for ninety years. Outro.", 7, 38)
    >>> reanchor(old, "Intro. The wall held for ninety years. Outro.").state
    'present'
    >>> reanchor(old, "New lead paragraph.\\n\\nIntro. The wall held for ninety years. Outro.").state
    'present'
    >>> reanchor(old, "Outro. Other text. The wall held for ninety years.").state
    'moved'
    >>> r = reanchor(old, "Intro. The wall held for eighty years. Outro."); r.state, r.diff
    ('edited', [['=', 'The wall held for'], ['-', 'ninety'], ['+', 'eighty'], ['=', 'years.']])
    >>> reanchor(old, "Intro. Nothing to see here. Outro.").state
    'deleted'
    """
    exact = old.exact
    if not exact:
        return Reanchored("deleted")
    if text[old.start:old.end] == exact:
        return Reanchored("present", old.start, old.end)
    hits = _occurrences(text, exact)
    if hits:
        best = max(hits, key=lambda i: (_context_fit(old, text, i), -abs(i - old.start)))
        in_context = _context_fit(old, text, best) > 0
        return Reanchored("present" if in_context else "moved", best, best + len(exact))
    from rapidfuzz import fuzz

    norm = normalized or normalize_with_map(text)
    needle = normalize(exact)
    if not needle or not norm.text:
        return Reanchored("deleted")
    aligned = fuzz.partial_ratio_alignment(needle, norm.text) if len(needle) <= len(norm.text) else None
    if aligned is None:
        return Reanchored("deleted")
    from archive.checks.match import refine_window

    s, e = word_bounded(norm.text, aligned.dest_start, aligned.dest_end)
    s, e, score = refine_window(needle, norm.text, s, e)
    if max(score, aligned.score) / 100 < EDITED:
        return Reanchored("deleted")
    start, end = norm.original_span(s, e)
    return Reanchored("edited", start, end, word_diff(exact, text[start:end]))


def _occurrences(text: str, exact: str) -> list[int]:
    out: list[int] = []
    at = text.find(exact)
    while at >= 0 and len(out) < 1000:
        out.append(at)
        at = text.find(exact, at + 1)
    return out


def _context_fit(old: Anchor, text: str, at: int) -> int:
    """How well the occurrence at ``at`` keeps the old context: 0 when neither side does, else the number
    of context characters that match (a side counts when all of it, or at least 10 characters, match)."""
    end = at + len(old.exact)
    before, after = text[max(0, at - len(old.prefix)):at], text[end:end + len(old.suffix)]
    left = _common(reversed(before), reversed(old.prefix))
    right = _common(after, old.suffix)
    left_ok = left >= min(len(old.prefix), 10) if old.prefix else at == 0
    right_ok = right >= min(len(old.suffix), 10) if old.suffix else end == len(text)
    return (left + right + 1) if (left_ok or right_ok) else 0


def _common(a: object, b: object) -> int:
    n = 0
    for x, y in zip(a, b):  # type: ignore[call-overload]
        if x != y:
            break
        n += 1
    return n


def word_diff(old: str, new: str) -> list[list[str]]:
    """Word-level diff as ``[op, text]`` pairs: ``=`` kept, ``-`` removed, ``+`` added.

    >>> word_diff("seven to two", "eight to one")
    [['-', 'seven'], ['+', 'eight'], ['=', 'to'], ['-', 'two'], ['+', 'one']]
    """
    a, b = old.split(), new.split()
    out: list[list[str]] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            out.append(["=", " ".join(a[i1:i2])])
            continue
        if i2 > i1:
            out.append(["-", " ".join(a[i1:i2])])
        if j2 > j1:
            out.append(["+", " ".join(b[j1:j2])])
    return out


# -- text fragments ------------------------------------------------------------------------------------
def _encode(term: str) -> str:
    """Percent-encode a text directive term; ``-``, ``,`` and ``&`` are syntax there and must be escaped.

    >>> _encode("3.2-3.8 million, roughly & more")
    '3.2%2D3.8%20million%2C%20roughly%20%26%20more'
    """
    return _quote(term, safe="").replace("-", "%2D")


def _usable(context: str) -> bool:
    """Context worth sending: it holds a word (a lone "." or "”" only makes the link fragile)."""
    return any(ch.isalnum() for ch in context)


def text_fragment_url(url: str, text: str, start: int, end: int) -> str:
    """``url#:~:text=[prefix-,]start[,end][,-suffix]`` for the passage ``text[start:end]``.

    Short passages are given whole; long ones (or ones spanning paragraphs) as their first and last
    words. Context words are added only from the same paragraph, since the browser requires them to be
    right next to the passage.

    >>> text = "Minutes.\\n\\nThe committee approved the budget of 3.5 million euros. Next item."
    >>> text_fragment_url("https://e.org/m", text, 10, 65)
    'https://e.org/m#:~:text=The%20committee%20approved%20the,of%203.5%20million%20euros.,-Next%20item.'
    >>> text_fragment_url("https://e.org/m#top", text, 37, 43)
    'https://e.org/m#:~:text=committee%20approved%20the-,budget,-of%203.5%20million'
    """
    url = url.split("#", 1)[0]
    exact = text[start:end]
    words = exact.split()
    if not words:
        return url
    lines = [line for line in exact.split("\n") if line.strip()]
    if len(lines) == 1 and len(words) <= 2 * _FRAGMENT_WORDS:
        terms = [_encode(" ".join(words))]
    else:
        first, last = lines[0].split(), lines[-1].split()
        head = first[:_FRAGMENT_WORDS]
        tail = last[-_FRAGMENT_WORDS:] if len(lines) > 1 else words[max(len(head), len(words) - _FRAGMENT_WORDS):]
        terms = [_encode(" ".join(head)), _encode(" ".join(tail))]
    before = text[:start]
    context = " ".join(before[before.rfind("\n") + 1:].split()[-_CONTEXT_WORDS:])
    if _usable(context) and not before[-1].isalnum():
        terms.insert(0, _encode(context) + "-")
    after = text[end:]
    context = " ".join(after.split("\n", 1)[0].split()[:_CONTEXT_WORDS])
    if _usable(context) and not after[0].isalnum():
        terms.append("-" + _encode(context))
    return f"{url}#:~:text={','.join(terms)}"
