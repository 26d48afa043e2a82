"""End to end: the real CLI in subprocesses, crawling the real loopback test site, WARCs read back.

One module-scoped archive of the sample article (added by URL) and of the claim lists backs most tests,
so the suite crawls a handful of times, not once per assertion.
"""
from __future__ import annotations

import gzip
import hashlib
import json
import re
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import citevault, db, read_records, warc_files, warcio_check

SITE = Path(__file__).parent / "site"
ONCE = f"test_crawl={uuid.uuid4().hex}"  # marks this module's URLs on the shared test server
EXPECTED = json.loads((SITE / "articles" / "sample.expected.json").read_text())


@pytest.fixture(scope="module")
def archived(site_url: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """``citevault archive`` of the sample article (by URL) and a claim list, then ``lookup``s."""
    home = tmp_path_factory.mktemp("home")
    tmp = tmp_path_factory.mktemp("lists")
    from tests.server import render_site_file

    jsonl = render_site_file("claims/sample.jsonl", site_url, tmp)
    twice = tmp / "twice.jsonl"  # two claims, one source: fetched once
    twice.write_text("".join(
        json.dumps({"text": text, "sources": [f"{site_url}/pages/7.html?{ONCE}"]}) + "\n"
        for text in ("Page seven exists.", "Page seven is cited again.")
    ))
    result = citevault(home, "archive", f"{site_url}/articles/sample.html", str(jsonl), str(twice), "--json")
    assert result.code == 0, result
    return {"home": home, "result": result, "base": site_url}


def _records(home: Path) -> list[dict[str, Any]]:
    return [r for f in warc_files(home) for r in read_records(f)]


def test_archive_exits_zero_and_prints_summary(archived: dict[str, Any]) -> None:
    result = archived["result"]
    assert "citevault: done in" in result.err, result
    assert "gone" in result.err and "archived" in result.err, result
    added = result.json()
    assert [sorted(a) for a in added] == [["claims", "document", "sourced_claims", "sources"]] * 3
    article = added[0]
    assert article["document"]["url"] == f"{archived['base']}/articles/sample.html"
    assert article["claims"] >= EXPECTED["story_body_sentences"]
    assert article["sources"] == len(EXPECTED["body_sources"])
    assert "Traceback" not in result.err


def test_every_warc_is_valid_and_closed(archived: dict[str, Any]) -> None:
    files = warc_files(archived["home"])
    assert files and all(f.name.endswith(".warc.gz") for f in files), files  # no .open left behind
    for f in files:
        check = warcio_check(f)
        assert check.returncode == 0, check.stdout + check.stderr
        records = read_records(f)
        assert records[0]["type"] == "warcinfo"
        info = records[0]["body"].decode()
        assert "software: citevault/" in info and "robots: obey" in info
        assert f.name.startswith("citevault-") and records[0]["headers"]["WARC-Filename"] == f.name


def test_body_sources_archived_and_boilerplate_ignored(archived: dict[str, Any]) -> None:
    base = archived["base"]
    conn = db(archived["home"])
    urls = {row["url"] for row in conn.execute("SELECT url FROM sources")}
    for path in EXPECTED["body_sources"]:
        assert f"{base}{path}" in urls, path
    for path in EXPECTED["boilerplate_links"] + EXPECTED["body_links_not_sources"]:
        if path.startswith(("/", "#")):
            assert f"{base}{path}" not in urls, f"boilerplate link {path} became a source"
    states = {row["url"][len(base):]: row["state"] for row in conn.execute("SELECT url, state FROM sources")
              if row["url"].startswith(base)}
    assert states["/articles/target.html"] == "archived"
    assert states["/status/404"] == "gone"
    assert states["/redirect/a"] == "archived"
    assert states["/gzip.html"] == "archived"


def test_sentences_keep_abbreviations_and_quotes(archived: dict[str, Any]) -> None:
    texts = [r["text"] for r in db(archived["home"]).execute("SELECT text FROM claims")]
    for sentence in EXPECTED["unsourced_sentences"][:2] + [c["sentence"] for c in EXPECTED["citations"][2:4]]:
        assert sentence in texts, sentence
    for boiler in EXPECTED["not_main_text"]:
        assert not any(boiler in t for t in texts), boiler
    quote = EXPECTED["citations"][5]["quote_contains"]
    quotes = [r["quote"] for r in db(archived["home"]).execute("SELECT quote FROM claims WHERE quote IS NOT NULL")]
    assert any(quote in q for q in quotes), quotes


def test_payload_digests_match_served_bytes(archived: dict[str, Any], site_server: Any) -> None:
    base = archived["base"]
    responses = {r["uri"]: r for r in _records(archived["home"]) if r["type"] == "response"}
    conn = db(archived["home"])
    for path in ("/articles/target.html", "/gzip.html", "/chunked.html", "/latin1.html", "/pdf"):
        served = site_server.served_body(path)
        record = responses[f"{base}{path}"]
        assert record["body"] == served, path
        row = conn.execute("SELECT payload_sha256 FROM captures WHERE url = ? AND record_type = 'response'",
                           (f"{base}{path}",)).fetchone()
        assert row["payload_sha256"] == hashlib.sha256(served).hexdigest(), path


def test_gzip_kept_encoded_and_chunked_framing_removed(archived: dict[str, Any]) -> None:
    base = archived["base"]
    responses = {r["uri"]: r for r in _records(archived["home"]) if r["type"] == "response"}
    gz = responses[f"{base}/gzip.html"]
    assert gz["http"].get_header("Content-Encoding") == "gzip"
    assert b"<html" in gzip.decompress(gz["body"]).lower()
    chunked = responses[f"{base}/chunked.html"]
    assert chunked["http"].get_header("Transfer-Encoding") is None
    assert chunked["body"].lower().startswith(b"<!doctype html") or b"<html" in chunked["body"].lower()


def test_each_redirect_hop_is_its_own_response(archived: dict[str, Any]) -> None:
    base = archived["base"]
    records = _records(archived["home"])
    statuses = {r["uri"]: r["http"].get_statuscode() for r in records if r["type"] == "response"}
    assert statuses[f"{base}/redirect/a"] == "302"
    assert statuses[f"{base}/redirect/b"] == "301"
    row = db(archived["home"]).execute(
        "SELECT redirect_to FROM captures WHERE url = ?", (f"{base}/redirect/a",)).fetchone()
    assert row["redirect_to"] == f"{base}/redirect/b"


def test_no_referer_sent(archived: dict[str, Any]) -> None:
    """Sources never learn which page cited them, redirect hops included (the request records are what
    went over the wire)."""
    requests = [r for r in _records(archived["home"]) if r["type"] == "request"]
    assert any(r["uri"].endswith("/redirect/b") for r in requests)
    assert not [r["uri"] for r in requests if r["http"].get_header("Referer")]


def test_request_records_pair_with_responses(archived: dict[str, Any]) -> None:
    records = _records(archived["home"])
    responses = {r["headers"]["WARC-Record-ID"]: r for r in records if r["type"] in ("response", "revisit")}
    requests = [r for r in records if r["type"] == "request"]
    assert len(requests) == len(responses)
    for req in requests:
        resp = responses[req["headers"]["WARC-Concurrent-To"]]
        assert resp["uri"] == req["uri"]
        assert req["http"].protocol == "GET"
        ua = req["http"].get_header("User-Agent")
        assert ua.startswith("citevault/") and "+http" in ua, ua
    for resp in responses.values():
        assert resp["headers"]["WARC-IP-Address"] == "127.0.0.1"
        assert resp["headers"]["Citevault-Crawl-ID"]
        assert resp["headers"]["WARC-Payload-Digest"].startswith("sha1:")


def test_document_claims_are_a_resource_record(archived: dict[str, Any]) -> None:
    added = archived["result"].json()
    for doc in added:
        uri = f"urn:citevault:document:{doc['document']['id']}"
        records = [r for r in _records(archived["home"]) if r["uri"] == uri and r["type"] == "resource"]
        assert records, uri
        lines = [json.loads(line) for line in records[-1]["body"].splitlines()]
        assert lines[0]["document"]["id"] == doc["document"]["id"]
        assert len(lines) - 1 == doc["claims"]


def test_each_source_fetched_once_per_crawl(archived: dict[str, Any], site_server: Any) -> None:
    assert len(site_server.requests_for(f"/pages/7.html?{ONCE}")) == 1


def test_lookup_and_show_json_shape(archived: dict[str, Any]) -> None:
    home, base = archived["home"], archived["base"]
    by_url = citevault(home, "lookup", f"{base}/articles/target.html#section", "--json")
    assert by_url.code == 0, by_url
    claims = by_url.json()
    assert len(claims) == 3  # two sentences of the article, one row of the claim list
    claim = claims[0]
    assert sorted(claim) == ["document", "id", "quote", "sources", "text"]
    assert sorted(claim["document"]) == ["id", "title", "url"]
    source = claim["sources"][0]
    assert sorted(source) == ["captures", "state", "url"]
    capture = source["captures"][-1]
    assert sorted(capture) == sorted(["id", "url", "fetched_at", "http_status", "content_type", "warc_file",
                                      "warc_offset", "warc_record_id", "payload_sha256", "error",
                                      "verification", "rendering"])  # docs/json.md: checks and browser renderings
    assert capture["rendering"] is None  # the tests crawl with CITEVAULT_BROWSER=never (tests/conftest.py)
    assert capture["http_status"] == 200 and capture["error"] is None
    assert capture["fetched_at"].endswith("Z") and capture["warc_record_id"].startswith("<urn:uuid:")
    shown = citevault(home, "show", claim["id"], "--json")
    assert shown.code == 0 and shown.json() == claim, shown
    bare = citevault(home, "lookup", f"{base}/articles/target.html".split("://", 1)[1], "--json")
    assert bare.code == 0 and bare.json() == claims, bare  # a URL without its scheme is still a URL
    words = citevault(home, "lookup", "seven to two", "--json").json()
    assert words and all("seven to two" in c["text"] for c in words)
    human = citevault(home, "lookup", "seven to two")
    assert "[archived]" in human.out and words[0]["id"] in human.out, human


def test_cat_prints_decoded_payload(archived: dict[str, Any], site_server: Any) -> None:
    home, base = archived["home"], archived["base"]
    conn = db(home)
    for path in ("/gzip.html", "/latin1.html"):
        cap = conn.execute("SELECT id FROM captures WHERE url = ?", (f"{base}{path}",)).fetchone()["id"]
        out = citevault(home, "cat", cap, binary=True)
        assert out.code == 0, out
        served = site_server.served_body(path)
        expected = gzip.decompress(served) if path == "/gzip.html" else served
        assert out.out == expected


def test_claims_listing_states(archived: dict[str, Any]) -> None:
    home = archived["home"]
    doc_id = archived["result"].json()[0]["document"]["id"]
    listing = citevault(home, "claims", doc_id, "--json").json()
    states = {c["state"] for c in listing}
    assert {"archived", "unsourced", "gone"} <= states, states
    human = citevault(home, "claims", doc_id)
    assert human.code == 0 and "unsourced" in human.out


def test_robots_obeyed_then_overridden(site_url: str, site_server: Any, tmp_path: Path) -> None:
    claims = tmp_path / "robots.jsonl"
    secret = f"/private/secret.html?{ONCE}"  # the session's server is shared: this URL is this test's own
    claims.write_text(json.dumps({"text": "A secret page says so.", "sources": [f"{site_url}{secret}"]}) + "\n")
    home = tmp_path / "home"
    result = citevault(home, "archive", str(claims))
    assert result.code == 0, result
    assert site_server.requests_for(secret) == []
    row = db(home).execute("SELECT error, http_status FROM captures WHERE url LIKE '%/private/secret.html%'").fetchone()
    assert row["error"] == "blocked by robots.txt" and row["http_status"] is None
    assert db(home).execute("SELECT state FROM sources").fetchone()["state"] == "failed"
    again = citevault(home, "crawl", "--ignore-robots")
    assert again.code == 0, again
    assert len(site_server.requests_for(secret)) == 1
    assert db(home).execute("SELECT state FROM sources").fetchone()["state"] == "archived"


def test_refused_connection_recorded_and_crawl_goes_on(site_url: str, tmp_path: Path) -> None:
    claims = tmp_path / "refused.jsonl"
    claims.write_text(
        json.dumps({"text": "Nobody listens here.", "sources": ["http://127.0.0.1:9/nothing"]}) + "\n"
        + json.dumps({"text": "This one works.", "sources": [f"{site_url}/pages/41.html"]}) + "\n"
    )
    home = tmp_path / "home"
    result = citevault(home, "archive", str(claims))
    assert result.code == 0, result
    rows = {r["url"]: r for r in db(home).execute("SELECT url, state FROM sources")}
    assert rows["http://127.0.0.1:9/nothing"]["state"] == "failed"
    assert rows[f"{site_url}/pages/41.html"]["state"] == "archived"
    err = db(home).execute("SELECT error FROM captures WHERE url = 'http://127.0.0.1:9/nothing'").fetchone()
    assert err["error"] == "connection refused"
    for f in warc_files(home):
        assert warcio_check(f).returncode == 0


def test_refetch_of_identical_payload_is_a_revisit(archived: dict[str, Any]) -> None:
    """/redirect/a ends at /articles/target.html, which the crawl also fetched directly: same bytes."""
    base, home = archived["base"], archived["home"]
    records = _records(home)
    target = f"{base}/articles/target.html"
    full = [r for r in records if r["type"] == "response" and r["uri"] == target]
    revisits = [r for r in records if r["type"] == "revisit" and r["uri"] == target]
    assert len(full) == 1 and len(revisits) == 1
    revisit = revisits[0]["headers"]
    assert revisit["WARC-Profile"].endswith("/revisit/identical-payload-digest")
    assert revisit["WARC-Refers-To"] == full[0]["headers"]["WARC-Record-ID"]
    assert revisit["WARC-Refers-To-Target-URI"] == target
    assert revisit["WARC-Payload-Digest"] == full[0]["headers"]["WARC-Payload-Digest"]
    assert revisits[0]["body"] == b""  # no payload bytes stored twice
    row = db(home).execute("SELECT id, refers_to FROM captures WHERE record_type = 'revisit' AND url = ?",
                           (target,)).fetchone()
    assert row["refers_to"] == full[0]["headers"]["WARC-Record-ID"][10:-1]
    assert citevault(home, "cat", row["id"], binary=True).out == (SITE / "articles" / "target.html").read_bytes()


def test_thread_recorder_records_the_same(archived: dict[str, Any], tmp_path: Path) -> None:
    """CITEVAULT_RECORDER_PROCESS=False (the recorder as a thread of the crawler) archives what the
    default recorder process does: same captures, same source states, valid WARCs."""
    from tests.server import render_site_file

    base = archived["base"]
    jsonl = render_site_file("claims/sample.jsonl", base, tmp_path)
    twice = tmp_path / "twice.jsonl"
    twice.write_text("".join(json.dumps({"text": t, "sources": [f"{base}/pages/7.html?{ONCE}"]}) + "\n"
                             for t in ("Page seven exists.", "Page seven is cited again.")))
    home = tmp_path / "home"
    result = citevault(home, "archive", f"{base}/articles/sample.html", str(jsonl), str(twice),
                       "-s", "CITEVAULT_RECORDER_PROCESS=False")
    assert result.code == 0, result

    def shape(h: Path) -> tuple[list[tuple], list[tuple]]:
        conn = db(h)
        captures = sorted(tuple(r) for r in conn.execute("SELECT url, COALESCE(http_status, 0), record_type, "
                                                         "COALESCE(error, '') FROM captures"))
        states = sorted(tuple(r) for r in conn.execute("SELECT url, state FROM sources"))
        conn.close()
        return captures, states

    assert shape(home) == shape(archived["home"])
    for f in warc_files(home):
        assert not f.name.endswith(".open") and warcio_check(f).returncode == 0, f


def test_sources_found_in_a_fetched_document_are_announced(site_url: str, tmp_path: Path) -> None:
    """A document archived by URL adds the sources it cites mid-crawl: one line says so, and the progress
    denominator grows by exactly that many."""
    url = f"{site_url}/articles/sample.html"
    home = tmp_path / "home"
    result = citevault(home, "archive", url)
    assert result.code == 0, result
    found = [line for line in result.err.splitlines() if " found in " in line]
    conn = db(home)
    sources = conn.execute("SELECT COUNT(*) FROM sources").fetchone()[0]
    conn.close()
    assert sources > 0
    assert found == [f"citevault: +{sources} sources found in {url}"], result
    totals = {int(t) for t in re.findall(r"citevault: \d+/(\d+) done", result.err)}
    assert totals <= {1, 1 + sources}, result
