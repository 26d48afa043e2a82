"""URL handling for sources: resolve links, keep only http(s), drop fragments, find bare URLs in text.

A source is something citevault can crawl, so anything that is not an absolute http(s) URL with a host is
not a source. Two URLs that differ only by ``#fragment`` name the same capture, so fragments are dropped
everywhere, before deduplication and before the "is this a link to the document itself?" test.
"""
from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit, urlunsplit

# WHATWG URL parsing drops ASCII tab and newline anywhere in a URL; href attributes often carry them.
_TAB_NEWLINE = re.compile(r"[\t\n\r]")
# Browsers percent-encode what is left of spaces and control characters inside a URL.
_CONTROL_OR_SPACE = re.compile(r"[\x00-\x20\x7f]")
# An absolute http(s) URL already in normal form but for its fragment: lower-case scheme and ASCII host,
# optional port, no userinfo, no spaces or control characters.
_SIMPLE = re.compile(r"(https?)://([a-z0-9](?:[a-z0-9.-]*[a-z0-9])?(?::[0-9]{1,5})?)(/[^#\x00-\x20\x7f]*)?(?:#[^\x00-\x20\x7f]*)?")
_C0_AND_SPACE = "".join(map(chr, range(0x21)))  # stripped from both ends, as the WHATWG URL parser does


def _percent_encode(match: re.Match[str]) -> str:
    return f"%{ord(match.group()):02X}"

# A bare URL runs to the next whitespace or to a character that cannot end a URL in prose.
_BARE_URL = re.compile(r"""https?://[^\s<>"'`{}|\\^\u00ab\u00bb\u201c\u201d\u2018\u2019\u300c\u300d]+""", re.IGNORECASE)
_TRAILING = ".,;:!?…'\"’”»"
_PAIRS = {")": "(", "]": "["}


def normalize(url: str) -> str | None:
    """Return ``url`` as a source URL, or None when it is not an absolute http(s) URL with a host.

    The scheme and host are lower-cased and the fragment is dropped, so the same page cited twice with
    different anchors is one source.

    >>> normalize("HTTPS://Example.ORG/a/b?x=1#part")
    'https://example.org/a/b?x=1'
    >>> normalize("ftp://example.org/file") is None
    True
    >>> normalize("https:///no-host") is None
    True
    >>> normalize(" https://example.org/annual report.pdf\\n")
    'https://example.org/annual%20report.pdf'
    """
    simple = _SIMPLE.fullmatch(url)
    if simple:  # already normal (the common case): claim lists carry millions of these
        rest = simple.group(3)
        if not rest:
            return url[: simple.end(2)] + "/"
        if not rest.endswith("?"):
            return url[: simple.end(3)]
    return _normalize_general(url)


def _normalize_general(url: str) -> str | None:
    """:func:`normalize` for any input: percent-encodes spaces and controls, parses with urlsplit."""
    url = _CONTROL_OR_SPACE.sub(_percent_encode, _TAB_NEWLINE.sub("", url.strip(_C0_AND_SPACE)))
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. an unbalanced IPv6 bracket
        return None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.netloc or parts.hostname is None:
        return None
    if "%" in parts.netloc or any(ch.isspace() for ch in parts.netloc):
        return None
    netloc = parts.netloc
    userinfo, at, hostport = netloc.rpartition("@")
    netloc = userinfo + at + hostport.lower()
    path = parts.path or "/"
    return urlunsplit((scheme, netloc, path, parts.query, ""))


def resolve(href: str | None, base: str | None) -> str | None:
    """Resolve a link target against ``base`` and normalise it; None if it cannot be a source.

    In-page links (``#…``) are never sources by themselves: a footnote marker is handled by the reader
    before it gets here.

    >>> resolve("../b/c.html#x", "https://example.org/a/page.html")
    'https://example.org/b/c.html'
    >>> resolve("//cdn.example.org/x", "https://example.org/")
    'https://cdn.example.org/x'
    >>> [resolve(h, "https://example.org/") for h in ("mailto:a@b.c", "javascript:void(0)", "#top", "tel:1")]
    [None, None, None, None]
    >>> resolve("relative.html", None) is None
    True
    """
    if href is None:
        return None
    href = _TAB_NEWLINE.sub("", href.strip())
    if not href or href.startswith("#"):
        return None
    scheme = href.split(":", 1)[0].lower() if ":" in href else ""
    if scheme and scheme.isalpha() and scheme not in ("http", "https"):
        return None  # mailto:, javascript:, tel:, data:, ftp:… are not crawlable sources
    if base:
        try:
            href = urljoin(base, href)
        except ValueError:
            return None
    return normalize(href)


def find_bare_urls(text: str) -> list[tuple[int, int, str]]:
    """Find ``http(s)://`` URLs written out in prose, as ``(start, end, url)`` character spans.

    Punctuation that ends the sentence is not part of the URL, and a closing bracket is kept only when the
    URL opened it (Wikipedia-style ``/wiki/Foo_(bar)``).

    >>> find_bare_urls("See https://example.org/report). And (https://e.org/Foo_(bar)), ok.")
    [(4, 30, 'https://example.org/report'), (38, 61, 'https://e.org/Foo_(bar)')]
    """
    found: list[tuple[int, int, str]] = []
    for match in _BARE_URL.finditer(text):
        start, end = match.span()
        while end > start:
            last = text[end - 1]
            if last in _TRAILING:
                end -= 1
            elif last in _PAIRS and text.count(_PAIRS[last], start, end) < text.count(last, start, end):
                end -= 1
            else:
                break
        url = normalize(text[start:end])
        if url is not None:
            found.append((start, end, url))
    return found


def same_document(url: str, document_urls: frozenset[str]) -> bool:
    """True when ``url`` (already normalised) is the document itself, ignoring a trailing slash.

    >>> same_document("https://example.org/a/", frozenset({"https://example.org/a"}))
    True
    """
    return url in document_urls or url.rstrip("/") in document_urls or url + "/" in document_urls


def document_urls(*urls: str | None) -> frozenset[str]:
    """Normalise the URLs under which the document is known (its own URL, its canonical URL)."""
    out = set()
    for url in urls:
        norm = normalize(url) if url else None
        if norm:
            out.add(norm)
            out.add(norm.rstrip("/"))
    return frozenset(out)
