"""Plain-text articles: paragraphs separated by blank lines; sources are the URLs written out in the text.

Lines inside a paragraph are joined (text is often hard-wrapped), except bulleted or numbered lines, which
are list items and so units of their own. Title: the first line, when it is short (at most 100 characters)
and does not end like a sentence (``.``, ``,``, ``;``, ``:``) — i.e. when it reads as a headline.
"""
from __future__ import annotations

import re

from archive.claims.blocks import Article, BlockBuilder
from archive.claims.urls import document_urls

_BLANK_LINES = re.compile(r"\n[ \t\f\v]*\n")
_BULLET = re.compile(r"^\s*(?:[-*+\u2022\u2023\u25e6]|\d{1,3}[.)])\s+")
_TITLE_LIMIT = 100



def read_text(text: str, url: str | None) -> Article:
    """Split plain text into paragraph blocks and find its title."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    builder = BlockBuilder()
    for paragraph in _BLANK_LINES.split(text):
        for line in paragraph.split("\n"):
            bullet = _BULLET.match(line)
            if bullet:
                builder.flush()
                line = line[bullet.end() :]
            builder.add_text(line + " ")
        builder.flush()
    return Article(title_of(text), builder.blocks, document_urls(url))


def title_of(text: str) -> str | None:
    """The first non-blank line when it reads as a headline.

    >>> title_of("\\n  Floods in the valley \\n\\nRivers rose overnight."), title_of("Rivers rose overnight.\\nMore.")
    ('Floods in the valley', None)
    """
    for line in text.split("\n"):
        line = " ".join(line.split())
        if line:
            if len(line) <= _TITLE_LIMIT and not line.endswith((".", ",", ";", ":")):
                return line
            return None
    return None
