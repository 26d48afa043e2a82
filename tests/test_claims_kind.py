"""detect_kind: file extension first, then the response's content type; anything else is unsupported."""
from __future__ import annotations

import pytest

from archive.claims import detect_kind
from archive.errors import InputError, UnsupportedSource


@pytest.mark.parametrize(
    "name, kind",
    [
        ("story.html", "html"),
        ("STORY.HTM", "html"),
        ("notes/draft.md", "markdown"),
        ("draft.markdown", "markdown"),
        ("plain.txt", "text"),
        ("claims.json", "json"),
        ("claims.jsonl", "jsonl"),
        ("claims.ndjson", "jsonl"),
        ("claims.csv", "csv"),
        ("https://example.org/exports/claims.csv?download=1#top", "csv"),
        (r"C:\Users\me\claims.JSONL", "jsonl"),
    ],
)
def test_extension_decides(name: str, kind: str) -> None:
    assert detect_kind(name) == kind


@pytest.mark.parametrize(
    "content_type, kind",
    [
        ("text/html; charset=ISO-8859-1", "html"),
        ("application/xhtml+xml", "html"),
        ("text/markdown; charset=utf-8", "markdown"),
        ("TEXT/PLAIN", "text"),
    ],
)
def test_content_type_decides_when_the_url_has_no_useful_extension(content_type: str, kind: str) -> None:
    assert detect_kind("https://example.org/2024/10/07/valley-floods", content_type) == kind
    assert detect_kind(None, content_type) == kind


def test_extension_wins_over_content_type() -> None:
    assert detect_kind("https://example.org/claims.csv", "text/plain") == "csv"


@pytest.mark.parametrize("name", ["x.docx", "report.pdf", "noextension", ""])
def test_unknown_types_are_unsupported(name: str) -> None:
    with pytest.raises(UnsupportedSource) as info:
        detect_kind(name)
    assert isinstance(info.value, InputError)
    message = str(info.value)
    assert "\n" not in message and "(use .html, .md, .txt, .json, .jsonl or .csv)" in message


def test_unsupported_message_names_the_file() -> None:
    with pytest.raises(UnsupportedSource, match=r"^cannot read 'x\.docx': unsupported file type \(use "):
        detect_kind("x.docx")
    with pytest.raises(UnsupportedSource, match="unsupported content type 'application/pdf'"):
        detect_kind("https://example.org/download", "application/pdf")
