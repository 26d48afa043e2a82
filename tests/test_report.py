"""`citevault report` (md, html, json) and `citevault export` (Robust Links, ClaimReview, WACZ).

One archive of the evidence site (a copy of the session's, conftest ``evidence_crawl``, which
tests/test_verification_e2e.py checks too), crawled twice: the harbor page changes in between, so the
report has moved, edited and deleted passages.
"""
from __future__ import annotations

import json
import re
import zipfile
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from tests.archives import DATA, Evidence, copy_evidence, recrawl_changed
from tests.helpers import citevault


@pytest.fixture(scope="module")
def evidence(evidence_crawl: Evidence, tmp_path_factory: pytest.TempPathFactory) -> Evidence:
    """The session's crawl of the evidence site (conftest ``evidence_crawl``), copied, then crawled again."""
    found = copy_evidence(evidence_crawl, tmp_path_factory.mktemp("report") / "home")
    recrawl_changed(found)
    return found


@pytest.fixture(scope="module")
def report_json(evidence: Evidence) -> dict[str, Any]:
    result = citevault(evidence.home, "report", evidence.article, "--format", "json")
    assert result.code == 0, result
    return result.json()


def test_report_checks_first_and_lists_every_claim_in_order(report_json: dict[str, Any]) -> None:
    claims = report_json["claims"]
    assert [c["position"] for c in claims] == list(range(1, len(claims) + 1))
    assert claims[0]["state"] == "unsourced" and claims[-1]["state"] == "unsourced"
    quoted = [c for c in claims if c["quote"] and c["sources"] and c["state"] != "gone"]
    assert quoted and all(c["verdict"] for c in quoted)  # `report` ran the check itself


def test_report_totals(report_json: dict[str, Any]) -> None:
    totals = report_json["totals"]
    assert totals["claims"] == 15 and totals["sourced_claims"] == 13 and totals["unsourced_claims"] == 2
    assert totals["sources"] == 7 and totals["gone"] == 1
    assert totals["quotes"] == 11
    # after the re-crawl "moving furniture upstairs" is gone from the page: not found in the newest capture
    assert (totals["quotes_found"], totals["quotes_close"], totals["quotes_not_found"],
            totals["quotes_unreadable"], totals["quotes_unchecked"]) == (5, 1, 3, 1, 1)
    assert (totals["key_terms_supported"], totals["key_terms_no_match"]) == (1, 1)  # was "unsupported"
    assert (totals["passages_moved"], totals["passages_edited"], totals["passages_deleted"]) == (1, 1, 1)


def test_report_sources_carry_evidence_capture_and_archived_links(report_json: dict[str, Any], evidence: Evidence) -> None:
    claim = next(c for c in report_json["claims"] if "can no longer protect" in c["text"])
    (source,) = claim["sources"]
    first, newest = source["first_capture"], source["evidence"]
    assert first["id"] != newest["id"] and first["fetched_at"] < newest["fetched_at"]
    stamp = re.sub(r"\D", "", newest["fetched_at"][:19])
    assert newest["archived_url"] == f"http://127.0.0.1:8000/replay/{stamp}/{evidence.base}/news/harbor-wall.html"
    assert source["verification"]["verdict"] == "found"
    assert source["verification"]["anchor"]["state"] == "present"
    gone = next(c for c in report_json["claims"] if "described the wall as unsafe" in c["text"])
    assert gone["sources"][0]["evidence"] is None and gone["sources"][0]["last_fetch"]["http_status"] == 404


def test_markdown_report(evidence: Evidence) -> None:
    result = citevault(evidence.home, "report", evidence.article)
    assert result.code == 0, result
    md = result.out
    assert md.startswith("# Evidence report: Can Port Alder")
    assert "| claims | sourced | sources | archived | changed | gone | failed | pending |" in md
    assert "**quote found**" in md and "**quote close (similarity" in md and "quote not found" in md
    assert "**supported (" in md and "key terms found; heuristic" in md  # the label says it is a heuristic
    assert "## Meaning changes" in md and "passage deleted" in md  # a deleted cited passage is listed first
    assert "passage: …" in md and "**can no longer protect the old town from winter storms**." in md
    assert "passage edited since the first capture: was never designed for the surges we now see ~~every~~ **each** winter" in md
    assert "passage deleted since the first capture" in md and "passage moved since the first capture" in md
    assert "[live passage](http://127.0.0.1:" in md and "#:~:text=" in md
    assert "unreadable: no text in image/png" in md
    positions = [int(m) for m in re.findall(r"^\*\*(\d+)\.\*\*", md, re.M)]
    assert positions == list(range(1, 16))


class _Resources(HTMLParser):
    """Every attribute that would make a browser fetch something."""

    def __init__(self) -> None:
        super().__init__()
        self.fetches: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        for name, value in attrs:
            if name in ("src", "srcset", "data", "poster") or (tag == "link" and name == "href"):
                self.fetches.append(f"{tag} {name}={value}")


def test_html_report_is_one_self_contained_file(evidence: Evidence, report_json: dict[str, Any], tmp_path: Path) -> None:
    """``--no-check``: the claims were checked when ``report_json`` was made."""
    out = tmp_path / "evidence.html"
    result = citevault(evidence.home, "report", evidence.article, "--format", "html", "-o", str(out), "--no-check")
    assert result.code == 0 and result.out == "" and "wrote" in result.err, result
    page = out.read_text(encoding="utf-8")
    parser = _Resources()
    parser.feed(page)
    assert parser.fetches == [] and "script" not in parser.tags and "style" in parser.tags
    assert "@import" not in page and "url(" not in page
    assert "<mark>can no longer protect the old town from winter storms</mark>" in page
    assert "<del>every</del> <ins>each</ins>" in page
    assert page.count('<section class="claim"') == 15
    assert "주민의 안전이 무엇보다 우선입니다" in page and "Ferrándiz" in page


def test_report_with_urn_links(evidence: Evidence, report_json: dict[str, Any]) -> None:
    result = citevault(evidence.home, "report", evidence.article, "--format", "json", "--replay-base", "", "--no-check")
    assert result.code == 0, result
    links = [s["evidence"]["archived_url"] for c in result.json()["claims"] for s in c["sources"] if s["evidence"]]
    assert links and all(link.startswith("urn:citevault:capture:") for link in links)


def test_report_of_a_claim_list(evidence: Evidence) -> None:
    result = citevault(evidence.home, "report", evidence.claim_list, "--format", "json")
    assert result.code == 0, result
    verdicts = [c["verdict"]["verdict"] for c in result.json()["claims"]]
    assert verdicts == ["found", "close", "not_found", "supported", "found", "close", "not_found", "supported"]


def test_report_of_an_unknown_document(evidence: Evidence) -> None:
    result = citevault(evidence.home, "report", "0000000000000000")
    assert result.code == 1 and "no document" in result.err and result.err.count("\n") == 1, result


# -- exports ---------------------------------------------------------------------------------------------
_ROBUST = re.compile(r' data-originalurl="[^"]*" data-versionurl="[^"]*" data-versiondate="[^"]*"')


def test_robust_links_decorate_every_archived_citation_and_nothing_else(evidence: Evidence) -> None:
    result = citevault(evidence.home, "export", "--robust-links", evidence.article, binary=True)
    assert result.code == 0, result
    page = result.out.decode("utf-8")  # type: ignore[union-attr]
    original = (DATA / "article.html").read_text(encoding="utf-8").replace("{base}", evidence.base)
    assert _ROBUST.sub("", page) == original  # only the cited links' start tags changed
    decorated = re.findall(r'<a href="([^"]+)" data-originalurl="([^"]+)" data-versionurl="([^"]+)" '
                           r'data-versiondate="([^"]+)">', page)
    assert len(decorated) == 12 and "12 links decorated" in result.err
    hrefs = {href for href, *_ in decorated}
    assert f"{evidence.base}/status/404" not in hrefs  # nothing archived: left alone
    assert f"{evidence.base}/news" not in hrefs  # navigation: not a citation
    harbor = [d for d in decorated if "harbor-wall" in d[0]]
    assert {d[2] for d in harbor} == {harbor[0][2]}  # every link to it points to one capture...
    first_crawl = min(d[3] for d in decorated)
    assert harbor[0][3] == first_crawl  # ...the first one, the version the article relied on
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", d[3]) for d in decorated)
    assert next(d for d in decorated if d[0].endswith("#quote"))[1].endswith("harbor-wall.html#quote")


def test_robust_links_refuse_a_claim_list(evidence: Evidence) -> None:
    result = citevault(evidence.home, "export", "--robust-links", evidence.claim_list)
    assert result.code == 1 and "not an HTML article" in result.err and result.err.count("\n") == 1, result


def test_claimreview_jsonld(evidence: Evidence, tmp_path: Path) -> None:
    out = tmp_path / "claims.jsonld"
    result = citevault(evidence.home, "export", "--claimreview", evidence.article, "-o", str(out))
    assert result.code == 0, result
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["@context"] == "https://schema.org"
    reviews = doc["@graph"]
    assert len(reviews) == 15 and all(r["@type"] == "ClaimReview" and r["claimReviewed"] for r in reviews)
    found = next(r for r in reviews if "can no longer protect" in r["claimReviewed"])
    assert found["reviewRating"]["ratingValue"] == 5
    (citation,) = found["itemReviewed"]["citation"]
    assert citation["url"] == f"{evidence.base}/news/harbor-wall.html"
    assert len(citation["archivedAt"]) == 2 and all("/replay/" in url for url in citation["archivedAt"])
    assert found["itemReviewed"]["appearance"]["archivedAt"].startswith("http://127.0.0.1:8000/captures/")
    unsourced = reviews[0]["reviewRating"]
    assert "ratingValue" not in unsourced and unsourced["alternateName"].startswith("Unsourced")


@pytest.mark.parametrize("args, message", [
    ([], "choose one of"),
    (["--robust-links", "--claimreview", "x"], "choose one of"),
    (["--claimreview"], "needs a DOCUMENT_ID"),
])
def test_export_usage_errors(evidence: Evidence, args: list[str], message: str) -> None:
    result = citevault(evidence.home, "export", *args)
    assert result.code == 2 and message in result.err, result


@pytest.mark.parametrize("flag", ["--robust-links", "--claimreview"])
def test_export_of_an_unknown_document(evidence: Evidence, flag: str) -> None:
    result = citevault(evidence.home, "export", flag, "0000000000000000")
    assert result.code == 1 and "no document" in result.err and result.err.count("\n") == 1, result


def _run_export(evidence: Evidence, *args: str) -> Any:
    from click.testing import CliRunner

    from archive.cli.main import cli

    return CliRunner().invoke(cli, ["--home", str(evidence.home), "export", *args])


def test_wacz_branch_calls_the_wacz_module(evidence: Evidence, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from archive.exports import wacz

    calls: list[tuple[Any, ...]] = []
    real = wacz.write_wacz

    def write_wacz(archive: Any, path: Path, document_id: str | None, **signing: Any) -> Any:
        calls.append((archive.home.root, path, document_id))
        return real(archive, path, document_id, **signing)

    monkeypatch.setattr(wacz, "write_wacz", write_wacz)
    result = _run_export(evidence, "--wacz", str(tmp_path / "e.wacz"), evidence.article)
    assert result.exit_code == 0, result.output
    assert calls == [(evidence.home, tmp_path / "e.wacz", evidence.article)]
    assert zipfile.is_zipfile(tmp_path / "e.wacz") and "claims)" in result.output, result.output
