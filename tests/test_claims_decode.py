"""Decoding: HTTP charset, then BOM, then <meta>, then UTF-8, then detection."""
from __future__ import annotations

from pathlib import Path

import pytest

from archive.claims import extract
from archive.claims.decode import decode_text

DATA = Path(__file__).parent / "data" / "claims"


def test_iso_8859_1_page_declared_in_meta_http_equiv() -> None:
    doc = extract((DATA / "latin1.html").read_bytes(), kind="html")
    claims = list(doc.claims)
    assert doc.title == "Grüne Brücke eröffnet"
    assert any("Fußgänger geöffnet" in claim.text for claim in claims)
    assert any("begrüßten" in claim.text for claim in claims)
    assert not any("\ufffd" in claim.text or "Ã" in claim.text for claim in claims)


def test_windows_1251_page_declared_in_meta() -> None:
    doc = extract((DATA / "cp1251.html").read_bytes(), kind="html")
    texts = [claim.text for claim in doc.claims]
    assert doc.title == "Новый мост открыт"
    assert any(text.startswith("Новый мост через реку открыли в понедельник") for text in texts)


def test_http_charset_reads_a_page_without_meta() -> None:
    doc = extract((DATA / "cp1251-nometa.html").read_bytes(), kind="html", charset="windows-1251")
    claims = list(doc.claims)
    assert claims[-1].quote == "долгожданным подарком для всего города"


def test_http_charset_wins_over_meta() -> None:
    body = '<meta charset="windows-1251"><p>Le café était fermé ce matin-là.</p>'.encode("iso-8859-1")
    assert "café était fermé" in decode_text(body, charset="iso-8859-1", html=True)


def test_wrong_http_charset_falls_through_to_the_next_clue() -> None:
    body = "<p>Привет, как дела у всех сегодня?</p>".encode("utf-8")
    assert "Привет" in decode_text(body, charset="no-such-charset", html=True)
    assert "Привет" in decode_text(body, charset="us-ascii", html=True)  # cannot decode these bytes


def test_bom_wins_over_meta() -> None:
    body = b"\xef\xbb\xbf" + '<meta charset="iso-8859-1"><p>Überall Schnee.</p>'.encode("utf-8")
    text = decode_text(body, html=True)
    assert "Überall" in text and not text.startswith("\ufeff")


def test_utf16_with_bom() -> None:
    body = "\ufeffPlain text with a résumé.".encode("utf-16-le")
    assert decode_text(b"\xff\xfe" + body[2:]) == "Plain text with a résumé."


def test_meta_is_only_read_for_html() -> None:
    body = 'charset=windows-1251 <meta charset="windows-1251"> naïve'.encode("utf-8")
    assert decode_text(body).endswith("naïve")


def test_undeclared_latin1_is_detected() -> None:
    text = ("Die Straße wurde für den Verkehr gesperrt, weil die Brücke über den Fluss beschädigt ist. " * 5)
    assert "Straße" in decode_text(text.encode("cp1252"))


@pytest.mark.parametrize("curly", ["“", "”", "’"])
def test_latin1_label_reads_windows_1252_quotes(curly: str) -> None:
    body = f"<p>He said {curly}yes{curly}.</p>".encode("cp1252")
    assert curly in decode_text(body, charset="ISO-8859-1", html=True)
