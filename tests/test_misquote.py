"""Misquotes versus close quotes, and honest support labels, on a labelled set generated at run time.

The set (tests/misquote_cases.py) is cut from the test site and the evidence texts, and from the real pages
of ``../shared/realworld/`` when they are there (their text never enters the repository). Exact and
typographic variants must be ``found``; a changed number, negation, name or antonym ``misquoted`` with
the right words; elisions ``found`` or ``close``; typos ``close``. Precision and recall are printed.
"""
from __future__ import annotations

import json

import pytest

from archive.checks.match import key_terms_support, match_quote
from archive.checks.normalize import normalize_with_map
from archive.checks.shape import verification_json
from tests.misquote_cases import REALWORLD, evaluate, labelled_set, precision_recall

ALTERED = ("number", "negation", "name", "word")


def _report(title: str, outcome: object, capsys: pytest.CaptureFixture[str]) -> None:
    pairs = outcome.quote_pairs()  # type: ignore[attr-defined]
    claims = outcome.claim_pairs()  # type: ignore[attr-defined]
    with capsys.disabled():
        print(f"\n{title}: {len(pairs)} quotes, {len(claims)} claims without a quote")
        for label in ("found", "close", "misquoted", "not_found"):
            p, r, n = precision_recall(pairs, {label})
            print(f"  quote {label:<12} precision {p:.3f}  recall {r:.3f}  (n={n})")
        for label in ("supported", "partial", "contradicted", "no_match"):
            p, r, n = precision_recall(claims, {label})
            print(f"  key terms {label:<12} precision {p:.3f}  recall {r:.3f}  (n={n})")


def test_labelled_set_from_the_test_site(capsys: pytest.CaptureFixture[str]) -> None:
    labelled = labelled_set(realworld=False)
    kinds = {c.kind for c in labelled.quotes}
    assert {"exact", "typography", "typo", "dropped", "swapped", "elision", "absent", *ALTERED} <= kinds, kinds
    outcome = evaluate(labelled)
    _report("test site and evidence texts", outcome, capsys)
    assert not outcome.wrong(), outcome.wrong()
    claims = outcome.claim_pairs()
    for label in ("supported", "partial", "contradicted", "no_match"):
        p, r, _ = precision_recall(claims, {label})
        assert p >= 0.9 and r >= 0.9, (label, p, r)


@pytest.mark.skipif(not REALWORLD.is_dir() or not any(REALWORLD.glob("*.html")),
                    reason="../shared/realworld/ is not available")
def test_labelled_set_from_real_pages(capsys: pytest.CaptureFixture[str]) -> None:
    labelled = labelled_set(realworld=True)
    langs = {s.lang for s in labelled.sources.values()}
    assert {"en", "fr", "es", "pt", "de"} <= langs, langs
    outcome = evaluate(labelled)
    _report("real pages, test site and evidence texts", outcome, capsys)
    assert outcome.share("exact") == 1.0
    assert outcome.share("typography") >= 0.98
    assert outcome.share("elision") >= 0.98
    for kind in ("typo", "dropped", "swapped"):
        assert outcome.share(kind) >= 0.95, (kind, [w for w in outcome.wrong() if w[1] == kind])
    for kind in ALTERED:
        assert outcome.share(kind) >= 0.95, (kind, [w for w in outcome.wrong() if w[1] == kind])
    pairs = outcome.quote_pairs()
    p, r, _ = precision_recall(pairs, {"misquoted"})
    assert p >= 0.95 and r >= 0.95, (p, r, outcome.wrong())
    for label in ("supported", "partial", "contradicted", "no_match"):
        p, r, _ = precision_recall(outcome.claim_pairs(), {label})
        assert p >= 0.85 and r >= 0.85, (label, p, r)


# -- the examples, and what must stay close, in the five languages ------------------------------
SOURCE = normalize_with_map(
    "Speaking to reporters, the minister did not sound very confident about the deal. Volunteers counted "
    "500 strandings along the coast last year, according to Jon Sopel, who covered the story. The beach "
    "remains a major tourist draw for the region, with 1,200 visitors on a busy day.\n\n"
    "Le ministre n'a pas voulu commenter le rapport, publié le 3 mars.\n\n"
    "El alcalde dijo que la obra no costará más de 2,4 millones de euros este año.\n\n"
    "O governo não vai aumentar os impostos em 2026, disse a ministra.\n\n"
    "Die Stadt hat keine neuen Schulden für den Hafen aufgenommen, sagte Bürgermeisterin Weber.")


@pytest.mark.parametrize("quote, kind, said, source", [
    ("the minister did sound very confident about the deal", "negation", "", "not"),
    ("Volunteers counted 300 strandings along the coast last year", "number", "300", "500"),
    ("according to Jon Snow, who covered the story", "name", "Snow", "Sopel"),
    ("The beach remains a minor tourist draw for the region", "word", "minor", "major"),
    ("with 1,500 visitors on a busy day", "number", "1,500", "1,200"),
    ("Le ministre a voulu commenter le rapport, publié le 3 mars", "negation", "", "n'a pas"),
    ("Le ministre n'a pas voulu commenter le rapport, publié le 3 avril", "number", "avril", "mars"),
    ("El alcalde dijo que la obra costará más de 2,4 millones de euros", "negation", "", "no"),
    ("El alcalde dijo que la obra no costará más de 3,4 millones de euros", "number", "3,4", "2,4"),
    ("O governo não vai aumentar os impostos em 2027, disse a ministra", "number", "2027", "2026"),
    ("O governo vai aumentar os impostos em 2026, disse a ministra", "negation", "", "não"),
    ("Die Stadt hat neue Schulden für den Hafen aufgenommen", "negation", "", "keine"),
    ("keine neuen Schulden für den Hafen aufgenommen, sagte Bürgermeisterin Schmidt", "name", "Schmidt", "Weber"),
])
def test_misquotes_name_the_words(quote: str, kind: str, said: str, source: str) -> None:
    got = match_quote(quote, SOURCE)
    assert got.verdict == "misquoted", got
    assert any(d.kind == kind and said in d.quote and source in d.source for d in got.differences), got


@pytest.mark.parametrize("quote, verdict", [
    ("the minister did not sound very confident about the deal", "found"),
    ("THE MINISTER DID NOT SOUND VERY CONFIDENT", "found"),
    ("Le ministre n\u2019a pas voulu commenter le rapport", "found"),  # apostrophe
    ("with 1,200 visitors\non a busy day", "found"),  # line break
    ("the minister did not sound … confident about the deal", "found"),  # elision
    ("the minister did not sound [...] confident about the deal", "found"),
    ("with 1.200 visitors on a busy day", "close"),  # another number format, the same number
    ("El alcalde dijo que la obra no costara mas de 2,4 millones de euros", "close"),  # diacritics
    ("the minister did not sound very confidant about the deal", "close"),  # a typo
    ("Volunteers counted five hundred strandings along the coast", "close"),  # the same number in words
])
def test_what_does_not_change_meaning_is_not_a_misquote(quote: str, verdict: str) -> None:
    assert match_quote(quote, SOURCE).verdict == verdict


def test_contradicted_and_no_match_are_heuristic_labels() -> None:
    got = key_terms_support("Volunteers counted 300 strandings along the coast last year.", SOURCE)
    assert got.verdict == "contradicted" and got.differences[0].kind == "number", got
    got = key_terms_support("The minister sounded very confident about the deal.", SOURCE)
    assert got.verdict == "contradicted" and got.differences[0].source == "not", got
    got = key_terms_support("The minister did not sound confident about the deal.", SOURCE)
    assert got.verdict == "supported", got
    got = key_terms_support("The harbor ferry was cancelled because of the storm.", SOURCE)
    assert got.verdict == "no_match"
    row = {"method": "key_terms", "verdict": "unsupported", "score": 0.2, "span_start": None, "span_end": None,
           "exact": None, "prefix": None, "suffix": None, "fragment_url": None, "anchor_state": None,
           "baseline_capture_id": None, "diff": None,
           "detail": json.dumps({"terms_found": ["harbor"], "terms_missing": ["ferry"]})}
    shown = verification_json(row)  # a row stored by check version 1
    assert shown["verdict"] == "no_match" and shown["label"] == "no matching passage (heuristic)"
    assert shown["heuristic"] and shown["differences"] is None


@pytest.mark.parametrize("quote, source", [
    ("the fund holds one million euros", "the fund holds 1 million euros"),
    ("they counted five hundred birds on the shore", "they counted 500 birds on the shore"),
    ("die Stadt zahlt 3,5 Millionen Euro für den Hafen", "die Stadt zahlt 3.5 Millionen Euro für den Hafen"),
    ("a twenty-year investment, not an emergency measure", "a 20-year investment - not an emergency measure"),
    ("the mayor can not accept the offer today", "the mayor cannot accept the offer today"),
    ("during the storm of 7 October 2021, the highest reading", "during the storm of Oct. 7, 2021, the highest reading"),
    ("gauges recorded water levels 40 above the 1990 average", "gauges recorded water levels 40 centimetres above the 1990 average"),
])
def test_the_same_number_or_negation_written_otherwise_is_no_misquote(quote: str, source: str) -> None:
    got = match_quote(quote, normalize_with_map(f"Intro sentence here. {source[0].upper()}{source[1:]}. Outro."))
    assert got.verdict != "misquoted", got  # close, or not_found when too many characters differ


def test_the_fast_scan_finds_what_the_normalization_pattern_finds() -> None:
    """archive.checks.normalize.special_runs is _SPECIAL.finditer, faster: same spans on texts full of the
    characters that matter (combining marks, jamo, invisible characters, every kind of space)."""
    import random

    from archive.checks.normalize import _SPECIAL, special_runs

    rng = random.Random(15)
    alphabet = "ab e\u0301\u00ad\u200b \n\t\u00a0\u2014\u201c\u201d\ufb01x.\u3000\uac00\uac01\u1161\u11a8Z9 \uff9e"
    texts = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40))) for _ in range(3000)]
    # control characters that are not whitespace (no run starts there), spaces before other whitespace, ASCII
    ascii_alphabet = "ab  .\n\t\r\x00\x01\x7f\x1c\x0b"
    texts += ["".join(rng.choice(ascii_alphabet + extra) for _ in range(rng.randint(0, 20)))
              for extra in ("", "\u00e9\u0301\x85\u200b") for _ in range(3000)]
    texts += [s.text for s in labelled_set(realworld=False).sources.values()]
    for text in texts:
        assert list(special_runs(text, 0, len(text))) == [m.span() for m in _SPECIAL.finditer(text)], repr(text)
