"""Scrapy settings for citevault (``scrapy crawl evidence`` and scrapyd read this module via scrapy.cfg).

Politeness defaults a real archiving crawler ships: robots.txt obeyed, a few connections per host, an
identifying User-Agent with a contact URL, timeouts, retries and a size limit. README "Settings" lists
every ``CITEVAULT_*`` setting.
"""
from scrapy.settings import default_settings as _scrapy_defaults

from archive import __version__

BOT_NAME = "citevault"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"

# -- citevault's own settings (README "Settings") -----------------------------------------------------
CITEVAULT_HOME = None  # data home; None: env CITEVAULT_HOME, else ./citevault-data
CITEVAULT_DB = None  # SQLAlchemy URL; None: env CITEVAULT_DB, else the embedded SQLite
CITEVAULT_CONTACT_URL = "https://github.com/citevault/citevault"
CITEVAULT_OPERATOR = ""  # written to every warcinfo record
CITEVAULT_WARC_MAX_SIZE = 1_000_000_000
CITEVAULT_WARC_COMPRESSLEVEL = 3
CITEVAULT_PER_HOST = 4  # parallel requests per host
CITEVAULT_PROGRESS = True  # progress lines on stderr
CITEVAULT_CHECK_AFTER_CRAWL = True  # quote checks for the new captures when the crawl ends
CITEVAULT_ASSETS = True  # fetch each archived HTML page's assets (stylesheets, images, fonts, scripts, frames)
CITEVAULT_ASSETS_MAX_PER_PAGE = 250  # assets fetched for one page at most; the rest are recorded as cut
CITEVAULT_ASSETS_MAX_BYTES = 50_000_000  # bytes of assets for one page, past which the rest are cut
CITEVAULT_RECORDER_PROCESS = True  # WARC + index writing in a child process (False: a thread of the crawler)
CITEVAULT_RECEIPTS = False  # a signed receipt per claim whose sources the crawl fetched (archive.receipts)
CITEVAULT_TSA = None  # RFC 3161 TSA URLs for those receipts; None: env CITEVAULT_TSA
CITEVAULT_TSA_CERT = None  # PEM files of the TSAs' CAs, carried with each stamp; None: env CITEVAULT_TSA_CERT

# -- politeness -------------------------------------------------------------------------------------
ROBOTSTXT_OBEY = True
USER_AGENT = f"citevault/{__version__} (+https://github.com/citevault/citevault; archiving cited sources)"
CONCURRENT_REQUESTS = 64
CONCURRENT_REQUESTS_PER_DOMAIN = 4
DOWNLOADER = "crawler.downloader.PoliteDownloader"  # Scrapy's, with the per-host limit really kept
DOWNLOAD_DELAY = 0
DOWNLOAD_TIMEOUT = 30
RETRY_ENABLED = True
RETRY_TIMES = 2
DOWNLOAD_MAXSIZE = 100 * 1024 * 1024
DOWNLOAD_WARNSIZE = 0
REDIRECT_MAX_TIMES = 10

# -- recording at the wire ------------------------------------------------------------------------------
# Above RedirectMiddleware (600) and HttpCompressionMiddleware (590): every hop, Content-Encoding intact.
DOWNLOADER_MIDDLEWARES = {
    "crawler.middlewares.WarcRecorderMiddleware": 950,
    # Scrapy's own lets concurrent requests past robots.txt under asyncio: see crawler/robots.py.
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "crawler.robots.RobotsTxtMiddleware": 100,
    # Work per request that an archiver has no use for (its cost: bench/README.md):
    "scrapy.downloadermiddlewares.stats.DownloaderStats": None,  # re-serialises every request to count bytes
    "scrapy.downloadermiddlewares.offsite.OffsiteMiddleware": None,  # cited sources are on any host
    "scrapy.downloadermiddlewares.httpauth.HttpAuthMiddleware": None,  # no spider credentials
}
SPIDER_MIDDLEWARES = {
    "scrapy.spidermiddlewares.depth.DepthMiddleware": None,  # sources are fetched, never followed
    "scrapy.spidermiddlewares.urllength.UrlLengthMiddleware": None,  # a cited URL is archived however long
    "scrapy.spidermiddlewares.metacopy.MetaCopyDetectionMiddleware": None,  # a development aid
}
# Scrapy imports every class named in EXTENSIONS, even those set to None, so the two never wanted are left
# out of the base list instead: the telnet console, and the remote-control endpoint (importing it loads
# aiohttp.web, 0.16 s of every crawl's start-up).
EXTENSIONS_BASE = {name: order for name, order in _scrapy_defaults.EXTENSIONS_BASE.items()
                   if name not in ("scrapy.extensions.telnet.TelnetConsole",
                                   "scrapy.extensions.remote_control.RemoteControl")}
EXTENSIONS = {
    "crawler.extensions.CrawlProgress": 500,
    "scrapy.extensions.logstats.LogStats": None,  # an INFO line a minute, below LOG_LEVEL anyway
}
HTTPERROR_ALLOW_ALL = True  # every status reaches the spider, which records the source's state
METAREFRESH_ENABLED = False  # a meta refresh is page content, not a hop we follow for evidence

# -- throughput -------------------------------------------------------------------------------------
SCHEDULER_PRIORITY_QUEUE = "scrapy.pqueues.DownloaderAwarePriorityQueue"
REACTOR_THREADPOOL_MAXSIZE = 20
# The spider yields no items, only the odd Request: Scrapy would start CONCURRENT_ITEMS (100) asyncio tasks
# per response to process its output in parallel; with 1 it starts two (its cost: bench/README.md).
CONCURRENT_ITEMS = 1
LOG_LEVEL = "WARNING"
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False  # Scrapy 2.19's code-executing control endpoint: never on an archiver
COOKIES_ENABLED = True
REFERER_ENABLED = True  # on, so RedirectMiddleware leaves Referer handling to it (else it warns), and:
REFERRER_POLICY = "no-referrer"  # sources do not learn which other source led to them
