"""Page assets in the crawl: the requests for what each archived HTML page loads (docs/warc.md).

The ``evidence`` spider hands every archived HTML response (a source's, or a document fetched by URL) to
:meth:`AssetFetcher.for_page`. Discovery is :mod:`archive.crawl.assets` (replay's own rules); which URLs to
request, once per crawl and within each page's limits (``CITEVAULT_ASSETS_MAX_PER_PAGE``,
``CITEVAULT_ASSETS_MAX_BYTES``), is :class:`archive.crawl.page_assets.AssetPlanner`'s call. Asset requests go
through the same downloader as sources (robots.txt, per-host limit, User-Agent, retries), and the WARC
middleware records them like any fetch, marked ``Citevault-Role: asset`` (``ASSET_META``). A stylesheet is read
when it arrives (its ``@import``s, fonts, images), and an iframe's page for its own assets, one level deep.
When a page's last asset is in, its ``page-assets`` record is written (:mod:`archive.crawl.page_assets`).

Across crawls nothing special is needed for revisits: the recorder looks every fetch up by URL and payload
digest (an asset request is never ``citevault_fresh``), so an unchanged asset is written as a ``revisit``.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable

from archive.crawl.assets import page_assets, stylesheet_assets
from archive.crawl.page_assets import AssetPlanner, PageState
from archive.ids import capture_id
from crawler.failures import classify
from crawler.middlewares import ASSET_META, CAPTURE_META

if TYPE_CHECKING:
    import scrapy
    from scrapy.http import Response
    from twisted.python.failure import Failure

    from archive.crawl.assets import Asset

KIND_META = "citevault_asset_kind"


def _text(response: Response) -> str:
    from scrapy.http import TextResponse

    if isinstance(response, TextResponse):
        return response.text
    return response.body.decode("utf-8", "replace")


class AssetFetcher:
    """The spider's asset requests and their bookkeeping, for one crawl."""

    def __init__(self, spider: Any) -> None:
        config = spider.session.config
        self.spider = spider
        self.enabled: bool = config.assets
        self.planner = AssetPlanner(config.assets_max_per_page, config.assets_max_bytes)

    def for_page(self, response: Response) -> list[scrapy.Request]:
        """Requests for the assets of an archived page (none unless it is HTML and was recorded)."""
        from scrapy.http import HtmlResponse

        record_id = response.meta.get(CAPTURE_META)
        if not self.enabled or not record_id or not isinstance(response, HtmlResponse):
            return []
        page, wanted = self.planner.page(record_id, response.url, page_assets(response.text, response.url))
        if not page.outstanding:
            self._finish([page])
        return self._requests(wanted)

    def arrived(self, response: Response) -> list[scrapy.Request]:
        from scrapy.http import HtmlResponse

        url, kind = response.meta[ASSET_META], response.meta.get(KIND_META)
        children: list[Asset] = []
        if 200 <= response.status < 300:
            if kind == "stylesheet":
                children = stylesheet_assets(_text(response), response.url)
            elif kind == "frame" and isinstance(response, HtmlResponse):
                # one level deep: a frame's own frames are not followed
                children = [a for a in page_assets(response.text, response.url) if a.kind != "frame"]
        record_id = response.meta.get(CAPTURE_META)
        self._stat("fetched")
        self.spider.session.progress.assets += 1
        return self._settled(url, capture_id(record_id) if record_id else None, len(response.body), children)

    def failed(self, failure: Failure) -> list[scrapy.Request]:
        request = failure.request  # type: ignore[attr-defined]
        assert failure.value is not None
        reason, detail = classify(failure.value, request.meta.get("redirect_urls"))
        recorder = self.spider.session.recorder
        record_id = recorder.new_record_id()
        recorder.record_failure(request.url, reason, record_id=record_id, source_url=None, document_id=None,
                                detail={"detail": detail}, role="asset")
        self._stat("failed")
        self.spider.session.progress.assets += 1
        return self._settled(request.meta[ASSET_META], capture_id(record_id), 0, [])

    def close(self) -> None:
        """The crawl ends: pages still waiting (it was stopped) get their lists as they stand."""
        self._finish(self.planner.unfinished())

    # -------------------------------------------------------------------------------------------------
    def _settled(self, url: str, capture: str | None, size: int, children: list[Asset]) -> list[scrapy.Request]:
        wanted, finished = self.planner.arrived(url, capture, size, children)
        self._finish(finished)
        return self._requests(wanted)

    def _requests(self, assets: Iterable[Asset]) -> list[scrapy.Request]:
        import scrapy

        requests = []
        for asset in assets:
            meta: dict[str, Any] = {ASSET_META: asset.url, KIND_META: asset.kind}
            # dont_filter: the planner already asks for each URL once; Scrapy's filter would also drop an
            # asset whose URL a source shares, leaving the page without it.
            requests.append(scrapy.Request(asset.url, callback=self.spider.parse_asset, errback=self.spider.asset_failed,
                                           meta=meta, dont_filter=True))
            self._stat("requested")
        return requests

    def _finish(self, pages: list[PageState]) -> None:
        recorder = self.spider.session.recorder
        for page in pages:
            if not page.entries:
                continue
            self._count_cut(page)
            recorder.page_assets(page.record_id, page.url, page.body())
            self._stat("pages")

    def _count_cut(self, page: PageState) -> None:
        """Cuts go to the stats (``citevault/assets/cut``) and the summary once, when the page is written."""
        cut = sum(page.cut.values())
        if cut:
            self._stat("cut", cut)
            self.spider.session.progress.assets_cut += cut
            self._stat("pages_cut")

    def _stat(self, name: str, count: int = 1) -> None:
        stats = self.spider.crawler.stats
        if stats is not None:
            stats.inc_value(f"citevault/assets/{name}", count)


__all__ = ["AssetFetcher", "KIND_META"]
