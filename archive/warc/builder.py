"""Build warcio records from plain values.

The crawler turns a Scrapy response into an :class:`HttpExchange` (plain data: no Scrapy types cross into
``archive``); this module turns that into a request record and a response record. Digests are computed
here, once, from bytes already in memory: ``WARC-Payload-Digest`` (sha1, base32, what every WARC tool
expects), ``WARC-Block-Digest``, and the SHA-256 the index stores as ``payload_sha256``.
"""
from __future__ import annotations

import base64
import hashlib
import io
import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Callable, Iterable
from urllib.parse import urlsplit

from warcio.recordbuilder import RecordBuilder
from warcio.statusandheaders import StatusAndHeaders
from warcio.timeutils import datetime_to_iso_date

from archive.clock import naive_utc

# Headers that describe framing the WARC does not keep: the body is stored de-chunked, so a
# "Transfer-Encoding: chunked" header would make readers try to de-chunk it again.
_FRAMING_HEADERS = {"transfer-encoding"}


@dataclass
class HttpExchange:
    """One HTTP request/response pair as it went over the wire."""

    url: str
    status: int
    reason: str
    protocol: str
    response_headers: list[tuple[str, str]]
    body: bytes  # entity body as transferred: de-chunked, Content-Encoding kept
    method: str = "GET"
    request_headers: list[tuple[str, str]] = field(default_factory=list)
    request_body: bytes = b""
    ip_address: str | None = None
    fetched_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))


def sha1_b32(data: bytes) -> str:
    """WARC digest form: ``sha1:`` + base32.

    >>> sha1_b32(b"")
    'sha1:3I42H3S6NNFQ2MSVX7XZKYAYSCX5QBYJ'
    """
    return b32_digest(hashlib.sha1(data))


def b32_digest(digest: "hashlib._Hash") -> str:
    """Format a finished sha1 (fed in chunks by a streaming caller) the way WARC digests are written."""
    return "sha1:" + base64.b32encode(digest.digest()).decode("ascii")


def warc_date(moment: datetime) -> str:
    """WARC/1.1 date with microseconds, always UTC (a naive datetime is taken as UTC).

    >>> warc_date(datetime(2026, 11, 28, 5, 0, 1, 250000, tzinfo=timezone.utc))
    '2026-11-28T05:00:01.250000Z'
    """
    text: str = datetime_to_iso_date(naive_utc(moment), use_micros=True)
    return text


SOURCE_FIELD = "Citevault-Source-URL"
SOURCE_ID_FIELD = "Citevault-Source-ID"
DOCUMENT_FIELD = "Citevault-Document-ID"
CRAWL_FIELD = "Citevault-Crawl-ID"
STATE_FIELD = "Citevault-Record"  # "source-state" on a verdict record, "page-assets" on a page's asset list
ROLE_FIELD = "Citevault-Role"  # "asset" on the records of a page asset's fetch (archive.crawl.page_assets)
ASSET_OF_FIELD = "Citevault-Asset-Of"  # on an asset's record: the pages waiting for it (archive.crawl.page_assets)
ASSET_URL_FIELD = "Citevault-Asset-URL"  # ... and the asset URL as they found it, when a redirect led elsewhere
BROWSER_ROLE = "browser"  # Citevault-Role of a browser capture's page response (archive.browser); "asset" the rest
# A rendering's resource records (archive.browser.rendering), named as browsertrix-crawler names them.
SCREENSHOT_URN = "urn:screenshot:"
TEXT_URN = "urn:text:"
RENDERING_FIELD = "Citevault-Rendering"  # the rendering's id, on its screenshot and its text record
PAGE_ASSETS = "page-assets"
PAGE_ASSETS_PARTIAL = "page-assets-partial"  # what of a page's list was settled when the page arrived


def citevault_fields(source_url: str | None, document_id: str | None, crawl_id: str | None,
                     source_id: str | None = None) -> dict[str, str]:
    """WARC extension fields that say what a fetch was for, so ``reindex`` can restore it from WARCs alone.

    >>> citevault_fields("http://127.0.0.1/a", None, "c1", "0f")
    {'Citevault-Source-URL': 'http://127.0.0.1/a', 'Citevault-Source-ID': '0f', 'Citevault-Crawl-ID': 'c1'}
    """
    fields = {SOURCE_FIELD: source_url, SOURCE_ID_FIELD: source_id, DOCUMENT_FIELD: document_id,
              CRAWL_FIELD: crawl_id}
    return {k: v for k, v in fields.items() if v}


@dataclass
class BuiltRecord:
    """A warcio record plus the values the index needs about it."""

    record: object
    record_id: str
    payload_sha256: str | None = None
    payload_digest: str | None = None
    payload_length: int | None = None


class RecordFactory(RecordBuilder):  # type: ignore[misc]  # warcio ships no types: its RecordBuilder is Any
    """warcio's RecordBuilder with an injectable id factory (tests make records byte-for-byte stable)."""

    def __init__(self, make_id: Callable[[], str] | None = None) -> None:
        super().__init__(warc_version="1.1")
        self._make_id = make_id

    def new_id(self) -> str:
        if self._make_id is not None:
            return self._make_id()
        made: str = self._make_warc_id()  # warcio is untyped: its ids are str
        return made

    def warcinfo(self, filename: str, info: dict[str, str], moment: datetime) -> object:
        headers = StatusAndHeaders("", [], protocol=self.warc_version)
        headers.add_header("WARC-Type", "warcinfo")
        headers.add_header("WARC-Record-ID", self.new_id())
        headers.add_header("WARC-Filename", filename)
        headers.add_header("WARC-Date", warc_date(moment))
        body = "".join(f"{k}: {v}\r\n" for k, v in info.items() if v).encode("utf-8")
        return self.create_warc_record(
            "", "warcinfo", payload=io.BytesIO(body), length=len(body),
            warc_headers=headers, warc_content_type="application/warc-fields",
        )

    def exchange(self, ex: HttpExchange, *, response_id: str | None = None,
                 extra: dict[str, str] | None = None) -> tuple[BuiltRecord, BuiltRecord]:
        """The response record and its request record (linked by WARC-Concurrent-To).

        ``extra``: citevault's own fields (:func:`citevault_fields`) on the response record.
        """
        date = warc_date(ex.fetched_at)
        response_id = response_id or self.new_id()
        headers = [(k, v) for k, v in ex.response_headers if k.lower() not in _FRAMING_HEADERS]
        http = StatusAndHeaders(f"{ex.status} {ex.reason}".strip(), headers, protocol=ex.protocol)
        http.compute_headers_buffer()
        payload_digest = sha1_b32(ex.body)
        warc_headers = {
            "WARC-Record-ID": response_id,
            "WARC-Date": date,
            "WARC-Payload-Digest": payload_digest,
            "WARC-Block-Digest": sha1_b32(http.headers_buff + ex.body),
        }
        if ex.ip_address:
            warc_headers["WARC-IP-Address"] = ex.ip_address
        warc_headers.update(extra or {})
        response = self.create_warc_record(
            ex.url, "response", payload=io.BytesIO(ex.body), length=len(ex.body),
            http_headers=http, warc_headers_dict=warc_headers,
        )
        request_id = self.new_id()
        parts = urlsplit(ex.url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        req_headers = list(ex.request_headers)
        if not any(k.lower() == "host" for k, _ in req_headers):
            req_headers.insert(0, ("Host", parts.netloc))
        req_http = StatusAndHeaders(f"{ex.method} {target} {ex.protocol}", req_headers, is_http_request=True)
        req_http.compute_headers_buffer()
        request = self.create_warc_record(
            ex.url, "request", payload=io.BytesIO(ex.request_body), length=len(ex.request_body),
            http_headers=req_http,
            warc_headers_dict={
                "WARC-Record-ID": request_id,
                "WARC-Date": date,
                "WARC-Concurrent-To": response_id,
                "WARC-Payload-Digest": sha1_b32(ex.request_body),
                "WARC-Block-Digest": sha1_b32(req_http.headers_buff + ex.request_body),
            },
        )
        built = BuiltRecord(
            response, response_id, hashlib.sha256(ex.body).hexdigest(), payload_digest, len(ex.body)
        )
        return built, BuiltRecord(request, request_id)

    def revisit(self, ex: HttpExchange, original: dict[str, str], *, record_id: str,
                extra: dict[str, str] | None = None) -> tuple[BuiltRecord, BuiltRecord]:
        """A ``revisit`` record (profile identical-payload-digest) for a re-fetch whose payload equals
        ``original``'s (keys ``record_id``, ``url``, ``date``), and its request record. The revisit keeps
        the new HTTP headers and no payload: re-crawling an unchanged source adds no payload bytes."""
        response, request = self.exchange(ex, response_id=record_id, extra=extra)
        headers = [(k, v) for k, v in ex.response_headers if k.lower() not in _FRAMING_HEADERS]
        http = StatusAndHeaders(f"{ex.status} {ex.reason}".strip(), headers, protocol=ex.protocol)
        http.compute_headers_buffer()
        warc_headers = {
            "WARC-Record-ID": record_id,
            "WARC-Date": warc_date(ex.fetched_at),
            "WARC-Refers-To": original["record_id"],
            "WARC-Block-Digest": sha1_b32(http.headers_buff),
        }
        if ex.ip_address:
            warc_headers["WARC-IP-Address"] = ex.ip_address
        warc_headers.update(extra or {})
        record = self.create_revisit_record(
            ex.url, response.payload_digest, original["url"], original["date"],
            http_headers=http, warc_headers_dict=warc_headers,
        )
        built = BuiltRecord(record, record_id, response.payload_sha256, response.payload_digest,
                            response.payload_length)
        return built, request

    def failure(self, url: str, reason: str, detail: dict[str, object], moment: datetime,
                record_id: str | None = None, extra: dict[str, str] | None = None) -> BuiltRecord:
        """A ``metadata`` record that says a fetch failed and why: failures are evidence too, and
        writing them down lets ``reindex`` restore them."""
        body = json.dumps({"error": reason, **detail}, sort_keys=True).encode("utf-8")
        record_id = record_id or self.new_id()
        record = self.create_warc_record(
            url, "metadata", payload=io.BytesIO(body), length=len(body),
            warc_content_type="application/json",
            warc_headers_dict={
                "WARC-Record-ID": record_id,
                "WARC-Date": warc_date(moment),
                "WARC-Block-Digest": sha1_b32(body),
                "Citevault-Error": reason.splitlines()[0][:200] if reason else "error",
                **(extra or {}),
            },
        )
        return BuiltRecord(record, record_id)

    def state(self, url: str, body: dict[str, object], moment: datetime,
              extra: dict[str, str] | None = None) -> BuiltRecord:
        """A ``metadata`` record with a source's verdict after a check (``Citevault-Record: source-state``):
        what ``reindex`` cannot derive from the captures alone (re-check results, walls, soft-404s)."""
        data = json.dumps(body, sort_keys=True).encode("utf-8")
        record_id = self.new_id()
        record = self.create_warc_record(
            url or "urn:citevault:source:" + str(body.get("source_id")), "metadata",
            payload=io.BytesIO(data), length=len(data), warc_content_type="application/json",
            warc_headers_dict={
                "WARC-Record-ID": record_id, "WARC-Date": warc_date(moment), "WARC-Block-Digest": sha1_b32(data),
                STATE_FIELD: "source-state", **(extra or {}),
            },
        )
        return BuiltRecord(record, record_id)

    def page_assets(self, url: str, page_record_id: str, body: dict[str, object], moment: datetime,
                    extra: dict[str, str] | None = None) -> BuiltRecord:
        """A ``metadata`` record listing the assets a page needed (``Citevault-Record: page-assets``), with
        WARC-Refers-To the page's response record: the page → asset links, and any cut, for ``reindex``."""
        data = json.dumps(body, sort_keys=True).encode("utf-8")
        record_id = self.new_id()
        record = self.create_warc_record(
            url, "metadata", payload=io.BytesIO(data), length=len(data), warc_content_type="application/json",
            warc_headers_dict={
                "WARC-Record-ID": record_id, "WARC-Date": warc_date(moment), "WARC-Refers-To": page_record_id,
                "WARC-Refers-To-Target-URI": url, "WARC-Block-Digest": sha1_b32(data),
                STATE_FIELD: PAGE_ASSETS_PARTIAL if body.get("partial") else PAGE_ASSETS, **(extra or {}),
            },
        )
        return BuiltRecord(record, record_id)

    def resource(
        self, uri: str, body_chunks: Iterable[bytes] | io.IOBase, length: int, content_type: str,
        moment: datetime, extra: dict[str, str] | None = None, sha1: str | None = None,
    ) -> BuiltRecord:
        """A ``resource`` record (an added article's bytes, or a document's claims as JSON Lines).

        ``body_chunks`` may be a file object so a million claims stream from disk.
        """
        stream = body_chunks if hasattr(body_chunks, "read") else io.BytesIO(b"".join(body_chunks))
        record_id = self.new_id()
        headers = {"WARC-Record-ID": record_id, "WARC-Date": warc_date(moment)}
        if sha1:
            headers["WARC-Payload-Digest"] = sha1
            headers["WARC-Block-Digest"] = sha1
        headers.update(extra or {})
        record = self.create_warc_record(
            uri, "resource", payload=stream, length=length,
            warc_content_type=content_type, warc_headers_dict=headers,
        )
        return BuiltRecord(record, record_id)

    def rendering_part(self, uri: str, data: bytes, content_type: str, moment: datetime, *,
                       refers_to: str, concurrent_to: str | None, record_id: str | None = None,
                       extra: dict[str, str] | None = None) -> BuiltRecord:
        """A screenshot or rendered-text ``resource`` record of a browser rendering: WARC-Refers-To the raw
        capture's response record it renders, WARC-Concurrent-To the browser's own response for the page."""
        digest = sha1_b32(data)
        record_id = record_id or self.new_id()
        headers = {"WARC-Record-ID": record_id, "WARC-Date": warc_date(moment), "WARC-Refers-To": refers_to,
                   "WARC-Payload-Digest": digest, "WARC-Block-Digest": digest}
        if concurrent_to:
            headers["WARC-Concurrent-To"] = concurrent_to
        headers.update(extra or {})
        record = self.create_warc_record(uri, "resource", payload=io.BytesIO(data), length=len(data),
                                         warc_content_type=content_type, warc_headers_dict=headers)
        return BuiltRecord(record, record_id, hashlib.sha256(data).hexdigest(), digest, len(data))
