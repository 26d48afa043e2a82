"""Drift with meaning: a re-crawled page whose cited score changes from "7 to 2" to "5 to 4" is a meaning
change, listed first by ``status`` and the report; a page whose only change is an advert is cosmetic.

Real local HTTP server, real crawls as subprocesses; time passes through CITEVAULT_NOW.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.helpers import citevault, db
from tests.test_recheck import Clock

SCORE = ("The harbor cup final ended on Sunday evening in front of a full stand.\n"
         "Port Alder beat the visitors 7 to 2 after a fast second half.\n"
         "The coach said the team had trained all winter for this match.")
HARBOR = ("The regional water authority published its review of the harbor wall on Monday.\n"
          "The review found that the wall can no longer protect the old town from winter storms.\n"
          "A new barrier would take two years to build.")


def _page(title: str, body: str, advert: str = "") -> str:
    paragraphs = "".join(f"<p>{p}</p>" for p in body.split("\n"))
    ad = f"<div class='advert'><p>{advert}</p></div>" if advert else ""
    return (f"<!DOCTYPE html><html><head><title>{title}</title></head><body>"
            f"<header><nav><a href='/'>Home</a></nav></header>"
            f"<article><h1>{title}</h1>{paragraphs}{ad}</article>"
            f"<footer>Port Alder Gazette</footer></body></html>")


def test_meaning_change_is_listed_before_a_cosmetic_one(site_server: Any, tmp_path: Path) -> None:
    prefix = tmp_path.name
    # "a-" sorts before "b-": by URL alone the advert page would come first.
    advert = site_server.set_page(f"{prefix}-a-advert", _page("Harbor wall review", HARBOR))
    score = site_server.set_page(f"{prefix}-b-score", _page("Cup final", SCORE))
    claims = tmp_path / "claims.jsonl"
    claims.write_text(
        json.dumps({"text": 'The hosts won "7 to 2".', "quote": "Port Alder beat the visitors 7 to 2",
                    "sources": [score]}) + "\n"
        + json.dumps({"text": "The wall can no longer protect the old town, the review found.",
                      "quote": "the wall can no longer protect the old town from winter storms",
                      "sources": [advert]}) + "\n")
    clock = Clock(tmp_path / "home")
    clock.run("archive", "--every", "7d", str(claims))
    home = tmp_path / "home"
    first = json.loads(citevault(home, "claims", "--json").out)
    assert {c["state"] for c in first} == {"archived"}, first

    site_server.set_page(f"{prefix}-b-score", _page("Cup final", SCORE.replace("7 to 2", "5 to 4")))
    site_server.set_page(f"{prefix}-a-advert", _page(
        "Harbor wall review", HARBOR, "Advertisement: fresh croissants every morning at the Quay Street bakery."))
    clock.days(8)
    clock.run("crawl", "--due")

    status = json.loads(citevault(home, "status", "--json").out)
    problems = [p for doc in status for p in doc["problems"]]
    assert problems and problems[0]["url"] == score, problems
    first_problem = problems[0]
    assert first_problem["state"] == "changed" and first_problem["change"] == "meaning"
    changes = {(c["kind"], c["before"], c["after"]) for c in first_problem["meaning_changes"]}
    assert {("number", "7", "5"), ("number", "2", "4")} <= changes, changes
    for other in problems[1:]:  # the advert page, if its main text changed at all, changed cosmetically
        assert other["url"] != score and other["change"] in ("cosmetic", None), other
        assert not other["meaning_changes"]

    human = citevault(home, "status").out
    assert "(meaning change)" in human and '"7" became "5"' in human, human
    if advert in human:
        assert human.index(score) < human.index(advert)

    docs = json.loads(citevault(home, "claims", "--json").out)
    report = json.loads(citevault(home, "report", docs[0]["document_id"], "--format", "json").out)
    listed = report["meaning_changes"]
    assert [m["url"] for m in listed] == [score], listed
    assert report["totals"]["passages_meaning_changed"] == 1
    markdown = citevault(home, "report", docs[0]["document_id"]).out
    assert markdown.index("## Meaning changes") < markdown.index("## Claims")
    assert 'number "7" became "5"' in markdown

    # The quote now misquotes the page: the newest capture's verdict names the words.
    score_claim = next(c for c in docs if "7 to 2" in c["text"])
    shown = json.loads(citevault(home, "show", score_claim["id"], "--json").out)
    newest = shown["sources"][0]["captures"][-1]["verification"]
    assert newest["verdict"] == "misquoted", newest
    assert {(d["kind"], d["quote"], d["source"]) for d in newest["differences"]} >= {("number", "7", "5")}
    advert_claim = next(c for c in docs if "7 to 2" not in c["text"])
    shown = json.loads(citevault(home, "show", advert_claim["id"], "--json").out)
    assert shown["sources"][0]["captures"][-1]["verification"]["verdict"] == "found"

    # The HTML report and the web UI show the misquote and its words.
    html = citevault(home, "report", docs[0]["document_id"], "--format", "html", "--no-check").out
    assert html.index("<h2>Meaning changes</h2>") < html.index("<h2>Claims</h2>")
    assert 'class="badge misquoted"' in html and "number &quot;7&quot; in the quote" in html
    from fastapi.testclient import TestClient

    from archive.api import Archive
    from archive.web.app import create_app

    archive = Archive.open(str(home))
    try:
        with TestClient(create_app(archive)) as client:
            page = client.get(f"/claims/{score_claim['id']}").text
            assert 'class="badge verdict-misquoted"' in page, page
            assert '<del title="in the claim">7</del>' in page and '<ins title="in the source">5</ins>' in page
    finally:
        archive.close()


def test_a_verdict_stored_by_an_older_version_still_reads(site_server: Any, tmp_path: Path) -> None:
    """Check version 1 stored ``unsupported`` for what is now ``no_match``: it reads as such, and the next
    ``citevault check`` recomputes the row."""
    page = site_server.set_page(f"{tmp_path.name}-old", _page("Harbor wall review", HARBOR))
    claims = tmp_path / "claims.jsonl"
    claims.write_text(json.dumps({"text": "The ferry terminal closed because of the regatta.",
                                  "sources": [page]}) + "\n")
    home = tmp_path / "home"
    assert citevault(home, "archive", str(claims)).code == 0
    conn = db(home)
    claim_id, verdict = conn.execute("SELECT claim_id, verdict FROM verifications").fetchone()
    assert verdict == "no_match"
    conn.execute("UPDATE verifications SET verdict = 'unsupported', version = 1")
    conn.commit()
    shown = json.loads(citevault(home, "show", claim_id, "--json").out)
    old = shown["sources"][0]["captures"][-1]["verification"]
    assert old["verdict"] == "no_match" and old["label"] == "no matching passage (heuristic)", old
    assert "key terms no match" in citevault(home, "show", claim_id).out
    assert citevault(home, "check").code == 0
    assert tuple(conn.execute("SELECT verdict, version FROM verifications").fetchone()) == ("no_match", 2)
