"""Rewrite an archived HTML page or stylesheet so every URL in it points into the replay prefix.

A link, image, stylesheet, script or frame URL becomes ``/replay/{timestamp}{modifier}/{absolute URL}``
(the pywb URL scheme). The replay endpoint answers it with the capture closest to that moment, or with a
local "not archived" placeholder: a rewritten page never points to the live web. The modifier says what
kind of resource the page expects, so the placeholder can be an image, a stylesheet, a script or a page::

    im_  image (img, srcset, lazy data-src, poster,  cs_  stylesheet (link rel=stylesheet, @import)
         icons, fonts, CSS url())
    js_  script                                      if_  frame (iframe, frame)

The page's markup is kept as it was: the tokenizer (:class:`html.parser.HTMLParser`) copies every tag whose
attributes need no change verbatim, and re-serializes only tags with a rewritten URL. Inline scripts are
not touched; whatever URL they build is confined by the replay response's Content-Security-Policy.
``integrity`` and ``crossorigin`` attributes are dropped: rewritten bytes no longer match a subresource
hash, and a CORS request from the sandboxed (opaque-origin) page would be refused.
"""
from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from urllib.parse import urljoin

#: Schemes left alone: they name no archived resource (``javascript:`` runs inside the sandbox).
_KEEP_SCHEMES = ("javascript:", "data:", "mailto:", "tel:", "about:", "blob:", "#")

_CSS_URL = re.compile(r"""url\(\s*(?P<q>['"]?)(?P<u>[^'")]*?)(?P=q)\s*\)""", re.IGNORECASE)
_CSS_IMPORT = re.compile(r"""@import\s+(?:url\(\s*(?P<uq>['"]?)(?P<uu>[^'")]+)(?P=uq)\s*\)|(?P<q>['"])(?P<u>[^'"]+)(?P=q))""",
                         re.IGNORECASE)
#: Attributes lazy-loading scripts copy into ``src`` / ``srcset`` once an image scrolls into view.
LAZY_SRC = ("data-src", "data-lazy-src", "data-original")
LAZY_SRCSET = ("data-srcset", "data-lazy-srcset")
_META_REFRESH_URL = re.compile(r"""(?P<pre>;\s*url\s*=\s*['"]?)(?P<u>[^'"\s]+)""", re.IGNORECASE)


class UrlRewriter:
    """Maps URLs found in a capture of ``base`` to replay URLs at ``timestamp``.

    >>> r = UrlRewriter("http://example.org/a/page.html", "20240102030405")
    >>> r("img.png", "im_")
    '/replay/20240102030405im_/http://example.org/a/img.png'
    >>> r("/b?x=1#top")
    '/replay/20240102030405/http://example.org/b?x=1#top'
    >>> r("//cdn.example.net/lib.js", "js_")
    '/replay/20240102030405js_/http://cdn.example.net/lib.js'
    >>> r("#section"), r("javascript:void(0)"), r("data:image/png;base64,AAAA")
    ('#section', 'javascript:void(0)', 'data:image/png;base64,AAAA')
    >>> r("/replay/20240102030405/http://example.org/")  # already rewritten: unchanged
    '/replay/20240102030405/http://example.org/'
    """

    def __init__(self, base: str, timestamp: str, prefix: str = "/replay/") -> None:
        self.base = base
        self.timestamp = timestamp
        self.prefix = prefix

    def __call__(self, url: str, modifier: str = "") -> str:
        value = url.strip()
        if not value or value.lower().startswith(_KEEP_SCHEMES) or value.startswith(self.prefix):
            return url
        try:
            absolute = urljoin(self.base, value)
        except ValueError:  # an unparsable URL (bad IPv6 literal): it cannot be archived either
            absolute = value
        return f"{self.prefix}{self.timestamp}{modifier}/{absolute}"


def rewrite_css(css: str, urls: UrlRewriter) -> str:
    """Rewrite ``url()`` and ``@import`` in a stylesheet (or a ``style`` attribute).

    >>> r = UrlRewriter("http://example.org/css/site.css", "2024")
    >>> rewrite_css('@import "print.css"; h1 { background: url( "../bg.png" ) }', r)
    '@import "/replay/2024cs_/http://example.org/css/print.css"; h1 { background: url( "/replay/2024im_/http://example.org/bg.png" ) }'
    >>> rewrite_css("@import url('fonts.css') screen;", r)
    "@import url('/replay/2024cs_/http://example.org/css/fonts.css') screen;"
    """
    def imported(m: re.Match[str]) -> str:
        if m["uu"] is not None:
            return f"@import url({m['uq']}{urls(m['uu'], 'cs_')}{m['uq']})"
        return f"@import {m['q']}{urls(m['u'], 'cs_')}{m['q']}"

    def url(m: re.Match[str]) -> str:
        inner = urls(m["u"], "im_")
        return m.group(0).replace(m["u"], inner, 1) if m["u"] else m.group(0)

    return _CSS_URL.sub(url, _CSS_IMPORT.sub(imported, css))


def rewrite_srcset(value: str, urls: UrlRewriter) -> str:
    """Rewrite each candidate URL of a ``srcset``.

    >>> rewrite_srcset("a.png 1x, b.png 2x", UrlRewriter("http://e.org/", "2024"))
    '/replay/2024im_/http://e.org/a.png 1x, /replay/2024im_/http://e.org/b.png 2x'
    """
    out = []
    for candidate in re.split(r",\s+", value.strip()):
        parts = candidate.strip().split(None, 1)
        if not parts:
            continue
        rewritten = urls(parts[0].rstrip(","), "im_")
        out.append(rewritten + (" " + parts[1] if len(parts) > 1 else ""))
    return ", ".join(out)


def _modifier(tag: str, attr: str, attrs: dict[str, str | None]) -> str | None:
    """The modifier for a URL attribute, or None when ``attr`` holds no URL on ``tag``."""
    if attr in ("srcset", "imagesrcset", "poster", "background", *LAZY_SRCSET):
        return "im_"
    if attr in LAZY_SRC:
        return "if_" if tag in ("iframe", "frame") else "im_"
    if attr == "src":
        return {"script": "js_", "iframe": "if_", "frame": "if_", "img": "im_", "input": "im_"}.get(tag, "")
    if attr == "href":
        if tag == "link":
            rel = (attrs.get("rel") or "").lower().split()
            as_ = (attrs.get("as") or "").lower()
            if "stylesheet" in rel or as_ == "style":
                return "cs_"
            if "icon" in rel or as_ in ("image", "font"):
                return "im_"
            if as_ == "script":
                return "js_"
        return "" if tag in ("a", "area", "link", "base") else None
    if attr in ("action", "formaction"):
        return ""
    if attr == "data" and tag == "object":
        return ""
    return None


class _HtmlRewriter(HTMLParser):
    def __init__(self, urls: UrlRewriter) -> None:
        super().__init__(convert_charrefs=False)
        self.urls = urls
        self.out: list[str] = []
        self._in_style = False

    # -- tags -------------------------------------------------------------------------------------
    def _tag(self, tag: str, attrs: list[tuple[str, str | None]], closing: bool) -> None:
        raw = self.get_starttag_text() or ""
        values = dict(attrs)
        if tag == "base" and values.get("href"):
            try:  # later relative URLs resolve against <base href>, as a browser would
                self.urls.base = urljoin(self.urls.base, values["href"] or "")
            except ValueError:
                pass
        changed = False
        new: list[tuple[str, str | None]] = []
        for name, value in attrs:
            if name in ("integrity", "crossorigin"):
                changed = True
                continue
            if value is not None:
                rewritten = self._attr(tag, name, value, values)
                if rewritten != value:
                    changed = True
                    value = rewritten
            new.append((name, value))
        if not changed:
            self.out.append(raw)
            return
        parts = [tag] + [name if value is None else f'{name}="{html.escape(value, quote=True)}"' for name, value in new]
        self.out.append("<" + " ".join(parts) + (" />" if closing else ">"))

    def _attr(self, tag: str, name: str, value: str, attrs: dict[str, str | None]) -> str:
        if name == "style":
            return rewrite_css(value, self.urls)
        if name in ("srcset", "imagesrcset", *LAZY_SRCSET):
            return rewrite_srcset(value, self.urls)
        if tag == "meta" and name == "content" and (attrs.get("http-equiv") or "").lower() == "refresh":
            return _META_REFRESH_URL.sub(lambda m: m["pre"] + self.urls(m["u"]), value)
        modifier = _modifier(tag, name, attrs)
        return value if modifier is None else self.urls(value, modifier)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._tag(tag, attrs, closing=False)
        self._in_style = tag == "style"

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._tag(tag, attrs, closing=True)

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False
        self.out.append(f"</{tag}>")

    # -- everything else is copied as it came --------------------------------------------------------
    def handle_data(self, data: str) -> None:
        self.out.append(rewrite_css(data, self.urls) if self._in_style else data)

    def handle_comment(self, data: str) -> None:
        self.out.append(f"<!--{data}-->")

    def handle_decl(self, decl: str) -> None:
        self.out.append(f"<!{decl}>")

    def handle_pi(self, data: str) -> None:
        self.out.append(f"<?{data}>")

    def unknown_decl(self, data: str) -> None:
        self.out.append(f"<![{data}]>")

    def handle_entityref(self, name: str) -> None:
        self.out.append(f"&{name};")

    def handle_charref(self, name: str) -> None:
        self.out.append(f"&#{name};")


def rewrite_html(page: str, urls: UrlRewriter) -> str:
    """Rewrite every URL attribute, ``<style>`` block and ``style`` attribute of ``page``.

    >>> r = UrlRewriter("http://example.org/news/a.html", "20240102030405")
    >>> print(rewrite_html('<p class=x>Hi <a href="b.html">b</a><img src=/i.png alt=""></p>', r))
    <p class=x>Hi <a href="/replay/20240102030405/http://example.org/news/b.html">b</a><img src="/replay/20240102030405im_/http://example.org/i.png" alt=""></p>
    """
    parser = _HtmlRewriter(urls)
    parser.feed(page)
    parser.close()
    return "".join(parser.out)
