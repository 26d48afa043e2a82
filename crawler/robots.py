"""robots.txt, obeyed for every request.

Scrapy's RobotsTxtMiddleware (2.19) lets concurrent requests to one host wait on a shared Deferred while
robots.txt is being fetched. Under the asyncio reactor each waiter is turned into a Future with
``Deferred.asFuture``, which *replaces the Deferred's result with None*: the first waiter gets the parser,
every later one gets None, which the middleware reads as "no robots.txt, allow everything". A crawl that
starts with several requests to one host therefore fetched disallowed pages. This subclass gives every
waiter its own Deferred relayed from the shared one.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware as _ScrapyRobotsTxtMiddleware
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.defer import Deferred

if TYPE_CHECKING:
    from scrapy import Request


class RobotsTxtMiddleware(_ScrapyRobotsTxtMiddleware):
    async def robot_parser(self, request: Request) -> Any:
        pending = self._parsers.get(urlparse_cached(request).netloc)
        if isinstance(pending, Deferred):
            waiter: Deferred[Any] = Deferred()

            def relay(result: Any) -> Any:
                waiter.callback(result)
                return result  # keep the shared Deferred's result for the next waiter

            pending.addCallback(relay)
            return await maybe_deferred_to_future(waiter)
        return await super().robot_parser(request)
