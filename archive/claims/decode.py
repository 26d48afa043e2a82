"""Bytes to text for the article readers (HTML, Markdown, plain text), and the "is this text at all?" check.

Order of evidence, most explicit first: the ``charset`` the server declared, a byte-order mark, an HTML
``<meta charset>`` / ``<meta http-equiv="Content-Type">``, then UTF-8, and only then statistical detection
(charset-normalizer). A declared encoding that cannot decode the bytes is treated as wrong and the next
clue is tried, because headers and meta tags are often stale while the bytes are what the page is.
"""
from __future__ import annotations

import codecs
import re

from archive.errors import InputError

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),  # before UTF-16 LE: its BOM starts with the UTF-16 LE one
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_META_CHARSET = re.compile(rb"""<meta[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9._:\-]+)""", re.IGNORECASE)
_PRESCAN_BYTES = 8192
# C0 controls other than tab, newline, vertical tab, form feed and carriage return do not occur in text.
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")
_CONTROL_RATIO = 0.01


def decode_text(data: bytes, *, charset: str | None = None, html: bool = False) -> str:
    """Decode an article's bytes; raise InputError when they are not text.

    >>> decode_text("café".encode("latin-1"), charset="ISO-8859-1")
    'café'
    >>> decode_text(b'<meta charset="windows-1251"><p>\\xcf\\xf0\\xe8\\xe2\\xe5\\xf2</p>', html=True)[-10:]
    'Привет</p>'
    >>> decode_text(b"\\xef\\xbb\\xbfplain")
    'plain'
    """
    return decode_with_encoding(data, charset=charset, html=html)[0]


def decode_with_encoding(data: bytes, *, charset: str | None = None, html: bool = False) -> tuple[str, str | None]:
    """:func:`decode_text`, and the encoding that read the bytes: the clue as it was given (``charset``, the
    BOM's, the ``<meta>``'s, or ``utf-8``), or None when statistical detection chose it.

    >>> decode_with_encoding(b'<meta charset="euc-kr"><p>\\xc7\\xd7\\xb1\\xb8</p>', html=True)
    ('<meta charset="euc-kr"><p>항구</p>', 'euc-kr')
    >>> decode_with_encoding(b"\\xef\\xbb\\xbfplain", charset="no-such-charset")
    ('plain', 'utf-8')
    """
    decoded = _decode(data, charset, html)
    if decoded is None:
        raise InputError("not text: the bytes match no text encoding (is it a binary file?)")
    text, encoding = decoded
    if text.startswith("\ufeff"):
        text = text[1:]
    if "\x00" in text or len(_CONTROL.findall(text)) > max(1, len(text) * _CONTROL_RATIO):
        raise InputError("not text: it holds binary data (control characters or NUL bytes)")
    return text, encoding


def _decode(data: bytes, charset: str | None, html: bool) -> tuple[str, str | None] | None:
    for encoding in (charset, _bom_encoding(data), _meta_encoding(data) if html else None, "utf-8"):
        text = _try(data, encoding)
        if text is not None and encoding:
            return text, encoding.removesuffix("-sig")
    if b"\x00" in data:
        return None  # UTF-16/32 without a BOM is too rare to guess at; NULs mean binary
    text = _detect(data)
    return None if text is None else (text, None)


def _try(data: bytes, encoding: str | None) -> str | None:
    if not encoding:
        return None
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        return None
    if name == "utf-8":
        name = "utf-8-sig"
    # Browsers read pages labelled Latin-1 or ASCII as windows-1252, whose curly quotes such pages use.
    names = ("cp1252", name) if name in ("latin-1", "iso8859-1", "ascii") else (name,)
    for candidate in names:
        try:
            return data.decode(candidate)
        except UnicodeError:
            continue
    return None


def _bom_encoding(data: bytes) -> str | None:
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return encoding + ("-sig" if encoding == "utf-8" else "")
    return None


def _meta_encoding(data: bytes) -> str | None:
    """The encoding an HTML ``<meta>`` declares near the top of the page.

    >>> _meta_encoding(b'<meta http-equiv="Content-Type" content="text/html; charset=ISO-8859-1">')
    'ISO-8859-1'
    """
    match = _META_CHARSET.search(data[:_PRESCAN_BYTES])
    if not match:
        return None
    declared = match.group(1).decode("ascii")
    # A meta tag cannot truthfully declare UTF-16: the tag itself was read as ASCII (WHATWG rule).
    return "utf-8" if declared.lower().startswith("utf-16") else declared


def _detect(data: bytes) -> str | None:
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    return None if best is None else str(best)
