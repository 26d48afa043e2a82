"""Replay: archived responses served back as they were captured, confined so they cannot harm the UI.

``/replay/{timestamp}{modifier}/{url}`` answers with the capture of ``url`` closest to ``timestamp`` (the
URI-M of :mod:`archive.web.memento`); a revisit answers with its original's payload. HTML and CSS are
rewritten by :mod:`archive.web.rewrite` so every URL in them stays under ``/replay/``; an unarchived URL
gets a local "not archived" placeholder (404) of the kind the page expects. Other types (PDF, images…) are
streamed with their archived Content-Type.

Why archived scripts cannot read the UI's cookies or call its API (docs/web.md):

1. Every replayed response carries ``Content-Security-Policy: sandbox allow-scripts``: the browser gives the
   document a unique opaque origin, even when it is opened on its own, outside the UI. An opaque origin has
   no cookies (``document.cookie`` throws) and no storage, and the UI's pages and API are cross-origin to it.
2. The UI embeds replays in ``<iframe sandbox="allow-scripts">``, never with ``allow-same-origin``; no
   popups, forms or top navigation either.
3. The same header restricts every fetch (``default-src``) to the replay prefix of this server: no request
   reaches ``/api/``, another local page or the live web. ``frame-ancestors 'self'`` keeps other sites from
   framing replays. Not on a frame's own document (the ``if_`` modifier, an archived ``<iframe>``): its
   parent is a replayed page, whose origin the sandbox made opaque, and Chromium then refuses the frame
   under every ``frame-ancestors`` value ('self', this host, even ``*``), so the archived iframe showed as
   refused. Such a document is sandboxed and confined like any other; another site framing it frames an
   archived fragment, not the UI.
"""
from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response, StreamingResponse

from archive.index.browse import timestamp_moment
from archive.index.rows import mime_of
from archive.web import archive_of, memento
from archive.warc.reader import ArchivedResponse
from archive.web.rewrite import UrlRewriter, rewrite_css, rewrite_html

router = APIRouter(include_in_schema=False)

PREFIX = "/replay/"
#: HTML and CSS up to this size are rewritten in memory; larger ones are streamed unrewritten (their
#: requests still cannot leave the replay prefix: the CSP confines them).
MAX_REWRITE = 16 << 20
MODIFIERS = ("im_", "cs_", "js_", "if_", "id_")
_REPLAY_PATH = re.compile(r"^(?P<ts>\d{0,14})(?P<mod>[a-z]{2}_)?/(?P<url>.+)$", re.DOTALL)
_HTML_TYPES = {"text/html", "application/xhtml+xml"}


def replay_csp(origin: str, *, framed: bool = False) -> str:
    """The policy of every replayed response (see the module docstring); ``framed``: for an archived
    iframe's document, which another replayed page frames, so without ``frame-ancestors``.

    >>> print(replay_csp("http://127.0.0.1:8000").replace("; ", ";\\n"))
    sandbox allow-scripts;
    default-src http://127.0.0.1:8000/replay/;
    script-src http://127.0.0.1:8000/replay/ 'unsafe-inline' 'unsafe-eval' data: blob:;
    style-src http://127.0.0.1:8000/replay/ 'unsafe-inline' data:;
    img-src http://127.0.0.1:8000/replay/ data: blob:;
    font-src http://127.0.0.1:8000/replay/ data:;
    media-src http://127.0.0.1:8000/replay/ data: blob:;
    form-action 'none';
    frame-ancestors 'self'
    """
    src = origin.rstrip("/") + PREFIX
    return "; ".join([
        "sandbox allow-scripts",
        f"default-src {src}",
        f"script-src {src} 'unsafe-inline' 'unsafe-eval' data: blob:",
        f"style-src {src} 'unsafe-inline' data:",
        f"img-src {src} data: blob:",
        f"font-src {src} data:",
        f"media-src {src} data: blob:",
        "form-action 'none'",
        *([] if framed else ["frame-ancestors 'self'"]),
    ])


def _base_headers(request: Request, modifier: str = "") -> dict[str, str]:
    return {
        "Content-Security-Policy": replay_csp(memento.base_url(request), framed=modifier == "if_"),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "private, max-age=3600",
    }


@router.api_route(PREFIX + "{rest:path}", methods=["GET", "HEAD"])
def replay(request: Request, rest: str) -> Response:
    target = memento.target_url(request, PREFIX)
    match = _REPLAY_PATH.match(target)
    if match is None:
        return placeholder(request, target, "", "not a replay URL: /replay/{timestamp}/{url}")
    ts, modifier, url = match["ts"], match["mod"] or "", memento.fix_scheme_slashes(match["url"])
    if modifier not in ("", *MODIFIERS):
        modifier = ""
    archive = archive_of(request)
    found = archive.mementos(url, timestamp_moment(ts) if ts else None)
    chosen = found.closest
    if chosen is None:
        why = f"the fetch failed: {found.failure}" if found.failure else "it was never captured"
        return placeholder(request, url, modifier, why)
    navigation = request.headers.get("sec-fetch-mode", "navigate") == "navigate"
    if modifier in ("", "if_") and ts != chosen["timestamp"] and navigation:
        # a navigation lands on the exact URI-M, so the address bar names the memento shown. A script's
        # fetch() is served where it asked: a CORS request fails on a redirect that carries no
        # Access-Control-Allow-Origin, and the JSON a page loaded is seldom captured in the page's second.
        return RedirectResponse(memento.replay_url(chosen, modifier), status_code=302,
                                headers=_base_headers(request, modifier))
    return serve(request, chosen, archive.open_response(chosen), modifier)


def serve(request: Request, chosen: dict[str, Any], archived: ArchivedResponse, modifier: str) -> Response:
    """Serve ``archived`` (the payload of ``chosen``, a revisit's from its original) as the capture ``chosen``."""
    headers = {**_base_headers(request, modifier), **memento.replay_headers(memento.base_url(request), chosen)}
    status = chosen["http_status"] or archived.status or 200
    if not 100 <= status <= 599:
        status = 200
    if 300 <= status < 400:
        location = chosen.get("redirect_to") or archived.header("Location")
        archived.close()
        if location:
            headers["Location"] = UrlRewriter(chosen["url"], chosen["timestamp"])(location, modifier)
        return Response(b"", status_code=status, headers=headers)
    content_type = archived.content_type or "application/octet-stream"
    mime = mime_of(content_type)
    if _is_font(mime, chosen["url"]):
        # Browsers fetch fonts in CORS mode, and a replayed page is sandboxed (its origin is "null"): without
        # this a page's archived web fonts never load. Fonts only, and only for null origins (sandboxed
        # pages), so no ordinary web page can read the archive through it.
        headers["Access-Control-Allow-Origin"] = "null"
    elif (chosen.get("role") in ("asset", "browser") and request.headers.get("origin") == "null"
          and request.headers.get("sec-fetch-mode") == "cors"):
        # A replayed page's own script reading what it loaded when it was captured (JSON by fetch() or XHR,
        # recorded by the browser capture, docs/browser.md): the same null-origin allowance as fonts.
        headers["Access-Control-Allow-Origin"] = "null"
    if modifier != "id_" and mime in _HTML_TYPES | {"text/css"}:
        try:
            rewritten = _rewritten(archived.read(MAX_REWRITE), content_type, chosen)
        except BaseException:
            archived.close()
            raise
        if rewritten is not None:
            archived.close()
            body, media_type = rewritten
            return Response(body, status_code=status, headers=headers, media_type=media_type)
    # not rewritten (another type, too large, not text): streamed as it is, what was read above included
    return StreamingResponse(archived.chunks(), status_code=status, headers=headers, media_type=content_type)


_FONT_TYPES = ("font/", "application/font-", "application/x-font-", "application/vnd.ms-fontobject")
_FONT_EXTENSIONS = (".woff2", ".woff", ".ttf", ".otf", ".eot")


def _is_font(mime: str | None, url: str) -> bool:
    """Whether a capture is a web font, by its type or, for servers that send a generic type, its name.

    >>> _is_font("font/woff2", "https://e.org/f"), _is_font("application/octet-stream", "https://e.org/a.woff2?v=3")
    (True, True)
    >>> _is_font("image/png", "https://e.org/logo.png")
    False
    """
    path = url.split("?", 1)[0].split("#", 1)[0].lower()
    return (mime or "").startswith(_FONT_TYPES) or path.endswith(_FONT_EXTENSIONS)


def _rewritten(data: bytes | None, content_type: str, chosen: dict[str, Any]) -> tuple[bytes, str] | None:
    from archive.claims.decode import decode_text
    from archive.errors import InputError

    if data is None:
        return None
    mime = mime_of(content_type)
    charset = re.search(r"charset\s*=\s*[\"']?([\w.:-]+)", content_type, re.IGNORECASE)
    try:
        text = decode_text(data, charset=charset.group(1) if charset else None, html=mime != "text/css")
    except InputError:
        return None
    urls = UrlRewriter(chosen["url"], chosen["timestamp"])
    out = rewrite_css(text, urls) if mime == "text/css" else rewrite_html(text, urls)
    # Sent as UTF-8 whatever it was archived in: the header's charset overrides any <meta charset>.
    return out.encode("utf-8"), f"{mime}; charset=utf-8"


_PLACEHOLDER_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="160" height="40" viewBox="0 0 160 40">'
    '<rect width="160" height="40" fill="#eee" stroke="#999" stroke-dasharray="4 3"/>'
    '<text x="80" y="25" font-family="sans-serif" font-size="12" text-anchor="middle" fill="#555">'
    "not archived</text></svg>"
)


def placeholder(request: Request, url: str, modifier: str, why: str) -> Response:
    """A local stand-in for a URL the archive does not hold, shaped like what the page asked for."""
    import html

    headers = _base_headers(request, modifier)
    headers["Cache-Control"] = "no-store"
    if modifier == "im_":
        return Response(_PLACEHOLDER_SVG, status_code=404, headers=headers, media_type="image/svg+xml")
    if modifier in ("cs_", "js_"):
        kind = "text/css" if modifier == "cs_" else "text/javascript"
        return Response(f"/* not archived: {why} */\n", status_code=404, headers=headers, media_type=kind)
    page = (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Not archived</title>'
        "<style>body{font:16px/1.5 system-ui,sans-serif;margin:2rem;color:#333}"
        "code{background:#f3f3f3;padding:.1em .3em;word-break:break-all}</style></head><body>"
        f"<h1>Not archived</h1><p>The archive holds no capture of <code>{html.escape(url)}</code>: "
        f"{html.escape(why)}.</p><p>Replay never loads anything from the live web.</p></body></html>"
    )
    return Response(page, status_code=404, headers=headers, media_type="text/html; charset=utf-8")
