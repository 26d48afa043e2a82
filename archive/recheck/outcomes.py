"""What a fetch says about a source: alive, gone, or something in the way (a wall, a rate limit).

InternetArchiveBot's lesson: a false "dead" verdict destroys trust. So a fetch is classified first, here,
from plain values (status, headers, final URL, page text), and only some outcomes count toward declaring
a source gone (``archive.recheck.transitions``). Login walls, paywalls, rate limits, CAPTCHAs and robots.txt refusals
never do: they say nothing about whether the source still exists.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

from archive.states import SourceState

OK = "ok"
GONE = "gone"  # 404 / 410
SOFT_404 = "soft-404"  # a 200 that says "not found" or lands on the home page
ERROR = "error"  # timeout, refused, DNS, 5xx, malformed...
LOGIN_WALL = "login-wall"
PAYWALL = "paywall"
RATE_LIMITED = "rate-limited"
CAPTCHA = "captcha"
FORBIDDEN = "forbidden"  # 403, robots.txt: access refused, not absence

#: Outcomes that count toward declaring an archived source gone.
COUNTS_TOWARD_GONE = frozenset({GONE, SOFT_404, ERROR})

_NOT_FOUND = re.compile(
    r"\b(404|page not found|not found|no longer available|does not exist|doesn'?t exist|could not be found|"
    r"cannot be found|can't be found|página no encontrada|page introuvable|seite nicht gefunden)\b", re.I)
_PAYWALL = re.compile(
    r"(subscribe to (continue|read)|subscribers? only|to continue reading|already a subscriber|"
    r"create a free account to continue|this (article|content) is for (paying )?subscribers)", re.I)
_CAPTCHA = re.compile(
    r"(captcha|are you a robot|unusual traffic|verify (that )?you are (a )?human|attention required|"
    r"checking your browser|cf-chl)", re.I)
_LOGIN_PATH = re.compile(r"/(log-?in|sign-?in|auth|sso|account/login)(/|$|\?)", re.I)
_PASSWORD_INPUT = re.compile(r"<input[^>]+type=[\"']?password", re.I)
_TITLE = re.compile(r"<title[^>]*>(.*?)</title>|<h1[^>]*>(.*?)</h1>", re.I | re.S)
_HIDDEN = re.compile(r"<script\b.*?</script\s*>|<style\b.*?</style\s*>|<[^>]*>", re.I | re.S)
SHORT_PAGE = 3000  # characters of visible text: error and wall pages are short
#: Plain substrings (lower case) every pattern above needs one of: a fast first test, since
#: case-insensitive regex alternations cost far more per page than substring tests.
_SIGNS = ("404", "found", "no longer", "exist", "subscri", "continue", "free account", "captcha", "robot",
          "unusual traffic", "human", "attention required", "checking your browser", "cf-chl", "password",
          "encontrada", "introuvable", "nicht gefunden")


@dataclass(frozen=True)
class Outcome:
    kind: str
    detail: str = ""
    retry_after: float | None = None  # seconds, from Retry-After

    @property
    def counts_toward_gone(self) -> bool:
        return self.kind in COUNTS_TOWARD_GONE


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Retry-After as seconds: delta-seconds or an HTTP date.

    >>> retry_after_seconds("120")
    120.0
    >>> retry_after_seconds("Wed, 21 Oct 2026 07:28:00 GMT", datetime(2026, 10, 21, 7, 27, tzinfo=timezone.utc))
    60.0
    """
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    now = now or datetime.now(timezone.utc)
    return max(0.0, (when - now).total_seconds())


def _visible_text(html: str) -> str:
    """Text outside tags, scripts and styles, whitespace collapsed (split/join: cheaper than a regex)."""
    return " ".join(_HIDDEN.sub(" ", html).split())


def _prefix_text(html: str, size: int) -> str:
    """Visible text of the first ``size`` characters, leaving out a script or style the cut leaves open
    (its code is not text: a wall page with a long inline script must not pass for a long page)."""
    chunk = html[:size]
    if len(html) > size:
        low = chunk.lower()
        for tag in ("<script", "<style"):
            start = low.rfind(tag)
            if start >= 0 and low.find("</" + tag[1:], start) < 0:
                chunk, low = chunk[:start], low[:start]
    return _visible_text(chunk)


def _is_home(path: str) -> bool:
    return path.rstrip("/").lower() in ("", "/index.html", "/index.htm", "/index.php", "/home")


def status_outcome(status: int | None) -> Outcome:
    """What a final response's status alone says (DESIGN.md "Source states"): a 2xx is ``ok``, 404 and 410
    ``gone``, any other status (or none) an ``error``. :func:`classify_response` starts from it and reads
    more (walls, rate limits, soft-404s); a rebuild, which has only the captures, uses it as it is.

    >>> [status_outcome(s).kind for s in (200, 204, 404, 410, 500, 301, None)]
    ['ok', 'ok', 'gone', 'gone', 'error', 'error', 'error']
    """
    if status is not None and 200 <= status < 300:
        return Outcome(OK)
    if status in (404, 410):
        return Outcome(GONE, f"http {status}")
    return Outcome(ERROR, f"http {status}")


def state_of(outcome: Outcome) -> SourceState:
    """The state a fetch with this outcome gives a source not archived before: ``archived`` when it is good,
    ``gone`` for a 404 or 410, ``failed`` for anything else (:mod:`archive.recheck.transitions` protects a
    source that has evidence from a single bad check).

    >>> [str(state_of(status_outcome(s))) for s in (200, 404, 500)]
    ['archived', 'gone', 'failed']
    """
    if outcome.kind == OK:
        return SourceState.ARCHIVED
    return SourceState.GONE if outcome.kind == GONE else SourceState.FAILED


#: Characters of a page the rot checks look at (the spider and the recorder's leftovers cut the text here).
TEXT_LIMIT = 200_000


def classify_response(source_url: str, final_url: str, status: int, headers: dict[str, str],
                      body: str = "") -> Outcome:
    """Classify a final HTTP response. ``headers`` have lower-case names; ``body`` is decoded text (HTML or
    plain), possibly truncated.

    >>> classify_response("http://h/a/story", "http://h/", 200, {}, "<title>Welcome</title>").kind
    'soft-404'
    >>> classify_response("http://h/a", "http://h/a", 200, {}, "<h1>Page not found</h1><p>Sorry.</p>").kind
    'soft-404'
    >>> classify_response("http://h/a", "http://h/a", 429, {"retry-after": "30"}).retry_after
    30.0
    """
    retry = retry_after_seconds(headers.get("retry-after"))
    by_status = status_outcome(status)
    if by_status.kind == GONE:
        return by_status
    if status == 429 or (status == 503 and retry is not None):
        return Outcome(RATE_LIMITED, f"http {status}", retry)
    if status == 401:
        return Outcome(LOGIN_WALL, "http 401")
    if status == 402:
        return Outcome(PAYWALL, "http 402")
    if status == 403:
        if body and _CAPTCHA.search(body[:20000]):
            return Outcome(CAPTCHA, "http 403 with a CAPTCHA page")
        return Outcome(FORBIDDEN, "http 403")
    if by_status.kind == ERROR:  # another 4xx, a 5xx, a 3xx that was not followed
        return by_status
    source_path, final_path = urlsplit(source_url).path, urlsplit(final_url).path
    if final_url != source_url and _is_home(final_path) and not _is_home(source_path):
        return Outcome(SOFT_404, "redirected to the home page")
    if _LOGIN_PATH.search(final_path) and not _LOGIN_PATH.search(source_path):
        return Outcome(LOGIN_WALL, f"redirected to a login page ({final_path})")
    if not body:
        return Outcome(OK)
    low = body[:200_000].lower()
    if not any(word in low for word in _SIGNS):
        return Outcome(OK)  # none of the words of a wall or an error page anywhere: no need to read further
    # Walls and error pages are short: a prefix with enough visible text settles most pages cheaply (a
    # longer prefix holds at least as much text, so trying a short one first never changes the verdict).
    for prefix in (2 * SHORT_PAGE, 8 * SHORT_PAGE):
        if len(_prefix_text(body, prefix)) >= SHORT_PAGE:
            return Outcome(OK)
        if len(body) <= prefix:
            break
    text = _visible_text(body[:200_000])
    short = len(text) < SHORT_PAGE
    if short and _CAPTCHA.search(text):
        return Outcome(CAPTCHA, "a CAPTCHA or bot check instead of the page")
    if short and _PASSWORD_INPUT.search(body):
        return Outcome(LOGIN_WALL, "a login form instead of the page")
    if short and _PAYWALL.search(text):
        return Outcome(PAYWALL, "a subscription wall instead of the page")
    headings = " ".join(a or b for a, b in _TITLE.findall(body[:50_000]))
    if short and (_NOT_FOUND.search(_HIDDEN.sub(" ", headings)) or _NOT_FOUND.search(text[:300])):
        return Outcome(SOFT_404, "the page says it was not found")
    return Outcome(OK)


def classify_failure(category: str) -> Outcome:
    """A fetch that got no response (``crawler.failures`` categories)."""
    if category == "blocked by robots.txt":
        return Outcome(FORBIDDEN, category)
    return Outcome(ERROR, category)
