"""Markdown (inline, reference and footnote links) and plain text (bare URLs)."""
from __future__ import annotations

from pathlib import Path

import pytest

from archive.claims import ExtractedClaim, SourceRef, extract

DATA = Path(__file__).parent / "data" / "claims"
DOC_URL = "https://gazette.example.org/2024/10/valley-floods"


def by_words(claims: list[ExtractedClaim], words: str) -> ExtractedClaim:
    matches = [claim for claim in claims if words in claim.text]
    assert len(matches) == 1, [claim.text for claim in claims]
    return matches[0]


@pytest.fixture(scope="module")
def markdown() -> tuple[str | None, list[ExtractedClaim]]:
    doc = extract((DATA / "article.md").read_bytes(), kind="markdown", url=DOC_URL)
    return doc.title, list(doc.claims)


def test_markdown_title_is_the_first_h1(markdown: tuple[str | None, list[ExtractedClaim]]) -> None:
    assert markdown[0] == "Valley floods: rivers rise across the region"


def test_markdown_inline_link(markdown: tuple[str | None, list[ExtractedClaim]]) -> None:
    claim = by_words(markdown[1], "Geological Survey")
    assert claim.text == (
        "The U.S. Geological Survey said on Oct. 7 that river levels rose 3.5 percent, according to its daily report."
    )
    assert claim.sources == (SourceRef("https://usgs.example.gov/reports/valley", "its daily report"),)


def test_markdown_footnote_with_a_link(markdown: tuple[str | None, list[ExtractedClaim]]) -> None:
    claim = by_words(markdown[1], "Dr. Alvarez")
    assert claim.text == "Dr. Alvarez disagreed with the forecast."
    assert claim.sources == (
        SourceRef("https://journal.example.edu/alvarez2023", "Alvarez, M. (2023). Forecasting valley floods."),
    )


def test_markdown_footnote_with_a_bare_url(markdown: tuple[str | None, list[ExtractedClaim]]) -> None:
    claim = by_words(markdown[1], "The mayor said")
    assert claim.text == 'The mayor said "Stop. Now." and left the briefing.'
    assert claim.quote == "Stop. Now."
    assert claim.sources == (
        SourceRef("https://city.example.gov/briefings/7", "Briefing transcript, https://city.example.gov/briefings/7, page 2."),
    )


def test_markdown_reference_links_and_relative_links(markdown: tuple[str | None, list[ExtractedClaim]]) -> None:
    assert by_words(markdown[1], "Tolkien").sources == (SourceRef("https://letters.example.org/tolkien/1954", "his letters"),)
    assert by_words(markdown[1], "The council published").sources == (
        SourceRef("https://gazette.example.org/2024/10/data/levels.csv", "the measurements"),
        SourceRef("https://usgs.example.gov/reports/valley", "a second table"),
    )


def test_markdown_list_items_bare_urls_and_non_sources(markdown: tuple[str | None, list[ExtractedClaim]]) -> None:
    monday = by_words(markdown[1], "Monday:")
    assert monday.text == "Monday: the first levees were breached near the old mill, see https://levees.example.net/report?id=7."
    assert monday.sources == (SourceRef("https://levees.example.net/report?id=7"),)
    assert by_words(markdown[1], "Tuesday:").sources == ()  # mailto: and #fragment links


def test_markdown_code_footnote_definitions_and_short_headings_give_no_claims(markdown: tuple[str | None, list[ExtractedClaim]]) -> None:
    texts = [claim.text for claim in markdown[1]]
    assert not any("code.example.com" in text or "Briefing transcript" in text or "Alvarez, M." in text for text in texts)
    assert "Timeline" not in texts
    assert "Valley floods: rivers rise across the region" not in texts
    assert len(texts) == 7  # the "# …" title is a heading, not a claim


def test_markdown_link_to_itself_and_front_matter_title() -> None:
    data = f"---\ntitle: From front matter\n---\nSee [this page]({DOC_URL}#top) and [that one](https://other.example.org/).\n"
    doc = extract(data.encode(), kind="markdown", url=DOC_URL)
    assert doc.title == "From front matter"
    assert [claim.sources for claim in doc.claims] == [(SourceRef("https://other.example.org/", "that one"),)]


def test_markdown_autolink_is_one_source() -> None:
    doc = extract(b"Read it at <https://example.org/a> today, said the author.", kind="markdown")
    assert [claim.sources for claim in doc.claims] == [(SourceRef("https://example.org/a", "https://example.org/a"),)]


@pytest.fixture(scope="module")
def text() -> tuple[str | None, list[ExtractedClaim]]:
    doc = extract((DATA / "article.txt").read_bytes(), kind="text", url=DOC_URL)
    return doc.title, list(doc.claims)


def test_text_title_is_a_short_first_line(text: tuple[str | None, list[ExtractedClaim]]) -> None:
    assert text[0] == "Valley floods: rivers rise across the region"
    assert extract(b"Rain fell all day long in the valley.\nMore.", kind="text").title is None


def test_text_paragraphs_join_wrapped_lines(text: tuple[str | None, list[ExtractedClaim]]) -> None:
    claim = by_words(text[1], "Geological Survey")
    assert claim.text == (
        "The U.S. Geological Survey said on Oct. 7 that river levels rose 3.5 percent in a single day "
        "(https://usgs.example.gov/reports/valley#summary)."
    )
    assert claim.sources == (SourceRef("https://usgs.example.gov/reports/valley"),)
    assert by_words(text[1], "Dr. Alvarez").sources == ()


def test_text_bullets_are_their_own_units(text: tuple[str | None, list[ExtractedClaim]]) -> None:
    monday = by_words(text[1], "Monday:")
    assert monday.text == "Monday: the first levees were breached, see https://levees.example.net/report?id=7."
    assert monday.sources == (SourceRef("https://levees.example.net/report?id=7"),)
    assert by_words(text[1], "Tuesday:").text == "Tuesday: shelters opened in three schools."
    assert by_words(text[1], "The mayor said").quote == "Stop. Now."
