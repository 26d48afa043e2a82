"""Memento (RFC 7089): TimeGate and TimeMap for archived URLs, and the headers of the mementos they name.

The evidence page has three or four mementos: 2019 (first version), 2021 (a revisit of it: same payload)
and the crawl's captures (the current version: fetched directly, and at the end of a redirect).
"""
from __future__ import annotations

import re
from typing import Any

import pytest

from tests.helpers import db
from tests.web_fixtures import OLD_SENTENCE, REPORT_SENTENCE, Evidence

# Without httpx2 installed, Starlette's TestClient warns that it falls back to httpx: not our concern.
pytestmark = pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")

BASE = "http://testserver"


def parse_links(value: str) -> list[dict[str, str]]:
    """A link-format / Link header value as a list of {"url", "rel", other params}."""
    links = []
    for match in re.finditer(r'<([^>]*)>((?:\s*;\s*[\w-]+="[^"]*")*)', value):
        link = {"url": match[1]}
        link.update(re.findall(r'([\w-]+)="([^"]*)"', match[2]))
        links.append(link)
    return links


def _timestamps(evidence: Evidence, url: str) -> list[str]:
    rows = db(evidence.home).execute("SELECT DISTINCT timestamp FROM captures WHERE url = ? ORDER BY timestamp", (url,))
    return [r[0] for r in rows]


def test_timemap_lists_every_memento(client: Any, evidence: Evidence) -> None:
    url = evidence.url("/evidence/report.html")
    reply = client.get(f"/timemap/link/{url}")
    assert reply.status_code == 200 and reply.headers["content-type"].startswith("application/link-format")
    links = parse_links(reply.text)
    rels = {link["rel"]: link for link in links}
    assert rels["original"]["url"] == url
    assert rels["self"]["url"] == f"{BASE}/timemap/link/{url}" and rels["self"]["type"] == "application/link-format"
    assert rels["self"]["from"] == "Wed, 01 May 2019 12:00:00 GMT"
    assert rels["timegate"]["url"] == f"{BASE}/timegate/{url}"
    mementos = [link for link in links if link["rel"].endswith("memento")]
    seconds = _timestamps(evidence, url)  # the crawl's two captures may fall in one second or two
    assert len(seconds) in (3, 4) and len(mementos) == len(seconds)
    assert [m["rel"] for m in mementos] == ["first memento", *["memento"] * (len(seconds) - 2), "last memento"]
    assert [m["datetime"] for m in mementos][:2] == ["Wed, 01 May 2019 12:00:00 GMT", "Mon, 01 Mar 2021 12:00:00 GMT"]
    assert mementos[0]["url"] == f"{BASE}/replay/20190501120000/{url}"
    for memento in mementos:  # each URI-M answers with its Memento-Datetime
        shown = client.get(memento["url"].removeprefix(BASE))
        assert shown.status_code == 200
        assert shown.headers["memento-datetime"] == memento["datetime"]
        assert {"url": url, "rel": "original"} in parse_links(shown.headers["link"])


def test_timegate_negotiates_on_accept_datetime(client: Any, evidence: Evidence) -> None:
    url = evidence.url("/evidence/report.html")
    cases = {
        "Mon, 01 Jan 2018 00:00:00 GMT": "20190501120000",   # before the first: the first
        "Wed, 01 Jan 2020 00:00:00 GMT": "20190501120000",   # closer to May 2019 than to March 2021
        "Tue, 01 Jun 2021 00:00:00 GMT": "20210301120000",
    }
    for accept, ts in cases.items():
        reply = client.get(f"/timegate/{url}", headers={"Accept-Datetime": accept}, follow_redirects=False)
        assert reply.status_code == 302, accept
        assert reply.headers["location"] == f"{BASE}/replay/{ts}/{url}", accept
        assert reply.headers["vary"] == "accept-datetime"
        rels = {link["rel"]: link for link in parse_links(reply.headers["link"])}
        assert rels["original"]["url"] == url and rels["timemap"]["type"] == "application/link-format"
        assert any(r.startswith("first") for r in rels) and any("last" in r for r in rels)
    latest = client.get(f"/timegate/{url}", follow_redirects=False)  # no Accept-Datetime: the newest
    assert latest.headers["location"] == f"{BASE}/replay/{_timestamps(evidence, url)[-1]}/{url}"
    assert REPORT_SENTENCE in client.get(latest.headers["location"].removeprefix(BASE)).text
    old = client.get(f"/timegate/{url}", headers={"Accept-Datetime": "Tue, 01 Jun 2021 00:00:00 GMT"})
    assert OLD_SENTENCE in old.text  # the 2021 revisit replays the 2019 payload
    head = client.head(f"/timegate/{url}", follow_redirects=False)
    assert head.status_code == 302


def test_timegate_errors(client: Any, evidence: Evidence) -> None:
    url = evidence.url("/evidence/report.html")
    bad = client.get(f"/timegate/{url}", headers={"Accept-Datetime": "last tuesday"}, follow_redirects=False)
    assert bad.status_code == 400 and "RFC 1123" in bad.text
    assert client.get("/timegate/http://never.example/x", follow_redirects=False).status_code == 404
    assert client.get("/timemap/link/http://never.example/x").status_code == 404
    failed = client.get("/timemap/link/http://127.0.0.1:9/analysis.html")  # a failed fetch is no memento
    assert failed.status_code == 404


def test_every_archived_url_has_a_timemap(client: Any, evidence: Evidence) -> None:
    for path in ("/story.html", "/evidence/audit.pdf", "/evidence/photo.png", "/evidence/moved",
                 "/evidence/removed.html", "/evidence/hostile.html"):
        reply = client.get(f"/timemap/link/{evidence.url(path)}")
        assert reply.status_code == 200, path
        assert 'rel="first last memento"' in reply.text, path


def test_uri_r_matched_like_wayback(client: Any, evidence: Evidence) -> None:
    """SURT matching: scheme, ``www.`` and query order do not make another URL."""
    url = evidence.url("/evidence/report.html")
    other_scheme = "https://" + url.removeprefix("http://")
    reply = client.get(f"/timegate/{other_scheme}", follow_redirects=False)
    assert reply.status_code == 302 and reply.headers["location"].endswith(f"/{url}")
