"""HTML articles: main text only (no navigation, header, footer, sidebar, comments), with the links in it.

trafilatura does the boilerplate removal; we walk the ``<body>`` of its XML result, whose ``<ref target>``
elements are the links that remain in the main text. Before that, :mod:`archive.claims.htmlnotes` makes
every link absolute and turns footnote markers into sentinels, since trafilatura's own resolution drops the
path of relative links. When trafilatura finds nothing (tiny or unusual pages), a semantic fallback reads
``<article>``/``<main>`` or the element holding the most paragraph text, skipping boilerplate containers.

Title: trafilatura's metadata (``og:title``, ``<title>`` without the site name, ``<h1>``), else the first of
``og:title``, ``<title>``, ``<h1>`` found in the page.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, Callable, Iterable
from urllib.parse import urljoin

import lxml.html
from lxml import etree
from lxml.html import HtmlElement

from archive.claims.blocks import Article, Block, BlockBuilder
from archive.claims.htmlnotes import LinkContext, note_number, rewrite_links
from archive.claims.model import SourceRef
from archive.claims.urls import document_urls, normalize, resolve
from archive.errors import InputError

_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>", re.IGNORECASE)
_SKIP_TAGS = frozenset(
    "nav header footer aside script style noscript template form button select textarea svg iframe "
    "object embed canvas figure dialog menu head title".split()
)
_BOILERPLATE = re.compile(
    r"(^|[\s_-])(nav|navbar|menu|breadcrumbs?|sidebar|related|recommend\w*|comments?|share|sharing|social|"
    r"promo|newsletter|subscribe|advert\w*|ads?|cookie\w*|footer|header|masthead|byline|tags?|more-stories)"
    r"($|[\s_-])",
    re.IGNORECASE,
)
_FALLBACK_BLOCKS = frozenset(
    "p div li h1 h2 h3 h4 h5 h6 blockquote td th dd dt pre section article main ul ol dl table tr "
    "figcaption caption address details summary center".split()
)
_TRAFILATURA_BLOCKS = frozenset("head p item list quote table row cell div code".split())
_BREAKS = frozenset({"br", "lb"})



def read_html(text: str, url: str | None) -> Article:
    """Parse an HTML page into its title and main-text blocks."""
    root = _parse(text)
    base = _base_url(root, url)
    canonical = _first_attr(root, ".//link[@rel='canonical']", "href")
    doc_urls = document_urls(url, resolve(canonical, base))
    notes = rewrite_links(root, LinkContext(base, doc_urls))
    title, blocks = _trafilatura(root, notes)
    if not blocks:
        blocks = _fallback_blocks(root, notes)
    return Article(title or _fallback_title(root), blocks, doc_urls)


def _parse(text: str) -> HtmlElement:
    # lxml refuses str input that carries an XML encoding declaration; the text is already decoded.
    text = _XML_DECLARATION.sub("", text, count=1)
    if not text.strip():
        raise InputError("the input is empty")
    try:
        parser = lxml.html.HTMLParser(remove_comments=True, remove_pis=True)
        root = lxml.html.document_fromstring(text, parser=parser)
    except (etree.ParserError, ValueError) as exc:
        raise InputError(f"not an HTML page: {exc}") from None
    if root is None:
        raise InputError("not an HTML page: nothing could be parsed")
    return root


def _base_url(root: HtmlElement, url: str | None) -> str | None:
    """The URL relative links resolve against: ``<base href>`` (itself relative to the page), else the page."""
    base_href = _first_attr(root, ".//base[@href]", "href")
    if base_href:
        try:
            joined = urljoin(url, base_href) if url else base_href
        except ValueError:
            joined = None
        if joined and normalize(joined):
            return joined
    return url


def _first_attr(root: HtmlElement, path: str, attr: str) -> str | None:
    for element in root.iterfind(path):
        value = (element.get(attr) or "").strip()
        if value:
            return value
    return None


def _trafilatura(root: HtmlElement, notes: list[tuple[SourceRef, ...]],
                 metadata: bool = True, fast: bool = False, links: bool = True) -> tuple[str | None, list[Block]]:
    """Title and main-text blocks by trafilatura; ``metadata=False`` skips title/date/author (much faster),
    ``fast`` skips trafilatura's second opinions (readability, jusText), a third of its time; ``links=False``
    leaves links out of the body (same text, 15% less time; claims need them, quote checks do not)."""
    try:
        from trafilatura import bare_extraction

        document = bare_extraction(root, options=_extractor(metadata, fast, links))
    except Exception:  # noqa: BLE001 - a broken page or extractor must not lose the article: fall back
        return None, []
    if document is None:
        return None, []
    body = getattr(document, "body", None)
    title = _clean(getattr(document, "title", None))
    if body is None:
        return title, []
    blocks = walk(body, blocks=_TRAFILATURA_BLOCKS, skip=lambda _: False, link_attr="target", link_tag="ref", notes=notes)
    return title, blocks


@lru_cache(maxsize=8)
def _extractor(metadata: bool, fast: bool, links: bool) -> Any:
    """trafilatura's settings, made once: building them reads its configuration anew each time (0.1 ms a
    page). trafilatura never changes them (its recall retry works on a copy)."""
    from trafilatura.settings import Extractor

    return Extractor(
        output_format="txt",  # not "python": that also serializes the body to a text no one reads
        with_metadata=metadata,
        comments=False,
        tables=True,
        images=False,
        links=links,
        dedup=False,
        fast=fast,
    )


def _fallback_blocks(root: HtmlElement, notes: list[tuple[SourceRef, ...]]) -> list[Block]:
    body = root.find("body")
    container = _main_container(root if body is None else body)
    return walk(container, blocks=_FALLBACK_BLOCKS, skip=_is_boilerplate, link_attr="href", link_tag="a", notes=notes)


def _main_container(body: HtmlElement) -> HtmlElement:
    """``<article>``/``<main>``/``[role=main]`` with the most text, else the parent of the most ``<p>`` text."""
    semantic = [e for e in body.iter("article", "main") if not _is_boilerplate(e)]
    semantic += [e for e in body.iterfind(".//*[@role='main']")]
    if semantic:
        return max(semantic, key=lambda e: len(e.text_content() or ""))
    scores: dict[HtmlElement, int] = {}
    for paragraph in body.iter("p"):
        parent = paragraph.getparent()
        if parent is not None and not any(_is_boilerplate(a) for a in paragraph.iterancestors()):
            scores[parent] = scores.get(parent, 0) + len(paragraph.text_content() or "")
    return max(scores, key=lambda e: scores[e]) if scores else body


def _is_boilerplate(element: HtmlElement) -> bool:
    if not isinstance(element.tag, str) or element.tag in _SKIP_TAGS:
        return True
    if element.get("role") in ("navigation", "banner", "contentinfo", "complementary") or element.get("hidden") is not None:
        return True
    marks = f"{element.get('class', '')} {element.get('id', '')}"
    return bool(marks.strip()) and _BOILERPLATE.search(marks) is not None


def walk(
    root: HtmlElement,
    *,
    blocks: frozenset[str],
    skip: Callable[[HtmlElement], bool],
    link_tag: str,
    link_attr: str,
    notes: list[tuple[SourceRef, ...]],
) -> list[Block]:
    """Collect the text under ``root`` into blocks, recording each link's span and each footnote marker.

    Iterative (lxml's iterwalk), so deeply nested markup cannot exhaust Python's recursion limit.
    """
    builder = BlockBuilder()
    link_starts: dict[HtmlElement, int] = {}
    walker = etree.iterwalk(root, events=("start", "end"))
    for event, element in walker:
        tag = element.tag if isinstance(element.tag, str) else ""
        if event == "start":
            if element is not root and (not tag or skip(element)):
                walker.skip_subtree()
                continue
            if tag in blocks:
                builder.flush()
            if tag in _BREAKS:
                builder.add_break()
            if tag == link_tag:
                number = note_number(element.get(link_attr))
                if number is not None:
                    builder.add_link(builder.position, builder.position, notes[number] if number < len(notes) else ())
                    walker.skip_subtree()  # the marker's "[3]" is not part of the sentence
                    continue
                link_starts[element] = builder.position
            builder.add_text(element.text)
        else:
            if element in link_starts:
                start = link_starts.pop(element)
                url = element.get(link_attr)
                if url:
                    builder.add_link(start, builder.position, _link_sources(url, element))
            if tag in blocks:
                builder.flush()
            if element is not root:
                builder.add_text(element.tail)
    builder.flush()
    return builder.blocks


def _link_sources(url: str, element: HtmlElement) -> Iterable[SourceRef]:
    """The link as a source (its href was made absolute and checked by :func:`rewrite_links`)."""
    norm = normalize(url)
    if norm is None:
        return ()
    anchor = " ".join("".join(element.itertext()).split()) or None
    return (SourceRef(norm, anchor),)


def _fallback_title(root: HtmlElement) -> str | None:
    for path, attr in ((".//meta[@property='og:title']", "content"), (".//title", None), (".//h1", None)):
        for element in root.iterfind(path):
            value = element.get(attr) if attr else element.text_content()
            if _clean(value):
                return _clean(value)
    return None


def _clean(value: str | None) -> str | None:
    if not value:
        return None
    value = " ".join(value.split())
    return value or None
