"""Find what a sentence quotes: the longest span inside quotation marks.

A quote is what a researcher checks word for word against the source, so a scare-quoted single word
(“so-called”) is not one: a quote needs at least two words. Straight single quotes are also apostrophes
("don't", "the players' union"), so they count only where they clearly open and close a quotation.
"""
from __future__ import annotations

import re

# Opening mark -> closing marks that may end it.
_PAIRS: dict[str, str] = {
    "\u201c": "\u201d",  # “…”
    "\u201e": "\u201c\u201d",  # „…“ / „…”
    "\u00ab": "\u00bb",  # «…»
    "\u00bb": "\u00ab",  # »…« (German, Danish)
    "\u300c": "\u300d",  # 「…」
    "\u300e": "\u300f",  # 『…』
    "\u2018": "\u2019",  # ‘…’
}
_WORD = re.compile(r"\w+")
_ANY_MARK = re.compile("[\"'\u201c\u201e\u00ab\u00bb\u300c\u300e\u2018]")
_STRAIGHT = re.compile('"')
_OPENERS = re.compile("[" + "".join(_PAIRS) + "]")
# A straight or curly single quote opening a quotation: at the start or after a space/bracket/dash, before
# a word character; closing: after a non-space, before the end, a space or punctuation (not a letter).
_SINGLE = re.compile(r"(?:^|(?<=[\s(\[{\u2014\u2013]))'(?=\w)(.+?)(?<=\S)'(?=$|[\s.,;:!?)\]}\u2014\u2013])")


def longest_quote(text: str) -> str | None:
    """Return the longest quotation (at least two words) in ``text``, quotation marks stripped.

    >>> longest_quote('He said "Stop. Now." and “we will not back down” today.')
    'we will not back down'
    >>> longest_quote("It was “historic”, she said.") is None
    True
    >>> longest_quote("The players' union said 'we will strike tomorrow' on Monday.")
    'we will strike tomorrow'
    >>> longest_quote("Il a dit « nous partirons demain » hier.")
    'nous partirons demain'
    """
    if not _ANY_MARK.search(text):
        return None
    best: str | None = None
    for candidate in _candidates(text):
        # "…in the tens of thousands," he said: the comma is the sentence's, not the speaker's.
        candidate = candidate.strip().rstrip(",;:").rstrip()
        if len(_WORD.findall(candidate)) < 2:
            continue
        if best is None or len(candidate) > len(best):
            best = candidate
    return best


def _candidates(text: str) -> list[str]:
    found: list[str] = []
    # Straight double quotes pair up in order: 1st with 2nd, 3rd with 4th.
    straight = [match.start() for match in _STRAIGHT.finditer(text)]
    for open_at, close_at in zip(straight[0::2], straight[1::2]):
        found.append(text[open_at + 1 : close_at])
    for opener in _OPENERS.finditer(text):
        i, ch = opener.start(), opener.group()
        j = _find_closer(text, i + 1, _PAIRS[ch], ch)
        if j is not None:
            found.append(text[i + 1 : j])
    found.extend(match.group(1) for match in _SINGLE.finditer(text))
    return found


def _find_closer(text: str, start: int, closers: str, opener: str) -> int | None:
    """Index of the mark closing the quotation opened just before ``start``; nested pairs are skipped."""
    depth = 0
    for j in range(start, len(text)):
        ch = text[j]
        if ch == "\u2019" and opener == "\u2018" and j + 1 < len(text) and text[j + 1].isalpha():
            continue  # an apostrophe inside the quotation: don’t
        if ch == opener and opener not in closers:
            depth += 1
        elif ch in closers:
            if depth == 0:
                return j
            depth -= 1
    return None
