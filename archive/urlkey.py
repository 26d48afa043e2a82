"""SURT keys: the ``urlkey`` of a capture row and of a CDXJ line, the same string as ``surt.surt(url)``.

cdxj-indexer and pywb key captures with the ``surt`` package, so our keys must be its keys to the byte.
But ``surt`` costs about 65 µs a URL (and 0.1-0.2 s to import, through tldextract and requests), which
was a sixth of a rebuild's CPU time. Most URLs a crawl fetches are plain, and for a plain URL each of
surt's steps is either a no-op or a simple string operation, so :func:`urlkey` does those operations here
and hands every other URL to ``surt.surt`` itself: an odd URL gets surt's exact answer, never a guess.

Plain means: ``http`` or ``https`` in lower case; a host of ASCII letters, digits, ``-``, ``_`` and dots
(no userinfo, no IDN, no ``..``, no leading or trailing dot), or a dotted-quad address written the usual
way (surt resolves other numeric forms: ``0x7f.1``, ``2130706433``); a port without leading zeros; a path
and query of printable ASCII without ``%`` (so surt's unescape and escape change nothing), without ``//``,
``/.`` (dot segments), ``.aspx`` or session-id parameters (which surt strips). Also plain: a ``urn:`` of
letters, digits and ``:._-`` (the article records). ``tests/test_urlkey.py`` compares both on many URLs,
plain and odd.

>>> urlkey("https://www.Example.org:443/A/b/?z=1&a=2#top")
'org,example)/a/b?a=2&z=1'
>>> urlkey("http://127.0.0.1:8080/")
'1,0,0,127:8080)/'
>>> urlkey("http://b\\u00fccher.example/%7Euser")  # not plain: surt's own answer
'example,xn--bcher-kva)/~user'
"""
from __future__ import annotations

import re

# scheme, host, port, path, query; a fragment is dropped (surt drops it too).
_PLAIN = re.compile(
    r"(https?)://([A-Za-z0-9_.-]+)(?::([1-9][0-9]{0,4}))?"
    r"(/[!\"$&-\x3e@-~]*)?"  # printable ASCII but '#', '%', '?'
    r"(?:\?([!\"$&-~]*))?"  # printable ASCII but '#', '%'
    r"(?:#[!-~]*)?"
)
_URN = re.compile(r"urn:[A-Za-z0-9:._-]+")  # the article records' urn:citevault:article:ID
_DIGITS_AND_DOTS = re.compile(r"[0-9.]+")
_DOTTED_QUAD = re.compile(r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]?)"
                          r"(?:\.(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]?|0)){3}")
_WWW = re.compile(r"www\d*\.")  # surt's massageHost
_DEFAULT_PORTS = {"http": 80, "https": 443}


def urlkey(url: str) -> str:
    """SURT key of ``url``, as ``surt.surt(url)`` gives it (``url`` itself if surt cannot parse it)."""
    return _plain_key(url) or _surt_key(url)


def _plain_key(url: str) -> str | None:
    """The key of a plain URL (see the module docstring), None for any other."""
    m = _PLAIN.fullmatch(url)
    if m is None:
        if _URN.fullmatch(url):  # no host: surt keeps scheme and path, the path in lower case
            return url.lower()
        return None
    scheme, host, port, path, query = m.groups()
    host = host.lower()
    if ".." in host or host[0] == "." or host[-1] == ".":
        return None  # surt collapses and strips dots
    if _DIGITS_AND_DOTS.fullmatch(host) and not _DOTTED_QUAD.fullmatch(host):
        return None  # a numeric host surt normalises through the resolver
    www = _WWW.match(host)
    if www:
        host = host[www.end():]
    key = ",".join(reversed(host.split(".")))
    if port is not None:
        number = int(port)
        if number > 65535:
            return None  # surt fails; urlkey then keeps the URL
        if number != _DEFAULT_PORTS[scheme]:
            key += f":{number}"
    if path:
        if "//" in path or "/." in path:
            return None  # surt drops empty and dot segments
        path = path.lower()
        if ".aspx" in path:
            return None  # surt strips ASP.NET session ids from such paths
        if len(path) > 1 and path[-1] == "/":
            path = path[:-1]
    else:
        path = "/"
    key += ")" + path
    if query:
        query = query.lower()
        if "sessionid" in query or "sid=" in query or "cfid=" in query:  # jsessionid, aspsessionid, phpsessid
            return None  # surt strips session ids
        if len(query) > 1:  # surt's alphaReorderQuery: sorted as (name,) or (name, value) pairs
            pairs = sorted(tuple(arg.split("=", 1)) for arg in query.split("&"))
            query = "&".join("=".join(pair) for pair in pairs)
        key += "?" + query
    return key


def _surt_key(url: str) -> str:
    # Imported here: 0.1-0.2 s (tldextract, requests), and plain URLs never need it.
    import surt  # untyped: pyproject's mypy overrides ignore its missing stubs

    try:
        return surt.surt(url)  # type: ignore[no-any-return]
    except Exception:
        return url


__all__ = ["urlkey"]
