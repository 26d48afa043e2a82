"""Quote checks on real pages kept outside the repository (../shared/realworld/), when present.

A held-out check for the thresholds tuned on tests/data/evidence/quotes.jsonl: quotes are made from each
page's own claims (so nothing from the pages is copied here): the first words of a sentence (-> found),
the same words with one letter in twelve changed (-> close), and words from a sentence of *another*
page (-> not_found). Precision and recall are printed and must stay at or above 0.9.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from archive.checks.match import match_quote
from archive.checks.normalize import normalize_with_map
from archive.checks.texts import extract_text
from tests.misquote_cases import garble  # one letter in twelve changed: still ``close``
from tests.test_verification_match import precision_recall

REALWORLD = Path(__file__).resolve().parents[2] / "shared" / "realworld"  # shared/ sits beside the repo
PAGES = sorted(REALWORLD.glob("*.html")) if REALWORLD.is_dir() else []
PDFS = sorted(REALWORLD.glob("*.pdf")) if REALWORLD.is_dir() else []
QUOTE_WORDS = 12




def quotes_of(page: Path, limit: int = 4) -> list[str]:
    from archive.claims import extract

    sentences = [c.text for c in extract(page.read_bytes(), kind="html").claims if len(c.text.split()) >= QUOTE_WORDS]
    step = max(1, len(sentences) // limit)
    return [" ".join(s.split()[:QUOTE_WORDS]) for s in sentences[::step][:limit]]


@pytest.mark.skipif(not PAGES, reason="../shared/realworld/ is not available")
def test_quotes_on_real_pages(capsys: pytest.CaptureFixture[str]) -> None:
    texts = {p.name: extract_text(p.read_bytes(), "text/html") for p in PAGES}
    assert all(t.status == "ok" and len(t.text) > 500 for t in texts.values()), {n: t.error for n, t in texts.items()}
    quotes = {p.name: quotes_of(p) for p in PAGES}
    pairs: list[tuple[str, str]] = []
    names = [p.name for p in PAGES]
    for i, name in enumerate(names):
        text = normalize_with_map(texts[name].text)
        other = quotes[names[(i + 1) % len(names)]]
        for quote in quotes[name]:
            pairs.append(("found", match_quote(quote, text).verdict))
            pairs.append(("close", match_quote(garble(quote), text).verdict))
        for quote in other:
            pairs.append(("not_found", match_quote(quote, text).verdict))
    rows = {verdict: precision_recall(pairs, {verdict}) for verdict in ("found", "close", "not_found")}
    with capsys.disabled():
        print(f"\nquote verdicts on {len(PAGES)} real pages ({len(pairs)} quotes):")
        for verdict, (p, r) in rows.items():
            print(f"  {verdict:<10} precision {p:.3f}  recall {r:.3f}")
    for verdict, (p, r) in rows.items():
        assert p >= 0.9 and r >= 0.9, (verdict, p, r, [pair for pair in pairs if pair[0] != pair[1]])


@pytest.mark.skipif(not PDFS, reason="../shared/realworld/ is not available")
@pytest.mark.parametrize("pdf", PDFS, ids=[p.name for p in PDFS])
def test_real_pdf_text_and_a_quote_from_it(pdf: Path) -> None:
    got = extract_text(pdf.read_bytes(), "application/pdf")
    assert got.status == "ok" and len(got.text) > 300, got.error
    words = got.text.split()
    quote = " ".join(words[len(words) // 2: len(words) // 2 + 8])
    assert match_quote(quote, normalize_with_map(got.text)).verdict == "found"
