"""Name why a fetch failed, in words a researcher understands; the reason is stored with the capture.

>>> from twisted.internet.error import ConnectionRefusedError
>>> classify(ConnectionRefusedError())[0]
'connection refused'
"""
from __future__ import annotations


def classify(exc: BaseException) -> tuple[str, str]:
    """``(category, detail)``: category is short and stable (stats key, state reason)."""
    from scrapy import exceptions as sx
    from twisted.internet import defer, error
    from twisted.web._newclient import ResponseFailed, ResponseNeverReceived

    detail = f"{type(exc).__name__}: {exc}".strip().rstrip(":")
    if isinstance(exc, sx.IgnoreRequest):
        if "robots.txt" in str(exc):
            return "blocked by robots.txt", detail
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
        return "connection lost", f"{detail} {inner}".strip()
    if "SSL" in text or "certificate" in text.lower():
        return "tls error", detail
    if isinstance(exc, sx.DownloadCancelledError):
        return "cancelled", detail
    if isinstance(exc, (error.ConnectionLost, error.ConnectionDone, error.ConnectError)):
        return "connection failed", detail
    return type(exc).__name__, detail
