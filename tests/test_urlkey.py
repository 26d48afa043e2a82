"""archive.urlkey against the ``surt`` package: the same key for every URL, plain or odd.

The URLs are built from parts that each exercise one of surt's steps (scheme, userinfo, IDN and numeric
hosts, www-stripping, default ports, dot segments, escapes, session ids, query order, fragments), in every
combination for the host and port and in a seeded random sample for the rest.
"""
from __future__ import annotations

import itertools
import random

import pytest
import surt

from archive.urlkey import _plain_key, urlkey

SCHEMES = ["http://", "https://", "HTTP://", "Https://", "ftp://", "", "http://http://", "dns:", "//"]
USERINFO = ["", "user@", "u:p@", "@"]
HOSTS = ["example.org", "Example.ORG", "www.example.org", "WWW.example.org", "www2.example.org", "www.www.x.org",
         "wwwx.org", "www.org", "a_b.example", "a-b.example", "localhost", "127.0.0.1", "127.0.1.8",
         "255.255.255.255", "1.2.3.4", "10.0.0.255", "0.0.0.0", "010.0.0.1", "1.2.3", "2130706433", "0x7f.1",
         "256.1.1.1", "1.2.3.4.5", "01.2.3.4", "1.02.3.4", "b\u00fccher.example", "xn--bcher-kva.example",
         "a..b.org", ".a.org", "a.org.", "[::1]", "%77ww.example.org", "exa%6Dple.org", "ex ample.org", ""]
PORTS = ["", ":80", ":443", ":8080", ":0", ":080", ":1", ":65535", ":65536", ":99999", ":", ":8o"]
PATHS = ["", "/", "/a", "/A/B/", "/a/b/", "//a", "/a//b", "/a/./b", "/a/../b", "/..", "/a/.", "/.well-known/x",
         "/a%20b", "/%7Euser", "/%257E", "/a b", "/x.aspx", "/x.ASPX?y=1",
         "/(S(abcdefghijklmnopqrstuvwx))/x.aspx", "/(abcdefghijklmnopqrstuvwx)/page.aspx", "/\u00e9t\u00e9",
         "/a/b/c.html", "/a;b=c", "/~u/", "/a\\b", "/a|b", "/a\"b<c>", "/{x}^`", "/a:b@c", "/a'b(c)*", "/%", "/a%zz"]
QUERIES = ["", "?", "?a=1", "?b=2&a=1", "?A=1&a=2", "?a&a=", "?a=&a", "?x=%41", "?x=%2541", "?q=a+b", "?q=a b",
           "?a=1&&b=2", "?&", "?z", "?a=1?b=2", "?Q=Upper&b=B", "?b=\u00e9&a", "?a=1&b=2&a=0",
           "?jsessionid=0123456789abcdef0123456789abcdef", "?x=1&JSESSIONID=0123456789ABCDEF0123456789ABCDEF&y=2",
           "?phpsessid=0123456789abcdef0123456789abcdef", "?sid=0123456789abcdef0123456789abcdef&b=1",
           "?ASPSESSIONIDabcdefgh=abcdefghijklmnopqrstuvwx", "?cfid=1&cftoken=2&z=3", "?sid=short", "?a=b=c"]
FRAGMENTS = ["", "#", "#top", "#A&b=1", "#a b", "#%41", "#\u00e9"]
WRAPPERS = [("", ""), (" ", " "), ("\t", "\n"), ("", "\r\n")]


def _same(url: str) -> None:
    try:
        expected = surt.surt(url)
    except Exception:
        expected = url
    assert urlkey(url) == expected, url


def test_every_host_and_port() -> None:
    for scheme, host, port in itertools.product(["http://", "https://"], HOSTS, PORTS):
        for rest in ("", "/", "/Page.html?b=1&a=2#f"):
            _same(f"{scheme}{host}{port}{rest}")


def test_a_random_sample_of_everything() -> None:
    rng = random.Random(20261128)
    for _ in range(6000):
        parts = [rng.choice(p) for p in (SCHEMES, USERINFO, HOSTS, PORTS, PATHS, QUERIES, FRAGMENTS)]
        before, after = rng.choice(WRAPPERS)
        _same(before + "".join(parts) + after)


@pytest.mark.parametrize("url", [
    "http://127.0.1.3:8080/doc0/page12.html", "http://127.0.1.3:8080/doc0/page12.html?moved=1",
    "https://en.wikipedia.org/wiki/Main_Page", "https://www.nytimes.com/2026/03/01/us/politics/x.html?smid=url-share",
    "http://example.org/?", "http://example.org?b&a", "https://example.org/a/b/#", "http://x.org/robots.txt",
    "https://example.org/search?q=SURT+keys&Lang=EN", "", "filedesc://x.arc", "-", "not a url", "mailto:a@b.org",
    "urn:citevault:article:3f2a9c1b7e4d0a11", "urn:citevault:article:3F2A", "urn:a.b-c_d:E", "urn:", "urn:a/b",
    "urn:A%41", "URN:x:Y", "urn:x?y", "urn:x#y",
])
def test_urls_seen_in_crawls(url: str) -> None:
    _same(url)


def test_plain_urls_take_the_fast_path() -> None:
    # The point of the module: the URLs a crawl writes most do not reach surt.
    for url in ("http://127.0.1.3:8080/doc0/page12.html", "https://www.example.org/a/b?x=1",
                "https://example.org", "http://a-b.example/p/q.pdf?download=1#page=2",
                "urn:citevault:article:3f2a9c1b7e4d0a11"):
        assert _plain_key(url) is not None, url
    for url in ("http://b\u00fccher.example/", "http://example.org/%7E", "http://u@example.org/",
                "http://example.org/a/../b", "http://1.2.3/", "HTTP://example.org/"):
        assert _plain_key(url) is None, url
