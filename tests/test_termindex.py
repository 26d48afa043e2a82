"""archive.checks.termindex answers as the token set and the sentence scan it replaced.

The reference implementations below are the ones the key-terms check used before (a set of every token of
the page and of its 5-letter stems; ``re.split`` of the page into sentences, each normalized): the index
must say the same for every word of the test texts and pages, and for the edge cases it had to get right
by hand (numbers with a decimal comma, a token starting with "²", blank lines, Korean and CJK text).
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from archive.checks.normalize import normalize, normalize_with_map
from archive.checks.termindex import TERM, TermIndex, script, stem

DATA = Path(__file__).parent / "data" / "evidence" / "texts"
SENTENCE_END = re.compile(r"(?<=[.!?\u3002\uff01\uff1f])\s+|\n+")
EDGES = [
    "Rates rose 1,5 % to 3.25 and 12.5.3, then 1..2, x.5 and 2024. The harbour's 7,000 jobs.",
    "²abc ² x²y 10² 3²",
    "  \n\n  Leading blank lines.\n   \n\nAnd  a  line of  spaces.\n\n\n",
    "시의회는 방파제 예산을 승인했다. 東京都は予算を承認した。次の議題！ Ça marche?   Oui.\u3002Fin",
    "Straße STRASSE stra\u00dfe \ufb01ne fine Caf\u00e9 cafe\u0301 \u201cquoted\u201d \u2014 dash",
    "approve approved approval appro appr approves-approving un-approved",
    "nul\x00byte. tab\tsep.\fform feed",
]


class Reference:
    """The former TermIndex and _best_passage."""

    def __init__(self, normalized: str) -> None:
        self.text = normalized
        self.tokens = {t.replace(",", ".") if t[0].isdigit() else t for t in TERM.findall(normalized)}
        self.stems = {stem(t) for t in self.tokens}

    def has(self, term: str) -> bool:
        if script(term) != "other":
            return term in self.text
        return term in self.tokens or stem(term) in self.stems


def reference_passage(terms: tuple[str, ...], original: str) -> tuple[int, int, frozenset[str]] | None:
    stems = [stem(t) for t in terms]
    pieces: list[tuple[int, int, str]] = []
    best, best_count = -1, 0
    pos = 0
    for piece in SENTENCE_END.split(original):
        start = original.find(piece, pos) if piece else pos
        pos = start + len(piece)
        if not piece.strip():
            continue
        folded = normalize(piece)
        count = sum(1 for s in stems if s in folded)
        lead = len(piece) - len(piece.lstrip())
        pieces.append((start + lead, start + len(piece.rstrip()), folded))
        if count > best_count:
            best, best_count = len(pieces) - 1, count
    if best < 0:
        return None
    near = " ".join(p[2] for p in pieces[max(0, best - 1):best + 2])
    return pieces[best][0], pieces[best][1], frozenset(t for t, s in zip(terms, stems) if s in near)


def _texts() -> list[str]:
    from archive.checks.texts import extract_text

    site = Path(__file__).parent / "site"
    pages = [extract_text(p.read_bytes(), "text/html").text for p in sorted(site.rglob("*.html"))]
    return EDGES + [p.read_text(encoding="utf-8") for p in sorted(DATA.glob("*.txt"))] + [t for t in pages if t]


TEXTS = _texts()


def _probes(norm: str) -> list[str]:
    """Every token of the text, its stem, and variants that miss or match only by stem."""
    words = {t.replace(",", ".") if t[0].isdigit() else t for t in TERM.findall(norm)}
    out = set(words)
    for w in words:
        out.update({stem(w), w[:-1], w + "s", w + "ation", w[1:], w[:4]} - {""})
    return sorted(w for w in out if TERM.fullmatch(w))  # terms are tokens of a claim


@pytest.mark.parametrize("original", TEXTS, ids=[f"text{i}" for i in range(len(TEXTS))])
def test_index_and_passage_agree_with_the_reference(original: str) -> None:
    norm = normalize_with_map(original).text
    index, reference = TermIndex(norm), Reference(norm)
    probes = _probes(norm) + ["1.5", "7.000", "3.25", "12.5", "12.5.3", "2", "²", "²abc", "x²y", "zzz", "est", "京都"]
    disagree = [p for p in probes if index.has(p) != reference.has(p)]
    assert disagree == []
    words = [p for p in probes if reference.has(p)]
    for i in range(0, max(1, len(words)), 7):  # terms as a claim would give them, some absent
        terms = tuple(words[i:i + 9]) + ("absentword", "approval")
        assert index.best_passage(terms, original) == reference_passage(terms, original), terms


def test_a_term_inside_a_longer_word_is_not_a_token() -> None:
    index = TermIndex(normalize("The arbitrary harbour tax; taxi drivers; 3.5 and 13,5"))
    # "harbor" and "harbours" share the stem "harbo" of "harbour"; "3" and "5" are parts of numbers
    assert [index.has(t) for t in ("arbor", "tax", "axi", "harbor", "harbours", "3.5", "13.5", "3", "5")] == \
        [False, True, False, True, True, True, True, False, False]
