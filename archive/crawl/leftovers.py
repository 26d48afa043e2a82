"""Fetches the recorder wrote whose verdict never reached it, and the verdict the crawler would have given.

The crawler sends its calls to the recorder in batches (:mod:`archive.crawl.recorder_process`), so a source's
final response (its records and capture row) and its ``source_done`` (the verdict that settles the source)
can travel in different batches. A crawler killed between the two, or stopped before its callbacks ran (a
second Ctrl-C), leaves the fetch on disk and the source ``pending`` (or still due): the next crawl would
fetch it again. So the recorder keeps, for each source, the last capture it wrote until the verdict comes,
and when its input ends it settles what is left itself: :func:`classify_fetched` classifies that capture as the
spider classifies a response (:func:`archive.recheck.outcomes.classify_response`, on the page read back from
the WARC file), and the recorder decides the state with the code every verdict goes through.

The last capture stands for the fetch, as in ``reindex`` (:mod:`archive.integrity.replay_states`). What a
recorder that died too leaves unsettled is settled when the next crawl starts
(:func:`archive.integrity.catch_up.settle_unsettled`).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from archive.recheck.outcomes import TEXT_LIMIT, Outcome, classify_failure, classify_response

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path


@dataclass(frozen=True)
class Fetched:
    """The last capture the recorder wrote for a source whose verdict it has not received."""

    capture_id: str
    record_type: str  # "response", "revisit" or "metadata" (a fetch that got no response)
    url: str  # the URL fetched last (the end of a redirect chain)
    source_url: str
    fetched_at: datetime
    status: int | None = None
    content_type: str | None = None
    retry_after: str | None = None  # the one header the classification reads
    error: str | None = None  # a failure's reason (``crawler.failures`` categories)

    @property
    def settles_with(self) -> str | None:
        """The capture the verdict names: the response, none for a failed fetch (as the spider sends it)."""
        return None if self.record_type == "metadata" else self.capture_id


def classify_fetched(fetched: Fetched, page: Callable[[], str]) -> Outcome:
    """What the spider would have classified this fetch as; ``page()`` reads the page text, and is only
    called when the status leaves the verdict to the page (a 2xx, a 403 that may be a CAPTCHA).

    >>> from datetime import UTC
    >>> def fetched(kind, status=None, **more):
    ...     return Fetched("c1", kind, "http://h/a", "http://h/a", datetime(2026, 12, 1, tzinfo=UTC), status, **more)
    >>> classify_fetched(fetched("metadata", error="timeout"), str).kind
    'error'
    >>> classify_fetched(fetched("response", 200), lambda: "<h1>Not found</h1>").kind
    'soft-404'
    >>> classify_fetched(fetched("response", 429, retry_after="30"), str).retry_after
    30.0
    """
    if fetched.record_type == "metadata" or fetched.status is None:
        return classify_failure(fetched.error or "error")
    status = fetched.status
    headers = {"retry-after": fetched.retry_after} if fetched.retry_after else {}
    body = page() if status == 403 or 200 <= status < 300 else ""
    return classify_response(fetched.source_url, fetched.url, status, headers, body)


def page_text(path: Path, offset: int, content_type: str | None) -> str:
    """The decoded text of the payload at ``offset``, as the spider sees a response (its ``text``, cut at
    :data:`TEXT_LIMIT` as the spider cuts it): empty
    for what Scrapy would not read as text, and for a record that cannot be read."""
    from archive.checks.texts import charset_of, cut_prefix, kind_of, read_payload
    from archive.claims.decode import decode_text

    try:
        limit = 4 * TEXT_LIMIT  # bytes enough for TEXT_LIMIT characters; never the whole of a huge page
        data = read_payload(path, offset, limit)
        kind = kind_of(data, content_type)
        if len(data) >= limit:
            data = cut_prefix(data, kind)
        if kind not in ("html", "text"):
            return ""
        return decode_text(data, charset=charset_of(content_type), html=kind == "html")[:TEXT_LIMIT]
    except Exception:  # noqa: BLE001 - no page to read is a verdict from the status alone, not a crash
        return ""


__all__ = ["Fetched", "classify_fetched", "page_text"]
