"""Small previews of a browser rendering's full-page screenshot (issue 11), for the web UI and the HTML report.

A full-page screenshot is as tall as the page (a news article: 1280 x 8000 pixels or more, a few MB), too big
to show beside each capture or to embed in a report. The preview is the **top of the page** (what a reader
saw first) scaled to :data:`WIDTH` pixels: the screenshot cropped to at most :data:`ASPECT` times its width,
then downscaled, as a JPEG (a fraction of a PNG's size at this scale). The full screenshot stays one click
away. Pillow decodes the PNG; a screenshot over :data:`MAX_PIXELS` (or not a PNG) gets no preview rather
than a decompression bomb.
"""
from __future__ import annotations

import io
import threading
import warnings
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

#: Width of a preview in pixels.
WIDTH = 320
#: A preview is at most this many times as tall as it is wide (the rest of the page is cut off).
ASPECT = 1.25
#: Screenshots with more pixels than this get no preview (about 150 MB decoded).
MAX_PIXELS = 50_000_000
#: Screenshots larger than this (bytes) are not read for a preview.
MAX_BYTES = 32 * 1024 * 1024
MEDIA_TYPE = "image/jpeg"


def preview_size(width: int, height: int, target: int = WIDTH) -> tuple[int, int, int]:
    """``(cropped height, preview width, preview height)`` of a ``width`` x ``height`` screenshot.

    >>> preview_size(1280, 8000), preview_size(1280, 600), preview_size(200, 100)
    ((1600, 320, 400), (600, 320, 150), (100, 200, 100))
    """
    crop = min(height, round(width * ASPECT))
    scale = min(1.0, target / width)
    return crop, max(1, round(width * scale)), max(1, round(crop * scale))


def _decode_top(img: Any, rows: int) -> None:
    """Make Pillow decode only the first ``rows`` rows of a non-interlaced PNG (its rows are stored top to
    bottom): a preview of a page 8000 pixels tall then decodes 1600 of them. Interlaced PNGs and any
    surprise in Pillow's tile list are left alone (the whole image is decoded)."""
    tiles = getattr(img, "tile", None)
    if rows >= img.size[1] or img.info.get("interlace") or not tiles or len(tiles) != 1 or not hasattr(img, "_size"):
        return
    tile = tiles[0]
    if getattr(tile, "codec_name", None) != "zip" or tuple(tile.extents) != (0, 0, img.size[0], img.size[1]):
        return
    img.tile = [tile._replace(extents=(0, 0, img.size[0], rows))]
    img._size = (img.size[0], rows)


def thumbnail(png: bytes, target: int = WIDTH) -> bytes | None:
    """A JPEG preview of a PNG screenshot, None when it is no PNG Pillow can read or too large."""
    from PIL import Image

    if len(png) > MAX_BYTES or not png.startswith(b"\x89PNG\r\n\x1a\n"):
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(png), formats=["PNG"]) as img:
                width, height = img.size
                if width < 1 or height < 1 or width * height > MAX_PIXELS:
                    return None
                crop, out_w, out_h = preview_size(width, height, target)
                _decode_top(img, crop)
                small = img.crop((0, 0, width, crop)).convert("RGB").resize((out_w, out_h), Image.Resampling.LANCZOS)
    except (OSError, ValueError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        return None
    out = io.BytesIO()
    small.save(out, "JPEG", quality=72, optimize=True)
    return out.getvalue()


#: Previews kept in memory (a screenshot's rendering never changes: its id is its record's), about 15 KB each.
CACHE_ENTRIES = 256
_cache: OrderedDict[Hashable, bytes | None] = OrderedDict()
_lock = threading.Lock()


def cached(key: Hashable, make: Callable[[], bytes | None]) -> bytes | None:
    """``make()``, remembered under ``key`` (least recently used out first): the web UI shows the same
    thumbnails on the claim, source and capture pages, and decoding a tall PNG takes a tenth of a second."""
    with _lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    made = make()
    with _lock:
        _cache[key] = made
        while len(_cache) > CACHE_ENTRIES:
            _cache.popitem(last=False)
    return made
