"""Memento (RFC 7089) for every archived URL: a TimeGate, a TimeMap, and the headers of a memento.

- URI-R: the archived URL. URI-M: ``/replay/{14-digit timestamp}/{URI-R}`` (served by :mod:`archive.web.replay`).
- TimeGate ``/timegate/{URI-R}``: ``302`` to the memento closest to ``Accept-Datetime`` (the latest without
  one), ``Vary: accept-datetime``, a ``Link`` header naming the original, the TimeMap, and the first and
  last mementos. An unparsable ``Accept-Datetime`` is a ``400``; a URL never archived a ``404``.
- TimeMap ``/timemap/link/{URI-R}``: ``application/link-format``, one entry per memento.

URI-Rs are matched by SURT key (see :mod:`archive.index.browse`), and are taken from the raw request path so
percent-escapes and the query string of the archived URL survive as they were.
"""
from __future__ import annotations

import re
from datetime import datetime, timezone
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any, Sequence
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, RedirectResponse, Response

from archive.clock import naive_utc
from archive.index.browse import timestamp_moment
from archive.web import archive_of

router = APIRouter(include_in_schema=False)

LINK_FORMAT = "application/link-format"


def target_url(request: Request, prefix: str) -> str:
    """The URL named in the request path after ``prefix`` (``/timegate/``), query string included.

    Taken from the raw path, undecoded: ``/timegate/http://e.org/a%20b?x=1`` names ``http://e.org/a%20b?x=1``.
    """
    raw = request.scope.get("raw_path") or request.url.path.encode("utf-8")
    path = raw.decode("latin-1")
    url = path[len(prefix):] if path.startswith(prefix) else path
    query = request.scope.get("query_string", b"").decode("latin-1")
    if query:
        url += "?" + query
    return fix_scheme_slashes(url)


def fix_scheme_slashes(url: str) -> str:
    """Undo a proxy collapsing ``//`` in a path: ``http:/e.org/`` is ``http://e.org/``.

    >>> fix_scheme_slashes("http:/example.org/a"), fix_scheme_slashes("https://example.org/")
    ('http://example.org/a', 'https://example.org/')
    """
    return re.sub(r"^(https?:)/+", r"\1//", url, flags=re.IGNORECASE)


def header_url(url: str) -> str:
    """A URL safe inside an HTTP header and a Link ``<...>``: non-ASCII, spaces and ``<>"`` escaped.

    >>> header_url("http://e.org/caf\u00e9 x")
    'http://e.org/caf%C3%A9%20x'
    """
    return quote(url, safe="!#$%&'()*+,/:;=?@[]~")


def http_date(moment: datetime) -> str:
    """RFC 1123 date for Memento-Datetime (a naive datetime is UTC).

    >>> http_date(datetime(2024, 3, 15, 12, 0, 5))
    'Fri, 15 Mar 2024 12:00:05 GMT'
    """
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return format_datetime(moment.astimezone(timezone.utc), usegmt=True)


def parse_accept_datetime(value: str) -> datetime | None:
    """``Accept-Datetime`` as a naive UTC datetime, or None when it is not an RFC 1123 date.

    >>> parse_accept_datetime("Thu, 31 May 2007 20:35:00 GMT")
    datetime.datetime(2007, 5, 31, 20, 35)
    >>> parse_accept_datetime("yesterday") is None
    True
    """
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if moment is None:
        return None
    return naive_utc(moment)


def memento_moment(capture: dict[str, Any]) -> datetime:
    return timestamp_moment(capture["timestamp"])


def base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def replay_url(capture: dict[str, Any], modifier: str = "") -> str:
    """Path of a capture's replay (its URI-M, host-relative); used by the UI's iframes and links."""
    return f"/replay/{capture['timestamp']}{modifier}/{header_url(capture['url'])}"


def uri_m(base: str, capture: dict[str, Any]) -> str:
    return base + replay_url(capture)


def _link(url: str, rel: str, **params: str) -> str:
    extra = "".join(f'; {k}="{v}"' for k, v in params.items())
    return f'<{url}>; rel="{rel}"{extra}'


def _unique_by_second(mementos: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """One memento per URI-M: captures of the same second share a timestamp, and so a URI-M."""
    seen: set[str] = set()
    out = []
    for m in mementos:
        if m["timestamp"] not in seen:
            seen.add(m["timestamp"])
            out.append(m)
    return out


def replay_headers(base: str, capture: dict[str, Any]) -> dict[str, str]:
    """Memento headers of a replayed capture: Memento-Datetime and Links to original, TimeGate, TimeMap."""
    original = header_url(capture["url"])
    return {
        "Memento-Datetime": http_date(memento_moment(capture)),
        "Link": ", ".join([
            _link(original, "original"),
            _link(f"{base}/timegate/{original}", "timegate"),
            _link(f"{base}/timemap/link/{original}", "timemap", type=LINK_FORMAT),
        ]),
    }


def timemap_body(base: str, url: str, mementos: Sequence[dict[str, Any]]) -> str:
    original = header_url(url)
    items = _unique_by_second(mementos)
    lines = [
        _link(original, "original"),
        _link(f"{base}/timemap/link/{original}", "self", type=LINK_FORMAT,
              **{"from": http_date(memento_moment(items[0])), "until": http_date(memento_moment(items[-1]))}),
        _link(f"{base}/timegate/{original}", "timegate"),
    ]
    for i, m in enumerate(items):
        rel = " ".join(r for r, on in (("first", i == 0), ("last", i == len(items) - 1)) if on)
        lines.append(_link(uri_m(base, m), f"{rel} memento".strip(), datetime=http_date(memento_moment(m))))
    return ",\n".join(lines) + "\n"


@router.api_route("/timemap/link/{rest:path}", methods=["GET", "HEAD"])
def timemap(request: Request, rest: str) -> Response:
    url = target_url(request, "/timemap/link/")
    found = archive_of(request).mementos(url).captures
    if not found:
        return PlainTextResponse(f"{url} is not archived\n", status_code=404)
    return Response(timemap_body(base_url(request), found[0]["url"], found), media_type=LINK_FORMAT)


@router.api_route("/timegate/{rest:path}", methods=["GET", "HEAD"])
def timegate(request: Request, rest: str) -> Response:
    url = target_url(request, "/timegate/")
    accept = request.headers.get("accept-datetime")
    moment = None
    if accept is not None:
        moment = parse_accept_datetime(accept)
        if moment is None:
            return PlainTextResponse("Accept-Datetime must be an RFC 1123 date, e.g. "
                                     "'Thu, 31 May 2007 20:35:00 GMT'\n", status_code=400,
                                     headers={"Vary": "accept-datetime"})
    mementos = archive_of(request).mementos(url, moment)
    found, chosen = mementos.captures, mementos.closest
    if chosen is None:
        return PlainTextResponse(f"{url} is not archived\n", status_code=404, headers={"Vary": "accept-datetime"})
    base = base_url(request)
    original = header_url(chosen["url"])
    links = [_link(original, "original"), _link(f"{base}/timemap/link/{original}", "timemap", type=LINK_FORMAT)]
    marked: dict[str, tuple[dict[str, Any], list[str]]] = {}
    for m, rel in ((found[0], "first"), (found[-1], "last"), (chosen, "")):
        entry = marked.setdefault(m["timestamp"], (m, []))
        if rel:
            entry[1].append(rel)
    for m, rels in marked.values():
        links.append(_link(uri_m(base, m), " ".join([*rels, "memento"]), datetime=http_date(memento_moment(m))))
    return RedirectResponse(uri_m(base, chosen), status_code=302,
                            headers={"Vary": "accept-datetime", "Link": ", ".join(links)})
