"""Claim lists (JSON, JSONL, CSV): claims stated explicitly, one per row, streamed and never loaded whole.

A row is ``{"text": str, "quote"?: str, "sources"?: [str | {"url": str, "anchor"?: str}], "source"?: str,
"url"?: str}`` (CSV: the same column names, ``sources`` holding URLs separated by whitespace, ``|`` or
``;``). A list can hold a million rows, so each reader is a generator over the bytes, and a bad row raises
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


def record_claim(record: Any, where: str) -> ExtractedClaim:
    """Turn one row (a mapping) into a claim, or raise InputError naming ``where`` it is.

    >>> record_claim({"text": " Rain  fell. ", "sources": ["https://e.org/a#x", {"url": "https://e.org/b", "anchor": "B"}]}, "line 1")
    ExtractedClaim(text='Rain fell.', quote=None, sources=(SourceRef(url='https://e.org/a', anchor=None), SourceRef(url='https://e.org/b', anchor='B')))
    >>> record_claim({"text": "x", "source": "ftp://x"}, "line 7")
    Traceback (most recent call last):
    ...
    archive.errors.InputError: line 7: source 'ftp://x' is not an http(s) URL
    """
    if not isinstance(record, dict):
        raise InputError(f"{where}: expected an object with a 'text' string, got {_kind(record)}")
    text = record.get("text")
    if not isinstance(text, str):
        raise InputError(f"{where}: 'text' must be a string, got {_kind(text)}")
    text = normalize_space(text)
    if not text:
        raise InputError(f"{where}: 'text' is empty")
    quote = record.get("quote")
    if quote is not None and not isinstance(quote, str):
        raise InputError(f"{where}: 'quote' must be a string, got {_kind(quote)}")
    quote = normalize_space(quote) if quote is not None else longest_quote(text)
    return ExtractedClaim(text=text, quote=quote or None, sources=_sources(record, where))


def _sources(record: dict[str, Any], where: str) -> tuple[SourceRef, ...]:
    listed = record.get("sources")
    if listed is None:
        listed = []
    elif isinstance(listed, (str, dict)):
        listed = [listed]
    elif not isinstance(listed, list):
        raise InputError(f"{where}: 'sources' must be a list of URLs, got {_kind(listed)}")
    for key in ("source", "url"):
        if record.get(key) is not None:
            listed = listed + [record[key]]
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
    """Rows of a CSV file with a header naming at least a ``text`` column."""
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
    if "text" not in header:
        shown = ", ".join(repr(h) for h in header[:8]) or "none"
        raise InputError(f"no 'text' column in the CSV header (columns: {shown}); add a header row naming it")
    return _csv_rows(reader, header)


def _csv_rows(reader: Any, header: list[str]) -> Iterator[ExtractedClaim]:
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
        record: dict[str, Any] = {"text": cells.get("text", "")}
        if "quote" in cells:
            record["quote"] = cells["quote"]
        record["sources"] = [s for s in _SOURCE_SEPARATORS.split(cells.get("sources", "")) if s]
        for key in ("source", "url"):
            if key in cells:
                record[key] = cells[key]
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
