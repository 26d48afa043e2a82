"""Benchmark: evidence checks (``citevault check``) over N captures, and verdict accuracy.

1. Builds a data home of N (default 5000) real captures without a network: news-like pages generated here
   (boilerplate around 8-12 paragraphs; 10% sent gzip-encoded, 5% PDFs) written as WARC response/request
   records by citevault's own WarcStore, and a claim list with one claim per page, added with
   ``Archive.add``: a verbatim quote (30%), a garbled quote (15%: one letter in twelve changed), a quote
   from another page (15%), or no quote (40%: the key-terms heuristic).
2. Times ``verify_document_captures`` over all of them (what ``citevault check`` and a crawl's end run):
   cold (texts extracted from the WARC records) with 1 and 2 worker processes, and warm (``--force``:
   texts already stored, so matching, anchoring and writing only). Prints captures/s.
3. Prints precision and recall of the verdicts: on the synthetic claims, and on the labelled set of
   tests/data/evidence/quotes.jsonl (found / close / not_found, and found+close).
4. Misquotes (:func:`misquote_section`, also alone with ``--misquotes-only``): the labelled set of
   tests/misquote_cases.py, generated at run time from the test site, the evidence texts and the real pages
   of ../shared/realworld/ when present: precision and recall of ``found``, ``close``, ``misquoted``,
   ``not_found``, the share of altered quotations called ``misquoted`` (target >= 95%) and of
   typographic variants called ``found`` (target >= 98%), quote verdicts per second on that set, and the
   key-terms labels (``supported`` / ``contradicted`` / ``no_match``) with the thresholds swept.

Usage::

    python bench/verify.py                    # 5000 captures
    python bench/verify.py --captures 500     # quick run
    python bench/verify.py --keep DIR         # keep the data home in DIR
    python bench/verify.py --misquotes-only   # section 4 alone (a few seconds)
"""
from __future__ import annotations

import argparse
import gzip
import json
import random
import shutil
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

_WORDS = """harbor council budget engineer storm barrier minutes review authority tide gauge winter flood
resident bakery quay ferry terminal contract tender vote majority annex foundation piles bedrock concrete
steel drainage pump station reservoir bridge railway school clinic market square museum library park
river estuary dune beach lighthouse shipyard fishermen cooperative union mayor deputy minister agency
inspector auditor report survey forecast estimate deficit surplus grant loan subsidy levy tariff""".split()
_VERBS = """approved rejected delayed announced published reviewed estimated confirmed denied funded
inspected repaired extended cancelled postponed audited measured recorded warned promised""".split()
_BOILERPLATE = """<header class="masthead"><a href="/">The Bench Gazette</a><ul><li><a href="/subscribe">Subscribe</a></li>
<li><a href="/login">Log in</a></li></ul></header><nav class="site-nav"><ul><li><a href="/local">Local</a></li>
<li><a href="/business">Business</a></li><li><a href="/sport">Sport</a></li><li><a href="/opinion">Opinion</a></li></ul></nav>"""
_FOOTER = """<section class="comments"><h2>3 comments</h2><div class="comment"><p>First!</p></div>
<div class="comment"><p>Nothing ever changes in this town, the council never listens.</p></div></section>
<aside class="sidebar most-read"><h2>Most read</h2><ol><li><a href="/a">Regatta cancelled</a></li>
<li><a href="/b">Bakery wins prize</a></li></ol></aside>
<footer class="site-footer"><p>© The Bench Gazette</p><a href="/privacy">Privacy</a> <a href="/terms">Terms</a></footer>"""


def sentence(rng: random.Random) -> str:
    words = [rng.choice(_WORDS) for _ in range(rng.randint(9, 16))]
    words.insert(2, rng.choice(_VERBS))
    number = f"{rng.randint(2, 90)}.{rng.randint(1, 9)} million euros"
    words.insert(rng.randint(4, len(words)), number)
    return (" ".join(words)).capitalize() + "."


def page(rng: random.Random, n: int) -> tuple[str, list[str]]:
    paragraphs = [" ".join(sentence(rng) for _ in range(rng.randint(2, 4))) for _ in range(rng.randint(8, 12))]
    body = "\n".join(f"<p>{p}</p>" for p in paragraphs)
    html = (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Story {n} | The Bench Gazette'
            f"</title></head><body>{_BOILERPLATE}<main><article><h1>Story number {n}</h1>"
            f'<p class="byline">By Staff · 1 March 2025</p>{body}</article></main>{_FOOTER}</body></html>')
    return html, paragraphs


def pdf(lines: list[str]) -> bytes:
    from tests.server import make_text_pdf

    return make_text_pdf([line.replace("\\", "").replace("(", "").replace(")", "") for line in lines], compress=True)


def wrap(paragraphs: list[str], width: int = 90) -> list[str]:
    """Paragraphs as PDF lines of at most ``width`` characters, broken between words."""
    lines = []
    for paragraph in paragraphs:
        line = ""
        for word in paragraph.split():
            if line and len(line) + 1 + len(word) > width:
                lines.append(line)
                line = word
            else:
                line = f"{line} {word}".strip()
        lines.append(line)
    return lines


def garble(quote: str) -> str:
    chars = list(quote)
    letters = [i for i, ch in enumerate(chars) if ch.isalpha()]
    for k, i in enumerate(letters):
        if k % 12 == 5:
            chars[i] = "x" if chars[i] != "x" else "y"
    return "".join(chars)


def build(home: Path, n: int, seed: int = 5) -> dict[str, str]:
    """Write N captures and N claims; return {claim text: expected verdict}."""
    import sqlalchemy as sa

    from archive import ids
    from archive.api import Archive
    from archive.index import writes
    from archive.index.rows import capture_row
    from archive.warc.builder import HttpExchange
    from archive.warc.store import WarcStore

    rng = random.Random(seed)
    base = "http://bench.invalid"
    pages = [page(rng, i) for i in range(n)]
    claims, expected, bodies = [], {}, []
    for i, (html, paragraphs) in enumerate(pages):
        url = f"{base}/story/{i}.html" if i % 20 else f"{base}/docs/{i}.pdf"
        words = rng.choice(paragraphs).split()
        start = rng.randint(0, max(0, len(words) - 12))
        quote = " ".join(words[start:start + 12]).rstrip(".")
        roll = rng.random()
        if roll < 0.30:
            text, q, verdict = f'Officials said "{quote}" at the meeting {i}.', quote, "found"
        elif roll < 0.45:
            text, q, verdict = f'Officials said "{garble(quote)}" at the meeting {i}.', garble(quote), "close"
        elif roll < 0.60:
            other = " ".join(pages[(i + 1) % n][1][0].split()[:12]).rstrip(".")
            text, q, verdict = f'Officials said "{other}" at the meeting {i}.', other, "not_found"
        else:
            text, q, verdict = rng.choice(paragraphs).split(". ")[0] + ".", None, "key_terms"
        claims.append({"text": text, "quote": q, "sources": [url]})
        expected[text] = verdict
        if url.endswith(".pdf"):
            bodies.append((url, pdf(wrap(paragraphs)), "application/pdf", None))
        elif i % 10 == 1:
            bodies.append((url, gzip.compress(html.encode("utf-8"), mtime=0), "text/html; charset=utf-8", "gzip"))
        else:
            bodies.append((url, html.encode("utf-8"), "text/html; charset=utf-8", None))
    claim_file = home.parent / "bench-claims.jsonl"
    claim_file.write_text("".join(json.dumps(c) + "\n" for c in claims), encoding="utf-8")
    archive = Archive.open(str(home))
    archive.add([str(claim_file)])
    engine = archive.engine()
    moment = datetime(2025, 3, 1, tzinfo=timezone.utc)
    rows, states = [], []
    with WarcStore(home / "warcs") as store:
        for k, (url, body, ctype, encoding) in enumerate(bodies):
            headers = [("Content-Type", ctype), ("Content-Length", str(len(body)))]
            if encoding:
                headers.append(("Content-Encoding", encoding))
            fetched = moment + timedelta(seconds=k)
            ex = HttpExchange(url=url, status=200, reason="OK", protocol="HTTP/1.1", response_headers=headers,
                              body=body, ip_address="127.0.0.1", fetched_at=fetched)
            response, request = store.factory.exchange(ex)
            where, _ = store.write_group([response.record, request.record])
            rows.append(capture_row(
                record_id=response.record_id, record_type="response", url=url, fetched_at=fetched,
                warc_file=where.warc_file, warc_offset=where.offset, warc_length=where.length, http_status=200,
                content_type=ctype, payload_digest=response.payload_digest, payload_sha256=response.payload_sha256,
                payload_length=response.payload_length, source_id=ids.source_id(url)))
            states.append({"sid": ids.source_id(url), "state": "archived", "fetched": fetched.replace(tzinfo=None)})
        store.flush()
        with engine.begin() as conn:
            writes.add_captures(conn, rows)
            conn.execute(sa.text("UPDATE sources SET state = :state, last_fetched = :fetched WHERE id = :sid")
                         .bindparams(sa.bindparam("fetched", type_=sa.DateTime)), states)
    archive.close()
    return expected


def timed(home: Path, workers: int, *, cold: bool, force: bool = False) -> tuple[float, object]:
    from sqlalchemy import text

    from archive.api import Archive
    from archive.checks import verify_document_captures

    archive = Archive.open(str(home))
    engine = archive.engine()
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM verifications"))
        if cold:
            conn.execute(text("DELETE FROM capture_texts"))
    started = time.perf_counter()
    stats = verify_document_captures(engine, archive.home, workers=workers, force=force)
    seconds = time.perf_counter() - started
    archive.close()
    return seconds, stats


def accuracy(pairs: list[tuple[str, str]], labels: tuple[str, ...]) -> list[tuple[str, float, float, int]]:
    rows = []
    for name in labels:
        positive = set(name.split("+"))
        tp = sum(1 for e, g in pairs if e in positive and g in positive)
        fp = sum(1 for e, g in pairs if e not in positive and g in positive)
        fn = sum(1 for e, g in pairs if e in positive and g not in positive)
        rows.append((name, tp / (tp + fp) if tp + fp else 1.0, tp / (tp + fn) if tp + fn else 1.0,
                     sum(1 for e, _ in pairs if e in positive)))
    return rows


def synthetic_pairs(home: Path, expected: dict[str, str]) -> list[tuple[str, str]]:
    import sqlite3

    conn = sqlite3.connect(home / "citevault.sqlite")
    got = dict(conn.execute("SELECT c.text, v.verdict FROM verifications v JOIN claims c ON c.id = v.claim_id "
                            "WHERE v.method = 'quote'"))
    conn.close()
    return [(verdict, got.get(text, "missing")) for text, verdict in expected.items() if verdict != "key_terms"]


def labelled_pairs() -> list[tuple[str, str]]:
    from archive.checks.match import match_quote
    from archive.checks.normalize import normalize_with_map

    data = ROOT / "tests" / "data" / "evidence"
    texts = {p.stem: normalize_with_map(p.read_text(encoding="utf-8")) for p in (data / "texts").glob("*.txt")}
    cases = [json.loads(line) for line in (data / "quotes.jsonl").read_text(encoding="utf-8").splitlines() if line]
    return [(c["expect"], match_quote(c["quote"], texts[c["source"]]).verdict) for c in cases]


def misquote_section() -> None:
    """Precision and recall of misquotes and support labels on the generated labelled set."""
    from archive.checks import match
    from archive.checks.normalize import normalize_with_map
    from tests.misquote_cases import REALWORLD, evaluate, labelled_set, precision_recall

    labelled = labelled_set(realworld=True)
    real = REALWORLD.is_dir() and any(REALWORLD.glob("*.html"))
    langs = Counter(s.lang for s in labelled.sources.values())
    print(f"\nmisquotes: labelled set of {len(labelled.quotes)} quotes and {len(labelled.claims)} claims from "
          f"{len(labelled.sources)} texts ({'with' if real else 'WITHOUT'} ../shared/realworld; languages "
          + ", ".join(f"{k} {v}" for k, v in sorted(langs.items())) + ")")
    outcome = evaluate(labelled)
    pairs = outcome.quote_pairs()
    for name in ("found", "close", "misquoted", "not_found"):
        p, r, n = precision_recall(pairs, {name})
        print(f"  quote {name:<10} precision {p:.3f}  recall {r:.3f}  (n={n})")
    altered = [k for k in ("number", "negation", "name", "word")]
    rows = [(c, v, ok) for c, v, ok in outcome.quotes if c.kind in altered]
    share = sum(1 for c, v, ok in rows if v == "misquoted" and ok) / len(rows)
    print(f"  altered quotations called misquoted, with the right words: {share:.1%} (target >= 95%); by kind: "
          + ", ".join(f"{k} {outcome.share(k):.1%}" for k in altered))
    print(f"  typographic variants called found: {outcome.share('typography'):.1%} (target >= 98%); "
          f"exact {outcome.share('exact'):.1%}, elisions found or close {outcome.share('elision'):.1%}, "
          f"typos close {outcome.share('typo'):.1%}, a word left out close {outcome.share('dropped'):.1%}, "
          f"two words swapped close {outcome.share('swapped'):.1%}")
    texts = {name: normalize_with_map(source.text) for name, source in labelled.sources.items()}
    started = time.perf_counter()
    rounds = 3
    for _ in range(rounds):
        for case in labelled.quotes:
            match.match_quote(case.quote, texts[case.source])
    seconds = time.perf_counter() - started
    print(f"  quote verdicts: {rounds * len(labelled.quotes) / seconds:.0f}/s on this set "
          f"(texts normalized beforehand)")
    claims = outcome.claim_pairs()
    for name in ("supported", "partial", "contradicted", "no_match"):
        p, r, n = precision_recall(claims, {name})
        print(f"  key terms {name:<12} precision {p:.3f}  recall {r:.3f}  (n={n})")
    print("  threshold sweep (key terms): SUPPORTED / CONTRADICTED -> precision/recall of supported, "
          "partial, contradicted, no_match")
    saved = match.SUPPORTED, match.PARTIAL, match.CONTRADICTED
    try:
        grid = [(x, saved[2]) for x in (0.5, 0.6, 0.65, 0.7, 0.75, 0.8, 0.9)]
        grid += [(saved[0], y) for y in (0.5, 0.6, 0.75, 0.9, 1.0) if y != saved[2]]
        for supported, contradicted in grid:
            match.SUPPORTED, match.PARTIAL, match.CONTRADICTED = supported, min(saved[1], supported), contradicted
            got = [(c.expect, match.key_terms_support(c.claim, texts[c.source]).verdict) for c in labelled.claims]
            cells = "  ".join("{:.2f}/{:.2f}".format(*precision_recall(got, {name})[:2])
                              for name in ("supported", "partial", "contradicted", "no_match"))
            mark = "  <- used" if (supported, contradicted) == (saved[0], saved[2]) else ""
            print(f"    {supported:.2f} / {contradicted:.2f}   {cells}{mark}")
    finally:
        match.SUPPORTED, match.PARTIAL, match.CONTRADICTED = saved


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--captures", type=int, default=5000)
    parser.add_argument("--keep", type=Path, help="build the data home in this directory and keep it")
    parser.add_argument("--misquotes-only", action="store_true", help="only the misquote section (4)")
    args = parser.parse_args()
    if args.misquotes_only:
        misquote_section()
        return
    workdir = args.keep or Path(tempfile.mkdtemp(prefix="citevault-bench-verify-"))
    workdir.mkdir(parents=True, exist_ok=True)
    home = workdir / "home"
    try:
        started = time.perf_counter()
        expected = build(home, args.captures)
        warc_mb = sum(p.stat().st_size for p in (home / "warcs").glob("*.warc.gz")) / 1e6
        print(f"built {args.captures} captures ({warc_mb:.1f} MB of WARC) and claims in "
              f"{time.perf_counter() - started:.1f}s")
        print(f"\n{'run':<34}{'seconds':>9}{'captures/s':>12}{'texts':>7}{'checked':>9}")
        for label, workers, cold, force in (("cold, 1 process", 1, True, False), ("cold, 2 processes", 2, True, False),
                                            ("warm (texts stored), 1 process", 1, False, True)):
            seconds, stats = timed(home, workers, cold=cold, force=force)
            print(f"{label:<34}{seconds:>9.2f}{args.captures / seconds:>12.0f}"
                  f"{stats.texts_extracted:>7}{stats.checked:>9}")  # type: ignore[attr-defined]
        verdicts = Counter(stats.verdicts)  # type: ignore[attr-defined]
        print("\nverdicts:", ", ".join(f"{k} {v}" for k, v in sorted(verdicts.items())))
        for title, pairs in (("synthetic claims (verbatim / garbled / other page's quote)", synthetic_pairs(home, expected)),
                             ("labelled set tests/data/evidence/quotes.jsonl", labelled_pairs())):
            print(f"\n{title}: {len(pairs)} quotes")
            for name, p, r, support in accuracy(pairs, ("found", "close", "not_found", "found+close")):
                print(f"  {name:<12} precision {p:.3f}  recall {r:.3f}  (n={support})")
        misquote_section()
    finally:
        if args.keep is None:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
