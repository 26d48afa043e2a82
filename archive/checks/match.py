"""Does a source's text hold what the claim says? Quote matching, and the key-terms heuristic.

**Quotes.** Both sides are normalized (:mod:`archive.checks.normalize`: NFKC, case, quotation marks,
dashes, invisible characters, whitespace). Then, in order:

1. exact: the normalized quote occurs in the normalized text, starting and ending on word boundaries
   (for alphabetic scripts; Korean and CJK text is matched without them) -> ``found``, score 1;
2. an elided quote (``…``, ``...`` or an editorial ``[insertion]``) is ``found`` when its parts occur
   in order, each within :data:`ELISION_GAP` characters of the previous one;
3. otherwise the best fuzzy alignment (rapidfuzz ``partial_ratio_alignment``, then widened to whole
   words and refined over nearby word boundaries with ``ratio``), compared word by word with the quote
   (:mod:`archive.checks.meaning`): ``misquoted`` when they differ in a number, a negation, a name or an
   antonym-like word and the quote, with those words put back, would be close (see :func:`_misquote`);
   else ``close`` when the similarity is at least :func:`close_threshold` (0.82; 0.9 for quotes under 20
   characters, where a single edit weighs more), else ``not_found``. ``close`` is thus left for what does
   not change the meaning: typography, whitespace, accents, case, typos, words left out or added.

**No quote.** :func:`key_terms_support` is a *heuristic*: the share of the claim's key terms (content words
and numbers; stop words of English, Spanish, French, German and Portuguese dropped; Korean particles and
CJK runs handled by substring) that occur in the source text. It says the source talks about the same
things, never that it supports the claim. The best passage is the sentence holding most of the terms
(with its neighbours): ``supported`` when it holds >= 0.70 of them; ``partial`` when the text holds >= 0.5
of them (scattered, or a part); else ``no_match`` (no matching passage; older versions stored
``unsupported``). When the passage holds the claim's words (>= 0.9 of them, numbers aside) but another
number, or more or fewer negations than the claim, the verdict is ``contradicted``. The thresholds come
from the labelled set of tests/misquote_cases.py (``bench/verify.py --misquotes-only`` sweeps them).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from archive.checks.meaning import Difference, compare, facts, inside_edges, may_change_meaning, tokens
from archive.checks.normalize import Normalized, normalize, word_bounded
from archive.checks.termindex import TERM as _TERM
from archive.checks.termindex import TermIndex
from archive.checks.termindex import script as _script

ELISION_GAP = 1500
CLOSE = 0.82
CLOSE_SHORT = 0.90
SHORT_QUOTE = 20
SUPPORTED = 0.70  # share of the claim's terms one passage must hold (bench/verify.py sweeps it)
PARTIAL = 0.50
MISQUOTE_FLOOR = 0.5  # below this similarity the best passage is not looked at word by word
CONTEXT_CHARS = 30  # context around the best window, for a changed first or last word
CONTRADICTED = 0.90  # share of the claim's words (numbers aside) the passage must hold to contradict it

_ELISION = re.compile(r"\.{3,}|\[[^\]]{0,80}\]")


@dataclass(frozen=True)
class Match:
    """A verdict and where it points: ``start``/``end`` are offsets in the *original* text (None when no
    passage was found)."""

    verdict: str
    score: float | None
    start: int | None = None
    end: int | None = None
    terms_found: tuple[str, ...] = field(default=())
    terms_missing: tuple[str, ...] = field(default=())
    differences: tuple[Difference, ...] = field(default=())

    def detail(self) -> dict[str, object] | None:
        """What the verdict has to say beyond its score, as stored in ``verifications.detail``."""
        out: dict[str, object] = {}
        if self.terms_found or self.terms_missing or self.verdict in ("supported", "partial", "contradicted", "no_match"):
            out.update(terms_found=list(self.terms_found), terms_missing=list(self.terms_missing))
        if self.differences:
            out["differences"] = [d.as_json() for d in self.differences]
        return out or None


def close_threshold(quote_length: int) -> float:
    """Similarity needed for ``close``: stricter for short quotes.

    >>> close_threshold(12), close_threshold(60)
    (0.9, 0.82)
    """
    return CLOSE_SHORT if quote_length < SHORT_QUOTE else CLOSE


def match_quote(quote: str, text: Normalized) -> Match:
    """Find ``quote`` in ``text`` (see the module docstring for the verdicts).

    >>> from archive.checks.normalize import normalize_with_map
    >>> t = normalize_with_map("He said: \\u201cWe waited, we argued \\u2014 now we build.\\u201d Then he left.")
    >>> m = match_quote('we argued - now we build', t); m.verdict, t.original[m.start:m.end]
    ('found', 'we argued \\u2014 now we build')
    >>> m = match_quote('we argued, and now we build', t); m.verdict, t.original[m.start:m.end], m.score
    ('close', 'we argued \\u2014 now we build', 0.902)
    >>> match_quote('we surrender', t).verdict
    'not_found'
    >>> m = match_quote('we waited, we argued - now we never build', t); m.verdict, m.differences
    ('misquoted', (Difference(kind='negation', quote='never', source=''),))
    """
    needle = normalize(quote).strip(" \"'")
    hay = text.text
    if not needle or not hay:
        return Match("not_found", 0.0)
    at = _exact(needle, hay)
    if at is not None:
        return _located("found", 1.0, text, at, at + len(needle))
    parts = [p.strip(" \"',;:") for p in _ELISION.split(needle)]
    parts = [p for p in parts if p]
    elided = len(parts) > 1
    if elided:
        span = _in_order(parts, hay)
        if span is not None:
            return _located("found", 1.0, text, *span)
        needle = " ".join(parts)
    return _fuzzy(needle, text, _ELISION.sub(" \u2026 ", quote), elided)


def _located(verdict: str, score: float, text: Normalized, start: int, end: int) -> Match:
    begin, finish = text.original_span(start, end)
    return Match(verdict, round(score, 3), begin, finish)


def _bounded(ch: str) -> bool:
    """Characters that need a word boundary next to them: letters and digits of spaced scripts."""
    return ch.isalnum() and ord(ch) < 0x1100


def _exact(needle: str, hay: str) -> int | None:
    start = hay.find(needle)
    while start >= 0:
        end = start + len(needle)
        left_ok = start == 0 or not (_bounded(needle[0]) and _bounded(hay[start - 1]))
        right_ok = end == len(hay) or not (_bounded(needle[-1]) and _bounded(hay[end]))
        if left_ok and right_ok:
            return start
        start = hay.find(needle, start + 1)
    return None


def _in_order(parts: list[str], hay: str) -> tuple[int, int] | None:
    """Each part after the previous one, within ELISION_GAP; try every start of the first part."""
    first = hay.find(parts[0])
    while first >= 0:
        pos = first + len(parts[0])
        for part in parts[1:]:
            nxt = hay.find(part, pos, pos + ELISION_GAP + len(part))
            if nxt < 0:
                break
            pos = nxt + len(part)
        else:
            return first, pos
        first = hay.find(parts[0], first + 1)
    return None


def _fuzzy(needle: str, text: Normalized, quote: str = "", elided: bool = False) -> Match:
    from rapidfuzz import fuzz

    hay = text.text
    threshold = close_threshold(len(needle))
    if len(needle) > len(hay):
        score = fuzz.ratio(needle, hay) / 100
        if score >= threshold:
            return _located("close", score, text, 0, len(hay))
        return Match("not_found", round(score, 3))
    aligned = fuzz.partial_ratio_alignment(needle, hay)
    if aligned is None:
        return Match("not_found", 0.0)
    start, end = word_bounded(hay, aligned.dest_start, aligned.dest_end)
    # The score is that of whole words: a quote matching only inside longer words ("build" in
    # "builders") is not close to anything the source says.
    start, end, refined = refine_window(needle, hay, start, end)
    score = refined / 100
    if score >= MISQUOTE_FLOOR and quote:
        found = _misquote(quote, text, start, end, elided, threshold)
        if found:
            begin, finish = text.original_span(start, end)
            return Match("misquoted", round(score, 3), begin, finish, differences=found)
    if score >= threshold:
        return _located("close", score, text, start, end)
    return Match("not_found", round(score, 3))


def _misquote(quote: str, text: Normalized, start: int, end: int, elided: bool,
              threshold: float) -> tuple[Difference, ...]:
    """The meaning changes between ``quote`` and the passage ``text.text[start:end]``, when the quote is
    that passage but for them: with the changed words put back it is at least ``threshold`` similar, and
    at least half its words (two at the least) are the passage's own. Empty otherwise."""
    begin, finish = text.original_span(start, end)
    original = text.original
    # A few words of context on each side: the best window may stop short of a changed first or last word.
    lo = max(0, begin - CONTEXT_CHARS)
    lo = original.find(" ", lo, begin) + 1 if lo > 0 and " " in original[lo:begin] else lo
    hi = min(len(original), finish + CONTEXT_CHARS)
    hi = original.rfind(" ", finish, hi) if hi < len(original) and " " in original[finish:hi] else hi
    window = original[begin:finish]
    if not may_change_meaning(quote, window) and (
            inside_edges(quote, window) or not may_change_meaning(quote, original[lo:hi])):
        return ()  # no word that differs could change the meaning (the cheap test)
    said = tokens(quote)
    least = max(2, len(said) / 2)
    found = compare(said, tokens(window, original[max(0, begin - 40):begin]), elided=elided, min_shared=least)
    if found.ragged:
        found = compare(said, tokens(original[lo:hi], original[max(0, lo - 40):lo]), elided=elided, context=True,
                        min_shared=least)
    if not found.differences or found.repaired < threshold:
        return ()
    if found.shared < least:
        return ()
    return found.differences


def refine_window(needle: str, hay: str, start: int, end: int) -> tuple[int, int, float]:
    """Try word starts and ends near ``hay[start:end]``; return the window most similar to ``needle`` and
    its similarity (0-100).

    >>> hay = "but it was never designed for the surges we now see each winter, said Varga"
    >>> s, e, _ = refine_window("was never designed for the surges we now see every winter", hay, 5, 62)
    >>> hay[s:e]
    'was never designed for the surges we now see each winter'
    """
    from rapidfuzz import fuzz

    slack = max(12, len(needle) // 5)
    lo, hi = max(0, start - slack), min(len(hay), end + slack)
    starts = [i for i in range(lo, min(end, start + slack)) if _word_start(hay, i)] or [start]
    ends = [j for j in range(max(end - slack, start + 1), hi + 1) if _word_end(hay, j)] or [end]
    best = (start, end, fuzz.ratio(needle, hay[start:end]))
    for i in starts:
        for j in ends:
            if j > i:
                score = fuzz.ratio(needle, hay[i:j], score_cutoff=best[2])
                if score > best[2]:
                    best = (i, j, score)
    return best


def _word_start(hay: str, i: int) -> bool:
    """A word starts at ``i``, or a space-separated token does (a quotation mark, a bracket)."""
    if i == 0:
        return hay[0] != " "
    return (hay[i].isalnum() and not hay[i - 1].isalnum()) or (hay[i - 1] == " " and hay[i] != " ")


def _word_end(hay: str, j: int) -> bool:
    """A word ends at ``j``, or a space-separated token does (a word and its punctuation)."""
    if j == len(hay):
        return hay[j - 1] != " "
    return (hay[j - 1].isalnum() and not hay[j].isalnum()) or (hay[j] == " " and hay[j - 1] != " ")


# -- key terms (heuristic) ----------------------------------------------------------------------------
_STOP = frozenset("""
a about above after again against all also am an and any are as at be because been before being below
between both but by can could did do does doing down during each few for from further had has have having
he her here hers herself him himself his how i if in into is it its itself just me more most my myself no
nor not now of off on once only or other our ours out over own same she should so some such than that the
their theirs them then there these they this those through to too under until up very was we were what
when where which while who whom why will with would you your yours yourself said says say told according
also new one two last first year years per cent percent mr mrs ms dr
el la los las un una unos unas y o u e de del al a en con por para sin sobre entre que quien quienes como
cuando donde se su sus lo le les es son fue fueron ha han haber este esta estos estas ese esa eso esos
esas muy más mas pero tambien también ya no si sí según dijo afirmó aseguró
le la les un une des et ou de du au aux en dans par pour sur avec sans que qui quoi dont où est sont été
ce cette ces il elle ils elles on nous vous leur leurs son sa ses pas plus mais aussi selon a dit
der die das den dem des ein eine einer eines einem einen und oder zu von mit für auf aus bei nach über
unter vor im ins am zum zur ist sind war waren wird werden hat haben es er sie wir ihr nicht auch noch
dass wie als sagte laut
o a os as um uma uns umas e ou do da dos das no na nos nas em com por para sem sobre que quem como quando
onde se seu sua seus suas foi é são ser mais mas também disse segundo
""".split())
# Korean particles and endings that cling to a word: strip them to find the stem in the source.
_KO_SUFFIXES = tuple(sorted(
    "은 는 이 가 을 를 의 에 와 과 도 로 으로 에서 에게 까지 부터 만 이다 했다 했습니다 한다 합니다 였다 이었다 라고 고".split(),
    key=len, reverse=True,
))


def key_terms(claim: str) -> list[str]:
    """The claim's content words and numbers, normalized, in order, without duplicates.

    >>> key_terms("The council approved the budget of 3.5 million euros, the mayor said.")
    ['council', 'approved', 'budget', '3.5', 'million', 'euros', 'mayor']
    >>> key_terms("시의회는 방파제 예산을 승인했다")
    ['시의회', '방파제', '예산', '승인']
    """
    out: list[str] = []
    for token in _TERM.findall(normalize(claim)):
        script = _script(token)
        if script == "hangul":
            token = _korean_stem(token)
            if len(token) < 2:
                continue
            candidates = [token]
        elif script == "cjk":
            candidates = [token[i:i + 2] for i in range(len(token) - 1)] or [token]
        else:
            if token[0].isdigit():
                token = token.replace(",", ".")
            elif len(token) < 3 or token in _STOP:
                continue
            candidates = [token]
        for candidate in candidates:
            if candidate not in out:
                out.append(candidate)
    return out


def _korean_stem(token: str) -> str:
    for suffix in _KO_SUFFIXES:
        if token.endswith(suffix) and len(token) - len(suffix) >= 2:
            return token[: -len(suffix)]
    return token


def key_terms_support(claim: str, text: Normalized, index: TermIndex | None = None) -> Match:
    """Share of the claim's key terms found in ``text``, and the sentence holding most of them.

    >>> from archive.checks.normalize import normalize_with_map
    >>> t = normalize_with_map("Minutes.\\n\\nThe committee approved the budget of 3.5 million euros. Next item.")
    >>> m = key_terms_support("The council approved a budget of 3.5 million euros.", t)
    >>> m.verdict, m.score, m.terms_missing, t.original[m.start:m.end]
    ('supported', 0.833, ('council',), 'The committee approved the budget of 3.5 million euros.')
    """
    terms = key_terms(claim)
    if not terms:
        return Match("no_match", None)
    index = index or TermIndex(text.text)
    found = tuple(t for t in terms if index.has(t))
    missing = tuple(t for t in terms if t not in found)
    score = len(found) / len(terms)
    best = index.best_passage(found, text.original) if found else None
    start, end, held = best if best else (None, None, frozenset())
    # "supported" needs one passage (the best sentence and its neighbours) to carry the terms: terms
    # scattered over the page only say it talks about the same things.
    passage_share = len(held) / len(terms)
    verdict = "supported" if passage_share >= SUPPORTED else "partial" if score >= PARTIAL else "no_match"
    differences: tuple[Difference, ...] = ()
    words = [t for t in terms if not t[0].isdigit()]
    if best and words and sum(1 for t in words if t in held) / len(words) >= CONTRADICTED:
        differences = contradictions(claim, text.original[best[0]:best[1]])
        if differences:
            verdict = "contradicted"
    return Match(verdict, round(score, 3), start, end, found, missing, differences)


def contradictions(claim: str, passage: str) -> tuple[Difference, ...]:
    """Where a passage holding a claim's words says otherwise: another number in place of the claim's, or
    more negations on one side (a heuristic: the passage is one sentence, the claim another).

    >>> contradictions("The council approved 4 million euros.", "The council approved 3 million euros.")
    (Difference(kind='number', quote='4', source='3'),)
    >>> contradictions("The council approved the budget.", "The council did not approve the budget.")
    (Difference(kind='negation', quote='', source='not'),)
    >>> contradictions("Two ferries sail at 9.", "At 9, two ferries sail.")
    ()
    """
    negated_claim, claim_numbers = facts(claim)
    negated_source, source_numbers = facts(passage)
    out: list[Difference] = []
    if len(negated_claim) != len(negated_source):
        out.append(Difference("negation", " ".join(negated_claim), " ".join(negated_source)))
    lost = [text for value, text in claim_numbers.items() if value not in source_numbers]
    other = [text for value, text in source_numbers.items() if value not in claim_numbers]
    if lost and other:
        out.append(Difference("number", " ".join(lost), " ".join(other)))
    return tuple(out)
