"""HTML: main text only, links and footnotes as sources, relative links resolved, boilerplate ignored."""
from __future__ import annotations

from pathlib import Path

import pytest

from archive.claims import ExtractedClaim, SourceRef, extract

DATA = Path(__file__).parent / "data" / "claims"
PAGE_URL = "https://gazette.example.org/2024/10/valley-floods?ref=homepage"


@pytest.fixture(scope="module")
def article() -> tuple[str | None, list[ExtractedClaim]]:
    doc = extract((DATA / "article.html").read_bytes(), kind="html", url=PAGE_URL)
    assert doc.kind == "html" and doc.url == PAGE_URL
    return doc.title, list(doc.claims)


def claim_containing(claims: list[ExtractedClaim], words: str) -> ExtractedClaim:
    matches = [claim for claim in claims if words in claim.text]
    assert len(matches) == 1, [claim.text for claim in claims]
    return matches[0]


def all_urls(claims: list[ExtractedClaim]) -> set[str]:
    return {source.url for claim in claims for source in claim.sources}


def test_title_from_metadata(article: tuple[str | None, list[ExtractedClaim]]) -> None:
    title, _ = article
    assert title == "Valley floods: rivers rise across the region"


def test_boilerplate_links_are_not_sources(article: tuple[str | None, list[ExtractedClaim]]) -> None:
    _, claims = article
    urls = all_urls(claims)
    for host in ("nav.example.com", "footer.example.com", "sidebar.example.com", "related.example.com", "comment-spam.example.com"):
        assert not any(host in url for url in urls), (host, urls)
    texts = " ".join(claim.text for claim in claims)
    for boilerplate in ("Privacy policy", "Most read", "Related stories", "flood insurance premiums", "agree with every single word"):
        assert boilerplate not in texts


def test_link_inside_the_sentence_is_its_source(article: tuple[str | None, list[ExtractedClaim]]) -> None:
    _, claims = article
    claim = claim_containing(claims, "The U.S. Geological Survey said on Oct. 7")
    assert claim.text.endswith("rose 3.5 percent in a single day, according to its daily report.")
    assert claim.sources == (SourceRef("https://usgs.example.gov/reports/valley", "its daily report"),)


def test_footnote_marker_resolves_through_the_notes_list(article: tuple[str | None, list[ExtractedClaim]]) -> None:
    _, claims = article
    claim = claim_containing(claims, "Dr. Alvarez")
    assert claim.text == "Dr. Alvarez, a hydrologist, disagreed with the forecast."  # marker "1" removed
    assert claim.sources == (
        SourceRef(
            "https://journal.example.edu/alvarez2023",
            "Alvarez, M. (2023). Forecasting valley floods. Journal of Hydrology Examples.",
        ),
    )


def test_wikipedia_style_cite_note(article: tuple[str | None, list[ExtractedClaim]]) -> None:
    _, claims = article
    claim = claim_containing(claims, "J. R. R. Tolkien")
    assert claim.text == "Local historians compared the flood to the one described by J. R. R. Tolkien in his letters."
    assert claim.sources == (SourceRef("https://letters.example.org/tolkien/1954", "Letters, 1954, p. 212."),)


def test_notes_list_gives_no_claims(article: tuple[str | None, list[ExtractedClaim]]) -> None:
    _, claims = article
    assert not any("Journal of Hydrology Examples" in claim.text or "p. 212" in claim.text for claim in claims)


def test_relative_links_resolve_against_base_href_and_fragments_merge(article: tuple[str | None, list[ExtractedClaim]]) -> None:
    _, claims = article
    claim = claim_containing(claims, "The council published")
    assert claim.sources == (
        SourceRef("https://gazette.example.org/2024/10/data/levels.csv", "the measurements"),
        SourceRef("https://usgs.example.gov/reports/valley", "a second table"),
    )


def test_non_http_and_in_page_links_are_not_sources(article: tuple[str | None, list[ExtractedClaim]]) -> None:
    _, claims = article
    claim = claim_containing(claims, "Residents were told to call the hotline")
    assert claim.sources == ()


def test_link_to_the_document_itself_is_not_a_source(article: tuple[str | None, list[ExtractedClaim]]) -> None:
    _, claims = article
    assert claim_containing(claims, "our earlier coverage").sources == ()


def test_bare_url_without_trailing_punctuation(article: tuple[str | None, list[ExtractedClaim]]) -> None:
    _, claims = article
    claim = claim_containing(claims, "A later statement")
    assert claim.sources == (SourceRef("https://city.example.gov/statements/42"),)


def test_quotes_and_list_items(article: tuple[str | None, list[ExtractedClaim]]) -> None:
    _, claims = article
    assert claim_containing(claims, "The mayor said").text == 'The mayor said "Stop. Now." and left the briefing.'
    assert claim_containing(claims, "Officials warned").quote == "the water will keep rising for several more days"
    monday = claim_containing(claims, "Monday:")
    assert monday.text == "Monday: the first levees were breached near the old mill, engineers reported."
    assert monday.sources == (SourceRef("https://levees.example.net/report?id=7", "engineers reported"),)
    assert "Timeline" not in [claim.text for claim in claims]  # a one-word heading is not a claim


def test_claims_is_an_iterator() -> None:
    doc = extract(b"<p>One sentence here. Another sentence there.</p>", kind="html")
    assert iter(doc.claims) is doc.claims
    assert [claim.text for claim in doc.claims] == ["One sentence here.", "Another sentence there."]


def test_fallback_reads_article_when_extractor_finds_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    import archive.claims.html as html_reader

    monkeypatch.setattr(html_reader, "_trafilatura", lambda root, notes: (None, []))
    doc = extract((DATA / "article.html").read_bytes(), kind="html", url=PAGE_URL)
    claims = list(doc.claims)
    assert doc.title == "Valley floods: rivers rise across the region"
    assert claim_containing(claims, "Dr. Alvarez").sources[0].url == "https://journal.example.edu/alvarez2023"
    urls = all_urls(claims)
    assert "https://usgs.example.gov/reports/valley" in urls
    assert not any(host in url for url in urls for host in ("nav.", "footer.", "sidebar.", "related.", "comment-spam."))


def test_tiny_page_without_article_markup() -> None:
    page = b"<html><body><div>Rain fell on Tuesday, <a href='https://met.example.org/r'>forecasters said</a>.</div></body></html>"
    claims = list(extract(page, kind="html").claims)
    assert [(c.text, c.sources) for c in claims] == [
        ("Rain fell on Tuesday, forecasters said.", (SourceRef("https://met.example.org/r", "forecasters said"),))
    ]


def test_relative_links_are_dropped_without_a_document_url() -> None:
    page = b"<article><p>The report was <a href='/reports/1'>published</a> on <a href='https://e.org/x'>Monday</a>.</p></article>"
    claims = list(extract(page, kind="html").claims)
    assert claims[0].sources == (SourceRef("https://e.org/x", "Monday"),)


def test_same_url_twice_in_one_sentence_is_one_source() -> None:
    page = (
        b"<article><p>Prices rose, <a href='https://stats.example.org/cpi#t1'>the index</a> and "
        b"<a href='https://stats.example.org/cpi#t2'>its appendix</a> show.</p></article>"
    )
    claims = list(extract(page, kind="html", url="https://news.example.org/a").claims)
    assert claims[0].sources == (SourceRef("https://stats.example.org/cpi", "the index"),)


def test_xml_declaration_and_deep_nesting_are_fine() -> None:
    page = b'<?xml version="1.0" encoding="utf-8"?>' + b"<div>" * 250 + b"<p>Deep text sits here at last.</p>" + b"</div>" * 250
    assert [c.text for c in extract(page, kind="html").claims] == ["Deep text sits here at last."]


def test_sources_keep_document_order_across_links_and_bare_urls() -> None:
    page = (
        b"<article><p>Data at https://a.example.org/x, <a href='https://b.example.org/'>a summary</a> and "
        b"<a href='https://a.example.org/x#again'>the data again</a> agree.</p></article>"
    )
    claims = list(extract(page, kind="html").claims)
    assert claims[0].sources == (SourceRef("https://a.example.org/x"), SourceRef("https://b.example.org/", "a summary"))


def test_long_footnote_anchor_is_trimmed_and_note_without_links_cites_nothing() -> None:
    long_note = "A very long bibliographic note. " * 20
    page = (
        "<article><p>The first claim cites a long note.<sup><a href='#n1'>1</a></sup> "
        "The second claim cites a note with no link.<sup><a href='#n2'>2</a></sup></p>"
        f"<ol><li id='n1'>{long_note}<a href='https://library.example.org/item/9'>catalogue</a></li>"
        "<li id='n2'>Personal communication, 2023.</li></ol></article>"
    ).encode()
    first, second = list(extract(page, kind="html").claims)
    assert first.text == "The first claim cites a long note."
    (source,) = first.sources
    assert source.url == "https://library.example.org/item/9"
    assert source.anchor is not None and source.anchor.startswith("A very long") and len(source.anchor) <= 200
    assert second.text == "The second claim cites a note with no link." and second.sources == ()
