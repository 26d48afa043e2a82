"""The crawl's settings without a crawl: :class:`crawler.config.CrawlConfig` read from ``Settings({...})``,
and the settings ``citevault crawl`` hands to Scrapy (``crawler.run.crawl_settings``).

README "Settings" lists every ``CITEVAULT_*`` setting; values given with ``-s NAME=VALUE`` arrive as strings.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
from scrapy.exceptions import NotConfigured
from scrapy.settings import Settings

from archive import __version__
from archive.home import DataHome
from crawler.config import CrawlConfig
from crawler.run import crawl_settings


@pytest.fixture(autouse=True)
def no_browser_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """tests/conftest.py turns the browser off for the suite's crawls through the environment; these tests
    read the settings alone."""
    monkeypatch.delenv("CITEVAULT_BROWSER", raising=False)
    monkeypatch.delenv("CITEVAULT_BROWSER_DOMAINS", raising=False)


def project_settings(**overrides: Any) -> Settings:
    """crawler/settings.py as ``scrapy crawl evidence`` reads it, then ``overrides`` as ``-s`` would set them."""
    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    for name, value in overrides.items():
        settings.set(name, value, priority="cmdline")
    return settings


def test_defaults_without_any_setting() -> None:
    """Scrapy's own defaults only (no project module): the fallbacks written in CrawlConfig."""
    assert CrawlConfig.from_settings(Settings()) == CrawlConfig(
        home=None, db=None, operator="", contact_url="", warc_max_size=1_000_000_000, compresslevel=3,
        progress=True, robots="ignore", recorder_process=True)  # Scrapy's ROBOTSTXT_OBEY is False


def test_defaults_of_the_project_settings() -> None:
    assert CrawlConfig.from_settings(project_settings()) == CrawlConfig(
        home=None, db=None, operator="", contact_url="https://github.com/citevault/citevault",
        warc_max_size=1_000_000_000, compresslevel=3, progress=True, robots="obey", recorder_process=True)


@pytest.mark.parametrize("name, value, field, expected", [
    ("CITEVAULT_HOME", "/srv/citevault", "home", "/srv/citevault"),
    ("CITEVAULT_DB", "postgresql+psycopg://archiver@db/citevault", "db", "postgresql+psycopg://archiver@db/citevault"),
    ("CITEVAULT_OPERATOR", "Example Newsroom archive desk", "operator", "Example Newsroom archive desk"),
    ("CITEVAULT_OPERATOR", None, "operator", ""),
    ("CITEVAULT_CONTACT_URL", "https://example.org/archiving", "contact_url", "https://example.org/archiving"),
    ("CITEVAULT_CONTACT_URL", "", "contact_url", ""),
    ("CITEVAULT_WARC_MAX_SIZE", "5000000", "warc_max_size", 5_000_000),
    ("CITEVAULT_WARC_MAX_SIZE", 1_000_000, "warc_max_size", 1_000_000),  # the smallest allowed
    ("CITEVAULT_WARC_COMPRESSLEVEL", "0", "compresslevel", 0),
    ("CITEVAULT_WARC_COMPRESSLEVEL", 9, "compresslevel", 9),
    ("CITEVAULT_PROGRESS", "False", "progress", False),
    ("CITEVAULT_PROGRESS", "0", "progress", False),
    ("CITEVAULT_RECORDER_PROCESS", "False", "recorder_process", False),
    ("CITEVAULT_RECORDER_PROCESS", "true", "recorder_process", True),
    ("ROBOTSTXT_OBEY", "False", "robots", "ignore"),
])
def test_each_override(name: str, value: Any, field: str, expected: Any) -> None:
    config = CrawlConfig.from_settings(project_settings(**{name: value}))
    assert getattr(config, field) == expected
    untouched = dataclasses.replace(config, **{field: getattr(CrawlConfig.from_settings(project_settings()), field)})
    assert untouched == CrawlConfig.from_settings(project_settings())  # nothing else moved


@pytest.mark.parametrize("name, value, message", [
    ("CITEVAULT_WARC_COMPRESSLEVEL", 10, "CITEVAULT_WARC_COMPRESSLEVEL must be 0-9, not 10"),
    ("CITEVAULT_WARC_COMPRESSLEVEL", "-1", "CITEVAULT_WARC_COMPRESSLEVEL must be 0-9, not -1"),
    ("CITEVAULT_WARC_MAX_SIZE", 999_999, "CITEVAULT_WARC_MAX_SIZE must be at least 1000000 bytes, not 999999"),
    ("CITEVAULT_WARC_MAX_SIZE", "0", "CITEVAULT_WARC_MAX_SIZE must be at least 1000000 bytes, not 0"),
])
def test_invalid_values_raise_with_the_setting_named(name: str, value: Any, message: str) -> None:
    with pytest.raises(NotConfigured) as raised:
        CrawlConfig.from_settings(project_settings(**{name: value}))
    assert str(raised.value) == message


def test_a_value_that_is_no_number_names_the_setting() -> None:
    with pytest.raises(NotConfigured, match="CITEVAULT_WARC_COMPRESSLEVEL"):
        CrawlConfig.from_settings(project_settings(CITEVAULT_WARC_COMPRESSLEVEL="fast"))


def test_config_is_frozen() -> None:
    config = CrawlConfig.from_settings(project_settings())
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.compresslevel = 9  # type: ignore[misc]


# -- crawler/run.py: the settings `citevault crawl` gives Scrapy ---------------------------------------------
def test_crawl_settings_point_at_the_data_home(tmp_path: Path) -> None:
    home = DataHome.resolve(tmp_path / "home")
    settings = crawl_settings(home)
    config = CrawlConfig.from_settings(settings)
    assert (config.home, config.db) == (str(tmp_path / "home"), f"sqlite:///{tmp_path / 'home' / 'citevault.sqlite'}")
    assert config.robots == "obey" and settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN") == 4
    assert settings.get("USER_AGENT") == (
        f"citevault/{__version__} (+https://github.com/citevault/citevault; archiving cited sources)")
    assert settings.get("LOG_LEVEL") == "CRITICAL"  # failures are summarised by citevault, not logged


def test_crawl_settings_options_and_overrides(tmp_path: Path) -> None:
    settings = crawl_settings(DataHome.resolve(tmp_path / "home", "sqlite:///" + str(tmp_path / "other.sqlite")),
                              concurrency=7, ignore_robots=True, verbose=True,
                              overrides={"CITEVAULT_WARC_COMPRESSLEVEL": "1", "DOWNLOAD_TIMEOUT": "5"})
    config = CrawlConfig.from_settings(settings)
    assert config.db == "sqlite:///" + str(tmp_path / "other.sqlite")
    assert config.robots == "ignore" and config.compresslevel == 1
    assert settings.getint("CONCURRENT_REQUESTS") == 7 and settings.getint("DOWNLOAD_TIMEOUT") == 5
    assert settings.get("LOG_LEVEL") == "INFO"


def test_crawl_settings_reject_what_the_config_rejects(tmp_path: Path) -> None:
    settings = crawl_settings(DataHome.resolve(tmp_path / "home"), overrides={"CITEVAULT_WARC_COMPRESSLEVEL": "12"})
    with pytest.raises(NotConfigured, match="^CITEVAULT_WARC_COMPRESSLEVEL must be 0-9, not 12$"):
        CrawlConfig.from_settings(settings)


def test_per_host_given_with_s_sets_the_per_domain_limit(tmp_path: Path) -> None:
    settings = crawl_settings(DataHome.resolve(tmp_path / "home"), overrides={"CITEVAULT_PER_HOST": "8"})
    assert settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN") == 8


def test_contact_url_given_with_s_goes_into_the_user_agent(tmp_path: Path) -> None:
    settings = crawl_settings(DataHome.resolve(tmp_path / "home"),
                              overrides={"CITEVAULT_CONTACT_URL": "https://example.org/archiving"})
    assert settings.get("USER_AGENT") == f"citevault/{__version__} (+https://example.org/archiving; archiving cited sources)"


def test_asset_settings() -> None:
    """Page assets (crawler.assets): on by default, limits per page, strings from ``-s`` accepted."""
    default = CrawlConfig.from_settings(project_settings())
    assert (default.assets, default.assets_max_per_page, default.assets_max_bytes) == (True, 250, 50_000_000)
    config = CrawlConfig.from_settings(project_settings(
        CITEVAULT_ASSETS="False", CITEVAULT_ASSETS_MAX_PER_PAGE="3", CITEVAULT_ASSETS_MAX_BYTES="1000"))
    assert (config.assets, config.assets_max_per_page, config.assets_max_bytes) == (False, 3, 1000)
    with pytest.raises(NotConfigured, match="CITEVAULT_ASSETS_MAX_PER_PAGE must be 0 or more"):
        CrawlConfig.from_settings(project_settings(CITEVAULT_ASSETS_MAX_PER_PAGE="-1"))
    with pytest.raises(NotConfigured, match="CITEVAULT_ASSETS_MAX_BYTES must be a whole number"):
        CrawlConfig.from_settings(project_settings(CITEVAULT_ASSETS_MAX_BYTES="lots"))


# -- browser capture (README "Browser capture") ----------------------------------------------------------
def test_browser_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    from archive.browser.policy import BrowserPolicy, Mode

    assert CrawlConfig.from_settings(project_settings()).browser == BrowserPolicy()  # auto, 30 s, 4 at once
    config = CrawlConfig.from_settings(project_settings(
        CITEVAULT_BROWSER="never", CITEVAULT_BROWSER_DOMAINS="example.org=always", CITEVAULT_BROWSER_TIME_LIMIT="12",
        CITEVAULT_BROWSER_PARALLEL="2", CITEVAULT_BROWSER_ALLOW="127.0.0.2:80"))
    policy = config.browser
    assert (policy.mode, policy.time_limit, policy.parallel, policy.allow) == (Mode.NEVER, 12.0, 2, "127.0.0.2:80")
    assert policy.mode_for("https://news.example.org/a") == Mode.ALWAYS and policy.enabled and policy.required
    monkeypatch.setenv("CITEVAULT_BROWSER", "always")  # the environment, when no setting says otherwise
    assert CrawlConfig.from_settings(project_settings()).browser.mode == Mode.ALWAYS
    assert CrawlConfig.from_settings(project_settings(CITEVAULT_BROWSER="never")).browser.mode == Mode.NEVER


@pytest.mark.parametrize(("name", "value", "message"), [
    ("CITEVAULT_BROWSER", "sometimes", "CITEVAULT_BROWSER must be never, auto or always, not 'sometimes'"),
    ("CITEVAULT_BROWSER_DOMAINS", "example.org", "CITEVAULT_BROWSER_DOMAINS expects host=mode pairs"),
    ("CITEVAULT_BROWSER_TIME_LIMIT", "0", "CITEVAULT_BROWSER_TIME_LIMIT must be 1-600 seconds, not '0'"),
    ("CITEVAULT_BROWSER_PARALLEL", "99", "CITEVAULT_BROWSER_PARALLEL must be 1-32, not 99"),
])
def test_bad_browser_settings_name_the_setting(name: str, value: str, message: str) -> None:
    with pytest.raises(NotConfigured, match=message.replace("(", r"\(").replace(")", r"\)")):
        CrawlConfig.from_settings(project_settings(**{name: value}))
