"""Page assets in the crawl: the requests for what each archived HTML page loads (docs/warc.md).

The ``evidence`` spider hands every archived HTML response (a source's, or a document fetched by URL) to
:meth:`AssetFetcher.for_page`. Discovery is :mod:`archive.crawl.assets` (replay's own rules); which URLs to
request, once per crawl and within each page's limits (``CITEVAULT_ASSETS_MAX_PER_PAGE``,
``CITEVAULT_ASSETS_MAX_BYTES``), is :class:`archive.crawl.page_assets.AssetPlanner`'s call. Asset requests go
through the same downloader as sources (robots.txt, per-host limit, User-Agent, retries), and the WARC
middleware records them like any fetch, marked ``Citevault-Role: asset`` (``ASSET_META``). A stylesheet is read
when it arrives (its ``@import``s, fonts, images), and an iframe's page for its own assets, one level deep.
When a page's last asset is in, its ``page-assets`` record is written (:mod:`archive.crawl.page_assets`); the
record that ends each asset's fetch names the pages waiting for it (``Citevault-Asset-Of``, ``LINKS_META``),
so a killed crawl's pages keep the links to the assets it archived.

Across crawls nothing special is needed for revisits: the recorder looks every fetch up by URL and payload
digest (an asset request is never ``citevault_fresh``), so an unchanged asset is written as a ``revisit``.
"""
from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from functools import partial
from typing import TYPE_CHECKING, Any

from archive.crawl.assets import page_assets, stylesheet_assets
from archive.crawl.page_assets import AssetPlanner, PageState
from archive.ids import capture_id, source_id
from crawler.failures import classify
from crawler.middlewares import ASSET_META, CAPTURE_META, LINKS_META

if TYPE_CHECKING:
    import scrapy
    from scrapy.http import Response
    from twisted.python.failure import Failure

    from archive.crawl.asset_sources import SharedSource
    from archive.crawl.assets import Asset

KIND_META = "citevault_asset_kind"
#: Sources fetched last whose capture the crawler remembers: their settled rows may still be on the way to
#: the index when a page needs their URL as an asset; older ones are read from the index.
RECENT = 10_000


def _children(response: Response, kind: str | None) -> list[Asset]:
    """What a fetched asset loads in turn: a stylesheet's imports, fonts and images; a frame's assets."""
    from scrapy.http import HtmlResponse

    if not 200 <= response.status < 300:
        return []
    if kind == "stylesheet":
        return stylesheet_assets(_text(response), response.url)
    if kind == "frame" and isinstance(response, HtmlResponse):
        # one level deep: a frame's own frames are not followed
        return [a for a in page_assets(response.text, response.url) if a.kind != "frame"]
    return []


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
        # Assets that are sources too (archive.crawl.asset_sources). Both bounded: sources this crawl fetches
        # that pages wait for, and the last RECENT sources fetched (their rows may not be committed yet).
        self._awaited: dict[str, tuple[str, str]] = {}  # source id -> (asset URL, kind)
        self._recent: OrderedDict[str, tuple[str | None, int]] = OrderedDict()  # source id -> (capture, size)

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
        requests = self._requests(wanted)  # (may settle some at once: sources this crawl fetched already)
        # What is settled already (fetched earlier in the crawl, or cut) is written now: no asset record to
        # come names this page for it, and a crawl killed before the page's list is written would lose it.
        settled = page.settled()
        if settled is not None:
            self.spider.session.recorder.page_assets(page.record_id, page.url, settled)
        return requests

    def arrived(self, response: Response) -> list[scrapy.Request]:
        url, kind = response.meta[ASSET_META], response.meta.get(KIND_META)
        record_id = response.meta.get(CAPTURE_META)
        self._stat("fetched")
        self.spider.session.progress.assets += 1
        return self._settled(url, capture_id(record_id) if record_id else None, len(response.body),
                             _children(response, kind))

    # -- assets that are sources too (archive.crawl.asset_sources): fetched once, as the source ------------------
    def source_arrived(self, source_id: str, response: Response | None, record_id: str | None) -> list[scrapy.Request]:
        """A source's fetch is over (``response`` None: it failed, ``record_id`` its failure record): pages
        waiting for its URL as an asset are linked to its capture, and later ones will be (:data:`RECENT`)."""
        if not self.enabled:
            return []
        capture = capture_id(record_id) if record_id else None
        size = len(response.body) if response is not None else 0
        self._recent[source_id] = (capture, size)
        if len(self._recent) > RECENT:
            self._recent.popitem(last=False)
        awaited = self._awaited.pop(source_id, None)
        if awaited is None:
            return []
        url, kind = awaited
        self._stat("from_sources")
        children = _children(response, kind) if response is not None else []
        return self._settled(url, capture, size, children)

    def failed(self, failure: Failure) -> list[scrapy.Request]:
        request = failure.request  # type: ignore[attr-defined]
        assert failure.value is not None
        reason, detail = classify(failure.value, request.meta.get("redirect_urls"))
        recorder = self.spider.session.recorder
        record_id = recorder.new_record_id()
        links = request.meta.get(LINKS_META)
        recorder.record_failure(request.url, reason, record_id=record_id, source_url=None, document_id=None,
                                detail={"detail": detail}, role="asset",
                                links=links(request.url) if links is not None else None)
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

        requests: list[scrapy.Request] = []
        for asset in self._not_sources(list(assets), requests):
            meta: dict[str, Any] = {ASSET_META: asset.url, KIND_META: asset.kind,
                                    LINKS_META: partial(self._links, asset.url)}
            # dont_filter: the planner already asks for each URL once; Scrapy's filter would also drop an
            # asset whose URL a source shares, leaving the page without it.
            requests.append(scrapy.Request(asset.url, callback=self.spider.parse_asset, errback=self.spider.asset_failed,
                                           meta=meta, dont_filter=True))
            self._stat("requested")
        return requests

    def _not_sources(self, assets: list[Asset], requests: list[scrapy.Request]) -> list[Asset]:
        """The assets to fetch as assets. The others are sources (archive.crawl.asset_sources): fetched by
        this crawl already (linked now), or to be (their pages wait; claimed here when nobody holds them,
        their source requests added to ``requests``)."""
        if not assets:
            return assets
        ids: dict[str, Asset] = {}
        plain: list[Asset] = []
        for asset in assets:
            try:
                sid = source_id(asset.url)
            except ValueError:
                plain.append(asset)
                continue
            recent = self._recent.get(sid)
            if recent is not None:  # a source fetched moments ago (its rows may not be committed yet)
                requests += self._from_source(asset, *recent)
            elif sid in ids:
                plain.append(asset)  # another spelling of the same source's URL
            else:
                ids[sid] = asset
        known = self._lookup(ids) if ids else {}
        claimable: list[str] = []
        for sid, asset in ids.items():
            shared = known.get(sid)
            if shared is None:
                plain.append(asset)
            elif shared.settled:
                requests += self._from_source(asset, shared.capture, 0)
            elif shared.mine:  # queued or under way: its pages wait for it
                self._awaited[sid] = (asset.url, asset.kind)
            else:
                claimable.append(sid)
        if claimable:
            requests += self._claim(claimable, ids, plain)
        return plain

    def _lookup(self, ids: dict[str, Asset]) -> dict[str, SharedSource]:
        from archive.crawl.asset_sources import sources_among

        session = self.spider.session
        try:
            with session.archive.engine().connect() as conn:
                return sources_among(conn, session.crawl_id, list(ids))
        except Exception as exc:  # noqa: BLE001 - fetched as assets then: a second fetch at worst
            self.spider.logger.warning("cannot tell which assets are sources: %s", exc)
            return {}

    def _claim(self, claimable: list[str], ids: dict[str, Asset], plain: list[Asset]) -> list[scrapy.Request]:
        """Claim sources that are assets now, so they are fetched once, as sources; the rest are assets."""
        from archive import clock
        from archive.crawl import frontier

        spider = self.spider
        session = spider.session
        try:
            found = frontier.claim_listed(session.archive.engine(), session.crawl_id, claimable,
                                          clock.schedule_now(), due=spider.due)
        except Exception as exc:  # noqa: BLE001
            spider.logger.warning("cannot claim sources found among assets: %s", exc)
            found = []
        requests = []
        for target in found:
            assert target.source_id is not None  # a claimed source has its id
            asset = ids[target.source_id]
            self._awaited[target.source_id] = (asset.url, asset.kind)
            session.progress.total += 1
            requests.append(spider.request_for(target.url, source_id=target.source_id, known=target.known))
        claimed = {t.source_id for t in found}
        plain += [ids[sid] for sid in claimable if sid not in claimed]
        return requests

    def _from_source(self, asset: Asset, capture: str | None, size: int) -> list[scrapy.Request]:
        self._stat("from_sources")
        return self._settled(asset.url, capture, size, [])

    def _links(self, url: str, target: str) -> dict[str, str] | None:
        """The fields of the record that ends ``url``'s fetch (at ``target``) naming the pages waiting for it."""
        from archive.warc.builder import ASSET_OF_FIELD, ASSET_URL_FIELD

        value = self.planner.asset_of(url)
        if value is None:
            return None
        return {ASSET_OF_FIELD: value, **({ASSET_URL_FIELD: url} if target != url else {})}

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


__all__ = ["KIND_META", "RECENT", "AssetFetcher"]
