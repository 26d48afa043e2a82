"""Name why a fetch failed, in words a researcher understands; the reason is stored with the capture.

>>> from twisted.internet.error import ConnectionRefusedError
>>> classify(ConnectionRefusedError())[0]
'connection refused'
"""
from __future__ import annotations


def classify(exc: BaseException, redirect_urls: list[str] | None = None) -> tuple[str, str]:
    """``(category, detail)``: category is short and stable (stats key, state reason).

    ``redirect_urls``: the hops before the failing request (Scrapy's ``redirect_urls`` meta), to tell a
    redirect loop from a merely long chain.
    """
    from scrapy import exceptions as sx
    from twisted.internet import defer, error
    from twisted.web._newclient import ResponseFailed, ResponseNeverReceived

    detail = f"{type(exc).__name__}: {exc}".strip().rstrip(":")
    if isinstance(exc, sx.IgnoreRequest):
        text = str(exc)
        if "robots.txt" in text:
            return "blocked by robots.txt", detail
        if "max redirections" in text:
            urls = redirect_urls or []
            return ("redirect loop" if len(set(urls)) < len(urls) else "too many redirects"), detail
        if "DOWNLOAD_MAXSIZE" in text and "decompression" in text:
            return "too large when decompressed", detail
        return "ignored", detail
    # Scrapy >= 2.14 wraps Twisted's errors in its own classes; older ones raise Twisted's directly.
    if isinstance(exc, (sx.DownloadTimeoutError, error.TimeoutError, defer.TimeoutError, error.TCPTimedOutError)):
        return "timeout", detail
    if isinstance(exc, (sx.CannotResolveHostError, error.DNSLookupError)):
        return "dns lookup failed", detail
    if isinstance(exc, (sx.DownloadConnectionRefusedError, error.ConnectionRefusedError)):
        return "connection refused", detail
    text = str(exc)
    if "DOWNLOAD_MAXSIZE" in text or "maxsize" in text.lower():
        return "too large", detail
    if isinstance(exc, (sx.DownloadFailedError, ResponseFailed, ResponseNeverReceived)):
        cause = exc.__cause__ or exc
        inner = " ".join(str(r.value) for r in getattr(cause, "reasons", []) if hasattr(r, "value"))
        if "SSL" in inner or "certificate" in inner.lower() or "tls" in inner.lower():
            return "tls error", f"{detail} {inner}".strip()
        if "ValueError" in detail or "ParseError" in detail or "BadHeaders" in detail:
            return "malformed response", f"{detail} {inner}".strip()
        return "connection lost", f"{detail} {inner}".strip()
    if "SSL" in text or "certificate" in text.lower():
        return "tls error", detail
    if isinstance(exc, sx.DownloadCancelledError):
        # Scrapy's HTTP handler cancels a download only when the body passes DOWNLOAD_MAXSIZE
        # (with the size in the message when Content-Length announced it, without when streamed).
        return "too large", detail if str(exc) else f"{detail}: body passed DOWNLOAD_MAXSIZE while streaming"
    if isinstance(exc, sx.ResponseDataLossError):
        return "truncated response", f"{detail}: fewer bytes than Content-Length before the connection closed"
    if isinstance(exc, (error.ConnectionLost, error.ConnectionDone, error.ConnectError)):
        return "connection failed", detail
    return type(exc).__name__, detail
