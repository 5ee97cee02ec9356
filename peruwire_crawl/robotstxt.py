"""Scrapy's RobotsTxtMiddleware, with every request that waits for a robots.txt checked.

While a host's robots.txt is being downloaded, Scrapy (2.13 and later, on the asyncio
reactor) keeps one Deferred per host for the requests that wait for it, and each waiter
awaits that Deferred through ``maybe_deferred_to_future``. Turning a Deferred into a Future
consumes its result (Twisted's ``Deferred.asFuture`` says so): the first waiter gets the
parser, every other waiter gets None, which the middleware reads as "no robots.txt,
everything allowed". So the second and later requests to a host that arrive while its
robots.txt is in flight are fetched even when robots.txt disallows them. A crawl that sends
many requests to a new host at once (a cluster worker joining a run, a wide section page)
hits this every time.

Here each waiter gets a Deferred of its own, fed from the shared one, which keeps its
result for the next. Everything else is Scrapy's middleware.
"""

from __future__ import annotations

from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware as ScrapyRobotsTxtMiddleware
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.defer import Deferred


class RobotsTxtMiddleware(ScrapyRobotsTxtMiddleware):
    async def robot_parser(self, request):
        pending = self._parsers.get(urlparse_cached(request).netloc)
        if isinstance(pending, Deferred):
            mine: Deferred = Deferred()

            def pass_on(parser):
                mine.callback(parser)
                return parser  # for the next waiter

            pending.addCallback(pass_on)
            return await maybe_deferred_to_future(mine)
        return await super().robot_parser(request)
