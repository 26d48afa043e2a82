"""End to end: crawl the evidence site for real, `citevault check`, then re-crawl a changed page.

The site is tests/data/evidence/site/ (news-like pages in English, Spanish (windows-1252) and Korean
(EUC-KR), council notes as plain text) plus a PDF written here, served by the test site's server
(tests/server.py) from a temporary copy, so a page can change between two crawls (site-v2/).
The citing article (tests/data/evidence/article.html) and claim list (claims.jsonl) have one claim per
case in :data:`EXPECTED`. The first crawl is the session's (conftest ``evidence_crawl``, shared with
tests/test_report.py); this module checks and re-crawls a copy of it.
"""
from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from tests.archives import Evidence, copy_evidence, recrawl_changed
from tests.helpers import citevault, db

#: Claim text (a unique part of it) -> (method, verdict) after the first crawl; None: no 2xx capture.
EXPECTED: dict[str, tuple[str, str] | None] = {
    "can no longer protect the old town": ("quote", "found"),
    "never designed for the surge we now see each winter": ("quote", "close"),
    "is simply too old for the storms": ("quote", "not_found"),  # paraphrase
    "under water by 2030": ("quote", "not_found"),  # only in a reader comment: not main text
    "moving furniture upstairs": ("quote", "found"),
    "between 3.2 and 3.8 million euros": ("key_terms", "supported"),
    "closing the ferry terminal": ("key_terms", "no_match"),
    "a two-thirds majority - not a simple majority": ("quote", "found"),  # dashes differ
    "must reach the bedrock at eleven metres": ("quote", "found"),  # PDF
    "show a wall of twelve metres": ("quote", "unreadable"),  # PNG
    "llevaban años esperando» (Diario": ("quote", "found"),  # Spanish, windows-1252, meta charset only
    "주민의 안전이 무엇보다 우선입니다” after": ("quote", "found"),  # Korean, EUC-KR, meta charset only
    "described the wall as unsafe": None,  # 404: gone, nothing to check
    "es una inversión que los vecinos": ("quote", "found"),
    "no aguantaran otro año": ("quote", "close"),
    "cerrará definitivamente": ("quote", "not_found"),
    "aprobó 2,4 millones": ("key_terms", "supported"),
    "임시 방어시설을 반드시": ("quote", "found"),
    "무엇보다도": ("quote", "close"),
    "올해 안에 끝날": ("quote", "not_found"),
    "방파제 보강 예산을 승인했다": ("key_terms", "supported"),
}
#: After the harbor page changed (site-v2): claim text -> anchor state of the new capture.
REANCHORED = {
    "can no longer protect the old town": "present",
    "never designed for the surge we now see each winter": "edited",
    "moving furniture upstairs": "deleted",
    "between 3.2 and 3.8 million euros": "moved",
    "must reach the bedrock at eleven metres": "present",  # re-fetched unchanged: a revisit record
}


@pytest.fixture(scope="module")
def checked(evidence_crawl: Evidence, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The session's crawl of the evidence site (conftest ``evidence_crawl``), copied, then checked."""
    evidence = copy_evidence(evidence_crawl, tmp_path_factory.mktemp("evidence") / "home")
    first = citevault(evidence.home, "check", "--json")
    again = citevault(evidence.home, "check", "--json")
    shown = citevault(evidence.home, "show", evidence.claim_id("can no longer protect"), "--json")
    snapshot = {part: evidence.final(part) for part in EXPECTED}
    return {"evidence": evidence, "first": first, "again": again, "shown": shown, "snapshot": snapshot}


@pytest.fixture(scope="module")
def recrawled(checked: dict[str, Any]) -> dict[str, Any]:
    evidence = checked["evidence"]
    recrawl_changed(evidence)
    result = citevault(evidence.home, "check", "--json")
    return {"evidence": evidence, "check": result, "snapshot": {part: evidence.final(part) for part in EXPECTED}}


def test_check_counts_every_claim_and_capture(checked: dict[str, Any]) -> None:
    first = checked["first"]
    assert first.code == 0, first
    stats = first.json()
    assert stats["checked"] == sum(1 for v in EXPECTED.values() if v), stats
    expected = {}
    for value in EXPECTED.values():
        if value:
            expected[f"{value[0]}:{value[1]}"] = expected.get(f"{value[0]}:{value[1]}", 0) + 1
    assert stats["verdicts"] == expected
    assert stats["texts_extracted"] == 6 and stats["unreadable_texts"] == 1  # one text per payload


def test_check_is_incremental(checked: dict[str, Any]) -> None:
    again = checked["again"]
    assert again.code == 0 and again.json()["checked"] == 0 and again.json()["texts_extracted"] == 0, again


@pytest.mark.parametrize("part", list(EXPECTED))
def test_verdict_of_each_claim(checked: dict[str, Any], part: str) -> None:
    captures = checked["snapshot"][part]
    if EXPECTED[part] is None:
        assert captures == []
        return
    (capture,) = captures
    v = capture["verification"]
    assert (v["method"], v["verdict"]) == EXPECTED[part], v
    assert v["heuristic"] is (v["method"] == "key_terms")
    if v["verdict"] in ("found", "close", "supported"):
        quote, position = v["selector"]
        assert quote["type"] == "TextQuoteSelector" and position == {
            "type": "TextPositionSelector", "start": v["span"][0], "end": v["span"][1]}
        assert v["passage"] == quote["exact"] and quote["exact"].strip() == quote["exact"]
        assert v["text_fragment_url"].startswith(capture["url"] + "#:~:text=")
        assert v["anchor"] == {"state": "original", "baseline_capture_id": capture["id"], "diff": None}
    if v["verdict"] in ("not_found", "unreadable"):
        assert v["span"] is None and v["selector"] is None and v["text_fragment_url"] is None
    if v["verdict"] == "unreadable":
        assert v["reason"] == "no text in image/png"


def test_show_json_adds_verification_to_every_capture_and_changes_nothing_else(checked: dict[str, Any]) -> None:
    shown = checked["shown"]
    assert shown.code == 0, shown
    claim = shown.json()
    assert set(claim) == {"id", "text", "quote", "document", "sources"}
    (source,) = claim["sources"]
    for cap in source["captures"]:
        assert set(cap) == {"id", "url", "fetched_at", "http_status", "content_type", "warc_file", "warc_offset",
                            "warc_record_id", "payload_sha256", "error", "verification"}
    verdicts = [cap["verification"]["verdict"] for cap in source["captures"] if cap["verification"]]
    assert verdicts == ["found"]


def test_hops_and_failures_have_no_verification(checked: dict[str, Any]) -> None:
    evidence = checked["evidence"]
    (source,) = evidence.show("described the wall as unsafe")["sources"]
    assert source["state"] == "gone"
    assert source["captures"] and all(c["verification"] is None for c in source["captures"])


def test_texts_are_stored_once_per_payload(checked: dict[str, Any]) -> None:
    conn = db(checked["evidence"].home)
    rows = conn.execute("SELECT key, status, kind, chars FROM capture_texts").fetchall()
    assert len(rows) == 6 and len({r["key"] for r in rows}) == 6
    assert {r["kind"] for r in rows} == {"html", "pdf", "text", "other"}
    assert all(r["key"].startswith("sha256:") for r in rows)


def test_lookup_json_carries_verifications(checked: dict[str, Any]) -> None:
    result = citevault(checked["evidence"].home, "lookup", "bedrock eleven", "--json")
    assert result.code == 0, result
    (claim,) = result.json()
    (capture,) = claim["sources"][0]["captures"]
    assert capture["verification"]["verdict"] == "found"


def test_check_of_an_unknown_document_is_one_line(checked: dict[str, Any]) -> None:
    result = citevault(checked["evidence"].home, "check", "0000000000000000")
    assert result.code == 1 and result.err.count("\n") == 1 and "no document" in result.err, result


# -- after the re-crawl ----------------------------------------------------------------------------------
def test_recheck_only_reads_the_new_captures(recrawled: dict[str, Any]) -> None:
    result = recrawled["check"]
    assert result.code == 0, result
    stats = result.json()
    assert stats["checked"] == 8, stats  # the 7 claims citing the harbor page, the one citing the annex
    # The PDF is a revisit: its text is the original's. The crawl itself may already have extracted the new
    # harbor text (to tell "changed" from "archived"): one text per payload either way.
    assert stats["texts_extracted"] + stats["texts_reused"] == 2 and stats["texts_extracted"] <= 1, stats
    rows = db(recrawled["evidence"].home).execute("SELECT COUNT(*), COUNT(DISTINCT key) FROM capture_texts").fetchone()
    assert rows[0] == rows[1] == 7


@pytest.mark.parametrize("part, state", list(REANCHORED.items()))
def test_passages_reanchored_on_the_new_capture(recrawled: dict[str, Any], part: str, state: str) -> None:
    old, new = recrawled["snapshot"][part]
    v = new["verification"]
    assert v["anchor"]["state"] == state, v
    assert v["anchor"]["baseline_capture_id"] == old["id"]
    if state == "edited":
        assert v["anchor"]["diff"] == [["=", "was never designed for the surges we now see"], ["-", "every"],
                                       ["+", "each"], ["=", "winter"]]
        assert v["verdict"] == "close" and v["score"] > old["verification"]["score"]  # "each winter" now matches
    if state == "deleted":
        assert v["verdict"] == "not_found"
    if state == "moved":
        assert v["span"][0] > old["verification"]["span"][0]
    if state == "present":
        assert v["passage"] == old["verification"]["passage"]


def test_revisit_is_checked_against_its_original_payload(recrawled: dict[str, Any]) -> None:
    evidence = recrawled["evidence"]
    old, new = recrawled["snapshot"]["must reach the bedrock at eleven metres"]
    kinds = dict(db(evidence.home).execute("SELECT id, record_type FROM captures WHERE id IN (?, ?)",
                                           (old["id"], new["id"])).fetchall())
    assert kinds == {old["id"]: "response", new["id"]: "revisit"}
    assert new["verification"]["verdict"] == "found" and new["verification"]["span"] == old["verification"]["span"]


def test_check_of_one_crawl_after_it_ends(recrawled: dict[str, Any]) -> None:
    """What the crawl calls at its end: only that crawl's captures are looked at."""
    from archive.api import Archive
    from archive.checks import verify_document_captures

    evidence = recrawled["evidence"]
    conn = sqlite3.connect(evidence.home / "citevault.sqlite")
    (crawl_id,) = conn.execute("SELECT crawl_id FROM captures WHERE crawl_id IS NOT NULL "
                               "ORDER BY fetched_at DESC LIMIT 1").fetchone()
    conn.execute("DELETE FROM verifications WHERE capture_id IN (SELECT id FROM captures WHERE crawl_id = ?)",
                 (crawl_id,))
    conn.commit()
    conn.close()
    archive = Archive.open(str(evidence.home))
    try:
        stats = verify_document_captures(archive.engine(), archive.home, crawl_id=crawl_id)
    finally:
        archive.close()
    assert stats.checked == 8 and stats.texts_extracted == 0, stats.as_json()


def test_force_rechecks_everything(recrawled: dict[str, Any]) -> None:
    evidence = recrawled["evidence"]
    result = citevault(evidence.home, "check", evidence.article, "--force", "--json")
    assert result.code == 0, result
    total = db(evidence.home).execute(
        "SELECT COUNT(*) FROM verifications v JOIN claims c ON c.id = v.claim_id WHERE c.document_id = ?",
        (evidence.article,)).fetchone()[0]
    assert result.json()["checked"] == total and result.json()["texts_extracted"] == 0


def test_reindex_then_check_gives_back_the_same_verifications(recrawled: dict[str, Any]) -> None:
    """Verdicts are derived data: rebuilt from the WARC files alone, they come back identical."""
    evidence = recrawled["evidence"]

    def verifications() -> dict[tuple[str, str], Any]:
        out = {}
        for part in EXPECTED:
            for capture in evidence.final(part):
                out[(part, capture["id"])] = capture["verification"]
        return out

    before = verifications()
    assert sum(1 for v in before.values() if v) == len(before) > 20
    for args in (("reindex", "--force"), ("check",)):
        result = citevault(evidence.home, *args)
        assert result.code == 0, result
    assert verifications() == before


# -- schema ----------------------------------------------------------------------------------------------
def test_migration_adds_and_drops_the_evidence_tables(tmp_path: Path) -> None:
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import inspect

    from archive.index.db import MIGRATIONS_DIR, make_engine, sqlite_url

    engine = make_engine(sqlite_url(tmp_path / "m.sqlite"))
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))

    def run(step: Any, revision: str) -> set[str]:
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            step(config, revision)
        return set(inspect(engine).get_table_names())

    assert not {"capture_texts", "verifications"} & run(command.upgrade, "0001_initial")
    assert {"capture_texts", "verifications"} <= run(command.upgrade, "0002_evidence")
    columns = {c["name"] for c in inspect(engine).get_columns("verifications")}
    assert {"claim_id", "capture_id", "verdict", "score", "span_start", "exact", "prefix", "suffix",
            "anchor_state", "diff"} <= columns
    assert not {"capture_texts", "verifications"} & run(command.downgrade, "0001_initial")
    engine.dispose()


def test_check_json_is_printed_for_an_archive_with_nothing_to_check(tmp_path: Path) -> None:
    notes = tmp_path / "notes.md"
    notes.write_text("# Notes\n\nNothing here cites anything at all today.\n")
    assert citevault(tmp_path / "home", "add", str(notes)).code == 0
    result = citevault(tmp_path / "home", "check", "--json")
    assert result.code == 0 and json.loads(result.out)["checked"] == 0, result


def test_crawl_checks_on_its_own(site_url: str, tmp_path: Path) -> None:
    """With the default settings the crawl ends with the check: verdicts are there without `check`."""
    claims = tmp_path / "quoted.jsonl"
    claims.write_text(json.dumps({"text": 'The minutes say "the committee approved the budget" in March.',
                                  "sources": [f"{site_url}/articles/target.html"]}) + "\n")
    home = tmp_path / "home"
    result = citevault(home, "archive", str(claims))
    assert result.code == 0, result
    claim_id = json.loads(citevault(home, "claims", "--json").out)[0]["id"]
    shown = json.loads(citevault(home, "show", claim_id, "--json").out)
    verdicts = [c["verification"] for s in shown["sources"] for c in s["captures"] if c["verification"]]
    assert verdicts and verdicts[0]["method"] == "quote" and verdicts[0]["verdict"] == "found", shown
