"""Long blocks: sentence splitting stays linear and gives the sentences it gives on normal paragraphs.

pysbd rescans a whole block once per abbreviation it meets, so a one-paragraph book was quadratic
(archive/claims/sentences.py cuts long blocks at safe sentence ends; archive/claims/sbd.py makes pysbd's
abbreviation pass linear). Timings are in bench/add.py; here: the sentences are the same.
"""
from __future__ import annotations

import itertools
import warnings
from pathlib import Path

import pytest

from archive.claims import sentences
from archive.claims.maintext import main_blocks
from archive.claims.sbd import split

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from pysbd.lang.english import English
    from pysbd.processor import Processor

ROOT = Path(__file__).resolve().parent
PAGES = sorted((ROOT / "site").rglob("*.html")) + sorted((ROOT / "data" / "evidence" / "site").rglob("*.html"))
TRICKY = [
    'The U.S. economy grew 3.5 percent, Dr. Smith said on Oct. 7. He said "Stop. Now." and left.',
    "No. 5 and no. 6 were approved. NO. 7 was not; St. John's vote (see p. 4) came i.e. later, etc. Then",
    "İstanbul's mayor, ſo to ſpeak, met Mr. Kelvin K. Jones at 3 p.m. on Jan. 2. {no} more. Done.",
]


def _blocks() -> list[str]:
    texts = [block.text for page in PAGES for block in main_blocks(page.read_text("utf-8", "replace"))]
    return [t for t in texts if t.strip()] + TRICKY


def test_linear_pysbd_gives_pysbd_sentences() -> None:
    blocks = _blocks()
    assert len(blocks) > 40
    for text in blocks:
        assert split(text) == Processor(text, English, char_span=False).process(), text


def test_long_block_cut_into_pieces_splits_as_a_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    """One block made of every paragraph of the test pages: cut into pieces, or given whole to pysbd."""
    blocks = _blocks()
    block = " ".join(" ".join(t.split()) for _ in range(4) for t in blocks[::-1] + blocks)
    assert len(block) > 4 * sentences.PIECE_LIMIT
    pieces = sentences._pieces(block)
    assert len(pieces) > 3 and pieces[0][0] == 0 and pieces[-1][1] == len(block)
    assert all(a[1] == b[0] for a, b in itertools.pairwise(pieces))
    cut = sentences.split_sentences(block)
    monkeypatch.setattr(sentences, "PIECE_LIMIT", len(block) + 1)
    assert sentences._pieces(block) == [(0, len(block))]
    assert cut == sentences.split_sentences(block)


def test_block_without_sentence_ends_is_cut_and_keeps_every_character() -> None:
    block = "word " * 5000 + "x" * 9000
    spans = sentences.split_sentences(block)
    assert "".join(block[a:b] for a, b in spans).replace(" ", "") == block.replace(" ", "")
