"""citevault's crawl settings, read once into a frozen dataclass (tested without a crawl)."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from archive.browser.policy import BrowserPolicy, parse_domains, parse_mode

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings


@dataclass(frozen=True)
class CrawlConfig:
    home: str | None
    db: str | None
    operator: str
    contact_url: str
    warc_max_size: int
    compresslevel: int
    progress: bool
    robots: str
    recorder_process: bool = True
    assets: bool = True  # fetch each archived HTML page's stylesheets, images, fonts, scripts and frames
    assets_max_per_page: int = 250
    assets_max_bytes: int = 50_000_000
    browser: BrowserPolicy = field(default_factory=BrowserPolicy)  # archive.browser.policy

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> CrawlConfig:
        from scrapy.exceptions import NotConfigured

        level = _integer(settings, "CITEVAULT_WARC_COMPRESSLEVEL", 3)
        if not 0 <= level <= 9:
            raise NotConfigured(f"CITEVAULT_WARC_COMPRESSLEVEL must be 0-9, not {level}")
        max_size = _integer(settings, "CITEVAULT_WARC_MAX_SIZE", 1_000_000_000)
        if max_size < 1_000_000:
            raise NotConfigured(f"CITEVAULT_WARC_MAX_SIZE must be at least 1000000 bytes, not {max_size}")
        max_assets = _integer(settings, "CITEVAULT_ASSETS_MAX_PER_PAGE", 250)
        max_asset_bytes = _integer(settings, "CITEVAULT_ASSETS_MAX_BYTES", 50_000_000)
        for name, value in (("CITEVAULT_ASSETS_MAX_PER_PAGE", max_assets), ("CITEVAULT_ASSETS_MAX_BYTES", max_asset_bytes)):
            if value < 0:
                raise NotConfigured(f"{name} must be 0 or more, not {value} (set CITEVAULT_ASSETS=False to fetch no assets)")
        return cls(
            browser=browser_policy(settings),
            home=settings.get("CITEVAULT_HOME"),
            db=settings.get("CITEVAULT_DB"),
            operator=settings.get("CITEVAULT_OPERATOR") or "",
            contact_url=settings.get("CITEVAULT_CONTACT_URL") or "",
            warc_max_size=max_size,
            compresslevel=level,
            progress=settings.getbool("CITEVAULT_PROGRESS", True),
            robots="obey" if settings.getbool("ROBOTSTXT_OBEY") else "ignore",
            recorder_process=settings.getbool("CITEVAULT_RECORDER_PROCESS", True),
            assets=settings.getbool("CITEVAULT_ASSETS", True),
            assets_max_per_page=max_assets,
            assets_max_bytes=max_asset_bytes,
        )


def browser_policy(settings: BaseSettings) -> BrowserPolicy:
    """``CITEVAULT_BROWSER*``: a setting (``-s``, ``--browser``) wins over the environment variable of the
    same name, which wins over the default (``auto``)."""
    from scrapy.exceptions import NotConfigured

    def value(name: str) -> str | None:
        given = settings.get(name)
        return str(given) if given not in (None, "") else os.environ.get(name) or None

    try:
        mode = parse_mode(value("CITEVAULT_BROWSER") or "auto")
        domains = parse_domains(value("CITEVAULT_BROWSER_DOMAINS"))
    except ValueError as exc:
        raise NotConfigured(str(exc)) from None
    limit_text = value("CITEVAULT_BROWSER_TIME_LIMIT") or "30"
    try:
        limit = float(limit_text)
    except ValueError:
        limit = -1.0
    if not 1 <= limit <= 600:
        raise NotConfigured(f"CITEVAULT_BROWSER_TIME_LIMIT must be 1-600 seconds, not {limit_text!r}")
    parallel = _integer(settings, "CITEVAULT_BROWSER_PARALLEL", 4)
    if not 1 <= parallel <= 32:
        raise NotConfigured(f"CITEVAULT_BROWSER_PARALLEL must be 1-32, not {parallel}")
    return BrowserPolicy(mode, domains, limit, parallel, value("CITEVAULT_BROWSER_ALLOW") or "")


def _integer(settings: BaseSettings, name: str, default: int) -> int:
    """``settings.getint`` naming the setting when its value is not a number (``-s NAME=fast``)."""
    from scrapy.exceptions import NotConfigured

    try:
        return settings.getint(name, default)
    except ValueError:
        raise NotConfigured(f"{name} must be a whole number, not {settings.get(name)!r}") from None
