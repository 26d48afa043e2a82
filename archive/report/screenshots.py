"""What the report says about browser renderings (issue 11): the ``rendering`` of a capture in the report data,
its words in Markdown and HTML, and the thumbnails the HTML report embeds.

The HTML report stays one self-contained file: a source's evidence capture with a screenshot gets a small
preview (:mod:`archive.thumbnails`: the top of the page, 320 px wide, JPEG) as a ``data:`` URI, linked to
the full screenshot on the replay base (``{replay_base}/captures/{id}/screenshot``). At most
:data:`MAX_PREVIEWS` previews per report (about 30 KB each), the first ones in reading order; the others
keep their link, and the report says how many were left out.
"""
from __future__ import annotations

import base64
from collections.abc import Callable, Mapping
from typing import Any

from archive.errors import CitevaultError

#: Previews embedded in one HTML report at most (the file stays a few MB at worst).
MAX_PREVIEWS = 60


def rendering_data(cap: Mapping[str, Any], replay_base: str | None) -> dict[str, Any] | None:
    """The report's ``rendering`` of a claim JSON capture: what the browser made of it and where to see it.

    >>> r = {"id": "r1", "rendered_at": "2026-12-04T17:00:00Z", "browser": "chromium 131", "width": 1280,
    ...      "height": 4000, "text_chars": 5000, "cut": None, "screenshot_warc_file": "a.warc.gz", "text_warc_file": None}
    >>> rendering_data({"id": "c1", "rendering": r}, "https://ev.example/")["screenshot_url"]
    'https://ev.example/captures/c1/screenshot'
    >>> rendering_data({"id": "c1", "rendering": None}, None) is None
    True
    """
    found = cap.get("rendering")
    if not found:
        return None
    base = (replay_base or "").rstrip("/")
    return {
        "id": found["id"], "rendered_at": found["rendered_at"], "browser": found["browser"],
        "screenshot": found["screenshot_warc_file"] is not None, "text": found["text_warc_file"] is not None,
        "width": found["width"], "height": found["height"], "text_chars": found["text_chars"], "cut": found["cut"],
        "screenshot_url": f"{base}/captures/{cap['id']}/screenshot" if base and found["screenshot_warc_file"] else None,
        "text_url": f"{base}/captures/{cap['id']}/text" if base and found["text_warc_file"] else None,
    }


def rendering_label(rendering: Mapping[str, Any] | None, verification: Mapping[str, Any] | None) -> str | None:
    """One line about a rendered evidence capture, and which text its verdict is from.

    >>> rendering_label({"width": 1280, "height": 4000, "browser": "chromium 131", "cut": None,
    ...                  "rendered_at": "2026-12-04T17:00:00Z"}, {"text": "rendered"})
    'rendered by chromium 131 (screenshot 1280×4000 px); verdict from the rendered text'
    >>> rendering_label(None, {"text": "raw"}) is None
    True
    """
    if not rendering:
        return None
    size = f" (screenshot {rendering['width']}×{rendering['height']} px)" if rendering.get("width") else ""
    line = f"rendered by {rendering.get('browser') or 'a browser'}{size}"
    if rendering.get("cut"):
        line += f", cut short ({rendering['cut']})"
    if verification and verification.get("text"):
        line += f"; verdict from the {verification['text']} text"
    return line


def report_previews(report: Mapping[str, Any], preview: Callable[[str], bytes | None],
                    limit: int = MAX_PREVIEWS) -> tuple[dict[str, str], int]:
    """``({capture id: data URI}, how many were left out)`` for the evidence captures of ``report`` with a
    screenshot, in reading order; ``preview(capture_id)`` makes one (``Archive.screenshot_preview``)."""
    from archive.thumbnails import MEDIA_TYPE

    wanted: list[str] = []
    for claim in report["claims"]:
        for source in claim["sources"]:
            evidence = source.get("evidence") or {}
            shot = evidence.get("rendering")
            if shot and shot.get("screenshot") and evidence["id"] not in wanted:
                wanted.append(evidence["id"])
    out: dict[str, str] = {}
    for capture_id in wanted[:limit]:
        try:
            data = preview(capture_id)
        except CitevaultError:  # no screenshot after all, or its WARC file moved: the link stays
            data = None
        if data is not None:
            out[capture_id] = f"data:{MEDIA_TYPE};base64,{base64.b64encode(data).decode('ascii')}"
    return out, max(0, len(wanted) - limit)
