"""A labelled set for misquotes and support labels, generated from texts at run time (never stored).

Sources: the real pages of ``../shared/realworld/`` when present (their text must not enter the
repository, so quotes are cut from them here, in memory), the test site's articles and the evidence texts
of ``tests/data/evidence/texts``. From each source sentence of at least :data:`WORDS` words:

- ``exact``: a window of its words, verbatim -> ``found``; the same in another source -> ``not_found``;
- ``typo``: one letter in twelve changed -> ``close``; ``dropped``: a plain word left out, ``swapped``: two
  words in the middle swapped -> ``close`` (what must not be taken for a misquote);
- ``typography``: the same with curly quotes and apostrophes, other dashes, non-breaking spaces, a line
  break, soft hyphens, capitals -> ``found``;
- ``elision``: the middle words cut and marked with "…" or "[...]" -> ``found`` or ``close``;
- ``number``, ``negation``, ``name``, ``word``: one number changed, a negation added or dropped, a name
  swapped, a word swapped for its opposite -> ``misquoted``, with that change reported.

And for claims without a quote (the key-terms heuristic): a source sentence, or one with a quarter of its
content words swapped for another source's -> ``supported``; with half swapped, or words of three
sentences far apart -> ``partial``; with a number changed or a negation added -> ``contradicted``; a
sentence of another source -> ``no_match``.

Used by tests/test_misquote.py (assertions) and bench/verify.py (precision and recall).
"""
from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent
REALWORLD = ROOT.parents[1] / "shared" / "realworld"  # shared/ sits beside the repo
WORDS = 14
PER_SOURCE = 6  # sentences per source and kind

_LANG_WORDS = {
    "en": "the and of to is was that with for",
    "fr": "le la les des est et une dans pour",
    "es": "el los las del que y en una por",
    "pt": "o os das dos que e em uma não",
    "de": "der die das und ist nicht mit den ein",
}
NEGATION = {"en": "not", "fr": "pas", "es": "no", "pt": "não", "de": "nicht"}
_NAMES = ["Moreau", "Okonkwo", "Lindqvist", "Barros", "Feldmann", "Quintero", "Haraldsen"]


@dataclass(frozen=True)
class Source:
    name: str
    lang: str
    text: str  # the main text, as the checker sees it


@dataclass(frozen=True)
class Case:
    source: str
    kind: str  # exact | typography | typo | dropped | swapped | elision | absent | number | negation | name | word
    quote: str
    expect: tuple[str, ...]  # acceptable verdicts
    change: tuple[str, str, str] | None = None  # (kind, quote word, source word) for a misquote
    lang: str = "en"


@dataclass(frozen=True)
class ClaimCase:
    source: str
    kind: str  # verbatim | reworded | number | negation | mixed | scattered | other
    claim: str
    expect: str  # supported | partial | contradicted | no_match


@dataclass
class LabelledSet:
    sources: dict[str, Source] = field(default_factory=dict)
    quotes: list[Case] = field(default_factory=list)
    claims: list[ClaimCase] = field(default_factory=list)


def language(text: str) -> str:
    words = re.findall(r"[^\W\d_]+", text.lower()[:20000])
    counts = {lang: sum(1 for w in words if w in set(ws.split())) for lang, ws in _LANG_WORDS.items()}
    return max(counts, key=lambda k: counts[k])


def sources(realworld: bool = True) -> dict[str, Source]:
    """The texts the set is cut from: real pages (when present), the test site, the evidence texts."""
    from archive.checks.texts import extract_text

    out: dict[str, Source] = {}
    pages = sorted(REALWORLD.glob("*.html")) if realworld and REALWORLD.is_dir() else []
    pages += sorted((ROOT / "site" / "articles").glob("*.html"))
    for page in pages:
        got = extract_text(page.read_bytes(), "text/html")
        if got.status == "ok" and len(got.text) > 200:
            out[page.stem] = Source(page.stem, language(got.text), got.text)
    for path in sorted((ROOT / "data" / "evidence" / "texts").glob("*.txt")):
        if path.stem.endswith("-ko"):
            continue  # Korean: no word-level misquote rules
        text = path.read_text(encoding="utf-8")
        out[path.stem] = Source(path.stem, language(text), text)
    return out


def sentences(text: str, words: int = WORDS) -> list[list[str]]:
    """Sentences of at least ``words`` words, as their words (whitespace split: the text's own)."""
    out = []
    for line in text.splitlines():
        for sentence in re.split(r"(?<=[.!?])\s+(?=[A-Z\u00c0-\u00dd\"\u201c])", line):
            split = sentence.split()
            if len(split) >= words and not any(len(w) > 40 for w in split):
                out.append(split)
    return out


def _window(words: list[str], at: int, size: int = 12) -> tuple[int, int]:
    start = max(0, min(at - size // 2, len(words) - size))
    return start, min(len(words), start + size)


def _core(word: str) -> str:
    """A word without the punctuation around it."""
    return word.strip(".,;:!?\"'()[]\u201c\u201d\u2018\u2019\u00ab\u00bb")


def typographic(quote: str, rng: random.Random) -> str:
    """The same words, typeset differently: what normalization makes equal."""
    out = quote.replace("'", "\u2019").replace('"', "\u201c")
    out = out.replace(" - ", " \u2014 ").replace("\u2013", "-")
    words = out.split(" ")
    if len(words) > 4:
        words[2] = words[2] + "\n"
        words[3] = "\u00a0" + words[3]
    out = " ".join(words)
    roll = rng.random()
    if roll < 0.33:
        out = out.upper()
    elif roll < 0.66:
        longest = max(out.split(), key=len)
        if len(longest) > 6 and longest.isalpha():
            out = out.replace(longest, longest[:3] + "\u00ad" + longest[3:], 1)
    return out


def garble(quote: str) -> str:
    """One letter in twelve changed (a typo or OCR error every couple of words): still ``close``."""
    chars = list(quote)
    letters = [i for i, ch in enumerate(chars) if ch.isalpha()]
    for n, i in enumerate(letters):
        if n % 12 == 5:
            chars[i] = "x" if chars[i].lower() != "x" else "y"
    return "".join(chars)


def _plain(word: str) -> bool:
    """A lower-case word that is no number and no negation: leaving it out changes no fact."""
    from archive.checks.meaning import is_negation, number_value, tokens

    found = tokens(word)
    return len(found) == 1 and word[:1].islower() and not is_negation(found[0]) and number_value(found[0]) is None


def _is_number(word: str) -> bool:
    return bool(re.fullmatch(r"\d{1,4}", word))


def _other_number(word: str, rng: random.Random) -> str:
    value = int(word)
    return str(value + rng.choice((2, 3, 7)) if value < 9000 else value - 5)


def _antonyms() -> dict[str, str]:
    from archive.checks.wordlists import ANTONYMS

    out: dict[str, str] = {}
    for pair in ANTONYMS.replace("\n", "").split("|"):
        words = pair.split()
        if len(words) == 2:
            out.setdefault(words[0], words[1])
            out.setdefault(words[1], words[0])
    return out


def _name_at(words: list[str]) -> int | None:
    """A capitalized word that is not the first of its sentence, nor an acronym, nor a common word."""
    from archive.checks.meaning import is_negation, number_value, tokens

    for i in range(2, len(words) - 1):
        core = _core(words[i])
        if words[i - 1][-1:] in ".!?:\"\u201c" or not core.isalpha() or len(core) < 4:
            continue
        if core[0].isupper() and not core.isupper() and core == words[i].rstrip(",.;:") and words[i][0] == core[0]:
            token = tokens(core, "x")[0]
            if not is_negation(token) and number_value(token) is None:
                return i
    return None


def quote_cases(source: Source, rng: random.Random, per_source: int = PER_SOURCE) -> list[Case]:
    """The quote cases cut from one source."""
    from archive.checks.meaning import is_negation, tokens

    def negative(word: str) -> bool:
        found = tokens(word)
        return len(found) == 1 and is_negation(found[0])

    found, close = ("found",), ("found", "close")
    cases: list[Case] = []
    all_sentences = sentences(source.text)
    rng.shuffle(all_sentences)
    counts: dict[str, int] = {}
    antonyms = _antonyms()

    def add(case: Case) -> None:
        if counts.get(case.kind, 0) < per_source:
            counts[case.kind] = counts.get(case.kind, 0) + 1
            cases.append(case)

    for words in all_sentences:
        s, e = _window(words, len(words) // 2)
        quote = " ".join(words[s:e])
        add(Case(source.name, "exact", quote, found, lang=source.lang))
        add(Case(source.name, "typography", typographic(quote, rng), found, lang=source.lang))
        add(Case(source.name, "typo", garble(quote), ("close",), lang=source.lang))
        plain = [i for i in range(s + 1, e - 1) if _plain(words[i])]
        if plain:
            i = plain[len(plain) // 2]
            add(Case(source.name, "dropped", " ".join(words[s:i] + words[i + 1:e]), ("close",), lang=source.lang))
        i = s + (e - s) // 2
        swapped = words[s:i] + [words[i + 1], words[i]] + words[i + 2:e]
        add(Case(source.name, "swapped", " ".join(swapped), ("close",), lang=source.lang))
        if len(words) >= 20:
            cut = " ".join(words[:6]) + rng.choice((" \u2026 ", " [...] ", " ... ")) + " ".join(words[12:18])
            add(Case(source.name, "elision", cut, close, lang=source.lang))
        numbers = [i for i, w in enumerate(words) if _is_number(_core(w)) and _core(w) == w.rstrip(",.;:")]
        if numbers:
            i = numbers[0]
            s, e = _window(words, i)
            new = _other_number(_core(words[i]), rng)
            changed = words[s:i] + [words[i].replace(_core(words[i]), new)] + words[i + 1:e]
            add(Case(source.name, "number", " ".join(changed), ("misquoted",), ("number", new, _core(words[i])),
                     source.lang))
        negations = [i for i, w in enumerate(words) if negative(_core(w))]
        if negations and negations[0] > 2:
            i = negations[0]
            s, e = _window(words, i)
            changed = words[s:i] + words[i + 1:e]
            add(Case(source.name, "negation", " ".join(changed), ("misquoted",), ("negation", "", _core(words[i])),
                     source.lang))
        else:
            i = len(words) // 2
            s, e = _window(words, i)
            neg = NEGATION[source.lang]
            changed = words[s:i] + [neg] + words[i:e]
            add(Case(source.name, "negation", " ".join(changed), ("misquoted",), ("negation", neg, ""), source.lang))
        at = _name_at(words)
        if at is not None:
            s, e = _window(words, at)
            core = _core(words[at])
            new = next(n for n in rng.sample(_NAMES, len(_NAMES)) if n[:2] != core[:2])
            changed = words[s:at] + [words[at].replace(core, new)] + words[at + 1:e]
            add(Case(source.name, "name", " ".join(changed), ("misquoted",), ("name", new, core), source.lang))
        swaps = [i for i, w in enumerate(words) if _core(w).lower() in antonyms and _core(w) == w.rstrip(",.;:")
                 and _core(w).islower() and i > 0]
        if swaps:
            i = swaps[0]
            s, e = _window(words, i)
            core = _core(words[i])
            new = antonyms[core]
            changed = words[s:i] + [new] + words[i + 1:e]
            if not negative(new) and not negative(core):
                add(Case(source.name, "word", " ".join(changed), ("misquoted",), ("word", new, core), source.lang))
    return cases


def claim_cases(source: Source, other: Source, rng: random.Random, per_source: int = PER_SOURCE) -> list[ClaimCase]:
    """Key-terms cases: a sentence (supported), with a number changed or a negation added (contradicted),
    a sentence of another source (no_match)."""
    out: list[ClaimCase] = []
    own = sentences(source.text)
    rng.shuffle(own)
    with_numbers = [w for w in own if any(_is_number(_core(x)) for x in w)][:per_source]
    for words in own[:per_source]:
        out.append(ClaimCase(source.name, "verbatim", " ".join(words), "supported"))
        i = len(words) // 2
        out.append(ClaimCase(source.name, "negation", " ".join(words[:i] + [NEGATION[source.lang]] + words[i:]),
                             "contradicted"))
    for words in with_numbers:
        i = next(k for k, x in enumerate(words) if _is_number(_core(x)))
        changed = words[:i] + [words[i].replace(_core(words[i]), _other_number(_core(words[i]), rng))] + words[i + 1:]
        out.append(ClaimCase(source.name, "number", " ".join(changed), "contradicted"))
    theirs = sentences(other.text)
    rng.shuffle(theirs)
    for words in theirs[:per_source]:
        out.append(ClaimCase(source.name, "other", " ".join(words), "no_match"))
    # Part of a sentence's words swapped for another source's: a quarter still leaves one passage carrying
    # the claim (supported), half does not (partial).
    for share, kind, expect in ((0.25, "reworded", "supported"), (0.5, "mixed", "partial")):
        for words, foreign in zip(own[:per_source], theirs):
            out.append(ClaimCase(source.name, kind, " ".join(_swap_words(words, foreign, share)), expect))
    # Words of three sentences far apart: the page talks about these things, no passage says them.
    if len(own) >= 9:
        for k in range(min(per_source, len(own) // 3)):
            parts = [own[k], own[k + len(own) // 3], own[k + 2 * len(own) // 3]]
            picked = [" ".join(_content(p)[:3]) for p in parts]
            out.append(ClaimCase(source.name, "scattered", " ".join(picked) + ".", "partial"))
    return out


def _content(words: list[str]) -> list[str]:
    from archive.checks.match import key_terms

    return [w for w in words if key_terms(w)]


def _swap_words(words: list[str], foreign: list[str], share: float) -> list[str]:
    """``words`` with every ``1/share``-th content word replaced by a content word of ``foreign``."""
    spare = iter(_content(foreign) * 3)
    out, n = [], 0
    step = round(1 / share)
    for word in words:
        if _content([word]):
            n += 1
            if n % step == 0:
                word = next(spare, word)
        out.append(word)
    return out


def labelled_set(realworld: bool = True, seed: int = 15, per_source: int = PER_SOURCE) -> LabelledSet:
    rng = random.Random(seed)
    found = sources(realworld)
    out = LabelledSet(found)
    names = sorted(found)
    for k, name in enumerate(names):
        out.quotes += quote_cases(found[name], rng, per_source)
        other = found[names[(k + 1) % len(names)]]
        out.quotes += [Case(name, "absent", c.quote, ("not_found",), lang=c.lang)
                       for c in quote_cases(other, random.Random(seed), 2) if c.kind == "exact"]
        out.claims += claim_cases(found[name], other, rng, per_source)
    return out


@dataclass
class Outcome:
    """What the checker said about a labelled set."""

    quotes: list[tuple[Case, str, bool]] = field(default_factory=list)  # case, verdict, right words reported
    claims: list[tuple[ClaimCase, str]] = field(default_factory=list)

    def quote_pairs(self) -> list[tuple[str, str]]:
        """(expected, got) per quote: the expected verdict is the first acceptable one, or the verdict
        itself when it is acceptable (an elision may be found or close); a misquote reported with the
        wrong words counts as wrong."""
        out = []
        for case, verdict, right in self.quotes:
            ok = verdict in case.expect and (right or case.change is None)
            out.append((verdict if ok else case.expect[0], verdict if ok or verdict not in case.expect else "wrong words"))
        return out

    def claim_pairs(self) -> list[tuple[str, str]]:
        return [(case.expect, verdict) for case, verdict in self.claims]

    def share(self, kind: str) -> float:
        """The share of the quotes of one kind given an acceptable verdict (with the right words)."""
        rows = [(c, v, r) for c, v, r in self.quotes if c.kind == kind]
        good = sum(1 for c, v, r in rows if v in c.expect and (r or c.change is None))
        return good / len(rows) if rows else 1.0

    def wrong(self) -> list[tuple[str, str, str, str]]:
        return [(c.source, c.kind, c.quote, v) for c, v, r in self.quotes
                if v not in c.expect or (c.change is not None and not r)]


def evaluate(labelled: LabelledSet) -> Outcome:
    """Run the quote check and the key-terms heuristic over the set."""
    from archive.checks.match import key_terms_support, match_quote
    from archive.checks.normalize import normalize_with_map

    texts = {name: normalize_with_map(source.text) for name, source in labelled.sources.items()}
    out = Outcome()
    for case in labelled.quotes:
        got = match_quote(case.quote, texts[case.source])
        right = case.change is not None and any(
            d.kind == case.change[0] and case.change[1] in d.quote and case.change[2] in d.source
            for d in got.differences)
        out.quotes.append((case, got.verdict, right))
    for claim in labelled.claims:
        out.claims.append((claim, key_terms_support(claim.claim, texts[claim.source]).verdict))
    return out


def precision_recall(pairs: list[tuple[str, str]], positive: set[str]) -> tuple[float, float, int]:
    """Precision, recall and support of ``positive`` over (expected, got) pairs."""
    tp = sum(1 for e, g in pairs if e in positive and g in positive)
    fp = sum(1 for e, g in pairs if e not in positive and g in positive)
    fn = sum(1 for e, g in pairs if e in positive and g not in positive)
    return (tp / (tp + fp) if tp + fp else 1.0), (tp / (tp + fn) if tp + fn else 1.0), tp + fn
