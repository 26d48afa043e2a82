"""A huge source is checked from a bounded prefix, and its verdicts say how much of it they are about.

A real WARC (citevault's own WarcStore) holds one HTML page larger than ``READ_LIMIT``; a claim list cites
it with a quote from its first paragraph and one from its last. ``citevault check`` finds the first, not
the last, and ``show --json`` says what was read (``text_seen``). Time and memory on 64 MiB: bench/huge.py.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from archive.checks import texts
from tests.helpers import citevault

URL = "http://bounded.invalid/huge.html"


def _page(size: int) -> tuple[bytes, str, str]:
    parts = ['<!DOCTYPE html><html><head><meta charset="utf-8"><title>Huge</title></head><body><article>']
    n = 0
    while sum(map(len, parts)) < size:
        n += 1
        parts.append(f"<p>Paragraph {n} says the harbor wall number {n} was inspected in spring by crew {n}.</p>\n")
    last = "the lighthouse keeper retired after forty years of service on the northern cliffs"
    parts.append(f"<p>At the very end, {last}.</p></article></body></html>")
    return "".join(parts).encode(), "the harbor wall number 1 was inspected in spring by crew 1", last


def _home(tmp_path: Path, body: bytes, first: str, last: str) -> tuple[Path, Path, int]:
    from archive.api import Archive
    from tests.archives import add_response_capture

    home = tmp_path / "home"
    claims = tmp_path / "claims.jsonl"
    claims.write_text("".join(json.dumps({"text": f'It says "{q}".', "quote": q, "sources": [URL]}) + "\n"
                              for q in (first, last)), encoding="utf-8")
    archive = Archive.open(str(home))
    archive.add([str(claims)])
    archive.close()
    warc, offset = add_response_capture(home, URL, body)
    return home, warc, offset


@pytest.fixture(scope="module")
def huge(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, int, int]:
    body, first, last = _page(texts.READ_LIMIT + 1024 * 1024)
    home, warc, offset = _home(tmp_path_factory.mktemp("huge"), body, first, last)
    return home, warc, offset, len(body)


def test_only_a_prefix_is_held_and_read(huge: tuple[Path, Path, int, int]) -> None:
    _, warc, offset, size = huge
    head, counted = texts.read_payload_head(warc, offset, "text/html")
    assert counted == size and len(head) == texts.READ_LIMIT + 1
    got = texts.payload_text(warc, offset, "text/html")
    assert got.status == "ok" and got.partial
    assert got.payload_bytes == size and got.read_bytes is not None and got.read_bytes <= texts.READ_LIMIT
    assert got.text.startswith("Paragraph 1 says") and "Paragraph 1 says" in got.text
    assert texts.CaptureText.from_stored(got.status, got.kind, got.text, got.charset, got.stored_note()) == got


def test_check_says_how_much_text_it_saw(huge: tuple[Path, Path, int, int]) -> None:
    home, _, _, size = huge
    checked = citevault(home, "check", "--json")
    assert checked.code == 0, checked
    assert checked.json()["verdicts"] == {"quote:found": 1, "quote:not_found": 1}
    listed = citevault(home, "claims", "--json")
    assert listed.code == 0, listed
    seen = []
    for claim in listed.json():
        shown = citevault(home, "show", claim["id"], "--json")
        assert shown.code == 0, shown
        (capture,) = shown.json()["sources"][0]["captures"]
        verification = capture["verification"]
        seen.append((verification["verdict"], verification["text_seen"]))
        assert "MiB" in verification["reason"]
    for verdict, text_seen in seen:
        assert text_seen["payload_bytes"] == size and 0 < text_seen["bytes_read"] <= texts.READ_LIMIT
        assert 0 < text_seen["chars"] <= text_seen["bytes_read"]
    assert sorted(v for v, _ in seen) == ["found", "not_found"]


def test_a_small_page_is_read_whole() -> None:
    got = texts.extract_text(b"<html><body><p>Small page with a whole sentence in it.</p></body></html>", "text/html")
    assert got.status == "ok" and not got.partial and got.seen() is None
