"""Rebuild the binary files of the styled test page (tests/site/styled/): its PNGs and its web font.

They are committed; this script says exactly how they were made (all our own work, free to ship) and
rebuilds them byte for byte::

    pip install --target /tmp/ft fonttools brotli    # only to rebuild the font
    PYTHONPATH=/tmp/ft python tests/site/styled/make_assets.py

* ``img/*.png``: RGB PNGs of solid colour blocks (stdlib zlib only), each image its own colours, so a
  missing or swapped image shows in a screenshot.
* ``fonts/blocks.woff2``: "Citevault Blocks", a WOFF2 font whose every printable ASCII glyph is a solid bar
  whose height depends on the character: a headline set in it looks nothing like any fallback font, so a
  font that did not load shows in a screenshot. Built with fontTools' FontBuilder (WOFF2 needs brotli).

Nothing here runs at import time (pytest imports every module under tests/ for doctests).
"""
from __future__ import annotations

import struct
import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent

Colour = tuple[int, int, int]


def png(width: int, height: int, blocks: list[list[Colour]]) -> bytes:
    """A ``width`` x ``height`` RGB PNG: a grid of solid blocks (``blocks[row][column]``).

    >>> png(4, 2, [[(255, 0, 0), (0, 0, 255)]])[:8]
    b'\\x89PNG\\r\\n\\x1a\\n'
    """
    rows = []
    for y in range(height):
        line = blocks[y * len(blocks) // height]
        row = b"".join(bytes(line[x * len(line) // width]) for x in range(width))
        rows.append(b"\x00" + row)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"".join(rows), 9))
            + chunk(b"IEND", b""))


RED, GREEN, BLUE, YELLOW = (220, 30, 30), (30, 160, 60), (30, 70, 200), (240, 200, 20)
NAVY, ORANGE, TEAL, PURPLE = (20, 30, 90), (240, 120, 20), (20, 150, 150), (130, 40, 160)
CREAM, TAN, WHITE, BLACK = (250, 244, 228), (236, 224, 196), (255, 255, 255), (0, 0, 0)

IMAGES: dict[str, tuple[int, int, list[list[Colour]]]] = {
    "logo.png": (160, 48, [[NAVY, RED, NAVY, YELLOW, NAVY]]),
    "favicon.png": (32, 32, [[RED, BLUE], [YELLOW, GREEN]]),
    "hero.png": (480, 180, [[BLUE, BLUE, YELLOW], [GREEN, RED, RED]]),
    "hero-2x.png": (960, 360, [[BLUE, BLUE, YELLOW], [GREEN, RED, RED]]),
    "chart.png": (240, 120, [[WHITE, WHITE, ORANGE, WHITE], [WHITE, TEAL, ORANGE, WHITE], [PURPLE, TEAL, ORANGE, TEAL]]),
    "lazy.png": (240, 120, [[TEAL, PURPLE], [ORANGE, NAVY]]),
    "paper.png": (24, 24, [[CREAM, TAN], [TAN, CREAM]]),
}


def build_font() -> bytes:
    """The "Citevault Blocks" WOFF2 (fontTools and brotli needed)."""
    import io

    from fontTools.fontBuilder import FontBuilder
    from fontTools.pens.ttGlyphPen import TTGlyphPen

    upm = 1000
    chars = [chr(c) for c in range(0x21, 0x7F)]
    names = [".notdef", "space"] + [f"c{ord(ch):02x}" for ch in chars]
    glyphs, metrics = {}, {}

    def bar(height: int, width: int) -> object:
        pen = TTGlyphPen(None)
        pen.moveTo((60, 0))
        pen.lineTo((60, height))
        pen.lineTo((60 + width, height))
        pen.lineTo((60 + width, 0))
        pen.closePath()
        return pen.glyph()

    glyphs[".notdef"] = bar(700, 400)
    metrics[".notdef"] = (520, 60)
    glyphs["space"] = TTGlyphPen(None).glyph()
    metrics["space"] = (300, 0)
    for ch, name in zip(chars, names[2:]):
        code = ord(ch)
        height = 250 + (code * 37) % 500  # a bar per character, its height the character's
        width = 300 + (code * 11) % 200
        glyphs[name] = bar(height, width)
        metrics[name] = (width + 120, 60)
    fb = FontBuilder(upm, isTTF=True)
    fb.setupGlyphOrder(names)
    fb.setupCharacterMap({0x20: "space", **{ord(ch): name for ch, name in zip(chars, names[2:])}})
    fb.setupGlyf(glyphs)
    fb.setupHorizontalMetrics(metrics)
    fb.setupHorizontalHeader(ascent=800, descent=-200)
    fb.setupNameTable({"familyName": "Citevault Blocks", "styleName": "Regular",
                       "copyright": "Made for the citevault test suite; public domain (CC0)."})
    fb.setupOS2(sTypoAscender=800, sTypoDescender=-200, usWinAscent=800, usWinDescent=200)
    fb.setupPost()
    fb.setupHead(unitsPerEm=upm, created=3786912000, modified=3786912000)  # 2024-01-01: the same bytes every build
    fb.font.flavor = "woff2"
    out = io.BytesIO()
    fb.save(out)
    return out.getvalue()


def main() -> None:
    (HERE / "img").mkdir(exist_ok=True)
    for name, (w, h, blocks) in IMAGES.items():
        (HERE / "img" / name).write_bytes(png(w, h, blocks))
    (HERE / "fonts").mkdir(exist_ok=True)
    (HERE / "fonts" / "blocks.woff2").write_bytes(build_font())


if __name__ == "__main__":
    main()
