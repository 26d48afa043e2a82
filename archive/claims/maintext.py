"""The main text of an HTML page as plain text: the same boilerplate removal that claim extraction uses.

Quote verification (``archive.checks``) looks for a claim's words in what a source page *says*,
not in its menus, footers or comment threads, so it reads pages exactly as :mod:`archive.claims.html`
does: trafilatura first, then the ``<article>``/``<main>``/densest-block fallback. Metadata (title, date,
author) is not extracted here, nor are trafilatura's fallback extractors run (``fast``), nor are links kept
(the text is the same without them), which makes this much cheaper than :func:`read_html`.

Blocks (paragraphs, headings, list items, cells) are separated by a blank line; a ``<br>`` inside a block
is a newline; other whitespace runs are one space.
"""
from __future__ import annotations

from archive.claims.blocks import Block
from archive.claims.html import _fallback_blocks, _parse, _trafilatura


def main_blocks(text: str) -> list[Block]:
    """The main-text blocks of an already decoded page."""
    root = _parse(text)
    _, blocks = _trafilatura(root, [], metadata=False, fast=True, links=False)
    return blocks or _fallback_blocks(root, [])


def blocks_text(blocks: list[Block]) -> str:
    """Join blocks into one text: blank line between blocks, whitespace runs collapsed, ``<br>`` kept.

    >>> print(blocks_text([Block("Harbor"), Block(" The wall  was built in 1931. "), Block("It held.\\nUntil now.")]))
    Harbor
    <BLANKLINE>
    The wall was built in 1931.
    <BLANKLINE>
    It held.
    Until now.
    """
    out = []
    for block in blocks:
        lines = (" ".join(line.split()) for line in block.text.split("\n"))
        text = "\n".join(line for line in lines if line)
        if text:
            out.append(text)
    return "\n\n".join(out)
