"""HTML footnotes: find the markers in the text, resolve each through its note, and take the notes out.

A footnote marker (``<sup><a href="#fn1">1</a></sup>``, Wikipedia's ``<a href="#cite_note-3">[3]</a>``)
cites whatever http(s) links its note holds, so the sentence before the marker gets those links as sources,
with the note's text as the anchor. The notes list is apparatus, not article text: its items are removed
before main-text extraction so they never become claims.

Links are rewritten in place: a marker's ``href`` becomes a sentinel URL (``NOTE_PREFIX`` + index into the
returned note list) that survives trafilatura's link handling and that the walker recognises; every other
``href`` becomes absolute (or is removed when it cannot be a source), because trafilatura resolves relative
links against the site root only.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote

from lxml.html import HtmlElement

from archive.claims.blocks import dedupe_sources, shorten_anchor
from archive.claims.model import SourceRef
from archive.claims.urls import find_bare_urls, resolve, same_document

NOTE_PREFIX = "http://note.citevault.invalid/"
_NOTE_LIMIT = 3000  # a "note" longer than this is a section the link jumps to, not a footnote
_MARKER_TEXT = re.compile(r"^\[?\s*(\d{1,4}|[a-z]|[ivx]{1,5}|[*\u2020\u2021\u00a7\u00b6]+)\s*\]?$", re.IGNORECASE)
_NOTE_ID = re.compile(r"(fn|foot|note|cite|ref|endnote)", re.IGNORECASE)
_NOTE_CONTAINERS = frozenset({"li", "p", "div", "dd", "dt", "aside", "section", "td", "span", "footer"})
_BACKLINK_MARKS = "^↑↩︎⏎ \u00a0"
_NEVER_NOTES = frozenset({"html", "body", "main", "article"})


@dataclass(frozen=True)
class LinkContext:
    """Where the page lives, for resolving and recognising links."""

    base: str | None
    document_urls: frozenset[str]


def rewrite_links(root: HtmlElement, context: LinkContext) -> list[tuple[SourceRef, ...]]:
    """Resolve every ``<a href>`` under ``root``, turn footnote markers into sentinels, drop the notes.

    Returns the sources of each note, indexed by the number in the marker's sentinel URL.
    """
    ids = _id_index(root)
    notes: list[tuple[SourceRef, ...]] = []
    note_index: dict[HtmlElement, int] = {}
    for link in list(root.iter("a")):
        href = (link.get("href") or "").strip()
        if href.startswith("#") and len(href) > 1:
            inside_note = any(a in note_index for a in link.iterancestors())
            note = None if inside_note else _note_for(link, ids.get(unquote(href[1:])))
            if note is None:
                link.attrib.pop("href", None)  # an in-page jump, not a source
                continue
            if note not in note_index:
                note_index[note] = len(notes)
                notes.append(_note_sources(note, context))
            link.set("href", f"{NOTE_PREFIX}{note_index[note]}")
            continue
        url = resolve(href, context.base) if href else None
        if url is None or same_document(url, context.document_urls):
            link.attrib.pop("href", None)
        else:
            link.set("href", url)
    for note in note_index:
        if note.getparent() is not None:
            note.drop_tree()
    return notes


def note_number(href: str | None) -> int | None:
    """The note index a sentinel URL carries, or None for an ordinary link.

    >>> note_number(NOTE_PREFIX + "4"), note_number("https://example.org/4")
    (4, None)
    """
    if href and href.startswith(NOTE_PREFIX):
        rest = href[len(NOTE_PREFIX) :]
        return int(rest) if rest.isdigit() else None
    return None


def _id_index(root: HtmlElement) -> dict[str, HtmlElement]:
    index: dict[str, HtmlElement] = {}
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        for key in (element.get("id"), element.get("name") if element.tag == "a" else None):
            if key and key not in index:
                index[key] = element
    return index


def _note_for(link: HtmlElement, target: HtmlElement | None) -> HtmlElement | None:
    """The note element a marker points to, or None when the link is not a footnote marker."""
    if target is None:
        return None
    # A link back from a note to its marker (``<a href="#ref1">↩</a>``) points at a marker, not at a note.
    if (target.tag == "a" and (target.get("href") or "").startswith("#")) or any(
        a.tag == "sup" for a in target.iterancestors()
    ) or target.tag == "sup":
        return None
    text = (link.text_content() or "").strip()
    in_sup = any(a.tag == "sup" for a in link.iterancestors()) or link.find(".//sup") is not None
    fragment = (link.get("href") or "")[1:]
    if not (in_sup or _MARKER_TEXT.match(text) or (_NOTE_ID.search(fragment) and len(text) <= 6)):
        return None
    note = target
    # An empty anchor (``<a name="fn1"></a>``, ``<span id=…>``) marks the note; the note is its block.
    while note.tag not in _NOTE_CONTAINERS or len((note.text_content() or "").strip()) < 2:
        parent = note.getparent()
        if parent is None:
            return None
        note = parent
    if note.tag in _NEVER_NOTES or any(a is note for a in link.iterancestors()) or note is link:
        return None
    if len(note.text_content() or "") > _NOTE_LIMIT:
        return None
    return note


def _note_sources(note: HtmlElement, context: LinkContext) -> tuple[SourceRef, ...]:
    anchor = _note_anchor(note)
    urls: list[str] = []
    for link in note.iter("a"):
        href = link.get("href")
        if href and not href.startswith("#"):
            url = resolve(href, context.base)
            if url:
                urls.append(url)
    urls.extend(url for _, _, url in find_bare_urls(note.text_content() or ""))
    return dedupe_sources((SourceRef(url, anchor) for url in urls), context.document_urls)


def _note_anchor(note: HtmlElement) -> str | None:
    """The note's text, without back-link arrows, cut to about 200 characters."""
    text = " ".join((note.text_content() or "").split())
    if text[:1] in ("^", "↑"):
        text = re.sub(r"^[\^↑]\s*(?:[a-z]{1,2}\s+)*", "", text)  # Wikipedia's "^ a b" back-links
    text = text.strip(_BACKLINK_MARKS)
    return shorten_anchor(text) if text else None
