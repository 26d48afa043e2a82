"""Which differences between two wordings change what they say: numbers, negations, names, opposite words.

A quotation that differs from its source only in typography, case, accents, whitespace or a typo is
``close``; one that differs in a number ("300" for "500"), a negation ("did sound" for "did not sound"), a
name ("Jon Snow" for "Jon Sopel") or an antonym-like swap ("minor" for "major") is a misquote. The same
test tells a cited passage edited in meaning from a cosmetic edit on a re-crawl (:mod:`archive.recheck.drift`).

Words are compared on their *base* (NFKC, case folded, accents stripped, curly apostrophes straight), so
a change of diacritics or case is never a difference. Per-language word lists (English, French, Spanish,
Portuguese, German; :mod:`archive.checks.wordlists`): negations, number words, month names and antonym
pairs. Number tokens compare by
their digits, so "3,5" (German) equals "3.5" and "1.500" equals "1,500"; number words compare by value
("twenty" equals "20"). Words that are one typo apart ("ninty", "ninety") are typos, not swaps.

Stdlib only (plus rapidfuzz for one similarity, imported when needed).
"""
from __future__ import annotations

import difflib
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

from archive.checks.wordlists import (
    ANTONYMS,
    MONTHS,
    NEGATIONS,
    NUMBER_WORDS,
    ONE_WORDS,
    OPPOSITE_PREFIXES,
    VERB_MONTHS,
)

#: Kinds of difference, most telling first: one change gets the first kind that fits.
KINDS = ("negation", "number", "name", "word")
TYPO = 0.8  # two words at least this similar (and not numbers) are a typo of each other

_TOKEN = re.compile(r"\d+(?:[.,\u00a0\u202f\u2009]\d+)*(?:st|nd|rd|th|er|e|º|ª)?|[^\W\d_]+(?:['\u2019][^\W\d_]+)*")
_SENTENCE_END = frozenset(".!?\u2026:;\"\u201c\u201d\u00ab\u00bb\u2018\u2019'()[]\n")
_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200b\u200c\u200d\u2060\ufeff"))

_NEGATIONS, _NUMBER_WORDS, _MONTHS, _VERB_MONTHS = NEGATIONS, NUMBER_WORDS, MONTHS, VERB_MONTHS
_ANTONYMS, _PREFIXES, _ONE = ANTONYMS, OPPOSITE_PREFIXES, ONE_WORDS


def _strip_accents(word: str) -> str:
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).replace("ß", "ss")


_PAIRS = frozenset(
    frozenset(_strip_accents(w) for w in pair.split())
    for pair in _ANTONYMS.replace("\n", "").split("|") if len(pair.split()) == 2
)
_NEGATION_BASES = frozenset(_strip_accents(w) for w in _NEGATIONS)


class Token(NamedTuple):
    """A word as written, its key (folded case, accents kept: "très" is not "tres") and base (accents
    stripped: what comparisons use); ``initial`` when it starts a sentence (a capital there is no name)."""

    text: str
    key: str
    base: str
    initial: bool


@dataclass(frozen=True)
class Difference:
    """One change of meaning: its kind and the words on each side ("" when one side has none)."""

    kind: str
    quote: str
    source: str

    def as_json(self) -> dict[str, str]:
        return {"kind": self.kind, "quote": self.quote, "source": self.source}


@lru_cache(maxsize=65536)
def _fold(word: str) -> tuple[str, str]:
    key = unicodedata.normalize("NFKC", word).casefold().replace("\u2019", "'")
    return key, _strip_accents(key)


def tokens(text: str, before: str = "") -> list[Token]:
    """The words and numbers of ``text``; ``before`` is what precedes it (to tell a sentence start).

    >>> [(t.text, t.base, t.initial) for t in tokens("Não é. Jon didn\u2019t go", "")]
    [('Não', 'nao', True), ('é', 'e', False), ('Jon', 'jon', True), ('didn’t', "didn't", False), ('go', 'go', False)]
    """
    if not text.isascii():
        text = text.translate(_INVISIBLE)
    previous = before.rstrip()[-1:] if before.strip() else ""
    start_initial = not previous or previous in _SENTENCE_END
    out: list[Token] = []
    words = _TOKEN.findall(text)
    gaps = _TOKEN.split(text)  # the text between words: gaps[k] comes before words[k]
    ends = _SENTENCE_END
    for k, word in enumerate(words):
        gap = gaps[k]
        initial = (start_initial if k == 0 else False) or (bool(gap) and not ends.isdisjoint(gap))
        if word.isascii():
            key = word.lower()
            out.append(Token(word, key, key, initial))
        else:
            key, base = _fold(word)
            out.append(Token(word, key, base, initial))
    return out


def facts(text: str) -> tuple[list[str], dict[str, str]]:
    """The negation words of ``text`` and its numbers (value -> as written), without building tokens: the
    cheap reading :func:`archive.checks.match.contradictions` needs for every claim without a quote.

    >>> facts("The council did not approve 3,5 million euros in May.")
    (['not'], {'35': '3,5', '1e6': 'million', 'month5': 'May'})
    """
    negations: list[str] = []
    numbers: dict[str, str] = {}
    for word in _TOKEN.findall(text):
        key, base = (word.lower(), word.lower()) if word.isascii() else _fold(word)
        if base in _NEGATION_BASES or base.endswith("n't") or base.startswith("n'"):
            negations.append(word)
        elif base[0].isdigit():
            numbers.setdefault("".join(c for c in base if c.isdigit()).lstrip("0") or "0", word)
        elif key in _NUMBER_WORDS:
            numbers.setdefault(_NUMBER_WORDS[key], word)
        elif key in _MONTHS and (key not in _VERB_MONTHS or word[:1].isupper()):
            numbers.setdefault(_MONTHS[key], word)
    return negations, numbers


def inside_edges(quote: str, passage: str) -> bool:
    """The quote's first and last words are in the passage (it does not stop short of them).

    >>> inside_edges("than comparable streets trees", "than comparable streets")
    False
    """
    said = _TOKEN.findall(quote)
    if not said:
        return True
    found = {w.lower() for w in _TOKEN.findall(passage)}
    return said[0].lower() in found and said[-1].lower() in found


def may_change_meaning(quote: str, passage: str) -> bool:
    """A cheap test before :func:`compare`: does a word that only one of the two has look like a number,
    a negation, a name (a capital), a listed antonym or a prefixed opposite? When none does, no
    difference can change the meaning (most typos and small rewordings stop here).

    >>> may_change_meaning("the wall has clone its job", "the wall has done its job")
    False
    >>> may_change_meaning("it cost 300 euros", "it cost 500 euros"), may_change_meaning("a minor draw", "a major draw")
    (True, True)
    >>> may_change_meaning("no, it is no longer", "no, it is longer")  # a second "no"
    True
    """
    def bases(text: str) -> tuple[Counter[str], dict[str, str]]:
        words = {(w.lower() if w.isascii() else _fold(w)[1]): w for w in _TOKEN.findall(text)}
        return Counter(w.lower() if w.isascii() else _fold(w)[1] for w in _TOKEN.findall(text)), words

    (said_count, said), (source_count, source) = bases(quote), bases(passage)
    differ = {b for b in said_count.keys() | source_count.keys() if said_count[b] != source_count[b]}
    for base in differ:
        word = said.get(base) or source[base]
        if base[0].isdigit() or word[:1].isupper() or base in _MEANINGFUL or base.endswith("n't") \
                or base.startswith("n'") or any(x in _PARTNERS for x in _inflections(base)):
            return True
        if any(base.startswith(p) and (base[len(p):] in differ or base[len(p) + 1:] in differ) for p in _PREFIXES):
            return True
    return False


def is_negation(token: Token) -> bool:
    """A negation word, an English "n't" or a French elided "n'".

    >>> [is_negation(t) for t in tokens("didn't n'est cannot nicht notable")]
    [True, True, True, True, False]
    """
    base = token.base
    return base in _NEGATION_BASES or base.endswith("n't") or base.startswith("n'")


def number_value(token: Token) -> str | None:
    """What a number token stands for, so that "3,5" equals "3.5" and "twenty" equals "20"; months are
    values too (a date); None for other words.

    >>> [number_value(t) for t in tokens("1.500 1,500 twenty 7th May may très tres")]
    ['1500', '1500', '20', '7', 'month5', None, None, '3']
    """
    if token.base[0].isdigit():
        return "".join(c for c in token.base if c.isdigit()).lstrip("0") or "0"
    if token.key in _NUMBER_WORDS:
        return _NUMBER_WORDS[token.key]
    if token.key in _MONTHS:
        if token.key in _VERB_MONTHS and (token.initial or not token.text[:1].isupper()):
            return None
        return _MONTHS[token.key]
    return None




def _multiplier(token: Token | None) -> bool:
    value = number_value(token) if token is not None and not token.base[0].isdigit() else None
    return value is not None and not value.startswith("month") and float(value) >= 100


def numbers(words: list[Token]) -> list[str]:
    """The values of the numbers among ``words``, sorted; a run of number words is one number
    ("five hundred" is 500, "twenty five" 25, "one million" and "1 million" 1000000), so it equals the same
    number in digits.

    >>> numbers(tokens("five hundred strandings")), numbers(tokens("500 strandings in May 2021"))
    (['500'], ['2021', '500', 'month5'])
    >>> numbers(tokens("one million euros")) == numbers(tokens("1 million euros")), numbers(tokens("3.5 million"))
    (True, ['1000000', '35'])
    """
    out: list[str] = []
    run: list[float] = []

    def close_run() -> None:
        if run:
            total, current = 0.0, 0.0
            for v in run:
                if v >= 1000:
                    total += (current or 1) * v
                    current = 0
                elif v == 100:
                    current = (current or 1) * 100
                else:
                    current += v
            value = total + current
            out.append(str(int(value)) if value == int(value) else str(value))
            run.clear()

    for i, token in enumerate(words):
        value = number_value(token)
        before_multiplier = _multiplier(words[i + 1] if i + 1 < len(words) else None)
        if value is None and token.key in _ONE and before_multiplier:
            value = "1"
        digits = token.base[0].isdigit()
        if value is not None and not value.startswith("month") and (not digits or (
                before_multiplier and token.base.isdigit())):
            run.append(float(value))  # a number word, or whole digits before one ("3 million")
            continue
        close_run()
        if value is not None:
            out.append(value)
    close_run()
    return sorted(out)


def _is_name(token: Token) -> bool:
    """A capitalized word that does not start a sentence (all-capitals text says nothing)."""
    text = token.text
    return text[:1].isupper() and not token.initial and not (text.isupper() and len(text) > 4)


@lru_cache(maxsize=65536)
def _inflections(base: str) -> tuple[str, ...]:
    out = [base]
    for suffix in ("s", "es", "ed", "d", "ing", "e", "en", "er", "n"):
        if base.endswith(suffix) and len(base) - len(suffix) >= 3:
            out.append(base[: -len(suffix)])
    return tuple(out)


def _partners() -> dict[str, frozenset[str]]:
    """Every form of a listed antonym -> the forms of its partners."""
    out: dict[str, set[str]] = {}
    for pair in _PAIRS:
        a, b = sorted(pair)
        for x in _inflections(a):
            out.setdefault(x, set()).update(_inflections(b))
        for y in _inflections(b):
            out.setdefault(y, set()).update(_inflections(a))
    return {k: frozenset(v) for k, v in out.items()}


_PARTNERS = _partners()
_MEANINGFUL = _NEGATION_BASES | {_strip_accents(w) for w in (*_NUMBER_WORDS, *_MONTHS, *_ONE)}


def opposite(a: str, b: str) -> bool:
    """Antonym-like words: a listed pair (in any inflection), or a word and its negative prefix.

    >>> opposite("major", "minor"), opposite("increases", "decreases"), opposite("likely", "unlikely")
    (True, True, True)
    >>> opposite("done", "clone"), opposite("each", "every")
    (False, False)
    """
    if a == b:
        return False
    for x in _inflections(a):
        partners = _PARTNERS.get(x)
        if partners and any(y in partners for y in _inflections(b)):
            return True
    short, long_ = (a, b) if len(a) <= len(b) else (b, a)
    return len(short) >= 4 and long_.endswith(short) and any(
        long_ == p + short or long_ == p + "-" + short for p in _PREFIXES)


def _similar(a: str, b: str) -> bool:
    """One typo apart: one edit, or (longer words) at least :data:`TYPO` similar."""
    from rapidfuzz.distance import Levenshtein

    return Levenshtein.distance(a, b, score_cutoff=2) <= 1 or difflib.SequenceMatcher(None, a, b).ratio() >= TYPO


def _typo(q: Token, s: Token) -> bool:
    """``q`` is a typo (an OCR error, an inflection, a spelling variant) of ``s``, not another word: never
    two different numbers, antonyms, or a negation against a plain word ("not" for "now")."""
    if q.base[0].isdigit() or s.base[0].isdigit() or min(len(q.base), len(s.base)) < 3:
        return False
    if number_value(q) and number_value(s):
        return False
    if is_negation(q) != is_negation(s) and "'" not in q.base + s.base:
        return False
    return not opposite(q.base, s.base) and _similar(q.base, s.base)


def _kind(quote: list[Token], source: list[Token], after: Token | None = None) -> str | None:
    """The kind of one changed stretch, or None when it does not change the meaning. ``after`` is the
    word both sides share right after it ("one" / "1" before "million" are the same number)."""
    if len(quote) == len(source) and all(_typo(q, s) for q, s in zip(quote, source)):
        return None  # "ninty" for "ninety", "surge" for "surges", "Luxa" for "Lula"
    if any(is_negation(t) for t in quote) != any(is_negation(t) for t in source):
        return "negation"
    if any(opposite(q.base, s.base) for q in quote for s in source):
        return "word"
    tail = [after] if after is not None else []
    qv, sv = numbers(quote + tail), numbers(source + tail)
    if qv != sv:
        return "number"
    if not (quote and source):
        return None  # words left out or added
    names_q = [t.base for t in quote if _is_name(t)]
    names_s = [t.base for t in source if _is_name(t)]
    qb, sb = [t.base for t in quote], [t.base for t in source]
    if any(not any(_similar(n, b) for b in qb) for n in names_s) or \
            any(not any(_similar(n, b) for b in sb) for n in names_q):
        return "name"
    return None


@dataclass(frozen=True)
class Comparison:
    """The meaning changes between a quote and a passage, how many words they share, and the similarity of
    the quote once those changes are put back (what is left is typography, typos and elisions)."""

    differences: tuple[Difference, ...]
    shared: int
    quote_words: int
    repaired: float
    ragged: bool = False  # the quote's first or last words are not the passage's: it may stop short of them


def compare(quote: list[Token], source: list[Token], *, elided: bool = False, context: bool = False,
            min_shared: float = 0) -> Comparison:
    """Compare two wordings word by word. With ``elided`` the quote marks cuts, so source words it leaves
    out are not differences. With ``context`` the source has a few words of context on each side: source
    words before the quote's first word or after its last are not differences.

    >>> c = compare(tokens("Jon Snow did sound confident about 300 strandings"),
    ...             tokens("Jon Sopel did not sound confident about 500 strandings"))
    >>> [(d.kind, d.quote, d.source) for d in c.differences], c.repaired
    ([('name', 'Snow', 'Sopel'), ('negation', '', 'not'), ('number', '300', '500')], 1.0)
    >>> c = compare(tokens("where he grew down"), tokens("the farm where he grew up. Then"), context=True)
    >>> [(d.kind, d.quote, d.source) for d in c.differences], c.repaired
    ([('word', 'down', 'up')], 1.0)
    """
    from rapidfuzz import fuzz

    qb, sb = [t.base for t in quote], [t.base for t in source]
    ops: list[Op] = list(difflib.SequenceMatcher(None, qb, sb, autojunk=False).get_opcodes())
    if context:
        ops = _trim_context(ops, len(sb))
    ragged = bool(ops) and (_unmatched_edge(ops[0], quote, source) or _unmatched_edge(ops[-1], quote, source))
    if sum(i2 - i1 for op, i1, i2, _, _ in ops if op == "equal") < min_shared:
        return Comparison((), 0, len(quote), 0.0, ragged)
    differences: list[Difference] = []
    repaired: list[str] = []
    shared = 0
    for op, i1, i2, j1, j2 in ops:
        if op == "equal":
            shared += i2 - i1
            repaired.extend(qb[i1:i2])
            continue
        qs, ss = quote[i1:i2], source[j1:j2]
        after = quote[i2] if i2 < len(quote) and j2 < len(source) and qb[i2] == sb[j2] else None
        kind = None if (elided and not qs) else _kind(qs, ss, after)
        if kind is None:
            repaired.extend(qb[i1:i2])
            continue
        differences.append(Difference(kind, " ".join(t.text for t in qs), " ".join(t.text for t in ss)))
        repaired.extend(sb[j1:j2])
    differences = _moved_away(differences)
    used = sb[ops[0][3]:ops[-1][4]] if ops else sb
    score = fuzz.ratio(" ".join(repaired), " ".join(used)) / 100 if used else 0.0
    return Comparison(tuple(differences), shared, len(quote), round(score, 3), ragged)


Op = tuple[str, int, int, int, int]


def _unmatched_edge(op: Op, quote: list[Token], source: list[Token]) -> bool:
    """An edge of the alignment where the quote has words the passage does not match (not mere typos):
    the passage may stop short of them."""
    kind, i1, i2, j1, j2 = op
    if kind in ("equal", "insert"):
        return False
    return kind == "delete" or not (i2 - i1 == j2 - j1 and all(map(_typo, quote[i1:i2], source[j1:j2])))


def _moved_away(differences: list[Difference]) -> list[Difference]:
    """Drop the pairs that are one word moved: left out in one place, added in another ("rund 2021 40"
    for "2021 rund 40", "7 October" for "Oct. 7"), which the word alignment sees as two changes.

    >>> _moved_away([Difference("number", "", "42"), Difference("number", "42", ""),
    ...              Difference("name", "Snow", "Sopel")])
    [Difference(kind='name', quote='Snow', source='Sopel')]
    """
    def same(kind: str, a: str, b: str) -> bool:  # numbers by value ("Oct." is "October")
        if kind == "number":
            return numbers(tokens(a)) == numbers(tokens(b))
        return [t.base for t in tokens(a)] == [t.base for t in tokens(b)]

    out = list(differences)
    for d in differences:
        if d in out and not d.quote and d.source:
            twin = next((e for e in out if e.kind == d.kind and not e.source and same(d.kind, e.quote, d.source)),
                        None)
            if twin is not None:
                out.remove(d)
                out.remove(twin)
    return out


def _trim_context(ops: list[Op], source_len: int) -> list[Op]:
    """Drop the source-only words at both ends (context), and cut the context out of changes there: a
    quote word replacing "up" at the very end keeps only as many source words as it has."""
    ops = list(ops)
    while ops and ops[0][0] == "insert":
        ops.pop(0)
    while ops and ops[-1][0] == "insert":
        ops.pop()
    if ops and ops[0][0] == "replace":
        op, i1, i2, j1, j2 = ops[0]
        ops[0] = (op, i1, i2, max(j1, j2 - (i2 - i1)), j2)
    if ops and ops[-1][0] == "replace":
        op, i1, i2, j1, j2 = ops[-1]
        ops[-1] = (op, i1, i2, j1, min(j2, j1 + (i2 - i1)))
    return ops


def meaning_changes(diff: list[list[str]]) -> list[Difference]:
    """The meaning changes of a word diff (``[op, words]`` pairs, see :func:`archive.checks.anchor.word_diff`):
    old words are the "quote" side, new words the "source" side.

    >>> [(d.kind, d.quote, d.source) for d in meaning_changes(
    ...     [["=", "The hosts won"], ["-", "7"], ["+", "5"], ["=", "to"], ["-", "2"], ["+", "4"]])]
    [('number', '7', '5'), ('number', '2', '4')]
    >>> meaning_changes([["=", "We"], ["-", "\u2019re"], ["+", "'re"], ["=", "back"]])
    []
    """
    old = " ".join(words for op, words in diff if op in "=-")
    new = " ".join(words for op, words in diff if op in "=+")
    return list(compare(tokens(old), tokens(new)).differences)
