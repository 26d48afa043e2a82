"""What is left to check for a few sources (the checks while crawling ask this after every batch) is what the
whole-archive query says for those sources: the same pairs, by source, whatever is verified already, at
which check version, and by which crawl the captures were made.

The few-sources answer is computed with one query per table (archive.checks.store._pending_of_sources: a
three-table join was misplanned on PostgreSQL mid-crawl); this holds it to the join's answer on a real index.
"""
from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text

from archive import ids

PAGE = ("<html><body><article><p>The harbor wall number {n} was inspected in spring by crew {n}, the report "
        "says, and the council approved the repairs.</p></article></body></html>")
URLS = [f"http://pending.invalid/{n}.html" for n in (1, 2, 3)]


def test_few_sources_answer_as_the_whole_archive_does(tmp_path: Path) -> None:
    from archive.api import Archive
    from archive.checks import store
    from archive.checks.run import verify_document_captures
    from tests.archives import add_response_capture

    home = tmp_path / "home"
    claims = tmp_path / "claims.jsonl"
    claims.write_text(
        json.dumps({"text": "The harbor wall number 1 was inspected.", "sources": URLS[:2]}) + "\n"
        + json.dumps({"text": "The harbor wall number 2 was inspected.", "sources": [URLS[1]]}) + "\n"
        + json.dumps({"text": "Nothing fetched backs this.", "sources": [URLS[2]]}) + "\n", encoding="utf-8")
    archive = Archive.open(str(home))
    archive.add([str(claims)])
    archive.close()
    add_response_capture(home, URLS[0], PAGE.format(n=1).encode())
    for day in (1, 2):  # two captures of the second source
        add_response_capture(home, URLS[1], PAGE.format(n=2).encode() + b" " * day,
                             fetched=datetime(2025, 3, day, tzinfo=UTC))
    sids = [ids.source_id(u) for u in URLS]
    archive = Archive.open(str(home))
    try:
        engine = archive.engine()
        verify_document_captures(engine, archive.home, source_ids=[sids[1]])  # the second source is checked
        with engine.begin() as conn:  # ... but one of its verdicts is of an older check version
            conn.execute(text("UPDATE verifications SET version = :old WHERE capture_id = (SELECT MIN(capture_id) "
                              "FROM verifications WHERE source_id = :s)"), {"old": store.VERSION - 1, "s": sids[1]})
        with engine.connect() as conn:
            for force in (False, True):
                whole = store.pending_groups(conn, None, force)
                few = store.pending_groups(conn, None, force, source_ids=sids)
                assert few == [pair for pair in whole if pair[1] in sids]
                assert store.pending_groups(conn, None, force, source_ids=sids[2:]) == []  # nothing captured
                assert store.pending_groups(conn, None, force, "another-crawl", sids) == []  # not its captures
            few = store.pending_groups(conn, None, False, source_ids=sids)
            assert {source for _, source in few} == {sids[0], sids[1]}
            # both claims cite the second source, both verdicts of one capture are stale: two pairs left
            assert len([pair for pair in few if pair[1] == sids[1]]) == 2
            assert len(store.pending_groups(conn, None, True, source_ids=sids)) == 3
            assert few == sorted(few, key=lambda pair: (pair[1], pair[0]))
    finally:
        archive.close()
