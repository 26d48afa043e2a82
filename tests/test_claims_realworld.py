"""Loose checks on real news pages kept outside the repository (../shared/realworld/), when present.

The pages' text belongs to their publishers, so nothing from them is copied here: the checks only count
claims and compare source URLs with the links the page puts in its navigation, header, footer and asides.
"""
from __future__ import annotations

from pathlib import Path

import lxml.html
import pytest

from archive.claims import extract
from archive.claims.urls import normalize

REALWORLD = Path(__file__).resolve().parents[2] / "shared" / "realworld"  # shared/ sits beside the repo
PAGES = sorted(REALWORLD.glob("*.html")) if REALWORLD.is_dir() else []
BOILERPLATE = {"nav", "header", "footer", "aside"}


def boilerplate_only_urls(data: bytes) -> set[str]:
    """URLs the page links to only from nav/header/footer/aside elements."""
    root = lxml.html.document_fromstring(data)
    inside: set[str] = set()
    elsewhere: set[str] = set()
    for link in root.iter("a"):
        url = normalize(link.get("href") or "")
        if url:
            in_boilerplate = any(a.tag in BOILERPLATE for a in link.iterancestors())
            (inside if in_boilerplate else elsewhere).add(url)
    return inside - elsewhere


@pytest.mark.skipif(not PAGES, reason="../shared/realworld/ is not available")
@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_real_page(page: Path) -> None:
    data = page.read_bytes()
    doc = extract(data, kind="html")
    claims = list(doc.claims)
    assert doc.title
    assert len(claims) >= 9, len(claims)
    sources = {source.url for claim in claims for source in claim.sources}
    assert not sources & boilerplate_only_urls(data)
    assert all(claim.text == " ".join(claim.text.split()) for claim in claims)
    assert not any("\ufffd" in claim.text for claim in claims)
