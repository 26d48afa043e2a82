"""Sentence splitting keeps abbreviations, initials, decimals and quotations inside one sentence."""
from __future__ import annotations

import pytest

from archive.claims import extract
from archive.claims.quotes import longest_quote
from archive.claims.sentences import split_sentences


def sentences(text: str) -> list[str]:
    return [text[start:end] for start, end in split_sentences(text)]


@pytest.mark.parametrize(
    "first",
    [
        "The U.S. economy grew faster than expected last year.",
        "Dr. Smith said the results were promising.",
        "The vote was held on Oct. 7 in the capital.",
        "J. R. R. Tolkien wrote the novel over many years.",
        "Unemployment fell to 3.5 percent in March.",
        'He said "Stop. Now." and left the room.',
        "She asked “Are you sure? Really?” before signing.",
        "Mr. and Mrs. Jones met Prof. Brown at 10 a.m. on Monday.",
    ],
)
def test_one_sentence_stays_whole(first: str) -> None:
    text = f"{first} A second sentence follows here."
    assert sentences(text) == [first, "A second sentence follows here."]


def test_spans_point_into_the_original_text() -> None:
    text = "  First one here.   Second  one\tthere!  "
    spans = split_sentences(text)
    assert [text[a:b] for a, b in spans] == ["First one here.", "Second  one\tthere!"]


def test_urls_in_text_are_not_split_at_their_punctuation() -> None:
    text = "See https://example.org/report?id=7.html for details. Then stop."
    assert sentences(text) == ["See https://example.org/report?id=7.html for details.", "Then stop."]


def test_line_break_ends_a_sentence() -> None:
    assert sentences("First line without a stop\nSecond line") == ["First line without a stop", "Second line"]


def test_no_text_is_lost_when_pysbd_cannot_be_mapped(monkeypatch: pytest.MonkeyPatch) -> None:
    import archive.claims.sentences as module

    monkeypatch.setattr(module, "_pysbd_starts", lambda text: None)
    text = "Dr. Smith arrived. The U.S. team left on Oct. 7. J. Doe stayed."
    assert sentences(text) == ["Dr. Smith arrived.", "The U.S. team left on Oct. 7.", "J. Doe stayed."]


def test_claim_text_is_whitespace_normalised_and_short_fragments_dropped() -> None:
    doc = extract(b"Weather\n\nRain   fell\n  all day.  It  was cold.\n\nOK.\n", kind="text")
    assert [claim.text for claim in doc.claims] == ["Rain fell all day.", "It was cold."]


def test_short_fragment_with_a_source_is_kept() -> None:
    doc = extract(b"# Notes\n\n- [Report](https://example.org/report)\n", kind="markdown")
    assert [(claim.text, claim.sources[0].url) for claim in doc.claims] == [("Report", "https://example.org/report")]


@pytest.mark.parametrize(
    "text, quote",
    [
        ('He said "Stop. Now." and left.', "Stop. Now."),
        ("Officials said “the water will keep rising” today.", "the water will keep rising"),
        ("Il a dit « nous partirons demain » hier.", "nous partirons demain"),
        ("Sie sagte „wir kommen morgen wieder“ und ging.", "wir kommen morgen wieder"),
        ("彼は「明日 また 来ます」と言った。", "明日 また 来ます"),
        ("The union said 'we will strike on Monday' in a statement.", "we will strike on Monday"),
        ('"If you look at the numbers, it is less than 100," Mr Obama said.', "If you look at the numbers, it is less than 100"),
        ("It said “short” and “a much longer quoted phrase here” too.", "a much longer quoted phrase here"),
        ("It was “historic”, she said.", None),
        ("The players' union and the owners' group met on Tuesday.", None),
        ("Don't say it's over, it isn't.", None),
        ("No quotation marks at all.", None),
    ],
)
def test_longest_quote(text: str, quote: str | None) -> None:
    assert longest_quote(text) == quote
