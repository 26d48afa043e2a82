"""Page assets that are sources too: fetched once per crawl, as the source (docs/warc.md, "Page assets").

A page's stylesheet, image or PDF may also be the cited source of a claim. The crawl fetches such a URL once:
as the *source*, because a source's fetch must go through its state decision and quote checks, and its
capture carries the source's fields so ``reindex`` restores its state; an asset's fetch does neither. The page
is linked to the source's capture (assets never change a source's state or a claim's evidence; a source's
capture serving as a page's asset changes neither).

:func:`sources_among` tells the crawler (``crawler.assets``), for the asset URLs it is about to request, which
are sources and where they stand in this crawl: already fetched and settled (link to that capture), leased
by this crawl (its fetch is queued or under way: wait for it), or neither (the crawler tries to claim it now,
and fetches it as an asset only if that fails: another crawl holds it, or it is not due).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import bindparam, text

if TYPE_CHECKING:
    from sqlalchemy import Connection


@dataclass(frozen=True)
class SharedSource:
    """A source whose URL a page loads as an asset, as this crawl sees it."""

    source_id: str
    mine: bool  # leased by this crawl: fetched by it, queued or under way
    settled: bool  # fetched and settled by this crawl already (its event of this crawl is written)
    capture: str | None  # the capture it settled with (None: a failure, or not settled)


def sources_among(conn: Connection, crawl_id: str, source_ids: Sequence[str]) -> dict[str, SharedSource]:
    """The sources among ``source_ids``, by id (one read; most asset URLs are not sources)."""
    if not source_ids:
        return {}
    stmt = text(
        "SELECT s.id, s.lease_owner, e.source_id, e.capture_id FROM sources s LEFT JOIN source_events e "
        "ON e.source_id = s.id AND e.crawl_id = :c WHERE s.id IN :ids"
    ).bindparams(bindparam("ids", expanding=True))
    found: dict[str, SharedSource] = {}
    for sid, owner, event, capture in conn.execute(stmt, {"c": crawl_id, "ids": list(source_ids)}):
        settled = event is not None
        if sid not in found or settled:
            found[sid] = SharedSource(sid, owner == crawl_id, settled, capture if settled else None)
    return found


__all__ = ["SharedSource", "sources_among"]
