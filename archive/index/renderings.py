"""Reads of the ``renderings`` table: a raw capture's browser rendering (issue 11, :mod:`archive.browser`).

A rendering is what a browser made of one raw capture's page: a full-page screenshot and the rendered text
(``document.body.innerText``), both ``resource`` records in the WARC files. The web UI, the report and the
quote checks find them here by the raw capture's id; the bytes are read back with
:func:`archive.warc.reader.open_record` from the (file, offset) pairs these rows hold.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TypedDict, cast

from archive.clock import iso_time
from archive.index.statements import Statements, statements

if TYPE_CHECKING:
    from sqlalchemy import Connection

_COLUMNS = ("id", "capture_id", "browser_capture_id", "url", "crawl_id", "screenshot_warc_file",
            "screenshot_offset", "screenshot_length", "text_warc_file", "text_offset", "text_length",
            "text_chars", "width", "height", "browser", "rendered_at", "cut")
_SELECT = f"SELECT {', '.join(_COLUMNS)} FROM renderings"


class Rendering(TypedDict):
    """One rendering of capture ``capture_id`` (a row of ``renderings``, ``rendered_at`` as ISO-8601 UTC)."""

    id: str
    capture_id: str  #: the raw (Scrapy) capture it renders: WARC-Refers-To of its records
    browser_capture_id: str | None  #: the browser's own response for the page: WARC-Concurrent-To
    url: str
    crawl_id: str | None
    screenshot_warc_file: str | None  #: the PNG's ``resource`` record (``urn:screenshot:{url}``)
    screenshot_offset: int | None
    screenshot_length: int | None
    text_warc_file: str | None  #: the rendered text's ``resource`` record (``urn:text:{url}``)
    text_offset: int | None
    text_length: int | None
    text_chars: int | None
    width: int | None  #: screenshot size in pixels
    height: int | None
    browser: str | None  #: e.g. ``chromium 131.0.6778.85``
    rendered_at: str
    cut: str | None  #: why the rendering stopped early (``time``), None when the page finished


def _shape(row: Any) -> Rendering:
    values = dict(zip(_COLUMNS, row))
    values["rendered_at"] = iso_time(values["rendered_at"])
    return cast(Rendering, values)


def rendering_for(conn: Connection | Statements, capture_id: str) -> Rendering | None:
    """The newest rendering of ``capture_id``, or of the original a revisit refers to; None without one."""
    run = statements(conn)
    newest = f"{_SELECT} WHERE capture_id = :c ORDER BY rendered_at DESC LIMIT 1"
    rows = run.rows(newest, {"c": capture_id})
    if not rows:
        original = run.scalar("SELECT refers_to FROM captures WHERE id = :c AND refers_to IS NOT NULL",
                              {"c": capture_id})
        if original:
            rows = run.rows(newest, {"c": original})
    return _shape(rows[0]) if rows else None


def renderings_for(conn: Connection | Statements, capture_ids: Sequence[str]) -> dict[str, Rendering]:
    """The newest rendering of each of ``capture_ids`` that has one (a list page's thumbnails, one query)."""
    if not capture_ids:
        return {}
    found: dict[str, Rendering] = {}
    for row in statements(conn).rows(f"{_SELECT} WHERE capture_id IN :ids ORDER BY rendered_at",
                                     {"ids": list(capture_ids)}):
        shaped = _shape(row)
        found[shaped["capture_id"]] = shaped  # later rows win: the newest
    return found
