"""Component tier: the crawler's parts without a crawl.

``scrapy.utils.test.get_crawler`` builds a crawler with the project's own settings (crawler/settings.py) and
a data home in ``tmp_path``; the WARC middleware comes out of Scrapy's real DownloaderMiddlewareManager, the
spider from ``EvidenceSpider.from_crawler``, the index from the real ``add`` (conftest ``populated_index``).
They are driven with real ``scrapy.http`` Requests and Responses, and what they write is read back: the
``citevault/`` stats, the WARC records (warcio, digests checked), the rows of the SQLite index.

No reactor is started or installed here: the end-to-end tier (tests/test_crawl.py, tests/test_hostile.py)
runs the same code under a real crawl, as a ``citevault`` subprocess. The recorder runs as a thread of this
process (``CITEVAULT_RECORDER_PROCESS=False``); the recorder process is end-to-end only.
"""
from __future__ import annotations

import asyncio
import gzip
import hashlib
import json
import re
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from ipaddress import ip_address
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from scrapy.core.downloader.middleware import DownloaderMiddlewareManager
from scrapy.exceptions import NotConfigured
from scrapy.http import HtmlResponse, Request, Response
from scrapy.utils.test import get_crawler
from twisted.python.failure import Failure
from warcio.archiveiterator import ArchiveIterator

import crawler.settings as project
from archive import ids
from archive.crawl.frontier import Claimed
from crawler.extensions import CrawlProgress
from crawler.failures import classify
from crawler.middlewares import CAPTURE_META, FETCHED_META, WarcRecorderMiddleware
from crawler.session import CrawlSession, session_for
from crawler.spiders.evidence import EvidenceSpider
from tests.helpers import db

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from sqlalchemy.engine import Engine

    from tests.conftest import PopulatedIndex

SITE = Path(__file__).parent / "site"
EXPECTED = json.loads((SITE / "articles" / "sample.expected.json").read_text())
TARGET = (SITE / "articles" / "target.html").read_bytes()
HTML = {"Content-Type": "text/html; charset=utf-8"}


def crawler_for(home: Path, **settings: Any) -> Crawler:
    """A crawler with crawler/settings.py, the data home ``home`` and ``settings`` on top (project priority,
    as ``scrapy crawl evidence`` would have them): the recorder as a thread, no quote checks at the end."""
    values = {name: getattr(project, name) for name in dir(project) if name.isupper()}
    values.update(CITEVAULT_HOME=str(home), CITEVAULT_RECORDER_PROCESS=False, CITEVAULT_CHECK_AFTER_CRAWL=False,
                  CITEVAULT_PROGRESS=False)
    values.update(settings)
    return get_crawler(EvidenceSpider, values)


@dataclass
class Parts:
    """One crawl's components, built the way a crawl builds them, and not yet closed."""

    crawler: Crawler
    spider: EvidenceSpider
    middleware: WarcRecorderMiddleware
    middlewares: list[Any]  # Scrapy's downloader middlewares, in the order of DOWNLOADER_MIDDLEWARES

    @property
    def session(self) -> CrawlSession:
        return session_for(self.crawler)

    def citevault_stats(self) -> dict[str, Any]:
        return {k: v for k, v in self.crawler.stats.get_stats().items() if k.startswith("citevault/")}

    def start(self) -> list[Request]:
        """Every request of the spider's ``start()``, run on a loop of its own (the current loop, if a test
        runner installed one for a reactor, is left alone)."""
        async def collect() -> list[Request]:
            return [request async for request in self.spider.start()]

        loop = asyncio.new_event_loop()
        try:
            return loop.run_until_complete(collect())
        finally:
            loop.close()

    def fetched(self, request: Request, status: int = 200, body: bytes = b"", headers: dict[str, str] | None = None,
                protocol: str = "HTTP/1.1") -> Response:
        """A response off the wire for ``request``, through the WARC middleware, as the downloader returns it."""
        response = HtmlResponse(request.url, status=status, headers=headers if headers is not None else HTML,
                                body=body, request=request, protocol=protocol, ip_address=ip_address("127.0.0.1"))
        assert self.middleware.process_response(request, response) is response  # recorded, passed on unchanged
        return response

    def close(self) -> None:
        """What the crawl's end does (spider_closed): drain the recorder, close its WARC file."""
        self.session.close()


@pytest.fixture
def make_parts(tmp_path: Path) -> Iterator[Callable[..., Parts]]:
    """``make_parts(home=None, spider_args=None, **settings)``: a crawl's parts on ``home`` (default
    ``tmp_path/home``); each one still open at the end of the test is closed."""
    built: list[Parts] = []

    def make(home: Path | None = None, spider_args: dict[str, str] | None = None, **settings: Any) -> Parts:
        crawler = crawler_for(home or tmp_path / "home", **settings)
        spider = EvidenceSpider.from_crawler(crawler, **(spider_args or {}))
        crawler.spider = spider
        manager = DownloaderMiddlewareManager.from_crawler(crawler)
        (middleware,) = [m for m in manager.middlewares if isinstance(m, WarcRecorderMiddleware)]
        parts = Parts(crawler, spider, middleware, list(manager.middlewares))
        built.append(parts)
        return parts

    yield make
    for parts in built:  # a failed test must not leave a recorder thread writing
        session = getattr(parts.crawler, "_citevault_session", None)  # session_for() would start one
        if session is not None:
            session.close(check=False)


def crawl_records(parts: Parts) -> list[dict[str, Any]]:
    """Every record of the WARC files this crawl closed, read by warcio with digests checked."""
    out = []
    for name in parts.session.recorder.closed_files:
        with (parts.session.archive.home.warcs / name).open("rb") as fh:
            it = ArchiveIterator(fh, check_digests=True)
            for record in it:
                payload = record.raw_stream.read()  # as stored: Content-Encoding not undone
                checker = record.digest_checker
                assert checker.problems == [], (name, record.rec_headers.get_header("WARC-Record-ID"), checker.problems)
                out.append({"type": record.rec_type, "headers": dict(record.rec_headers.headers),
                            "http": record.http_headers, "payload": payload, "digests": checker.passed,
                            "file": name, "offset": it.get_record_offset(), "length": it.get_record_length()})
    return out


def rows(home: Path, sql: str, *params: Any) -> list[sqlite3.Row]:
    conn = db(home)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def source_request(requests: list[Request], url: str) -> Request:
    (request,) = [r for r in requests if r.url == url]
    return request


# -- how the components are put together ------------------------------------------------------------------
def test_the_recorder_sees_every_hop_before_redirects_and_decompression(make_parts: Callable[..., Parts]) -> None:
    """process_response runs from the downloader up: the WARC middleware first, so each redirect hop is
    recorded and bodies keep their Content-Encoding; robots.txt goes through crawler/robots.py."""
    names = [f"{type(m).__module__}.{type(m).__name__}" for m in make_parts().middlewares]
    warc = names.index("crawler.middlewares.WarcRecorderMiddleware")
    assert warc > names.index("scrapy.downloadermiddlewares.redirect.RedirectMiddleware")
    assert warc > names.index("scrapy.downloadermiddlewares.httpcompression.HttpCompressionMiddleware")
    assert "crawler.robots.RobotsTxtMiddleware" in names
    assert "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware" not in names


def test_progress_off_is_not_configured_with_the_setting_named(make_parts: Callable[..., Parts]) -> None:
    parts = make_parts()
    assert not [e for e in parts.crawler.extensions.middlewares if isinstance(e, CrawlProgress)]
    with pytest.raises(NotConfigured) as raised:
        CrawlProgress(parts.crawler)
    assert str(raised.value) == "progress is off (CITEVAULT_PROGRESS=False)"


# -- the spider's start: what the index says needs fetching -----------------------------------------------
def test_start_requests_every_pending_source_and_document(populated_index: PopulatedIndex, make_parts: Callable[..., Parts]) -> None:
    parts = make_parts(populated_index.home)
    requests = parts.start()
    base = populated_index.base
    article = populated_index.article.document
    sources = {r["id"]: r["url"] for r in rows(populated_index.home, "SELECT id, url FROM sources")}
    assert len(sources) == populated_index.claim_list.sources == 5
    assert requests[0].url == article["url"] and requests[0].callback == parts.spider.parse_document
    assert all(r.callback == parts.spider.parse_source for r in requests[1:])
    assert article["url"] == f"{base}/articles/sample.html"
    assert requests[0].meta["citevault_document_id"] == article["id"]
    assert {r.meta["citevault_source_id"]: r.url for r in requests[1:]} == sources
    for request in requests[1:]:
        assert request.meta["citevault_source_url"] == request.url
        assert request.meta["citevault_known"] == Claimed("pending", 0, None, None, None)
        assert request.meta["citevault_fresh"] is True  # never captured: nothing to deduplicate against
    for request in requests:
        assert request.errback == parts.spider.failed and request.dont_filter
    assert parts.session.progress.total == 6
    # Claimed: every source is leased to this crawl, so a second crawl started now fetches none of them.
    leases = rows(populated_index.home, "SELECT lease_owner, lease_until FROM sources")
    assert {r["lease_owner"] for r in leases} == {parts.session.crawl_id} and all(r["lease_until"] for r in leases)
    other = make_parts(populated_index.home)
    assert [r.url for r in other.start()] == [article["url"]]  # documents are not leased: only the article


def test_start_restricted_to_documents(populated_index: PopulatedIndex, make_parts: Callable[..., Parts]) -> None:
    claim_list = populated_index.claim_list.document["id"]
    article = populated_index.article.document["id"]
    only_list = make_parts(populated_index.home, spider_args={"documents": claim_list}).start()
    assert [r.meta["citevault_document_id"] for r in only_list] == [None] * 5
    only_article = make_parts(populated_index.home, spider_args={"documents": article}).start()
    assert [r.meta["citevault_document_id"] for r in only_article] == [article]  # no sources before its fetch


def test_start_on_an_empty_index_requests_nothing(index_db: Engine, tmp_path: Path, make_parts: Callable[..., Parts]) -> None:
    parts = make_parts(tmp_path / "home")
    assert parts.start() == []
    assert parts.session.progress.total == 0
    parts.close()
    assert parts.citevault_stats() == {}
    (crawl,) = rows(tmp_path / "home", "SELECT id, finished_at FROM crawls")
    assert crawl["id"] == parts.session.crawl_id and crawl["finished_at"]


# -- the WARC middleware: a response as it came off the wire ----------------------------------------------
def test_response_recorded_as_it_came_off_the_wire(populated_index: PopulatedIndex, make_parts: Callable[..., Parts]) -> None:
    """gzip kept encoded, the status line from the response's own protocol, the request beside it."""
    parts = make_parts(populated_index.home)
    request = source_request(parts.start(), f"{populated_index.base}/gzip.html")
    body = gzip.compress(b"<html><body><p>The board's annual report.</p></body></html>", mtime=0)
    parts.fetched(request, body=body, protocol="HTTP/1.0",
                  headers={**HTML, "Content-Encoding": "gzip", "Content-Length": str(len(body))})
    record_id = request.meta[CAPTURE_META]
    assert request.meta[FETCHED_META].tzinfo is not None
    parts.close()

    assert parts.citevault_stats() == {"citevault/records/response": 1}
    records = [r for r in crawl_records(parts) if r["type"] != "warcinfo"]
    assert [r["type"] for r in records] == ["response", "request"]
    response, sent = records
    assert response["headers"]["WARC-Record-ID"] == record_id and response["digests"] is True
    assert response["http"].statusline == "200 OK" and response["http"].protocol == "HTTP/1.0"
    assert response["http"].get_header("Content-Encoding") == "gzip"
    assert response["payload"] == body  # the bytes received, not decoded
    assert response["headers"]["WARC-IP-Address"] == "127.0.0.1"
    assert response["headers"]["Citevault-Crawl-ID"] == parts.session.crawl_id
    assert response["headers"]["Citevault-Source-ID"] == request.meta["citevault_source_id"]
    assert sent["headers"]["WARC-Concurrent-To"] == record_id and sent["http"].protocol == "GET"
    assert sent["headers"]["WARC-Target-URI"] == request.url

    (row,) = rows(populated_index.home, "SELECT * FROM captures WHERE crawl_id = ?", parts.session.crawl_id)
    assert row["id"] == ids.capture_id(record_id) and row["record_type"] == "response"
    assert (row["warc_file"], row["warc_offset"], row["warc_length"]) == (
        response["file"], response["offset"], response["length"])
    assert row["http_status"] == 200 and row["content_type"] == HTML["Content-Type"]
    assert row["payload_sha256"] == hashlib.sha256(body).hexdigest() and row["payload_length"] == len(body)
    assert row["source_id"] == request.meta["citevault_source_id"] and row["redirect_to"] is None


def test_each_redirect_hop_is_a_response_with_its_target(populated_index: PopulatedIndex, make_parts: Callable[..., Parts]) -> None:
    """What RedirectMiddleware does between the hops is Scrapy's: here each hop's request is the previous
    one with a new URL and the same meta, as Scrapy makes it."""
    parts = make_parts(populated_index.home)
    base = populated_index.base
    first = source_request(parts.start(), f"{base}/redirect/a")
    parts.fetched(first, status=302, headers={"Location": "/redirect/b", "Content-Length": "0"})
    second = first.replace(url=f"{base}/redirect/b")
    parts.fetched(second, status=301, headers={"Location": f"{base}/articles/target.html"})
    third = second.replace(url=f"{base}/articles/target.html")
    parts.fetched(third, body=TARGET)
    parts.close()

    assert parts.citevault_stats() == {"citevault/records/response": 3}
    responses = [r for r in crawl_records(parts) if r["type"] == "response"]
    assert [(r["headers"]["WARC-Target-URI"], r["http"].statusline) for r in responses] == [
        (f"{base}/redirect/a", "302 Found"), (f"{base}/redirect/b", "301 Moved Permanently"),
        (f"{base}/articles/target.html", "200 OK")]
    assert {r["headers"]["Citevault-Source-URL"] for r in responses} == {f"{base}/redirect/a"}  # one fetch
    hops = rows(populated_index.home, "SELECT url, http_status, redirect_to, source_id FROM captures "
                "WHERE crawl_id = ? ORDER BY warc_offset", parts.session.crawl_id)
    assert [(h["url"], h["http_status"], h["redirect_to"]) for h in hops] == [
        (f"{base}/redirect/a", 302, f"{base}/redirect/b"),  # resolved against the hop's URL
        (f"{base}/redirect/b", 301, f"{base}/articles/target.html"),
        (f"{base}/articles/target.html", 200, None)]
    assert {h["source_id"] for h in hops} == {ids.source_id(f"{base}/redirect/a")}


def test_the_same_payload_twice_is_a_revisit(populated_index: PopulatedIndex, make_parts: Callable[..., Parts]) -> None:
    parts = make_parts(populated_index.home)
    base = populated_index.base
    requests = parts.start()
    direct = source_request(requests, f"{base}/articles/target.html")
    parts.fetched(direct, body=TARGET)
    via = source_request(requests, f"{base}/redirect/a").replace(url=f"{base}/articles/target.html")
    parts.fetched(via, body=TARGET)
    parts.close()

    full, revisit = [r for r in crawl_records(parts) if r["type"] in ("response", "revisit")]
    assert full["type"] == "response" and revisit["type"] == "revisit"
    assert revisit["headers"]["WARC-Refers-To"] == full["headers"]["WARC-Record-ID"]
    assert revisit["headers"]["WARC-Payload-Digest"] == full["headers"]["WARC-Payload-Digest"]
    assert revisit["payload"] == b"" and full["payload"] == TARGET
    kinds = rows(populated_index.home, "SELECT record_type, refers_to FROM captures WHERE crawl_id = ? "
                 "ORDER BY warc_offset", parts.session.crawl_id)
    assert [tuple(k) for k in kinds] == [("response", None), ("revisit", ids.capture_id(full["headers"]["WARC-Record-ID"]))]


# -- the spider: each fetch's outcome, in the index and in the stats ---------------------------------------
def test_archived_source_settles_with_its_capture_as_evidence(populated_index: PopulatedIndex, make_parts: Callable[..., Parts]) -> None:
    parts = make_parts(populated_index.home)
    request = source_request(parts.start(), f"{populated_index.base}/articles/target.html")
    parts.spider.parse_source(parts.fetched(request, body=TARGET))
    parts.close()

    assert parts.citevault_stats() == {"citevault/records/response": 1, "citevault/sources/archived": 1}
    capture = ids.capture_id(request.meta[CAPTURE_META])
    (source,) = rows(populated_index.home, "SELECT * FROM sources WHERE id = ?", request.meta["citevault_source_id"])
    assert source["state"] == "archived" and source["failures"] == 0
    assert source["evidence_capture"] == capture == source["latest_good_capture"]
    assert source["last_fetched"] and source["lease_owner"] is None  # settled, the lease given back
    (event,) = rows(populated_index.home, "SELECT state, outcome, capture_id, crawl_id FROM source_events")
    assert tuple(event) == ("archived", "ok", capture, parts.session.crawl_id)
    assert parts.session.progress.done == 1 and parts.session.progress.failed == 0


def test_gone_source_counts_as_a_failure_with_its_status(populated_index: PopulatedIndex, make_parts: Callable[..., Parts]) -> None:
    parts = make_parts(populated_index.home)
    request = source_request(parts.start(), f"{populated_index.base}/status/410")
    parts.spider.parse_source(parts.fetched(request, status=410, body=b"<h1>Gone</h1>"))
    parts.close()

    assert parts.citevault_stats() == {"citevault/records/response": 1, "citevault/sources/gone": 1,
                                       "citevault/failures/http 410": 1}
    (source,) = rows(populated_index.home, "SELECT state, evidence_capture FROM sources WHERE id = ?",
                     request.meta["citevault_source_id"])
    assert tuple(source) == ("gone", None)
    assert parts.session.progress.reasons == {"http 410": 1}


def _exception(name: str, *args: Any) -> BaseException:
    """An exception as Scrapy's downloader or one of its middlewares raises it (Scrapy's own classes first)."""
    from scrapy import exceptions
    from twisted.internet import error

    cls: type[BaseException] = getattr(exceptions, name, None) or getattr(error, name)
    return cls(*args)


FAILURES = {
    # reason: (exception, redirect_urls meta, outcome): an outcome other than "error" is not derivable from the
    # failure record alone, so the recorder writes the source's verdict down too (a source-state record).
    "connection refused": (("DownloadConnectionRefusedError", "Connection was refused by other side: 111"), None,
                           "error"),
    "blocked by robots.txt": (("IgnoreRequest", "Forbidden by robots.txt"), None, "forbidden"),
    "timeout": (("DownloadTimeoutError", "Getting http://127.0.0.1/slow took longer than 30.0 seconds."), None,
                "error"),
    "redirect loop": (("IgnoreRequest", "max redirections reached"), ["http://127.0.0.1/redirect/loop"] * 3, "error"),
    "truncated response": (("ResponseDataLossError",), None, "error"),
}


@pytest.mark.parametrize("reason", list(FAILURES))
def test_failed_fetch_is_a_metadata_record_with_its_reason(populated_index: PopulatedIndex, make_parts: Callable[..., Parts],
                                                           reason: str) -> None:
    exception, redirect_urls, outcome = FAILURES[reason]
    parts = make_parts(populated_index.home)
    request = source_request(parts.start(), f"{populated_index.base}/pdf")
    if redirect_urls:
        request.meta["redirect_urls"] = redirect_urls
    failure = Failure(_exception(*exception))
    failure.request = request  # type: ignore[attr-defined]  # as Scrapy hands it to the errback
    parts.spider.failed(failure)
    parts.close()

    assert parts.citevault_stats() == {"citevault/sources/failed": 1, f"citevault/failures/{reason}": 1}
    records = [r for r in crawl_records(parts) if r["type"] == "metadata"]
    (record,) = [r for r in records if "Citevault-Error" in r["headers"]]
    assert record["headers"]["WARC-Target-URI"] == request.url and record["digests"] is True
    assert record["headers"]["Citevault-Error"] == reason
    assert json.loads(record["payload"])["error"] == reason
    verdicts = [json.loads(r["payload"]) for r in records if r["headers"].get("Citevault-Record") == "source-state"]
    assert [(v["state"], v["outcome"], v["detail"]) for v in verdicts] == (
        [] if outcome == "error" else [("failed", outcome, reason)])
    (row,) = rows(populated_index.home, "SELECT * FROM captures WHERE crawl_id = ?", parts.session.crawl_id)
    assert (row["record_type"], row["error"], row["http_status"]) == ("metadata", reason, None)
    assert (row["warc_file"], row["warc_offset"]) == (record["file"], record["offset"])
    (source,) = rows(populated_index.home, "SELECT state, failures, evidence_capture, lease_owner FROM sources "
                     "WHERE id = ?", request.meta["citevault_source_id"])
    assert tuple(source) == ("failed", 1, None, None)
    (event,) = rows(populated_index.home, "SELECT state, outcome, detail, capture_id FROM source_events")
    assert tuple(event) == ("failed", outcome, reason, None)


def test_document_fetched_by_url_adds_its_claims_and_requests_their_sources(
        populated_index: PopulatedIndex, make_parts: Callable[..., Parts]) -> None:
    parts = make_parts(populated_index.home)
    base = populated_index.base
    requests = parts.start()
    article = requests[0]
    assert article.callback == parts.spider.parse_document
    response = parts.fetched(article, body=(SITE / "articles" / "sample.html").read_bytes())
    more = list(parts.spider.parse_document(response))
    parts.close()

    # The article's sources the start did not already claim (the claim list cites four of them).
    claimed = {r.url for r in requests[1:]}
    expected = {base + path for path in EXPECTED["body_sources"]} - claimed
    assert expected and {r.url for r in more} == expected
    assert all(r.callback == parts.spider.parse_source and r.meta["citevault_source_id"] for r in more)
    assert parts.session.progress.total == 6 + len(more)
    assert parts.citevault_stats() == {"citevault/records/response": 1, "citevault/sources/archived": 1}
    document_id = populated_index.article.document["id"]
    (document,) = rows(populated_index.home, "SELECT kind, claim_count FROM documents WHERE id = ?", document_id)
    assert document["kind"] == "html" and document["claim_count"] >= EXPECTED["story_body_sentences"]
    texts = [r["text"] for r in rows(populated_index.home, "SELECT text FROM claims WHERE document_id = ?", document_id)]
    for sentence in EXPECTED["unsourced_sentences"][:2]:
        assert sentence in texts
    resource = [r for r in crawl_records(parts) if r["type"] == "resource"]
    assert [r["headers"]["WARC-Target-URI"] for r in resource] == [f"urn:citevault:document:{document_id}"]


def test_document_that_is_not_there_is_gone(populated_index: PopulatedIndex, make_parts: Callable[..., Parts]) -> None:
    parts = make_parts(populated_index.home)
    article = parts.start()[0]
    assert list(parts.spider.parse_document(parts.fetched(article, status=404, body=b"<h1>Not found</h1>"))) == []
    parts.close()
    assert parts.citevault_stats() == {"citevault/records/response": 1, "citevault/sources/gone": 1,
                                       "citevault/failures/http 404": 1}
    assert rows(populated_index.home, "SELECT COUNT(*) FROM claims WHERE document_id = ?",
                populated_index.article.document["id"])[0][0] == 0


# -- the progress extension: the summary counts what the spider recorded -----------------------------------
def test_progress_line_and_summary(populated_index: PopulatedIndex, make_parts: Callable[..., Parts],
                                   capsys: pytest.CaptureFixture[str]) -> None:
    parts = make_parts(populated_index.home, CITEVAULT_PROGRESS=True)
    (progress,) = [e for e in parts.crawler.extensions.middlewares if isinstance(e, CrawlProgress)]
    requests = parts.start()
    parts.spider.parse_source(parts.fetched(source_request(requests, f"{populated_index.base}/articles/target.html"),
                                            body=TARGET))
    failure = Failure(_exception("DownloadConnectionRefusedError", "Connection was refused by other side"))
    failure.request = source_request(requests, f"{populated_index.base}/pdf")  # type: ignore[attr-defined]
    parts.spider.failed(failure)
    assert progress.line() == "citevault: 2/6 done, 1 not archived"
    progress.closed()  # its spider_closed handler: closes the session first, then sums up
    assert parts.session.closed
    (name,) = parts.session.recorder.closed_files
    summary = capsys.readouterr().err
    assert re.fullmatch(rf"citevault: done in \d+\.\ds: 1 archived, 1 failed \(connection refused: 1\); "
                        rf"3 WARC records in {re.escape(name)}\n", summary), summary


# -- failure classification: the reason stored with the capture and counted in the stats -------------------
# Scrapy 2.19's own messages (downloadermiddlewares/httpcompression.py, utils/_download_handlers.py).
DECOMPRESSION_MESSAGE = ("Ignored response <200 http://a/bomb> because its body (1024 B compressed, 2000001 B "
                         "decompressed so far) exceeded DOWNLOAD_MAXSIZE (2000000 B) during decompression.")
CANCELLED_MESSAGE = ("Expected to receive 3145728 bytes which is larger than download max size (2000000) in "
                     "request <GET http://a/big>.")


@pytest.mark.parametrize("exception, redirect_urls, reason", [
    (("IgnoreRequest", "Forbidden by robots.txt"), None, "blocked by robots.txt"),
    (("IgnoreRequest", "max redirections reached"), ["http://a/1", "http://a/2", "http://a/1"], "redirect loop"),
    (("IgnoreRequest", "max redirections reached"), ["http://a/1", "http://a/2", "http://a/3"], "too many redirects"),
    (("IgnoreRequest", DECOMPRESSION_MESSAGE), None, "too large when decompressed"),
    (("IgnoreRequest", "Filtered offsite request to 'a'"), None, "ignored"),
    (("DownloadTimeoutError", "Getting http://a/slow took longer than 2.0 seconds."), None, "timeout"),
    (("TimeoutError",), None, "timeout"),
    (("CannotResolveHostError", "no-such-host.invalid"), None, "dns lookup failed"),
    (("DNSLookupError", "no-such-host.invalid"), None, "dns lookup failed"),
    (("DownloadConnectionRefusedError", "Connection was refused by other side"), None, "connection refused"),
    (("ConnectionRefusedError",), None, "connection refused"),
    (("DownloadCancelledError", CANCELLED_MESSAGE), None, "too large"),
    (("ResponseDataLossError",), None, "truncated response"),
    (("ConnectionLost",), None, "connection failed"),
])
def test_failure_reasons(exception: tuple[str, ...], redirect_urls: list[str] | None, reason: str) -> None:
    category, detail = classify(_exception(*exception), redirect_urls)
    assert category == reason
    assert detail.startswith(exception[0])


def test_a_cancelled_stream_says_why() -> None:
    """Scrapy cancels a streamed body past DOWNLOAD_MAXSIZE without a message: the detail gives one."""
    assert classify(_exception("DownloadCancelledError")) == (
        "too large", "DownloadCancelledError: body passed DOWNLOAD_MAXSIZE while streaming")
