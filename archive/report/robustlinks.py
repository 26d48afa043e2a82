"""``citevault export --robust-links``: the article's own HTML with every cited link made robust.

Robust Links (https://robustlinks.mementoweb.org/spec/) keep a link useful after the page it points to
changes or disappears: each ``<a href>`` that cites a source gets

- ``data-originalurl``: the URL the article cites (absolute);
- ``data-versionurl``: our capture of it, the Memento URI-M ``{replay_base}/replay/{timestamp}/{url}``
  that ``citevault serve`` answers, or ``urn:citevault:capture:{capture_id}`` with an empty replay base;
- ``data-versiondate``: when that capture was made (W3C date-time, UTC).

The capture is the *first* successful one: the version the article's claims relied on. Only the start
tags of cited links change; every other byte of the article stays as it was (same encoding too), so the
output can replace the original file.
"""
from __future__ import annotations

from html import escape
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin

from sqlalchemy import Connection, text

from archive.clock import iso_seconds
from archive.errors import InputError
from archive.index.lookup import document
from archive.report import DEFAULT_REPLAY_BASE
from archive.report.build import archived_url
from archive.urls import is_archivable, normalize_url

_ATTRS = ("data-originalurl", "data-versionurl", "data-versiondate")


def article_capture(conn: Connection, document_id: str) -> dict[str, Any]:
    """The archived bytes of the article itself: the added file, or the crawl's 2xx response for a URL."""
    row = conn.execute(text(
        "SELECT c.id, c.url, c.fetched_at, c.record_type, c.refers_to, c.content_type, c.warc_file, c.warc_offset, "
        "o.warc_file AS ofile, o.warc_offset AS ooffset FROM captures c "
        "LEFT JOIN captures o ON o.id = c.refers_to AND c.record_type = 'revisit' "
        "WHERE c.document_id = :d AND (c.record_type = 'resource' OR (c.record_type IN ('response', 'revisit') "
        "AND c.http_status BETWEEN 200 AND 299)) ORDER BY c.fetched_at LIMIT 1"
    ), {"d": document_id}).mappings().first()
    if row is None:
        raise InputError(f"document {document_id} has no archived article (was it added by URL and not crawled "
                         "yet? run `citevault crawl`)")
    out = dict(row)
    if row["record_type"] == "revisit" and row["ofile"]:
        out["warc_file"], out["warc_offset"] = row["ofile"], row["ooffset"]
    return out


def cited_versions(conn: Connection, document_id: str, replay_base: str | None) -> dict[str, tuple[str, str]]:
    """``{normalized source URL: (version URL, version date)}`` for the sources the document's claims cite."""
    rows = conn.execute(text(
        "SELECT s.url, cap.id, cap.url AS curl, cap.fetched_at FROM sources s "
        "JOIN captures cap ON cap.source_id = s.id "
        "WHERE s.id IN (SELECT ci.source_id FROM citations ci JOIN claims c ON c.id = ci.claim_id "
        "WHERE c.document_id = :d) AND cap.http_status BETWEEN 200 AND 299 "
        "ORDER BY cap.fetched_at DESC"
    ), {"d": document_id})
    out: dict[str, tuple[str, str]] = {}
    for url, capture_id, capture_url, fetched_at in rows:  # newest first: the first capture is written last
        when = fetched_at if isinstance(fetched_at, str) else fetched_at.isoformat()
        capture = {"id": capture_id, "url": capture_url, "fetched_at": when}
        out[url] = (archived_url(capture, replay_base), iso_seconds(fetched_at))
    return out


def robust_links(conn: Connection, home: Any, document_id: str, *,
                 replay_base: str | None = DEFAULT_REPLAY_BASE) -> tuple[bytes, int]:
    """The decorated article as bytes (in its own encoding), and how many links were decorated."""
    from archive.checks.texts import charset_of, kind_of, read_payload
    from archive.claims.decode import decode_with_encoding

    doc = document(conn, document_id)
    cap = article_capture(conn, document_id)
    data = read_payload(home.warc_path(cap["warc_file"]), cap["warc_offset"])
    if kind_of(data, cap["content_type"]) != "html":
        raise InputError(f"document {document_id} is not an HTML article ({doc['kind']}): Robust Links "
                         "decorate the links of HTML pages (use `citevault export --claimreview` instead)")
    page, charset = decode_with_encoding(data, charset=charset_of(cap["content_type"]), html=True)
    decorated, count = decorate(page, doc["url"], cited_versions(conn, document_id, replay_base))
    encoding = charset or "utf-8"
    try:
        out = decorated.encode(encoding if encoding.lower() not in ("utf-8-sig",) else "utf-8")
    except (LookupError, UnicodeEncodeError):
        out = decorated.encode("utf-8")
    if data.startswith(b"\xef\xbb\xbf") and not out.startswith(b"\xef\xbb\xbf"):
        out = b"\xef\xbb\xbf" + out
    return out, count


def decorate(page: str, page_url: str | None, versions: dict[str, tuple[str, str]]) -> tuple[str, int]:
    """Add Robust Links attributes to the ``<a href>`` start tags of ``page`` that point to ``versions``.

    >>> page = '<p>See <a href="https://e.org/r#s2">the report</a> and <a href="/x">x</a>.</p>'
    >>> print(decorate(page, "https://news.example/a", {"https://e.org/r": ("urn:citevault:capture:c1", "2026-11-28T05:41:14Z")})[0])
    <p>See <a href="https://e.org/r#s2" data-originalurl="https://e.org/r#s2" data-versionurl="urn:citevault:capture:c1" data-versiondate="2026-11-28T05:41:14Z">the report</a> and <a href="/x">x</a>.</p>
    """
    finder = _LinkFinder(page_url)
    finder.feed(page)
    finder.close()
    line_starts = [0]
    for i, ch in enumerate(page):
        if ch == "\n":
            line_starts.append(i + 1)
    edits: list[tuple[int, str]] = []
    for (line, col), raw, href, base in finder.links:
        absolute = _absolute(href, base)
        if absolute is None:
            continue
        version = versions.get(normalize_url(absolute))
        if version is None:
            continue
        start = line_starts[line - 1] + col
        if page[start:start + len(raw)] != raw:
            continue  # the parser's position is off (unusual markup): leave the tag alone
        close = len(raw) - (2 if raw.endswith("/>") else 1)
        attrs = (f' data-originalurl="{escape(absolute)}" data-versionurl="{escape(version[0])}" '
                 f'data-versiondate="{escape(version[1])}"')
        edits.append((start + close, attrs))
    out = page
    for at, attrs in sorted(edits, reverse=True):
        out = out[:at] + attrs + out[at:]
    return out, len(edits)


def _absolute(href: str, base: str | None) -> str | None:
    href = href.strip()
    try:
        absolute = urljoin(base, href) if base else href
    except ValueError:
        return None
    return absolute if is_archivable(absolute) else None


class _LinkFinder(HTMLParser):
    """Start tags of links with their position and raw text; ``<base href>`` changes the base after it."""

    def __init__(self, page_url: str | None) -> None:
        super().__init__(convert_charrefs=True)
        self.base = page_url
        self.links: list[tuple[tuple[int, int], str, str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "base" and values.get("href"):
            self.base = urljoin(self.base, values["href"] or "") if self.base else values["href"]
        elif tag == "a" and values.get("href") and not any(a in values for a in _ATTRS):
            raw = self.get_starttag_text()
            if raw:
                self.links.append((self.getpos(), raw, values["href"] or "", self.base))

    handle_startendtag = handle_starttag
