"""Scheduled re-checks against pages that change, vanish and return; time passes via CITEVAULT_NOW."""
from __future__ import annotations

import json
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import citevault, crawls_at_once, db, read_records, warc_files, warcio_check

T0 = datetime(2027, 3, 1, 9, 0, 0)


def _page(title: str, body: str, sidebar: str = "") -> str:
    paragraphs = "".join(f"<p>{p}</p>" for p in body.split("\n"))
    return (f"<!DOCTYPE html><html><head><title>{title}</title></head><body>"
            f"<header><nav><a href='/'>Home</a> <a href='/news'>News</a></nav></header>"
            f"<article><h1>{title}</h1>{paragraphs}</article>"
            f"<aside><h2>Most read</h2><p>{sidebar}</p></aside><footer>Updated {sidebar}</footer></body></html>")


STORY = ("The harbor committee approved the flood barrier budget on Tuesday after a long debate.\n"
         "Construction will start in spring and should take eighteen months to complete.\n"
         "The committee said the barrier would protect about four hundred homes near the old port.")


class Clock:
    def __init__(self, home: Path) -> None:
        self.home = home
        self.now = T0

    def run(self, *args: str) -> Any:
        result = citevault(self.home, *args, env={"CITEVAULT_NOW": self.now.isoformat()})
        assert result.code == 0, result
        return result

    def days(self, n: float) -> None:
        self.now += timedelta(days=n)


@pytest.fixture
def world(site_server: Any, tmp_path: Path) -> dict[str, Any]:
    names = ["ad", "text", "vanish", "soft", "wall", "limited"]
    urls = {}
    for name in names:
        urls[name] = site_server.set_page(f"{tmp_path.name}-{name}", _page(f"Story {name}", STORY, "10:00"))
    claims = tmp_path / "claims.jsonl"
    claims.write_text("".join(
        json.dumps({"text": f"The {name} source says the barrier budget was approved.", "sources": [url]}) + "\n"
        for name, url in urls.items()
    ))
    clock = Clock(tmp_path / "home")
    clock.run("archive", "--every", "7d", str(claims))
    return {"clock": clock, "urls": urls, "server": site_server, "prefix": tmp_path.name, "home": tmp_path / "home"}


def _states(home: Path) -> dict[str, str]:
    return dict(db(home).execute("SELECT url, state FROM sources").fetchall())


def _fetches(server: Any, url: str) -> int:
    return len(server.requests_for(url.split("//", 1)[1].split("/", 1)[1].join(["/", ""])))


def test_drift_rot_and_honest_verdicts(world: dict[str, Any]) -> None:
    clock, urls, server, prefix, home = world["clock"], world["urls"], world["server"], world["prefix"], world["home"]
    path = {name: "/" + url.split("/", 3)[3] for name, url in urls.items()}
    assert set(_states(home).values()) == {"archived"}
    before = {name: len(server.requests_for(p)) for name, p in path.items()}

    # Day 1: nothing is due yet.
    clock.days(1)
    clock.run("crawl", "--due")
    assert {name: len(server.requests_for(p)) for name, p in path.items()} == before

    # Day 8: everything is due. Only boilerplate changes on "ad"; the story changes on "text"; "vanish"
    # is gone; "soft" lands on the home page; "wall" turns into a paywall; "limited" is rate-limited.
    server.set_page(f"{prefix}-ad", _page("Story ad", STORY, "11:45 and a new advert"))
    server.set_page(f"{prefix}-text", _page("Story text", STORY.replace("eighteen months", "three years")))
    server.set_page(f"{prefix}-vanish", b"<h1>Not here</h1>", status=404)
    server.set_page(f"{prefix}-soft", b"", status=302, headers=[("Location", "/index.html")])
    server.set_page(f"{prefix}-wall", "<html><body><h1>Subscribe to continue reading</h1><form>"
                    "<input type=password name=p></form></body></html>")
    server.set_page(f"{prefix}-limited", b"slow down", status=429, headers=[("Retry-After", "7200")])
    clock.days(7)
    clock.run("crawl", "--due")
    states = _states(home)
    assert states[urls["ad"]] == "archived"  # a new advert or timestamp is not a change
    assert states[urls["text"]] == "changed"
    for name in ("vanish", "soft", "wall", "limited"):
        assert states[urls[name]] == "archived", name  # one failed check proves nothing
    rows = {r["url"]: r for r in db(home).execute("SELECT * FROM sources")}
    assert "1 of 3" in rows[urls["vanish"]]["reason"] and "1 of 3" in rows[urls["soft"]]["reason"]
    assert rows[urls["wall"]]["reason"].startswith(("paywall", "login-wall"))
    assert rows[urls["limited"]]["reason"].startswith("rate-limited")
    due = datetime.fromisoformat(rows[urls["limited"]]["next_due"])
    assert due == clock.now + timedelta(hours=2)  # Retry-After honoured
    for name in ("wall", "limited", "vanish"):  # the evidence is still the first capture
        assert rows[urls[name]]["evidence_capture"] == rows[urls[name]]["latest_good_capture"]

    # Two more failed checks, more than three days apart from the first: "vanish" and "soft" are gone.
    for _ in range(2):
        clock.days(2)
        clock.run("crawl", "--due")
    states = _states(home)
    assert states[urls["vanish"]] == "gone" and states[urls["soft"]] == "gone"
    assert states[urls["wall"]] == "archived" and states[urls["limited"]] == "archived"

    # The evidence of a gone source is still served.
    evidence = db(home).execute("SELECT evidence_capture FROM sources WHERE url = ?", (urls["vanish"],)).fetchone()[0]
    out = citevault(home, "cat", evidence, binary=True)
    assert b"eighteen months" in out.out

    # It comes back.
    server.set_page(f"{prefix}-vanish", _page("Story vanish", STORY, "12:00"))
    clock.days(7)
    clock.run("crawl", "--due")
    assert _states(home)[urls["vanish"]] == "archived"

    # The report and the diff.
    report = json.loads(citevault(home, "status", "--json").out)
    problems = {p["url"]: p for d in report for p in d["problems"]}
    assert problems[urls["text"]]["state"] == "changed" and problems[urls["text"]]["claims"]
    assert problems[urls["soft"]]["state"] == "gone" and problems[urls["soft"]]["since"]
    human = citevault(home, "status")
    assert "[changed ]" in human.out and "[gone    ]" in human.out, human
    claim = problems[urls["text"]]["claims"][0]
    diff = citevault(home, "diff", claim)
    assert diff.code == 0, diff
    assert "-Construction will start in spring and should take eighteen months to complete." in diff.out
    assert "+Construction will start in spring and should take three years to complete." in diff.out
    assert "Most read" not in diff.out  # main text only
    unchanged = citevault(home, "diff", urls["ad"])
    assert "unchanged" in unchanged.out or "no newer" in unchanged.out, unchanged
    events = db(home).execute("SELECT COUNT(*) FROM source_events WHERE source_id = "
                              "(SELECT id FROM sources WHERE url = ?)", (urls["vanish"],)).fetchone()[0]
    assert events >= 5  # the history of every check
    for f in warc_files(home):
        assert warcio_check(f).returncode == 0


def test_unchanged_recrawl_adds_no_payload_bytes(site_server: Any, tmp_path: Path) -> None:
    url = site_server.set_page(f"{tmp_path.name}-same", _page("Same", STORY))
    claims = tmp_path / "one.jsonl"
    claims.write_text(json.dumps({"text": "Same.", "sources": [url]}) + "\n")
    clock = Clock(tmp_path / "home")
    clock.run("archive", str(claims))
    clock.days(31)
    clock.run("crawl", "--due")
    records = [r for f in warc_files(clock.home) for r in read_records(f) if r["uri"] == url]
    kinds = Counter(r["type"] for r in records)
    assert kinds["response"] == 1 and kinds["revisit"] == 1
    assert [r["body"] for r in records if r["type"] == "revisit"] == [b""]
    assert _states(clock.home)[url] == "archived"


def test_two_crawls_at_once_fetch_each_source_once(site_url: str, site_server: Any, tmp_path: Path) -> None:
    urls = [f"{site_url}/slow?seconds=0.3&twice={tmp_path.name}-{n}" for n in range(30)]
    claims = tmp_path / "many.jsonl"
    claims.write_text("".join(json.dumps({"text": f"C{n}.", "sources": [u]}) + "\n" for n, u in enumerate(urls)))
    home = tmp_path / "home"
    assert citevault(home, "add", str(claims)).code == 0
    crawls_at_once(home, 2, timeout=120)
    counts = Counter(r.path for r in site_server.requests if f"twice={tmp_path.name}-" in r.path)
    assert len(counts) == 30 and set(counts.values()) == {1}, counts
    assert set(_states(home).values()) == {"archived"}
