"""When a page is rendered in a browser: ``--browser never|auto|always`` and the per-domain setting.

``never``: the raw capture only. ``always``: every archived HTML page (sources and the article) is also
rendered. ``auto`` (the default): a page is rendered when its raw capture's main text is (nearly) empty,
or a quote a claim makes from it is not found in that text (:mod:`archive.browser.select`).
``CITEVAULT_BROWSER_DOMAINS`` (``host=mode`` pairs, comma-separated) sets the mode of a domain and its
subdomains; the most specific domain wins.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlsplit


class Mode(StrEnum):
    NEVER = "never"
    AUTO = "auto"
    ALWAYS = "always"


DEFAULT_MODE = Mode.AUTO
DEFAULT_TIME_LIMIT = 30.0
DEFAULT_PARALLEL = 4


def parse_mode(value: str, setting: str = "CITEVAULT_BROWSER") -> Mode:
    """
    >>> parse_mode("Always")
    <Mode.ALWAYS: 'always'>
    >>> parse_mode("sometimes")
    Traceback (most recent call last):
    ...
    ValueError: CITEVAULT_BROWSER must be never, auto or always, not 'sometimes'
    """
    try:
        return Mode(value.strip().lower())
    except ValueError:
        raise ValueError(f"{setting} must be never, auto or always, not {value!r}") from None


def parse_domains(value: str | None) -> tuple[tuple[str, Mode], ...]:
    """``CITEVAULT_BROWSER_DOMAINS``, most specific domain first.

    >>> parse_domains("example.org=always, news.example.org=never")
    (('news.example.org', <Mode.NEVER: 'never'>), ('example.org', <Mode.ALWAYS: 'always'>))
    >>> parse_domains("example.org")
    Traceback (most recent call last):
    ...
    ValueError: CITEVAULT_BROWSER_DOMAINS expects host=mode pairs (example.org=always), not 'example.org'
    """
    pairs = []
    for item in (value or "").split(","):
        if not item.strip():
            continue
        host, sep, mode = item.partition("=")
        if not sep or not host.strip():
            raise ValueError(f"CITEVAULT_BROWSER_DOMAINS expects host=mode pairs (example.org=always), not {item.strip()!r}")
        pairs.append((host.strip().lower().lstrip("."), parse_mode(mode, f"the mode of {host.strip()} in CITEVAULT_BROWSER_DOMAINS")))
    return tuple(sorted(pairs, key=lambda p: -len(p[0])))


@dataclass(frozen=True)
class BrowserPolicy:
    mode: Mode = DEFAULT_MODE
    domains: tuple[tuple[str, Mode], ...] = ()
    time_limit: float = DEFAULT_TIME_LIMIT  #: seconds per page, after which what was captured is kept
    parallel: int = DEFAULT_PARALLEL  #: pages rendered at once
    allow: str = ""  #: ``host:port`` pairs a page may reach besides its own origin and public addresses

    def mode_for(self, url: str) -> Mode:
        """
        >>> p = BrowserPolicy(Mode.NEVER, parse_domains("example.org=always"))
        >>> p.mode_for("https://www.example.org/a"), p.mode_for("https://example.com/")
        (<Mode.ALWAYS: 'always'>, <Mode.NEVER: 'never'>)
        """
        host = (urlsplit(url).hostname or "").lower()
        for domain, mode in self.domains:
            if host == domain or host.endswith("." + domain):
                return mode
        return self.mode

    @property
    def enabled(self) -> bool:
        """Could any page be rendered?"""
        return self.mode != Mode.NEVER or any(m != Mode.NEVER for _, m in self.domains)

    @property
    def required(self) -> bool:
        """Did the user ask for renderings outright (``always`` somewhere)? Then a missing browser is an error."""
        return self.mode == Mode.ALWAYS or any(m == Mode.ALWAYS for _, m in self.domains)
