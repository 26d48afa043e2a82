"""Scrapy's downloader, with its per-host limit kept under the asyncio reactor.

Scrapy 2.19's ``Downloader._process_queue`` hands queued requests to new tasks while
``slot.free_transfer_slots() > 0``, but a request joins ``slot.transferring`` only when its task starts
running, after the loop has ended. Under the asyncio reactor (``loop.create_task``) the loop therefore
drains the whole queue of a host: measured here, 23 requests in flight to one host with
``CONCURRENT_REQUESTS_PER_DOMAIN = 4`` (``tests/test_politeness.py``). An archiver that hammers the sites
it cites gets blocked, and is rude. This subclass counts a request as transferring the moment it leaves
the queue; Scrapy's own ``_download`` adds it again (a set: no change) and removes it when done.
"""
from __future__ import annotations

from time import monotonic
from typing import Any

from scrapy.core.downloader import Downloader
from scrapy.utils.asyncio import call_later
from scrapy.utils.defer import _schedule_coro


class PoliteDownloader(Downloader):
    """``DOWNLOADER`` in crawler/settings.py."""

    def _process_queue(self, slot: Any) -> None:
        if slot.latercall:
            return
        now = monotonic()
        delay = slot.download_delay()
        if delay:
            penalty = delay - now + slot.lastseen
            if penalty > 0:
                slot.latercall = call_later(penalty, self._latercall, slot)
                return
        while slot.queue and slot.free_transfer_slots() > 0:
            slot.lastseen = now
            request, queue_dfd = slot.queue.popleft()
            slot.transferring.add(request)  # the fix: taken now, not when the task gets to run
            _schedule_coro(self._wait_for_download(slot, request, queue_dfd))
            if delay:
                self._process_queue(slot)
                break
