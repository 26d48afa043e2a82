"""A receipt resting on a revisit: the web fixtures' evidence page has a 2021 revisit of its 2019 capture
(tests/web_fixtures.py), and the receipt also states, and the check re-hashes, the original record that
holds the payload."""
from __future__ import annotations

from pathlib import Path

from tests.helpers import db
from tests.test_receipts import copy_home
from tests.web_fixtures import Evidence


def test_a_revisit_names_the_original_record_too(evidence: Evidence, tmp_path: Path) -> None:
    from archive.api import Archive
    from archive.receipts.build import make_receipt
    from archive.receipts.verify import check_receipt

    home = copy_home(evidence.home, tmp_path / "home")  # the shared home stays without keys
    archive = Archive.open(str(home))
    claim = next(c for c in archive.lookup("flood barrier will cost") if c["document"]["id"] == evidence.document_id)
    source = next(s for s in claim["sources"] if s["url"].endswith("/evidence/report.html"))
    revisit_row = dict(db(home).execute("SELECT * FROM captures WHERE url = ? AND record_type = 'revisit'",
                                        (source["url"],)).fetchone())
    revisit = {**archive.capture(revisit_row["id"]), "verification": None}  # a CaptureJSON's fields
    claim = {**claim, "sources": [{**source, "captures": [revisit]}]}
    receipt, problems = make_receipt(archive, claim, [])  # type: ignore[arg-type]
    assert problems == []
    cap = receipt["body"]["sources"][0]["capture"]  # type: ignore[index]
    assert cap["record"]["record_type"] == "revisit" and cap["original_record"]["record_type"] == "response"
    original = db(home).execute("SELECT * FROM captures WHERE id = ?", (revisit_row["refers_to"],)).fetchone()
    assert cap["original_record"]["payload_sha256"] == original["payload_sha256"]
    result = check_receipt(dict(receipt), home=archive.home, home_given=True)
    archive.close()
    assert [c.status for c in result.checks if c.name.startswith("record")] == ["ok", "ok"], result.checks
