"""URL helpers shared by extraction, the index and the crawler.

>>> normalize_url("HTTP://Example.ORG:80/a/b?x=1#frag")
'http://example.org/a/b?x=1'
>>> normalize_url("https://example.org")
'https://example.org/'
>>> is_archivable("ftp://example.org/file")
False
"""
from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

ARCHIVABLE_SCHEMES = ("http", "https")
_DEFAULT_PORTS = {"http": 80, "https": 443}


def normalize_url(url: str) -> str:
    """Canonical form used as the source key: lower-case scheme and host, default port and fragment dropped.

    Path and query are kept byte for byte: servers may treat them case-sensitively.
    """
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = host
    if parts.username:
        netloc = f"{parts.username}{':' + parts.password if parts.password else ''}@{host}"
    if port and port != _DEFAULT_PORTS.get(scheme):
        netloc = f"{netloc}:{port}"
    path = parts.path or ("/" if scheme in ARCHIVABLE_SCHEMES else "")
    return urlunsplit((scheme, netloc, path, parts.query, ""))


def is_archivable(url: str) -> bool:
    """Only http(s) URLs with a host are fetched.

    >>> is_archivable("http://[x")
    False
    """
    try:
        parts = urlsplit(url)
        return parts.scheme.lower() in ARCHIVABLE_SCHEMES and bool(parts.hostname)
    except ValueError:  # e.g. a broken IPv6 literal
        return False


_BARE_HOST_URL = re.compile(
    r"^(?:(?:[a-z0-9-]+\.)+[a-z]{2,63}|(?:\d{1,3}\.){3}\d{1,3}|localhost)(?::\d{1,5})?(?:[/?#]\S*)?$", re.I)


def bare_url_candidates(query: str) -> list[str]:
    """A URL written without its scheme (``example.org/report``) as the http(s) URLs it may stand for;
    anything else (words, "U.S.", "3.5") gives none. ``lookup`` tries these before searching words.

    >>> bare_url_candidates("example.org/path?x=1")
    ['https://example.org/path?x=1', 'http://example.org/path?x=1']
    >>> bare_url_candidates("127.0.0.1:8000/a")[0]
    'https://127.0.0.1:8000/a'
    >>> bare_url_candidates("U.S."), bare_url_candidates("3.5 million"), bare_url_candidates("e.g")
    ([], [], [])
    """
    q = query.strip()
    if not _BARE_HOST_URL.match(q):
        return []
    return [f"https://{q}", f"http://{q}"]
