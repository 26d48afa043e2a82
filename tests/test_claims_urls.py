"""Source URLs: resolution, normalisation, bare URLs in prose."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archive.claims.urls import _SIMPLE, _normalize_general, find_bare_urls, normalize, resolve

BASE = "https://news.example.org/world/2024/story.html"


@pytest.mark.parametrize(
    "href, expected",
    [
        ("https://Example.ORG/Path?q=1#frag", "https://example.org/Path?q=1"),
        ("../sport/", "https://news.example.org/world/sport/"),
        ("/about", "https://news.example.org/about"),
        ("//cdn.example.org/a.pdf", "https://cdn.example.org/a.pdf"),
        ("other.html#x", "https://news.example.org/world/2024/other.html"),
        ("  https://example.org/a\n/b  ", "https://example.org/a/b"),
        ("https://example.org/annual report.pdf", "https://example.org/annual%20report.pdf"),
        ("#top", None),
        ("mailto:desk@example.org", None),
        ("javascript:void(0)", None),
        ("JavaScript:alert(1)", None),
        ("tel:+15550100", None),
        ("data:text/html,hi", None),
        ("ftp://example.org/file", None),
        ("http://[broken", None),
        ("", None),
    ],
)
def test_resolve(href: str, expected: str | None) -> None:
    assert resolve(href, BASE) == expected


def test_relative_link_without_base_is_not_a_source() -> None:
    assert resolve("/about", None) is None
    assert resolve("https://example.org/x", None) == "https://example.org/x"


@pytest.mark.parametrize(
    "text, urls",
    [
        ("See https://example.org/report).", ["https://example.org/report"]),
        ("(see https://en.example.org/wiki/Foo_(bar))", ["https://en.example.org/wiki/Foo_(bar)"]),
        ("Two: http://a.example.org/x, and https://b.example.org/y;", ["http://a.example.org/x", "https://b.example.org/y"]),
        ("Quoted “https://example.org/q” here", ["https://example.org/q"]),
        ("At https://example.org/page#section.", ["https://example.org/page"]),
        ("No URL at all, just http:// and https://.", []),
    ],
)
def test_find_bare_urls(text: str, urls: list[str]) -> None:
    assert [url for _, _, url in find_bare_urls(text)] == urls


@settings(max_examples=300, deadline=None)
@given(
    scheme=st.sampled_from(["http", "https", "HTTP", "Https"]),
    host=st.from_regex(r"[A-Za-z0-9]([A-Za-z0-9.-]{0,20}[A-Za-z0-9])?(:[0-9]{1,5})?", fullmatch=True),
    rest=st.from_regex(r"([/?][!-~]{0,30})?(#[!-~]{0,10})?", fullmatch=True),
)
def test_fast_path_agrees_with_urlsplit(scheme: str, host: str, rest: str) -> None:
    url = f"{scheme}://{host}{rest}"
    if _SIMPLE.fullmatch(url):
        assert normalize(url) == _normalize_general(url)
