"""The text of a capture's payload: main text of HTML, text of PDF pages, plain text.

What kind of payload it is comes from the bytes first (``%PDF-`` and HTML start tags are unmistakable),
then from the Content-Type; the charset from the Content-Type header, a BOM, ``<meta>``, UTF-8, then
detection (:mod:`archive.claims.decode`). Whatever cannot be read as text (images, archives, scanned PDFs
without a text layer, damaged files) gets ``status = "unreadable"`` and a one-line reason: a verdict of
``unreadable`` is an answer too.

Texts are stored once per payload (keyed by the payload's SHA-256, see :func:`text_key`) in the
``capture_texts`` table, so re-checking, reports and lookups never parse a WARC record again.
"""
from __future__ import annotations

import io
import logging
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

from archive.errors import CitevaultError

#: Bump when extraction changes: stored texts of an older extractor are recomputed by ``citevault check``.
EXTRACTOR = "citevault-text/1"
#: Payloads larger than this are not parsed (DOWNLOAD_MAXSIZE is 100 MiB; no article is that large).
MAX_BYTES = 64 * 1024 * 1024

_HTML_TYPES = ("text/html", "application/xhtml+xml")
_TEXT_TYPES = ("text/", "application/json", "application/xml", "application/x-ndjson", "application/ld+json")
_NO_TEXT = ("image/", "audio/", "video/", "font/", "application/zip", "application/gzip", "application/x-")
_HTML_START = re.compile(rb"^\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body|meta|title)\b", re.I | re.S)
_CHARSET = re.compile(r"charset\s*=\s*[\"']?([\w.:-]+)", re.I)
_PDF_HYPHEN = re.compile(r"(\w)-\n(?=[a-z\u00e0-\u024f])")
_SPACES = re.compile(r"[ \t\f\v\u00a0]+")


@dataclass(frozen=True)
class CaptureText:
    """The text of one payload, or why there is none."""

    status: str  # "ok" | "unreadable"
    kind: str  # "html" | "pdf" | "text" | "other"
    text: str = ""
    charset: str | None = None
    error: str | None = None

    @classmethod
    def unreadable(cls, kind: str, reason: str) -> CaptureText:
        return cls("unreadable", kind, "", None, reason)


def text_key(payload_sha256: str | None, capture_id: str) -> str:
    """The key a payload's text is stored under: its SHA-256, or the capture when the digest is unknown.

    >>> text_key("ab" * 32, "x")[:11], text_key(None, "0b6f3c5e")
    ('sha256:abab', 'capture:0b6f3c5e')
    """
    return f"sha256:{payload_sha256}" if payload_sha256 else f"capture:{capture_id}"


def charset_of(content_type: str | None) -> str | None:
    """The ``charset`` parameter of a Content-Type header.

    >>> charset_of('text/html; charset="ISO-8859-1"')
    'ISO-8859-1'
    """
    match = _CHARSET.search(content_type or "")
    return match.group(1) if match else None


def kind_of(data: bytes, content_type: str | None) -> str:
    """``html``, ``pdf``, ``text`` or ``other``: the bytes' own signature wins over the Content-Type.

    >>> kind_of(b"%PDF-1.4 ...", "text/html"), kind_of(b"<!DOCTYPE html><p>x", None), kind_of(b"notes", "text/plain")
    ('pdf', 'html', 'text')
    >>> kind_of(b"\\x89PNG\\r\\n", "image/png")
    'other'
    """
    head = data[:2048]
    if head.lstrip()[:5] == b"%PDF-":
        return "pdf"
    mime = (content_type or "").split(";", 1)[0].strip().lower()
    if mime in _HTML_TYPES or _HTML_START.match(head):
        return "html"
    if mime == "application/pdf":
        return "pdf"
    if mime.startswith(_NO_TEXT) and mime not in ("application/x-ndjson",):
        return "other"
    if mime.startswith(_TEXT_TYPES) or not mime or mime == "application/octet-stream":
        return "text"
    return "other"


def extract_text(data: bytes, content_type: str | None) -> CaptureText:
    """The text of a payload (content-decoded bytes); never raises for bad content."""
    kind = kind_of(data, content_type)
    mime = (content_type or "").split(";", 1)[0].strip().lower() or "unknown type"
    if len(data) > MAX_BYTES:
        return CaptureText.unreadable(kind, f"payload too large to read ({len(data)} bytes)")
    if not data.strip():
        return CaptureText.unreadable(kind, "empty payload")
    try:
        if kind == "html":
            from archive.claims.decode import decode_with_encoding
            from archive.claims.maintext import blocks_text, main_blocks

            decoded, used = decode_with_encoding(data, charset=charset_of(content_type), html=True)
            text = blocks_text(main_blocks(decoded))
        elif kind == "pdf":
            text, used = pdf_text(data), None
        elif kind == "text":
            from archive.claims.decode import decode_with_encoding

            decoded, used = decode_with_encoding(data, charset=charset_of(content_type), html=False)
            text = _plain(decoded)
        else:
            return CaptureText.unreadable(kind, f"no text in {mime}")
    except CitevaultError as exc:
        return CaptureText.unreadable(kind, str(exc))
    except Exception as exc:  # noqa: BLE001 - a damaged file must not stop a check; say what happened
        return CaptureText.unreadable(kind, f"cannot read {kind}: {type(exc).__name__}: {exc}"[:300])
    if not text.strip():
        reason = "no text layer (scanned PDF?)" if kind == "pdf" else "no main text found"
        return CaptureText.unreadable(kind, reason)
    return CaptureText("ok", kind, text, used, None)


def _plain(text: str) -> str:
    lines = (_SPACES.sub(" ", line).strip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"))
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def pdf_text(data: bytes) -> str:
    """Text of every page (pypdf), pages separated by a blank line, end-of-line hyphenation undone."""
    from pypdf import PdfReader

    logging.getLogger("pypdf").setLevel(logging.ERROR)  # malformed-but-readable files are common
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            raise CitevaultError("encrypted PDF")
        pages = [page.extract_text() or "" for page in reader.pages]
    text = "\n\n".join(_plain(p) for p in pages if p.strip())
    return _PDF_HYPHEN.sub(r"\1", text)


def payload_text(path: Path, offset: int, content_type: str | None) -> CaptureText:
    """Read one payload from its WARC record and extract its text; a damaged record is a verdict, not a crash."""
    try:
        data = read_payload(path, offset)
    except CitevaultError as exc:
        return CaptureText.unreadable("other", str(exc))
    except Exception as exc:  # noqa: BLE001 - a missing or damaged record must not stop a check or a crawl
        return CaptureText.unreadable("other", f"cannot read the WARC record: {type(exc).__name__}: {exc}"[:300])
    return extract_text(data, content_type)


def read_payload(path: Path, offset: int) -> bytes:
    """The content-decoded payload of the record at ``offset`` (bounded by :data:`MAX_BYTES`)."""
    from archive.warc.reader import copy_payload

    out = _Bounded()
    copy_payload(path, offset, out)
    return out.getvalue()


class _Bounded(io.BytesIO):
    """Keeps at most MAX_BYTES + 1 bytes: enough to know a payload is too large without holding it."""

    def write(self, data: bytes) -> int:  # type: ignore[override]
        room = MAX_BYTES + 1 - self.tell()
        if room > 0:
            super().write(bytes(data[:room]))
        return len(data)
