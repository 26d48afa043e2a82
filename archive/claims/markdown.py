"""Markdown articles: paragraphs, list items and table cells, with the links each sentence makes.

markdown-it-py parses; we walk each block's inline children so a link keeps the span of its text. Inline
and reference-style links come resolved by the parser. Footnotes (``[^1]`` with ``[^1]: text https://…``)
are not CommonMark, so their definitions are cut out before parsing (otherwise ``[^1]: https://x`` would
read as a link reference definition) and markers are found in the text; a marker cites the http(s) links
of its note, with the note's text as anchor. Code blocks and raw HTML blocks are not prose and give no
claims. Title: the first ``# heading``, else a ``title:`` in YAML front matter.
"""
from __future__ import annotations

import re

from markdown_it import MarkdownIt
from markdown_it.token import Token

from archive.claims.blocks import Article, BlockBuilder, dedupe_sources, shorten_anchor
from archive.claims.model import SourceRef
from archive.claims.urls import document_urls, find_bare_urls, resolve

_FOOTNOTE_DEF = re.compile(r"^ {0,3}\[\^([^\]\s]+)\]:[ \t]*(.*)$")
_FOOTNOTE_REF = re.compile(r"\[\^([^\]\s]+)\]")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_FRONT_MATTER_TITLE = re.compile(r"^title:\s*[\"']?(.*?)[\"']?\s*$", re.IGNORECASE)
_SKIPPED_BLOCKS = frozenset({"fence", "code_block", "html_block"})



def _parser() -> MarkdownIt:
    return MarkdownIt("commonmark").enable(["table", "strikethrough"])


def read_markdown(text: str, url: str | None) -> Article:
    """Parse Markdown into its title and blocks (one per paragraph, list item or cell; headings are not claims)."""
    text, front_title = _strip_front_matter(text)
    body, definitions = _cut_footnotes(text)
    md = _parser()
    doc_urls = document_urls(url)
    notes = {label: _note_sources(md, note, url, doc_urls) for label, note in definitions.items()}
    tokens = md.parse(body)
    title: str | None = None
    builder = BlockBuilder()
    in_heading = False
    for index, token in enumerate(tokens):
        if token.type in _SKIPPED_BLOCKS:
            continue
        if token.type == "heading_open":
            in_heading = True  # headings are titles, not claims: "# Flood barrier approved" states nothing
            if token.tag == "h1" and title is None:
                following = tokens[index + 1] if index + 1 < len(tokens) else None
                title = _plain(following.children or []) if following is not None else None
        elif token.type == "heading_close":
            in_heading = False
        elif token.type == "inline" and not in_heading:
            _walk_inline(builder, token.children or [], url, notes)
            builder.flush()
    return Article(title or front_title, builder.blocks, doc_urls)


def _strip_front_matter(text: str) -> tuple[str, str | None]:
    """Remove a leading YAML front-matter block (``---`` … ``---``); return its ``title:`` if any."""
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        return text, None
    for end in range(1, len(lines)):
        if lines[end].strip() in ("---", "..."):
            title = None
            for line in lines[1:end]:
                match = _FRONT_MATTER_TITLE.match(line.strip())
                if match and match.group(1):
                    title = match.group(1)
                    break
            return "\n" * end + "\n".join(lines[end + 1 :]), title
    return text, None


def _cut_footnotes(text: str) -> tuple[str, dict[str, str]]:
    """Split footnote definitions (with their indented continuation lines) from the body text.

    >>> body, notes = _cut_footnotes("Claim.[^a]\\n\\n[^a]: Report, https://e.org/r\\n    page 2.\\n")
    >>> notes
    {'a': 'Report, https://e.org/r page 2.'}
    """
    out: list[str] = []
    definitions: dict[str, str] = {}
    fence: str | None = None
    current: str | None = None
    for line in text.split("\n"):
        fence_match = _FENCE.match(line)
        if fence_match and (fence is None or fence_match.group(1)[0] == fence):
            fence = None if fence is not None else fence_match.group(1)[0]
            current = None
            out.append(line)
            continue
        if fence is None:
            match = _FOOTNOTE_DEF.match(line)
            if match:
                current = match.group(1)
                definitions.setdefault(current, match.group(2).strip())
                out.append("")
                continue
            if current is not None and line.strip() and (line.startswith("    ") or line.startswith("\t")):
                definitions[current] = (definitions[current] + " " + line.strip()).strip()
                out.append("")
                continue
            if line.strip():
                current = None
        out.append(line)
    return "\n".join(out), definitions


def _note_sources(md: MarkdownIt, note: str, url: str | None, doc_urls: frozenset[str]) -> tuple[SourceRef, ...]:
    tokens = md.parseInline(note)
    children = (tokens[0].children or []) if tokens else []
    anchor = shorten_anchor(_plain(children)) or None
    urls = [resolve(str(child.attrGet("href") or ""), url) for child in children if child.type == "link_open"]
    urls += [found for _, _, found in find_bare_urls(note)]
    return dedupe_sources((SourceRef(found, anchor) for found in urls if found), doc_urls)


def _walk_inline(builder: BlockBuilder, children: list[Token], url: str | None, notes: dict[str, tuple[SourceRef, ...]]) -> None:
    open_links: list[tuple[int, str | None]] = []
    for child in children:
        kind = child.type
        if kind == "text":
            _add_text_with_markers(builder, child.content, notes)
        elif kind == "code_inline":
            builder.add_text(child.content)
        elif kind == "softbreak":
            builder.add_text(" ")
        elif kind == "hardbreak":
            builder.add_break()
        elif kind == "link_open":
            href = child.attrGet("href")
            open_links.append((builder.position, resolve(str(href), url) if href else None))
        elif kind == "link_close" and open_links:
            start, target = open_links.pop()
            if target:
                anchor = " ".join(builder.text_since(start).split()) or None
                builder.add_link(start, builder.position, (SourceRef(target, anchor),))


def _add_text_with_markers(builder: BlockBuilder, text: str, notes: dict[str, tuple[SourceRef, ...]]) -> None:
    """Add text, turning each ``[^label]`` with a definition into a zero-width source marker."""
    pos = 0
    for match in _FOOTNOTE_REF.finditer(text):
        if match.group(1) not in notes:
            continue
        builder.add_text(text[pos : match.start()])
        builder.add_link(builder.position, builder.position, notes[match.group(1)])
        pos = match.end()
    builder.add_text(text[pos:])


def _plain(children: list[Token]) -> str:
    parts = [" " if c.type in ("softbreak", "hardbreak") else c.content for c in children if c.type in ("text", "code_inline", "softbreak", "hardbreak")]
    return " ".join("".join(parts).split())
