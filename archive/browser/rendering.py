"""A rendering's two ``resource`` records and its ``renderings`` row, built the same way by the browser
worker (:mod:`archive.browser.worker`), the test helper and ``reindex`` (from the records' headers alone).

The screenshot (``urn:screenshot:{url}``, PNG) and the rendered text (``urn:text:{url}``) both carry
WARC-Refers-To (the raw capture they render), WARC-Concurrent-To (the browser's response for the page) and
``Citevault-Rendering`` (the rendering's id), so each record alone says which row it belongs to.
"""
from __future__ import annotations

import struct
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from archive import ids
from archive.clock import naive_utc
from archive.warc.builder import (
    CRAWL_FIELD,
    RENDERING_FIELD,
    ROLE_FIELD,
    SCREENSHOT_URN,
    TEXT_URN,
    BuiltRecord,
    RecordFactory,
)

if TYPE_CHECKING:
    from archive.warc.store import WarcStore, WrittenRecord

BROWSER_FIELD = "Citevault-Browser"
CUT_FIELD = "Citevault-Cut"
SIZE_FIELD = "Citevault-Screenshot-Size"  # "1280x2400"
CHARS_FIELD = "Citevault-Text-Chars"
#: ``role`` of the capture rows of a rendering's records (Citevault-Role): they are captures like any record, so
#: ``verify`` re-hashes them and exports carry them, but no source's capture and no memento of the page's URL.
SCREENSHOT_ROLE = "screenshot"
TEXT_ROLE = "rendered-text"


@dataclass
class RenderedPage:
    """What a browser made of one raw capture, as plain values."""

    url: str
    refers_to: str  #: WARC-Record-ID of the raw capture's response record
    concurrent_to: str | None  #: WARC-Record-ID of the browser's own response for the page
    screenshot: bytes | None
    text: str | None
    browser: str | None = None
    cut: str | None = None
    crawl_id: str | None = None
    moment: datetime = field(default_factory=lambda: datetime.now(UTC))


def png_size(data: bytes) -> tuple[int, int] | None:
    """Width and height from a PNG's IHDR chunk.

    >>> png_size(bytes.fromhex("89504e470d0a1a0a0000000d49484452") + struct.pack(">II", 3, 2))
    (3, 2)
    """
    if len(data) < 24 or data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        return None
    width, height = struct.unpack(">II", data[16:24])
    return int(width), int(height)


def build_records(factory: RecordFactory, page: RenderedPage) -> tuple[str, list[tuple[str, BuiltRecord]]]:
    """The rendering's id and its records (``screenshot``, ``text``), the screenshot first."""
    common = {BROWSER_FIELD: page.browser, CUT_FIELD: page.cut, CRAWL_FIELD: page.crawl_id}
    shot_id, text_id = factory.new_id(), factory.new_id()
    rendering_id = ids.capture_id(shot_id if page.screenshot is not None else text_id)
    common[RENDERING_FIELD] = rendering_id
    out: list[tuple[str, BuiltRecord]] = []
    if page.screenshot is not None:
        size = png_size(page.screenshot)
        extra = {k: v for k, v in {**common, ROLE_FIELD: SCREENSHOT_ROLE,
                                   SIZE_FIELD: f"{size[0]}x{size[1]}" if size else None}.items() if v}
        out.append(("screenshot", factory.rendering_part(
            SCREENSHOT_URN + page.url, page.screenshot, "image/png", page.moment, refers_to=page.refers_to,
            concurrent_to=page.concurrent_to, record_id=shot_id, extra=extra)))
    if page.text is not None:
        data = page.text.encode("utf-8")
        extra = {k: v for k, v in {**common, ROLE_FIELD: TEXT_ROLE, CHARS_FIELD: str(len(page.text))}.items() if v}
        out.append(("text", factory.rendering_part(
            TEXT_URN + page.url, data, "text/plain; charset=utf-8", page.moment, refers_to=page.refers_to,
            concurrent_to=page.concurrent_to, record_id=text_id, extra=extra)))
    return rendering_id, out


def is_rendering(uri: str) -> bool:
    """Is a ``resource`` record with this WARC-Target-URI part of a rendering?"""
    return uri.startswith((SCREENSHOT_URN, TEXT_URN))


def row_part(headers: Mapping[str, str | None], warc_file: str, offset: int, length: int,
             rendered_at: datetime) -> dict[str, Any] | None:
    """What one rendering record says about its row (keys of ``renderings``), from its WARC headers
    (lower-case names); None for a record that is not part of a rendering."""
    uri = headers.get("warc-target-uri") or ""
    if uri.startswith(SCREENSHOT_URN):
        kind, url = "screenshot", uri[len(SCREENSHOT_URN):]
    elif uri.startswith(TEXT_URN):
        kind, url = "text", uri[len(TEXT_URN):]
    else:
        return None
    refers = headers.get("warc-refers-to")
    rendering_id = headers.get(RENDERING_FIELD.lower()) or ids.capture_id(headers.get("warc-record-id") or "")
    if not refers or not rendering_id:
        return None
    concurrent = headers.get("warc-concurrent-to")
    part: dict[str, Any] = {
        "id": rendering_id, "capture_id": ids.capture_id(refers),
        "browser_capture_id": ids.capture_id(concurrent) if concurrent else None, "url": url,
        "crawl_id": headers.get(CRAWL_FIELD.lower()), "browser": headers.get(BROWSER_FIELD.lower()),
        "cut": headers.get(CUT_FIELD.lower()), "rendered_at": rendered_at,
        f"{kind}_warc_file": warc_file, f"{kind}_offset": offset, f"{kind}_length": length,
    }
    if kind == "screenshot":
        size = (headers.get(SIZE_FIELD.lower()) or "").split("x")
        if len(size) == 2 and all(s.isdigit() for s in size):
            part["width"], part["height"] = int(size[0]), int(size[1])
    else:
        chars = headers.get(CHARS_FIELD.lower()) or ""
        part["text_chars"] = int(chars) if chars.isdigit() else None
    return part


ROW_KEYS = ("id", "capture_id", "browser_capture_id", "url", "crawl_id", "screenshot_warc_file",
            "screenshot_offset", "screenshot_length", "text_warc_file", "text_offset", "text_length",
            "text_chars", "width", "height", "browser", "rendered_at", "cut")


def merge_parts(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """One ``renderings`` row from the parts of its records (either may be missing)."""
    row: dict[str, Any] = dict.fromkeys(ROW_KEYS)
    for part in parts:
        for key, value in part.items():
            if value is not None and (row[key] is None or key == "rendered_at" and value < row[key]):
                row[key] = value
    return row


class _Headers(Protocol):
    def get(self, name: str) -> str | None: ...


def header_parts(headers: _Headers) -> dict[str, str | None]:
    """The headers :func:`row_part` reads, from any record reader's ``get`` (lower-case names)."""
    names = ("warc-target-uri", "warc-refers-to", "warc-record-id", "warc-concurrent-to", RENDERING_FIELD,
             CRAWL_FIELD, BROWSER_FIELD, CUT_FIELD, SIZE_FIELD, CHARS_FIELD)
    return {name.lower(): headers.get(name.lower()) for name in names}


@dataclass
class WrittenRendering:
    """A rendering written: its ``renderings`` row and the capture rows of its records, for the caller to
    insert (records first, rows after: the index never points at bytes that are not there)."""

    row: dict[str, Any]
    captures: list[dict[str, Any]]


def write_rendering(store: WarcStore, page: RenderedPage) -> WrittenRendering:
    """Write a rendering's records (flushed) and return the rows that point to them."""
    from archive.index.rows import capture_row

    rendering_id, built = build_records(store.factory, page)
    written: list[WrittenRecord] = store.write_group([b.record for _, b in built])
    store.flush()
    parts, captures = [], []
    moment = naive_utc(page.moment)
    for (kind, b), where in zip(built, written):
        headers = {k.lower(): v for k, v in b.record.rec_headers.headers}  # type: ignore[attr-defined]
        part = row_part(headers, where.warc_file, where.offset, where.length, moment)
        if part is not None:
            parts.append(part)
        captures.append(capture_row(
            record_id=b.record_id, record_type="resource", url=headers["warc-target-uri"], fetched_at=moment,
            warc_file=where.warc_file, warc_offset=where.offset, warc_length=where.length,
            content_type=headers.get("content-type"), payload_digest=b.payload_digest,
            payload_sha256=b.payload_sha256, payload_length=b.payload_length, crawl_id=page.crawl_id,
            role=SCREENSHOT_ROLE if kind == "screenshot" else TEXT_ROLE))
    row = merge_parts(parts)
    row["id"] = rendering_id
    return WrittenRendering(row, captures)
