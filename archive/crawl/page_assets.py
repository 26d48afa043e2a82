"""Which assets each archived page needed, fetched once per crawl, within the page's limits (issue 11).

The crawl (``crawler.spiders.evidence``) finds a page's assets with :mod:`archive.crawl.assets` and asks an
:class:`AssetPlanner` which of them to request: an asset URL is fetched once per crawl however many pages need
it (500 pages sharing one stylesheet: one fetch), and what a stylesheet or an iframe loads in turn counts
toward every page that needed that stylesheet or frame. A page is *finished* once every asset it needed has
arrived (or failed); the crawl then writes its asset list.

How a page is linked to its assets, so ``reindex`` restores the links from the WARC files alone: one
``metadata`` record per page (``Citevault-Record: page-assets``, WARC-Refers-To the page's response record,
body :meth:`PageState.body`), listing in discovery order every asset URL the page needed, the capture each
resolved to in this crawl, and each URL the page's limits cut. It is written when the page's last asset is in,
so a crawl killed before then would lose the page's links: each asset's own record therefore also names the
pages that were waiting for it when it was written (``Citevault-Asset-Of``, :meth:`AssetPlanner.asset_of`,
read back by :func:`asset_of_rows`), and its rows are committed with the asset's capture. The two give the
same rows (INSERT OR IGNORE keeps one); the page's list adds what no asset record can say: the cuts, and the
assets the page found already fetched. Those a page still waiting for others knows on arrival are written at
once, in a ``page-assets-partial`` record (:meth:`PageState.settled`: the same entries, each with its
position). The asset records carry ``Citevault-Role: asset``, so they are never mistaken for a source's or a
document's fetch.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from archive.ids import capture_id

if TYPE_CHECKING:  # reindex workers read link_rows() only: they need not import replay's rewriter
    from archive.crawl.assets import Asset

#: Why an asset was not fetched for a page: too many assets, or too many bytes of them already.
CUT_COUNT, CUT_BYTES = "count", "bytes"
#: Pages an asset's record names at most (500 pages waiting for one stylesheet: a 25 KB header); the others
#: are linked by their own page-assets record only.
ASSET_OF_PAGES = 500


@dataclass
class _Fetched:
    capture: str | None
    size: int
    children: list[Asset]


@dataclass
class PageState:
    """One page's assets while they are fetched: entries in discovery order, bytes so far, what is awaited."""

    record_id: str  # WARC-Record-ID of the page's response record
    url: str
    entries: list[dict[str, Any]] = field(default_factory=list)
    positions: dict[str, int] = field(default_factory=dict)  # asset URL -> its entry
    fetched: int = 0  # entries not cut
    bytes: int = 0
    outstanding: set[str] = field(default_factory=set)

    @property
    def cut(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for entry in self.entries:
            if entry["cut"]:
                counts[entry["cut"]] = counts.get(entry["cut"], 0) + 1
        return counts

    def body(self) -> dict[str, Any]:
        """The ``page-assets`` record's JSON body."""
        return {"page": self.url, "page_capture": capture_id(self.record_id), "assets": self.entries,
                "bytes": self.bytes, "cut": self.cut, "unfinished": sorted(self.outstanding)}

    def settled(self) -> dict[str, Any] | None:
        """The ``page-assets-partial`` record's body: the entries already settled when the page arrived
        (fetched earlier in the crawl, or cut), each with its position; None if there are none, or nothing
        is awaited (the whole list is written at once then).

        >>> from archive.crawl.assets import Asset
        >>> planner = AssetPlanner(max_per_page=5, max_bytes=1000)
        >>> css, img = Asset("http://e/s.css", "stylesheet"), Asset("http://e/a.png", "image")
        >>> _ = planner.page("<urn:uuid:p1>", "http://e/1", [css]); _ = planner.arrived(css.url, "c1", 10, [])
        >>> page, _ = planner.page("<urn:uuid:p2>", "http://e/2", [img, css])
        >>> [(a["position"], a["url"], a["capture"]) for a in page.settled()["assets"]]
        [(1, 'http://e/s.css', 'c1')]
        """
        if not self.outstanding:
            return None
        done = [{**entry, "position": i} for i, entry in enumerate(self.entries) if entry["url"] not in self.outstanding]
        if not done:
            return None
        return {"page": self.url, "page_capture": capture_id(self.record_id), "assets": done, "partial": True}


class AssetPlanner:
    """Crawl-wide: which asset URLs were requested, what they resolved to, and which pages wait for them.

    >>> from archive.crawl.assets import Asset
    >>> planner = AssetPlanner(max_per_page=2, max_bytes=1000)
    >>> css, img, font = Asset("http://e/s.css", "stylesheet"), Asset("http://e/a.png", "image"), Asset("http://e/f.woff", "image")
    >>> page, wanted = planner.page("<urn:uuid:p1>", "http://e/1", [css, img, font])
    >>> [a.url for a in wanted], page.cut
    (['http://e/s.css', 'http://e/a.png'], {'count': 1})
    >>> _, wanted = planner.page("<urn:uuid:p2>", "http://e/2", [css])  # already requested: not again
    >>> wanted
    []
    >>> more, done = planner.arrived("http://e/s.css", "c1", 10, [font])
    >>> [a.url for a in more], [p.url for p in done]  # the font counts toward page 2 (page 1 is full)
    (['http://e/f.woff'], [])
    """

    def __init__(self, max_per_page: int, max_bytes: int) -> None:
        self.max_per_page = max_per_page
        self.max_bytes = max_bytes
        self._known: dict[str, _Fetched] = {}
        self._waiting: dict[str, list[PageState]] = {}
        self._pages: dict[str, PageState] = {}  # unfinished pages, by record id
        self.requested = 0
        self.cut = 0

    def page(self, record_id: str, url: str, assets: list[Asset]) -> tuple[PageState, list[Asset]]:
        """A page arrived with these assets: the ones to request now (the others are known or in flight)."""
        page = PageState(record_id, url)
        wanted: list[Asset] = []
        for asset in assets:
            wanted += self._add(page, asset)
        if page.outstanding:
            self._pages[record_id] = page
        return page, wanted

    def arrived(self, url: str, capture: str | None, size: int,
                children: list[Asset]) -> tuple[list[Asset], list[PageState]]:
        """An asset's fetch is over (``capture`` None if nothing was recorded): what it loads in turn
        (``children``) to request, and the pages that needed nothing else."""
        self._known[url] = _Fetched(capture, size, children)
        wanted: list[Asset] = []
        finished: list[PageState] = []
        for page in self._waiting.pop(url, []):
            self._resolve(page, url, capture, size)
            page.outstanding.discard(url)
            for child in children:
                wanted += self._add(page, child)
            if not page.outstanding:
                self._pages.pop(page.record_id, None)
                finished.append(page)
        return wanted, finished

    def unfinished(self) -> list[PageState]:
        """Pages still waiting (the crawl stopped early): their lists are written as they are."""
        pages, self._pages, self._waiting = list(self._pages.values()), {}, {}
        return pages

    @property
    def fetched(self) -> int:
        return len(self._known)

    def asset_of(self, url: str) -> str | None:
        """The ``Citevault-Asset-Of`` value of an asset's record: the pages waiting for ``url`` now, each as
        ``{page capture}/{position}/{kind}`` (at most :data:`ASSET_OF_PAGES`; the others have their list).

        >>> from archive.crawl.assets import Asset
        >>> planner = AssetPlanner(max_per_page=5, max_bytes=1000)
        >>> _ = planner.page("<urn:uuid:p1>", "http://e/1", [Asset("http://e/a.png", "image")])
        >>> _ = planner.page("<urn:uuid:p2>", "http://e/2", [Asset("http://e/s.css", "stylesheet"), Asset("http://e/a.png", "image")])
        >>> planner.asset_of("http://e/a.png")
        'p1/0/image p2/1/image'
        """
        tokens = []
        for page in self._waiting.get(url, [])[:ASSET_OF_PAGES]:
            position = page.positions.get(url)
            if position is not None:
                tokens.append(f"{capture_id(page.record_id)}/{position}/{page.entries[position]['kind']}")
        return " ".join(tokens) or None

    def _add(self, page: PageState, asset: Asset) -> list[Asset]:
        if asset.url in page.positions or asset.url == page.url:
            return []
        page.positions[asset.url] = len(page.entries)
        entry: dict[str, Any] = {"url": asset.url, "kind": asset.kind, "capture": None, "cut": None}
        page.entries.append(entry)
        if page.fetched >= self.max_per_page:
            entry["cut"] = CUT_COUNT
        elif page.bytes >= self.max_bytes:
            entry["cut"] = CUT_BYTES
        if entry["cut"]:
            self.cut += 1
            return []
        page.fetched += 1
        known = self._known.get(asset.url)
        if known is not None:  # fetched earlier in this crawl: linked, and what it loads counts here too
            entry["capture"] = known.capture
            page.bytes += known.size
            wanted: list[Asset] = []
            for child in known.children:
                wanted += self._add(page, child)
            return wanted
        page.outstanding.add(asset.url)
        waiting = self._waiting.get(asset.url)
        if waiting is not None:  # in flight for another page
            waiting.append(page)
            return []
        self._waiting[asset.url] = [page]
        self.requested += 1
        return [asset]

    @staticmethod
    def _resolve(page: PageState, url: str, capture: str | None, size: int) -> None:
        page.bytes += size
        for entry in page.entries:
            if entry["url"] == url and not entry["cut"]:
                entry["capture"] = capture


def asset_of_rows(value: str, url: str, capture: str) -> list[dict[str, Any]]:
    """``page_assets`` rows from an asset record's ``Citevault-Asset-Of`` (crawl and ``reindex`` share this):
    ``url`` is the asset URL as the pages found it, ``capture`` the record's capture id.

    >>> [(r["page_id"], r["position"], r["kind"]) for r in asset_of_rows("p1/0/image p2/3/frame", "http://e/a", "c1")]
    [('p1', 0, 'image'), ('p2', 3, 'frame')]
    """
    rows = []
    for token in value.split():
        page_id, position, kind = token.split("/", 2)
        rows.append({"page_id": page_id, "position": int(position), "url": url, "kind": kind, "capture_id": capture,
                     "cut": None})
    return rows


def record_link_rows(get: Callable[[str], str | None], target: str, capture: str) -> list[dict[str, Any]]:
    """The :func:`asset_of_rows` of an asset's record, from its WARC fields (``get`` reads one by name)."""
    from archive.warc.builder import ASSET_OF_FIELD, ASSET_URL_FIELD

    value = get(ASSET_OF_FIELD)
    return asset_of_rows(value, get(ASSET_URL_FIELD) or target, capture) if value else []


def link_rows(page_record_id: str, body: dict[str, Any]) -> list[dict[str, Any]]:
    """``page_assets`` index rows from a ``page-assets`` record (crawl and ``reindex`` share this).

    >>> link_rows("<urn:uuid:p>", {"assets": [{"url": "http://e/a.png", "kind": "image", "capture": "c1", "cut": None}]})[0]["url"]
    'http://e/a.png'
    """
    page_id = capture_id(page_record_id)
    return [{"page_id": page_id, "position": a.get("position", i), "url": a["url"], "kind": a["kind"],
             "capture_id": a.get("capture"), "cut": a.get("cut")} for i, a in enumerate(body.get("assets") or [])]


__all__ = ["ASSET_OF_PAGES", "CUT_BYTES", "CUT_COUNT", "AssetPlanner", "PageState", "asset_of_rows", "link_rows",
           "record_link_rows"]
