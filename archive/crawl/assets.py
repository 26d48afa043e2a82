"""Page assets: the stylesheets, images, fonts, scripts, icons, posters and frames an archived page loads.

A page replays as the reader saw it only if these are archived with it (docs/warc.md). Which
attribute of which tag loads what is written once, in :mod:`archive.web.rewrite`, because replay must
rewrite exactly the URLs the crawl fetched: discovery here walks a page with the same tokenizer and the same
rules, collecting instead of rewriting. A stylesheet's ``@import`` and ``url()`` (fonts, backgrounds) are
found the same way when the stylesheet itself arrives, so CSS is followed recursively.
"""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urljoin

from archive.web.rewrite import UrlRewriter, rewrite_css, rewrite_html

#: What a replay modifier says the page expects; only these are assets (a plain link is not).
KINDS = {"im_": "image", "cs_": "stylesheet", "js_": "script", "if_": "frame"}
#: Characters of a page or stylesheet looked at: a page whose markup runs past this has its first assets.
SCAN_LIMIT = 4 * 1024 * 1024


@dataclass(frozen=True)
class Asset:
    url: str
    kind: str  # image | stylesheet | script | frame


class _Collector(UrlRewriter):
    """A rewriter that rewrites nothing: it records each asset URL it is shown, absolute, once."""

    def __init__(self, base: str) -> None:
        super().__init__(base, "", prefix="\x00")
        self.found: dict[str, Asset] = {}

    def __call__(self, url: str, modifier: str = "") -> str:
        kind = KINDS.get(modifier)
        value = url.strip()
        if kind is not None and value and not value.startswith(("data:", "blob:", "javascript:", "#", "about:")):
            try:
                absolute = urljoin(self.base, value).split("#", 1)[0]
            except ValueError:
                return url
            if absolute.startswith(("http://", "https://")) and absolute not in self.found:
                self.found[absolute] = Asset(absolute, kind)
        return url


def page_assets(html: str, base_url: str) -> list[Asset]:
    """The assets an HTML page loads, in document order (``<base href>`` honoured, fragments dropped).

    >>> page = '''<link rel=stylesheet href="/s.css"><link rel=icon href=fav.ico>
    ... <style>@import "print.css"; body{background:url(bg.png)}</style>
    ... <img src=a.png srcset="a2.png 2x, a3.png 3x"><img data-src=lazy.png>
    ... <picture><source srcset="p.webp"></picture><video poster=v.jpg></video>
    ... <script src=app.js></script><iframe src=frame.html></iframe><a href=other.html>x</a>'''
    >>> [(a.url.rsplit("/", 1)[1], a.kind) for a in page_assets(page, "https://e.org/news/story.html")]
    ... # doctest: +NORMALIZE_WHITESPACE
    [('s.css', 'stylesheet'), ('fav.ico', 'image'), ('print.css', 'stylesheet'), ('bg.png', 'image'),
     ('a.png', 'image'), ('a2.png', 'image'), ('a3.png', 'image'), ('lazy.png', 'image'), ('p.webp', 'image'),
     ('v.jpg', 'image'), ('app.js', 'script'), ('frame.html', 'frame')]
    """
    collector = _Collector(base_url)
    rewrite_html(html[:SCAN_LIMIT], collector)
    return list(collector.found.values())


def stylesheet_assets(css: str, base_url: str) -> list[Asset]:
    """What a stylesheet loads: ``@import`` (stylesheets) and ``url()`` (fonts, images).

    >>> [(a.url, a.kind) for a in stylesheet_assets('@import url("b.css"); @font-face{src:url(f.woff2)}', "https://e.org/c/a.css")]
    [('https://e.org/c/b.css', 'stylesheet'), ('https://e.org/c/f.woff2', 'image')]
    """
    collector = _Collector(base_url)
    rewrite_css(css[:SCAN_LIMIT], collector)
    return list(collector.found.values())
