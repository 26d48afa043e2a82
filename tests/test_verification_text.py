"""The text of a capture: main text of news-like pages, charsets, PDF, plain text, and what is unreadable.

Pages under tests/data/evidence/site/ were written for these tests, in the shape of news pages (cookie
banner, masthead, navigation, share tools, inline "read more" box, comments, most-read sidebar, footer).
"""
from __future__ import annotations

import codecs
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archive.checks.normalize import normalize, normalize_with_map
from archive.checks.texts import extract_text, kind_of, pdf_text
from tests.server import make_text_pdf

DATA = Path(__file__).parent / "data" / "evidence"
SITE = DATA / "site"


ANNEX_LINES = [
    "Technical annex: foundations of the new barrier",
    "The piles must reach the bedrock at eleven metres below mean sea level.",
    "Steel sheet piling is driven before the concrete is poured.",
]


# -- HTML main text ------------------------------------------------------------------------------------
def test_news_page_main_text_keeps_the_story_and_drops_the_boilerplate() -> None:
    got = extract_text((SITE / "news" / "harbor-wall.html").read_bytes(), "text/html; charset=utf-8")
    assert got.status == "ok" and got.kind == "html" and got.charset == "utf-8"
    assert "never designed for the surges we now see every winter" in got.text
    assert "3.2 and 3.8 million euros" in got.text
    for boilerplate in ("We use cookies", "Independent news for the bay", "Ferry timetable changes",
                        "under water by 2030", "Most read", "All rights reserved", "Sign up free", "Log in"):
        assert boilerplate not in got.text, boilerplate
    assert "\n\n" in got.text  # paragraphs stay apart


def test_main_text_is_the_same_extraction_as_claims() -> None:
    """Quote checks read a page exactly as claim extraction does: every claim sentence is in the main text."""
    from archive.claims import extract

    data = (SITE / "news" / "harbor-wall.html").read_bytes()
    text = normalize(extract_text(data, "text/html").text)
    sentences = [c.text for c in extract(data, kind="html").claims]
    assert len(sentences) >= 8
    for sentence in sentences:
        assert normalize(sentence) in text, sentence


@pytest.mark.parametrize("name, charset, phrase", [
    ("mercado.html", "windows-1252", "«Es una inversión que los vecinos llevaban años esperando»"),
    ("bangpaje.html", "euc-kr", "“주민의 안전이 무엇보다 우선입니다”"),
])
def test_charset_from_meta_only(name: str, charset: str, phrase: str) -> None:
    got = extract_text((SITE / "meta-charset" / name).read_bytes(), "text/html")
    assert got.status == "ok" and got.charset == charset
    assert phrase in got.text
    assert "\ufffd" not in got.text
    assert "Noticias relacionadas" not in got.text and "많이 본 뉴스" not in got.text


def test_declared_charset_that_cannot_decode_the_bytes_is_not_trusted() -> None:
    """Headers are often stale; the bytes are what the page is (windows-1252 served as UTF-8)."""
    got = extract_text((SITE / "meta-charset" / "mercado.html").read_bytes(), "text/html; charset=utf-8")
    assert got.status == "ok" and got.charset == "windows-1252"
    assert "Ferrándiz" in got.text


def test_charset_from_header_and_from_bom() -> None:
    page = "<html><body><article><p>Señor Núñez dijo «basta».</p></article></body></html>"
    assert "Señor Núñez" in extract_text(page.encode("iso-8859-1"), "text/html; charset=ISO-8859-1").text
    got = extract_text(codecs.BOM_UTF16_LE + page.encode("utf-16-le"), "text/html")
    assert got.status == "ok" and "«basta»" in got.text and got.charset == "utf-16-le"


def test_charset_detected_when_nothing_declares_it() -> None:
    text = "Общинският съвет одобри бюджет от 3,5 милиона евро за новата стена на пристанището. " * 4
    got = extract_text(text.encode("windows-1251"), "text/plain")
    assert got.status == "ok" and "одобри бюджет" in got.text


# -- PDF and plain text ----------------------------------------------------------------------------------
@pytest.mark.parametrize("compress", [False, True])
def test_pdf_text(compress: bool) -> None:
    got = extract_text(make_text_pdf(ANNEX_LINES, compress=compress), "application/pdf")
    assert got.status == "ok" and got.kind == "pdf"
    assert "must reach the bedrock at eleven metres" in got.text


def test_pdf_recognised_by_its_bytes_whatever_the_content_type() -> None:
    assert kind_of(make_text_pdf(ANNEX_LINES), "application/octet-stream") == "pdf"
    assert extract_text(make_text_pdf(ANNEX_LINES), None).kind == "pdf"


def test_pdf_end_of_line_hyphenation_is_undone() -> None:
    text = pdf_text(make_text_pdf(["The piles must reach the bed-", "rock at eleven metres."]))
    assert "bedrock at eleven" in text


def test_plain_text_keeps_lines_and_collapses_spaces() -> None:
    got = extract_text((SITE / "notes" / "council-notes.txt").read_bytes(), "text/plain; charset=utf-8")
    assert got.status == "ok" and got.kind == "text"
    assert "a two\u2011thirds majority \u2014 not a simple majority \u2014 is required" in got.text


# -- unreadable ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("data, content_type, reason", [
    (b"\x89PNG\r\n\x1a\n" + bytes(range(256)), "image/png", "no text in image/png"),
    (b"", "text/html", "empty payload"),
    (b"%PDF-1.4\n1 0 obj\n<< broken", "application/pdf", "cannot read pdf"),
    (make_text_pdf([]), "application/pdf", "no text layer"),
    (bytes(range(256)) * 8, "application/octet-stream", "not text"),
])
def test_unreadable_payloads_say_why(data: bytes, content_type: str, reason: str) -> None:
    got = extract_text(data, content_type)
    assert got.status == "unreadable" and got.text == ""
    assert got.error and reason in got.error, got.error


# -- normalization ---------------------------------------------------------------------------------------
def test_normalize_folds_what_a_quote_may_change() -> None:
    assert normalize("\u201cWe\u2019re  BACK\u201d \u2014 twenty\u2011year, \uff30\uff2c\uff21\uff2e, e\u0301t\u00e9, "
                     "co\u00adoperate\u200b") == '"we\'re back" - twenty-year, plan, été, cooperate'


_TEXTS = st.lists(st.sampled_from(list("ab Z.,\n\t") + list("éﬁß“”’—‑\u00ad\u200b\u00a0한국日ｶﾞ") + ["e\u0301"]),
                  max_size=40).map("".join)


@settings(max_examples=300, deadline=None)
@given(_TEXTS, st.data())
def test_normalized_spans_map_back_inside_the_original(text: str, data: st.DataObject) -> None:
    n = normalize_with_map(text)
    assert n.text == normalize(text)
    if not n.text:
        return
    start = data.draw(st.integers(0, len(n.text) - 1))
    end = data.draw(st.integers(start + 1, len(n.text)))
    a, b = n.original_span(start, end)
    assert 0 <= a < b <= len(text)
    # whole words (no expansion like "ﬁ" -> "fi" cut in half) come back exactly
    if (start == 0 or n.text[start - 1] == " ") and (end == len(n.text) or n.text[end] == " "):
        assert normalize(text[a:b]) == n.text[start:end].strip()


def test_decode_with_encoding_reports_the_encoding_used() -> None:
    from archive.claims.decode import decode_with_encoding

    page = '<meta charset="euc-kr"><p>항구일보</p>'.encode("euc-kr")
    assert decode_with_encoding(page, html=True) == ('<meta charset="euc-kr"><p>항구일보</p>', "euc-kr")
