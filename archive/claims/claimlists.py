"""Claim lists (JSON, JSONL, CSV): claims stated explicitly, one per row, streamed and never loaded whole.

A row is an object with the claim's text under one of the names people write (:data:`TEXT_KEYS`: ``text``,
``claim``, ``statement``, or ClaimReview's ``claimReviewed``), what it cites under any of
:data:`SOURCE_KEYS` (``sources``, ``source``, ``url``, ``urls``, ``link``, ``links``, ``citation``: a URL, a
list of URLs, or ``{"url": str, "anchor"?: str}`` objects) and an optional ``quote``. A CSV has the same
column names (any case), a sources cell holding URLs separated by whitespace, ``|`` or ``;``. Consecutive
rows that repeat one claim's text (a spreadsheet's one row per claim/source pair) become one claim with
all their sources (:func:`merge_repeats`). A list can hold a million rows, so each reader is a generator over the bytes, and a bad row raises
:class:`InputError` naming its line (JSON: its position in the list) when iteration reaches it. The first
row is read eagerly, so a file that is not a claim list at all fails in :func:`archive.claims.extract`.

Rules: every source must be an absolute http(s) URL (a list is explicit, so a bad URL is an error rather
than something to skip); anchors stay None unless given; ``quote`` comes from the row, or when the row has
none, from the quotation marks in its text, as for articles.
"""
from __future__ import annotations

import codecs
import csv
import io
import itertools
import json
import re
from typing import Any, Iterator

import ijson

from archive.claims.blocks import normalize_space
from archive.claims.model import ExtractedClaim, SourceRef
from archive.claims.quotes import longest_quote
from archive.claims.urls import normalize
from archive.errors import InputError

_SOURCE_SEPARATORS = re.compile(r"[\s|;]+")
_PINPOINT_LIMIT = 50 * 1024 * 1024  # re-parse with the json module to find an error's line up to this size
_UTF8_CHUNK = 1 << 16
_SHAPE = "expected a list of claims or an object with a 'claims' list"

#: Names of a row's claim text, in the order they are looked for (``claimReviewed``: schema.org ClaimReview).
TEXT_KEYS = ("text", "claim", "statement", "claimReviewed")
#: Names of what a row cites; every one present contributes its URLs.
SOURCE_KEYS = ("sources", "source", "url", "urls", "link", "links", "citation", "citations")
_EXPECTED_TEXT = ", ".join(repr(k) for k in TEXT_KEYS)


def record_claim(record: Any, where: str) -> ExtractedClaim:
    """Turn one row (a mapping) into a claim, or raise InputError naming ``where`` it is.

    >>> record_claim({"text": " Rain  fell. ", "sources": ["https://e.org/a#x", {"url": "https://e.org/b", "anchor": "B"}]}, "line 1")
    ExtractedClaim(text='Rain fell.', quote=None, sources=(SourceRef(url='https://e.org/a', anchor=None), SourceRef(url='https://e.org/b', anchor='B')))
    >>> record_claim({"claim": "Snow fell.", "source": "https://e.org/s"}, "claim 1").sources
    (SourceRef(url='https://e.org/s', anchor=None),)
    >>> record_claim({"title": "x", "link": "https://e.org/"}, "claim 2")
    Traceback (most recent call last):
    ...
    archive.errors.InputError: claim 2: no claim text (found 'title', 'link'; expected one of 'text', 'claim', 'statement', 'claimReviewed')
    >>> record_claim({"text": "x", "source": "ftp://x"}, "line 7")
    Traceback (most recent call last):
    ...
    archive.errors.InputError: line 7: source 'ftp://x' is not an http(s) URL
    """
    if not isinstance(record, dict):
        raise InputError(f"{where}: expected an object with a claim's text ({_EXPECTED_TEXT}), got {_kind(record)}")
    key = _text_key(record)
    if key is None:
        found = ", ".join(repr(k) for k in list(record)[:8]) or "no keys"
        raise InputError(f"{where}: no claim text (found {found}; expected one of {_EXPECTED_TEXT})")
    text = record[key]
    if not isinstance(text, str):
        raise InputError(f"{where}: {key!r} must be a string, got {_kind(text)}")
    text = normalize_space(text)
    if not text:
        raise InputError(f"{where}: {key!r} is empty")
    quote = record.get("quote")
    if quote is not None and not isinstance(quote, str):
        raise InputError(f"{where}: 'quote' must be a string, got {_kind(quote)}")
    quote = normalize_space(quote) if quote is not None else longest_quote(text)
    return ExtractedClaim(text=text, quote=quote or None, sources=_sources(record, where))


def _text_key(record: dict[str, Any]) -> str | None:
    """The key holding the claim's text: the first of :data:`TEXT_KEYS` present (any case), else None."""
    for name in TEXT_KEYS:
        if record.get(name) is not None:
            return name
    lowered = {str(k).lower(): k for k in record}
    for name in TEXT_KEYS:
        if lowered.get(name.lower()) is not None and record[lowered[name.lower()]] is not None:
            return str(lowered[name.lower()])
    return None


def _sources(record: dict[str, Any], where: str) -> tuple[SourceRef, ...]:
    listed: list[Any] = []
    for key in SOURCE_KEYS:
        value = record.get(key)
        if value is None:
            continue
        if isinstance(value, (str, dict)):
            listed.append(value)
        elif isinstance(value, list):
            listed.extend(value)
        else:
            raise InputError(f"{where}: {key!r} must be a URL or a list of URLs, got {_kind(value)}")
    if not listed:
        return ()
    refs: dict[str, SourceRef] = {}
    for item in listed:
        anchor = None
        if isinstance(item, dict):
            anchor = item.get("anchor")
            if anchor is not None:
                if not isinstance(anchor, str):
                    raise InputError(f"{where}: a source 'anchor' must be a string, got {_kind(anchor)}")
                anchor = normalize_space(anchor) or None
            item = item.get("url")
        if not isinstance(item, str):
            raise InputError(f"{where}: a source must be a URL string or {{\"url\": …}}, got {_kind(item)}")
        url = normalize(item)
        if url is None:
            raise InputError(f"{where}: source {item.strip()[:200]!r} is not an http(s) URL")
        if url not in refs:
            refs[url] = SourceRef(url, anchor)
    return tuple(refs.values())


def merge_repeats(claims: Iterator[ExtractedClaim]) -> Iterator[ExtractedClaim]:
    """Consecutive rows repeating a claim's text (and quote) become one claim citing all their sources: a
    spreadsheet lists one row per claim/source pair. Only the row being merged is held (one row read
    ahead), so a million-row list still streams; the same text further apart stays a claim of its own.

    >>> rows = [ExtractedClaim("A.", None, (SourceRef("https://e.org/1"),)),
    ...         ExtractedClaim("A.", None, (SourceRef("https://e.org/2"), SourceRef("https://e.org/1"))),
    ...         ExtractedClaim("B.", None, ())]
    >>> [(c.text, [s.url for s in c.sources]) for c in merge_repeats(iter(rows))]
    [('A.', ['https://e.org/1', 'https://e.org/2']), ('B.', [])]
    """
    key: tuple[str, str | None] | None = None
    sources: dict[str, SourceRef] = {}
    for claim in claims:
        if (claim.text, claim.quote) != key:
            if key is not None:
                yield _claim(key, sources)
            key, sources = (claim.text, claim.quote), {}
        for ref in claim.sources:
            sources.setdefault(ref.url, ref)
    if key is not None:
        yield _claim(key, sources)


def _claim(key: tuple[str, str | None], sources: dict[str, SourceRef]) -> ExtractedClaim:
    return ExtractedClaim(text=key[0], quote=key[1], sources=tuple(sources.values()))


def _kind(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", type(None): "null", bool: "a boolean"}.get(type(value), "a number")


def eager_first(claims: Iterator[ExtractedClaim]) -> Iterator[ExtractedClaim]:
    """Read the first claim now, so a file that is not a claim list fails before iteration starts."""
    first = next(claims, None)
    return claims if first is None else itertools.chain((first,), claims)


# --- reading a buffer as a stream ----------------------------------------------------------------------
_FIRST_BYTE = re.compile(rb"(?:\xef\xbb\xbf)?[ \t\r\n]*(.)", re.S)


class _BufferRaw(io.RawIOBase):
    """A read-only stream over a buffer (bytes, or an mmap of a large claim list) that copies nothing
    up front: ``io.BytesIO(mmap)`` would copy the whole file into memory."""

    def __init__(self, buffer: Any) -> None:
        self._view = memoryview(buffer)
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: len(self._view)}[whence]
        self._pos = max(0, min(base + offset, len(self._view)))
        return self._pos

    def tell(self) -> int:
        return self._pos

    def readinto(self, target: Any) -> int:
        n = min(len(target), len(self._view) - self._pos)
        target[:n] = self._view[self._pos : self._pos + n]
        self._pos += n
        return n

    def close(self) -> None:
        self._view.release()
        super().close()


def buffer_stream(data: Any) -> io.BufferedReader:
    """A buffered binary stream over ``data`` (bytes or mmap)."""
    return io.BufferedReader(_BufferRaw(data), 1 << 16)


# --- JSONL -------------------------------------------------------------------------------------------


def jsonl_claims(data: bytes) -> Iterator[ExtractedClaim]:
    """One JSON object per line; blank lines are skipped."""
    for number, raw in enumerate(buffer_stream(data), 1):
        if number == 1 and raw.startswith(codecs.BOM_UTF8):
            raw = raw[len(codecs.BOM_UTF8) :]
        if not raw.strip():
            continue
        try:
            record = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError:
            raise InputError(f"line {number}: not UTF-8 text (save the file as UTF-8)") from None
        except json.JSONDecodeError as exc:
            raise InputError(f"line {number}: malformed JSON ({exc.msg} at column {exc.colno})") from None
        except (ValueError, RecursionError) as exc:
            raise InputError(f"line {number}: malformed JSON ({_first_line(exc)})") from None
        yield record_claim(record, f"line {number}")


# --- JSON --------------------------------------------------------------------------------------------


def json_header(data: bytes) -> tuple[str, str | None, str | None]:
    """Return ``(items prefix, title, url)`` for a JSON claim list, reading no more than it must.

    The document may name its title after a million claims, so the object form is scanned event by event
    (bounded memory) until title, url and the claims list have all been seen.
    """
    match = _FIRST_BYTE.match(data)
    first = match.group(1) if match else b""
    if first == b"[":
        return "item", None, None
    if first != b"{":
        raise InputError(f"not a JSON claim list: {_SHAPE}")
    title: str | None = None
    url: str | None = None
    seen_claims = False
    try:
        for prefix, event, value in ijson.parse(buffer_stream(data)):
            if prefix in ("title", "url") and event != "map_key":
                if event != "string":
                    raise InputError(f"'{prefix}' must be a string")
                if prefix == "title":
                    title = normalize_space(value) or None
                else:
                    url = value.strip() or None
            elif prefix == "claims" and event != "map_key" and not seen_claims:
                if event != "start_array":
                    raise InputError(f"'claims' must be a list of claims, got {event.replace('start_', '')}")
                seen_claims = True
            if seen_claims and title is not None and url is not None:
                break
    except ijson.JSONError as exc:
        raise _json_error(data, exc) from None
    if not seen_claims:
        raise InputError(f"no 'claims' list in the JSON object: {_SHAPE}")
    return "claims.item", title, url


def json_claims(data: bytes, prefix: str) -> Iterator[ExtractedClaim]:
    """The claims of a JSON list (``prefix`` from :func:`json_header`); a row is named by its position."""
    number = 0
    try:
        for number, record in enumerate(ijson.items(buffer_stream(data), prefix, use_float=True), 1):
            yield record_claim(record, f"claim {number}")
    except ijson.JSONError as exc:
        raise _json_error(data, exc, after=number) from None


def _json_error(data: bytes, exc: Exception, after: int | None = None) -> InputError:
    """A one-line message for malformed JSON, with the line and column when the json module can find them."""
    if len(data) <= _PINPOINT_LIMIT:
        try:
            json.loads(bytes(data).decode("utf-8-sig"))
        except json.JSONDecodeError as located:
            return InputError(f"malformed JSON at line {located.lineno}, column {located.colno}: {located.msg}")
        except (ValueError, RecursionError):
            pass
    where = f" after claim {after}" if after else ""
    return InputError(f"malformed JSON{where}: {_first_line(exc)}")


def _first_line(exc: BaseException) -> str:
    message = exc.args[0] if exc.args else str(exc)
    if isinstance(message, bytes):
        message = message.decode("utf-8", "replace")
    return str(message).strip().split("\n", 1)[0] or type(exc).__name__


# --- CSV ---------------------------------------------------------------------------------------------


def csv_claims(data: bytes, charset: str | None) -> Iterator[ExtractedClaim]:
    """Rows of a CSV file whose header names a claim-text column (any of :data:`TEXT_KEYS`, any case)."""
    encoding = _csv_encoding(data, charset)
    if not encoding.startswith(("utf-16", "utf-32")) and b"\x00" in data:
        raise InputError("not text: the CSV holds NUL bytes (is it a binary file?)")
    stream = io.TextIOWrapper(buffer_stream(data), encoding=encoding, newline="")
    try:
        first_line = stream.readline()
        stream.seek(0)
    except UnicodeError:
        raise InputError("not text in the declared encoding (save the CSV as UTF-8)") from None
    reader = csv.reader(stream, delimiter=_delimiter(first_line), strict=True)
    try:
        header = [name.strip().lower() for name in next(reader, [])]
    except (csv.Error, UnicodeError) as exc:
        raise InputError(f"line 1: malformed CSV ({_first_line(exc)})") from None
    text_column = next((name.lower() for name in TEXT_KEYS if name.lower() in header), None)
    if text_column is None:
        shown = ", ".join(repr(h) for h in header[:8]) or "none"
        raise InputError(f"no claim-text column in the CSV header (columns: {shown}); "
                         f"name one {_EXPECTED_TEXT} in a header row")
    return _csv_rows(reader, header, text_column)


def _csv_rows(reader: Any, header: list[str], text_column: str) -> Iterator[ExtractedClaim]:
    while True:
        try:
            row = next(reader, None)
        except (csv.Error, UnicodeError) as exc:
            raise InputError(f"line {reader.line_num}: malformed CSV ({_first_line(exc)})") from None
        if row is None:
            return
        if not any(cell.strip() for cell in row):
            continue
        where = f"line {reader.line_num}"
        if len(row) > len(header):
            raise InputError(f"{where}: {len(row)} fields but the header names {len(header)}")
        cells = {name: value.strip() for name, value in zip(header, row) if value.strip()}
        record: dict[str, Any] = {"text": cells.get(text_column, "")}
        if "quote" in cells:
            record["quote"] = cells["quote"]
        for key in SOURCE_KEYS:
            if key in cells:
                record[key] = [s for s in _SOURCE_SEPARATORS.split(cells[key]) if s]
        yield record_claim(record, where)


def _csv_encoding(data: bytes, charset: str | None) -> str:
    """The CSV's encoding: declared, BOM, valid UTF-8, else detected (checked without decoding it whole)."""
    for candidate in (charset, "utf-8-sig" if data[:3] == codecs.BOM_UTF8 else None):
        if candidate:
            try:
                return codecs.lookup(candidate).name
            except LookupError:
                pass
    if _is_utf8(data):
        return "utf-8"
    sample = data[: 1 << 20]
    return codecs.lookup(_detected(sample)).name


def _detected(sample: bytes) -> str:
    if b"\x00" in sample:
        raise InputError("not text: the CSV holds binary data (NUL bytes)")
    from charset_normalizer import from_bytes

    best = from_bytes(sample).best()
    if best is None:
        raise InputError("not text: cannot tell the CSV's encoding (save it as UTF-8)")
    return best.encoding


def _is_utf8(data: bytes) -> bool:
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        for start in range(0, len(data), _UTF8_CHUNK):
            decoder.decode(data[start : start + _UTF8_CHUNK])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _delimiter(first_line: str) -> str:
    """The header's separator: the most frequent of comma, semicolon and tab (comma on a tie).

    >>> _delimiter("text;quote;sources"), _delimiter("text,quote"), _delimiter("text")
    (';', ',', ',')
    """
    counts = {sep: first_line.count(sep) for sep in (",", ";", "\t")}
    best = max(counts, key=lambda sep: counts[sep])
    return best if counts[best] > counts[","] else ","
