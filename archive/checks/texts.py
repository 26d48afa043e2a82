"""The text of a capture's payload: main text of HTML, text of PDF pages, plain text.

What kind of payload it is comes from the bytes first (``%PDF-`` and HTML start tags are unmistakable),
then from the Content-Type; the charset from the Content-Type header, a BOM, ``<meta>``, UTF-8, then
detection (:mod:`archive.claims.decode`). Whatever cannot be read as text (images, archives, scanned PDFs
without a text layer, damaged files) gets ``status = "unreadable"`` and a one-line reason: a verdict of
``unreadable`` is an answer too.

Texts are stored once per payload (keyed by the payload's SHA-256, see :func:`text_key`) in the
``capture_texts`` table, so re-checking, reports and lookups never parse a WARC record again.

Bounded by size: of an HTML or plain-text payload only the first :data:`READ_LIMIT` bytes are parsed (cut
back to a tag or line boundary), the rest is streamed through to be counted and never held in memory, so a
64 MiB page costs what a 2 MiB one does. Such a text is ``partial``: :attr:`CaptureText.read_bytes` and
:attr:`CaptureText.payload_bytes` say how much was read, and every verdict on it says so (``text_seen`` in
``show --json``). A PDF is read whole up to :data:`MAX_BYTES` (its index is at its end), its pages' text up
to :data:`TEXT_LIMIT` characters.
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
EXTRACTOR = "citevault-text/2"
#: PDFs larger than this are not parsed (DOWNLOAD_MAXSIZE is 100 MiB; no article is that large).
MAX_BYTES = 64 * 1024 * 1024
#: Of HTML and plain text, only this prefix is parsed (an article's text comes early; about 1 s of work).
READ_LIMIT = 2 * 1024 * 1024
#: PDF text past this many characters is not extracted (pages are read in order until then).
TEXT_LIMIT = 2_000_000
_SNIFF = 2048  # bytes kind_of looks at
_PARTIAL = re.compile(r"partial: read the first (\d+) of (\d+) bytes")

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
    #: Set when only part of the payload was read: bytes parsed, and the payload's size.
    read_bytes: int | None = None
    payload_bytes: int | None = None

    @classmethod
    def unreadable(cls, kind: str, reason: str) -> CaptureText:
        return cls("unreadable", kind, "", None, reason)

    @property
    def partial(self) -> bool:
        return self.read_bytes is not None

    def stored_note(self) -> str | None:
        """What goes in ``capture_texts.error``: the reason, or for a partial text how much was read."""
        if self.status == "ok" and self.partial:
            return f"partial: read the first {self.read_bytes} of {self.payload_bytes} bytes"
        return self.error

    @classmethod
    def from_stored(cls, status: str, kind: str, text: str, charset: str | None, note: str | None) -> CaptureText:
        """The inverse of :meth:`stored_note`.

        >>> t = CaptureText("ok", "html", "x", None, None, 2097152, 67108864)
        >>> CaptureText.from_stored("ok", "html", "x", None, t.stored_note()) == t
        True
        """
        found = _PARTIAL.fullmatch(note or "") if status == "ok" else None
        if found:
            return cls(status, kind, text, charset, None, int(found.group(1)), int(found.group(2)))
        return cls(status, kind, text, charset, note)

    def seen(self) -> dict[str, int] | None:
        """``text_seen`` of a verdict: None when the whole payload was read.

        >>> CaptureText("ok", "html", "abc", None, None, 2097152, 67108864).seen()
        {'chars': 3, 'bytes_read': 2097152, 'payload_bytes': 67108864}
        """
        if not self.partial:
            return None
        return {"chars": len(self.text), "bytes_read": self.read_bytes or 0, "payload_bytes": self.payload_bytes or 0}


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


def extract_text(data: bytes, content_type: str | None, payload_bytes: int | None = None) -> CaptureText:
    """The text of a payload (content-decoded bytes); never raises for bad content.

    ``payload_bytes``: the payload's whole size when ``data`` is only its first bytes (see
    :func:`payload_text`); longer HTML or text is cut here to :data:`READ_LIMIT` too.
    """
    kind = kind_of(data, content_type)
    mime = (content_type or "").split(";", 1)[0].strip().lower() or "unknown type"
    size = len(data) if payload_bytes is None else payload_bytes
    if kind == "pdf" and size > MAX_BYTES:
        return CaptureText.unreadable(kind, f"payload too large to read ({size} bytes)")
    if not data.strip():
        return CaptureText.unreadable(kind, "empty payload")
    read: int | None = None
    if kind in ("html", "text") and (size > len(data) or len(data) > READ_LIMIT):
        data = cut_prefix(data[:READ_LIMIT], kind)
        read = len(data)
    try:
        if kind == "html":
            from archive.claims.decode import decode_with_encoding
            from archive.claims.maintext import blocks_text, main_blocks

            decoded, used = decode_with_encoding(data, charset=charset_of(content_type), html=True)
            text = blocks_text(main_blocks(decoded))
        elif kind == "pdf":
            text, used = pdf_text(data), None
            if len(text) > TEXT_LIMIT:
                text, read = text[:TEXT_LIMIT], len(data)
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
        if read is not None:
            reason += f" in the first {read} of {size} bytes"
        return CaptureText.unreadable(kind, reason)
    if read is None:
        return CaptureText("ok", kind, text, used, None)
    return CaptureText("ok", kind, text, used, None, read, size)


def cut_prefix(data: bytes, kind: str) -> bytes:
    """A prefix cut back to the last tag start (HTML) or line end (text) in its last 64 KiB, so no tag or
    multi-byte character is split.

    >>> cut_prefix(b"<p>one</p><p>tw", "html"), cut_prefix(b"one\\ntw", "text")
    (b'<p>one</p>', b'one\\n')
    """
    mark = data.rfind(b"<" if kind == "html" else b"\n", max(0, len(data) - 65536))
    if mark <= 0:
        return data
    return data[:mark] if kind == "html" else data[:mark + 1]


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
    """Read one payload from its WARC record and extract its text; a damaged record is a verdict, not a crash.

    Only a bounded prefix is held in memory (see the module docstring); the rest is streamed and counted."""
    try:
        data, size = read_payload_head(path, offset, content_type)
    except CitevaultError as exc:
        if path.name.endswith(".open") and not path.exists():  # closed (renamed) since it was resolved
            return payload_text(path.with_name(path.name[: -len(".open")]), offset, content_type)
        return CaptureText.unreadable("other", str(exc))
    except Exception as exc:  # noqa: BLE001 - a missing or damaged record must not stop a check or a crawl
        return CaptureText.unreadable("other", f"cannot read the WARC record: {type(exc).__name__}: {exc}"[:300])
    return extract_text(data, content_type, size)


def read_payload_head(path: Path, offset: int, content_type: str | None,
                      limit: int | None = None) -> tuple[bytes, int]:
    """The first bytes of the content-decoded payload at ``offset`` and the payload's size.

    How many: ``limit``, or by kind: :data:`READ_LIMIT` (+1, to know it was cut) for HTML and text,
    :data:`MAX_BYTES` (+1) for PDF, enough to tell the kind for the rest (no text in it). Past that, the
    payload is read in chunks and only counted."""
    from archive.warc.reader import open_record

    with open_record(path, offset) as record:
        kept: list[bytes] = []
        held = size = 0
        keep = limit
        for chunk in record.chunks():
            size += len(chunk)
            if keep is None and held + len(chunk) >= _SNIFF:
                head = b"".join(kept) + chunk
                kind = kind_of(head, content_type)
                keep = {"html": READ_LIMIT + 1, "text": READ_LIMIT + 1, "pdf": MAX_BYTES + 1}.get(kind, _SNIFF)
            room = (keep if keep is not None else _SNIFF) - held
            if room > 0 or keep is None:
                part = chunk if keep is None else chunk[:room]
                kept.append(bytes(part))
                held += len(part)
    return b"".join(kept), size


def read_payload(path: Path, offset: int, limit: int = MAX_BYTES + 1) -> bytes:
    """The first ``limit`` bytes of the content-decoded payload of the record at ``offset`` (by default
    enough to know a payload is larger than :data:`MAX_BYTES` without holding it)."""
    return read_payload_head(path, offset, None, limit)[0]
