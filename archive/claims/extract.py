"""The entry points: pick a reader for a file or response, and turn its bytes into an ExtractedDocument.

Readers for articles (HTML, Markdown, plain text) do their parsing inside :func:`extract`, so a page that
cannot be read fails there; sentences are split lazily as ``claims`` is consumed. Claim lists (JSON, JSONL,
CSV) are streamed: only their header and first row are read up front.
"""
from __future__ import annotations

import posixpath
import re
from urllib.parse import urlsplit

from archive.claims.model import ExtractedDocument
from archive.errors import InputError, UnsupportedSource

KINDS = ("html", "markdown", "text", "json", "jsonl", "csv")
#: Kinds that state their claims explicitly, one per row (a claim list has no prose to take a title from).
CLAIM_LIST_KINDS = ("json", "jsonl", "csv")

_EXTENSIONS = {
    ".html": "html",
    ".htm": "html",
    ".xhtml": "html",
    ".md": "markdown",
    ".markdown": "markdown",
    ".txt": "text",
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".csv": "csv",
}
_CONTENT_TYPES = {
    "text/html": "html",
    "application/xhtml+xml": "html",
    "text/markdown": "markdown",
    "text/x-markdown": "markdown",
    "text/plain": "text",
    "application/json": "json",
    "application/x-ndjson": "jsonl",
    "application/jsonl": "jsonl",
    "application/x-jsonlines": "jsonl",
    "text/csv": "csv",
}
_USE = "use .html, .md, .txt, .json, .jsonl or .csv"


def detect_kind(name: str | None, content_type: str | None = None) -> str:
    """The reader for a file name or URL, falling back to the response's content type.

    >>> detect_kind("notes/Claims.JSONL"), detect_kind("https://example.org/story", "text/html; charset=utf-8")
    ('jsonl', 'html')
    >>> detect_kind("https://example.org/2024/10/07/story.ece", "application/xhtml+xml")
    'html'
    >>> detect_kind("x.docx")
    Traceback (most recent call last):
    ...
    archive.errors.UnsupportedSource: cannot read 'x.docx': unsupported file type (use .html, .md, .txt, .json, .jsonl or .csv)
    """
    extension = _extension(name)
    if extension in _EXTENSIONS:
        return _EXTENSIONS[extension]
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    if media_type in _CONTENT_TYPES:
        return _CONTENT_TYPES[media_type]
    shown = f"'{name}'" if name else "the input"
    if media_type:
        raise UnsupportedSource(f"cannot read {shown}: unsupported content type '{media_type}' ({_USE})")
    raise UnsupportedSource(f"cannot read {shown}: unsupported file type ({_USE})")


def _extension(name: str | None) -> str:
    if not name:
        return ""
    path = name
    if "://" in name:
        try:
            path = urlsplit(name).path
        except ValueError:
            path = name
    return posixpath.splitext(path.replace("\\", "/"))[1].lower()


def extract(data: bytes, *, kind: str, url: str | None = None, charset: str | None = None) -> ExtractedDocument:
    """Read an article or a claim list; raise :class:`InputError` (one line) when it cannot be read.

    ``data`` may also be an ``mmap`` of the file: claim lists are then streamed from disk, never copied
    into memory whole.

    >>> doc = extract(b"# Floods\\n\\nThe river rose 3.5 metres, [the agency said](https://e.org/r).", kind="markdown")
    >>> doc.title, [(c.text, [s.url for s in c.sources]) for c in doc.claims]
    ('Floods', [('The river rose 3.5 metres, the agency said.', ['https://e.org/r'])])
    """
    if kind not in KINDS:
        raise UnsupportedSource(f"unknown kind '{kind}' (expected one of {', '.join(KINDS)})")
    if len(data) == 0 or _BLANK.match(data):
        raise InputError("the input is empty" if len(data) == 0 else "the input is empty (only whitespace)")
    if kind in CLAIM_LIST_KINDS:
        return _claim_list(data, kind, url, charset)
    data = bytes(data)  # articles are small: parsers want bytes
    # Imported here, not at the top: every ``archive.claims.*`` import runs this package first, and the
    # sentence splitter (pysbd) is wanted only when an article is read.
    from archive.claims.blocks import claims_from_blocks
    from archive.claims.decode import decode_text

    text = decode_text(data, charset=charset, html=kind == "html")
    if not text.strip():
        raise InputError("the input is empty (only whitespace)")
    if kind == "html":
        from archive.claims.html import read_html

        article = read_html(text, url)
    elif kind == "markdown":
        from archive.claims.markdown import read_markdown

        article = read_markdown(text, url)
    else:
        from archive.claims.text import read_text

        article = read_text(text, url)
    return ExtractedDocument(
        kind=kind, url=url, title=article.title, claims=claims_from_blocks(article.blocks, article.document_urls)
    )


_BLANK = re.compile(rb"\s*\Z")


def _claim_list(data: bytes, kind: str, url: str | None, charset: str | None) -> ExtractedDocument:
    from archive.claims import claimlists

    title: str | None = None
    if kind == "jsonl":
        claims = claimlists.jsonl_claims(data)
    elif kind == "csv":
        claims = claimlists.csv_claims(data, charset)
    else:
        prefix, title, declared_url = claimlists.json_header(data)
        url = url or declared_url
        claims = claimlists.json_claims(data, prefix)
    claims = claimlists.merge_repeats(claims)  # one claim per text, however many rows cite for it
    return ExtractedDocument(kind=kind, url=url, title=title, claims=claimlists.eager_first(claims))
