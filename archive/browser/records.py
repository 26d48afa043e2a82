"""The WARC records of one exchange the browser made, from the raw bytes warcprox relayed.

Unlike :meth:`archive.warc.builder.RecordFactory.exchange` (which rebuilds a head from Scrapy's parsed values),
these records keep the request and the response exactly as they crossed the wire: status line, header lines
and body bytes, chunked framing included. The digests cover the block as stored, which is what warcio's
``check`` and ``citevault verify`` re-hash (for a chunked response the payload digest covers the framed
bytes; see docs/browser.md).
"""
from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from datetime import datetime

from warcio.statusandheaders import StatusAndHeaders, StatusAndHeadersParser

from archive.warc.builder import CRAWL_FIELD, ROLE_FIELD, BuiltRecord, RecordFactory, b32_digest, warc_date

_VERBS = ["GET", "HEAD", "POST", "PUT", "DELETE", "TRACE", "OPTIONS", "CONNECT", "PATCH"]
TRUNCATED_FIELD = "WARC-Truncated"


class RawHead(StatusAndHeaders):  # type: ignore[misc]  # warcio ships no types
    """A parsed HTTP head that serialises back to the bytes it was parsed from (warcio would normalise
    whitespace and re-encode header values)."""

    def __init__(self, raw: bytes, is_request: bool) -> None:
        parser = StatusAndHeadersParser(_VERBS if is_request else ["HTTP/1.0", "HTTP/1.1"], verify=False)
        parsed = parser.parse(io.BytesIO(raw))
        super().__init__(parsed.statusline, parsed.headers, parsed.protocol, parsed.total_len, is_request)
        self.raw = raw
        self.headers_buff = raw

    def compute_headers_buffer(self, header_filter: object = None) -> None:
        self.headers_buff = self.raw


def split_head(raw: bytes) -> tuple[bytes, bytes]:
    """``(head, body)`` of an HTTP message; the head keeps its final blank line.

    >>> split_head(b"GET / HTTP/1.1\\r\\nHost: a\\r\\n\\r\\nxy")
    (b'GET / HTTP/1.1\\r\\nHost: a\\r\\n\\r\\n', b'xy')
    """
    end = raw.find(b"\r\n\r\n")
    if end < 0:
        return raw, b""
    return raw[: end + 4], raw[end + 4:]


@dataclass
class RawExchange:
    """One exchange as relayed: the request as sent upstream, the response as received."""

    url: str
    request: bytes  # head + body
    response_head: bytes
    response_body: bytes  # as received: Content-Encoding and chunked framing kept
    ip_address: str | None
    fetched_at: datetime
    truncated: str | None = None  # WARC-Truncated: "time" when the page deadline cut it, "length" ...


def _sha1(data: bytes) -> str:
    return b32_digest(hashlib.sha1(data))


def exchange_records(factory: RecordFactory, ex: RawExchange, *, role: str, crawl_id: str | None
                     ) -> tuple[BuiltRecord, BuiltRecord]:
    """The response record and its request record (WARC-Concurrent-To), both byte-faithful."""
    date = warc_date(ex.fetched_at)
    response_id = factory.new_id()
    headers = {"WARC-Record-ID": response_id, "WARC-Date": date,
               "WARC-Payload-Digest": _sha1(ex.response_body),
               "WARC-Block-Digest": _sha1(ex.response_head + ex.response_body), ROLE_FIELD: role}
    if ex.ip_address:
        headers["WARC-IP-Address"] = ex.ip_address
    if ex.truncated:
        headers[TRUNCATED_FIELD] = ex.truncated
    if crawl_id:
        headers[CRAWL_FIELD] = crawl_id
    response = factory.create_warc_record(
        ex.url, "response", payload=io.BytesIO(ex.response_body), length=len(ex.response_body),
        http_headers=RawHead(ex.response_head, False), warc_headers_dict=headers)
    req_head, req_body = split_head(ex.request)
    request_id = factory.new_id()
    request = factory.create_warc_record(
        ex.url, "request", payload=io.BytesIO(req_body), length=len(req_body),
        http_headers=RawHead(req_head, True),
        warc_headers_dict={"WARC-Record-ID": request_id, "WARC-Date": date, "WARC-Concurrent-To": response_id,
                           "WARC-Payload-Digest": _sha1(req_body), "WARC-Block-Digest": _sha1(ex.request)})
    built = BuiltRecord(response, response_id, hashlib.sha256(ex.response_body).hexdigest(),
                        headers["WARC-Payload-Digest"], len(ex.response_body))
    return built, BuiltRecord(request, request_id)
