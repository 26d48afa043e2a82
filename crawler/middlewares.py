"""The WARC recorder: a downloader middleware that writes every hop as it came off the wire.

Numbered 950 in DOWNLOADER_MIDDLEWARES, it sees responses before RedirectMiddleware (600) and
HttpCompressionMiddleware (590): each redirect hop is recorded, and bodies keep their Content-Encoding.
Failures (no response at all) are recorded by the spider's errback, once per fetch after retries.
"""
from __future__ import annotations

from datetime import datetime, timezone
from http import HTTPStatus
from typing import TYPE_CHECKING
from urllib.parse import urljoin

from archive.warc.builder import HttpExchange
from crawler.session import session_for

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response

CAPTURE_META = "citevault_capture_id"
FETCHED_META = "citevault_fetched_at"  # the final hop's fetch time becomes the source's last_fetched
ASSET_META = "citevault_asset"  # a page asset's fetch (the asset URL as discovered): its records say so
#: On an asset's request: called with the hop's URL, the WARC fields naming the pages waiting for the asset
#: (crawler.assets); written on the record that ends the fetch, so the links survive a killed crawl.
LINKS_META = "citevault_asset_links"
#: The statuses Scrapy's RedirectMiddleware follows (with a Location): such a hop does not end a fetch.
FOLLOWED = frozenset((301, 302, 303, 307, 308))


def _reason(status: int) -> str:
    # Scrapy's response does not keep the reason phrase; the standard phrase is written instead.
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def _header_pairs(headers) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    pairs = []
    for name, values in headers.items():
        key = name.decode("latin-1")
        for value in values:
            pairs.append((key, value.decode("latin-1")))
    return pairs


class WarcRecorderMiddleware:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.session = session_for(crawler)
        # Statuses RetryMiddleware may fetch again: such a response may not end its fetch either.
        self.retried = {int(code) for code in crawler.settings.getlist("RETRY_HTTP_CODES")}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> WarcRecorderMiddleware:
        return cls(crawler)

    def process_response(self, request: Request, response: Response) -> Response:
        recorder = self.session.recorder
        record_id = recorder.new_record_id()
        location = response.headers.get(b"Location") if 300 <= response.status < 400 else None
        links = request.meta.get(LINKS_META)
        if links is not None:
            # Only on a response that surely ends the fetch: a page's link names the fetch's last capture, and
            # an asset record's links must say the same (a redirect followed or a retried status: none).
            ends = not (location and response.status in FOLLOWED) and response.status not in self.retried
            links = links(response.url) if ends else None
        exchange = HttpExchange(
            url=response.url,
            status=response.status,
            reason=_reason(response.status),
            protocol=response.protocol or "HTTP/1.1",
            response_headers=_header_pairs(response.headers),
            body=response.body,
            method=request.method,
            request_headers=_header_pairs(request.headers),
            request_body=request.body,
            ip_address=str(response.ip_address) if response.ip_address else None,
            fetched_at=datetime.now(timezone.utc),
        )
        recorder.record_exchange(
            exchange, record_id=record_id,
            source_url=request.meta.get("citevault_source_url"),
            document_id=request.meta.get("citevault_document_id"),
            # dedup lookups are skipped for a never-captured source's own URL (not for redirect hops)
            fresh=bool(request.meta.get("citevault_fresh")) and response.url == request.meta.get("citevault_source_url"),
            # Resolved against the hop URL only (not an HTML <base>), as reindex resolves it.
            redirect_to=urljoin(response.url, location.decode("latin-1")) if location else None,
            role="asset" if request.meta.get(ASSET_META) else None, links=links,
        )
        request.meta[CAPTURE_META] = record_id
        request.meta[FETCHED_META] = exchange.fetched_at
        stats = self.crawler.stats
        if stats is not None:
            stats.inc_value("citevault/records/response")
        return response
