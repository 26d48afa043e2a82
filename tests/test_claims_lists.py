"""Claim lists: JSONL, JSON and CSV rows become claims, streamed in bounded memory."""
from __future__ import annotations

import json
import tracemalloc
from pathlib import Path

import pytest

from archive.claims import ExtractedClaim, SourceRef, extract

DATA = Path(__file__).parent / "data" / "claims"


def claims_of(name: str, kind: str, **kwargs: str) -> tuple[str | None, str | None, list[ExtractedClaim]]:
    doc = extract((DATA / name).read_bytes(), kind=kind, **kwargs)
    return doc.title, doc.url, list(doc.claims)


def test_jsonl_rows() -> None:
    title, url, claims = claims_of("claims.jsonl", "jsonl")
    assert title is None and url is None
    assert claims == [
        ExtractedClaim(
            "The river rose 3.5 percent on Oct. 7.",
            None,
            (SourceRef("https://usgs.example.gov/reports/valley"),),  # "#table-2" is the same source
        ),
        ExtractedClaim(
            'The mayor said "stop now" and left.', "stop now", (SourceRef("https://city.example.gov/briefings/7"),)
        ),
        ExtractedClaim("Shelters opened in three schools.", "three schools", (SourceRef("https://schools.example.org/notice"),)),
        ExtractedClaim("No one has counted the damage yet."),
    ]


def test_json_list() -> None:
    title, url, claims = claims_of("claims.json", "json", url="https://lists.example.org/claims.json")
    assert (title, url) == (None, "https://lists.example.org/claims.json")
    assert [(c.text, [s.url for s in c.sources]) for c in claims] == [
        ("The river rose 3.5 percent on Oct. 7.", ["https://usgs.example.gov/reports/valley"]),
        ("Shelters opened in three schools.", ["https://schools.example.org/notice"]),
    ]


def test_json_document_with_title_after_the_claims() -> None:
    title, url, claims = claims_of("claims-document.json", "json")
    assert title == "Valley floods: the claims"
    assert url == "https://gazette.example.org/2024/10/valley-floods"
    assert claims[0].sources == (SourceRef("https://usgs.example.gov/reports/valley", "daily report"),)
    assert claims[1] == ExtractedClaim("Shelters opened in three schools.")


def test_csv_rows() -> None:
    title, _, claims = claims_of("claims.csv", "csv")
    assert title is None
    assert claims == [
        ExtractedClaim(
            "The river rose 3.5 percent, the agency said.",
            None,
            (
                SourceRef("https://usgs.example.gov/reports/valley"),
                SourceRef("https://usgs.example.gov/reports/table"),
                SourceRef("https://mirror.example.org/valley"),
            ),
        ),
        ExtractedClaim('The mayor said "stop now" and left.', "stop now", (SourceRef("https://city.example.gov/briefings/7"),)),
        ExtractedClaim("A claim that spans two lines."),
    ]


def test_csv_semicolons_bom_and_latin1() -> None:
    data = "\ufefftext;url\nLe café a fermé lundi.;https://example.fr/cafe\n".encode("utf-8")
    assert [(c.text, c.sources) for c in extract(data, kind="csv").claims] == [
        ("Le café a fermé lundi.", (SourceRef("https://example.fr/cafe"),))
    ]
    latin = 'text\n"Die Straße über den Fluss wurde gesperrt, weil die Brücke beschädigt ist."\n'.encode("cp1252")
    assert next(extract(latin, kind="csv").claims).text.startswith("Die Straße über")
    assert next(extract(latin, kind="csv", charset="cp1252").claims).text.startswith("Die Straße über")


def test_claims_are_lazy_generators() -> None:
    rows = b'{"text": "First claim."}\n{"text": "Second claim."}\n{"text": 42}\n'
    doc = extract(rows, kind="jsonl")
    assert iter(doc.claims) is doc.claims and not isinstance(doc.claims, list)
    assert next(doc.claims).text == "First claim."


@pytest.mark.parametrize("kind", ["jsonl", "json", "csv"])
def test_streaming_keeps_memory_bounded(kind: str) -> None:
    count = 15_000
    if kind == "csv":
        data = ("text,sources\n" + "".join(f"Claim number {i} is about the river.,https://example.org/r/{i}\n" for i in range(count))).encode()
    else:
        lines = [
            json.dumps({"text": f"Claim number {i} is about the river rising again.", "sources": [f"https://example.org/r/{i}"]})
            for i in range(count)
        ]
        data = ("\n".join(lines) if kind == "jsonl" else "[" + ",\n".join(lines) + "]").encode()
    tracemalloc.start()
    try:
        seen = 0
        for _ in extract(data, kind=kind).claims:
            seen += 1
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert seen == count
    # Holding all 15,000 claims takes about 6 MB; streaming needs a few chunks and one claim at a time.
    assert peak < 3 * 1024 * 1024, peak


# --- the names people write (issue: claim lists people actually write were refused) ---------------------
@pytest.mark.parametrize("text_key", ["text", "claim", "statement", "claimReviewed"])
@pytest.mark.parametrize("source_key", ["sources", "source", "url", "urls", "link", "links", "citation"])
def test_json_rows_with_the_natural_names(text_key: str, source_key: str) -> None:
    value: object = "https://e.org/a" if not source_key.endswith("s") else ["https://e.org/a", "https://e.org/b"]
    data = json.dumps([{text_key: "The dam was finished in 1931.", source_key: value}]).encode()
    claims = list(extract(data, kind="json").claims)
    assert [c.text for c in claims] == ["The dam was finished in 1931."]
    assert claims[0].sources[0] == SourceRef("https://e.org/a")


def test_csv_with_a_claim_column_and_repeated_rows_is_one_claim_per_text() -> None:
    """One row per claim/source pair, as spreadsheets are written: one claim citing all its sources."""
    data = (b"Claim,Source\n"
            b"The dam was finished in 1931.,https://e.org/a\n"
            b"The dam was finished in 1931.,https://e.org/b\n"
            b"The dam was finished in 1931.,https://e.org/a\n"
            b"Rain fell on Monday.,https://e.org/r\n")
    claims = list(extract(data, kind="csv").claims)
    assert [(c.text, [s.url for s in c.sources]) for c in claims] == [
        ("The dam was finished in 1931.", ["https://e.org/a", "https://e.org/b"]),
        ("Rain fell on Monday.", ["https://e.org/r"]),
    ]


def test_jsonl_rows_repeating_a_claim_merge_too() -> None:
    rows = [{"statement": "Prices rose 4%.", "link": "https://e.org/1"},
            {"statement": "Prices rose 4%.", "links": ["https://e.org/2"]}]
    data = "\n".join(json.dumps(r) for r in rows).encode()
    claims = list(extract(data, kind="jsonl").claims)
    assert [[s.url for s in c.sources] for c in claims] == [["https://e.org/1", "https://e.org/2"]]
