"""peruwire's downloader middlewares.

Replay and record use the fixture format of :mod:`peruwire_crawl.replay`. They sit next to
the downloader (like Scrapy's HttpCacheMiddleware), so retries, redirects, robots.txt and
decompression behave on replayed responses exactly as on live ones. The backoff retry
makes retries of 429/503 polite.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import zlib
from datetime import datetime, timezone
from email.utils import format_datetime
from pathlib import Path

from scrapy import signals
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.exceptions import NotConfigured
from scrapy.http import Response
from scrapy.responsetypes import responsetypes
from scrapy.utils.defer import deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.task import deferLater

from peruwire_crawl import replay
from peruwire_crawl.times import http_date_to_utc, to_utc

logger = logging.getLogger(__name__)

# Headers worth keeping in a recording: what changes how the response is read or cached.
RECORDED_HEADERS = (
    "Content-Type",
    "Location",
    "ETag",
    "Last-Modified",
    "Date",
    "Retry-After",
    "Content-Language",
)
HTTP_SCHEMES = ("http", "https")


class ReplayMiddleware:
    """Answer every http(s) request from ``PERUWIRE_REPLAY``; never touch the network."""

    def __init__(self, roots: list[Path], stats):
        self.roots = roots
        self.stats = stats
        self.fetched_at = replay.layered_facts(roots).get("fetched_at")

    @classmethod
    def from_crawler(cls, crawler):
        setting = crawler.settings.get("PERUWIRE_REPLAY")
        if not setting:
            raise NotConfigured
        roots = replay.split_roots(setting)
        missing = [str(root) for root in roots if not root.is_dir()]
        if missing or not roots:
            # A typo here would otherwise turn into a crawl of nothing but 404s.
            raise ValueError(f"PERUWIRE_REPLAY: not a directory: {', '.join(missing) or setting!r}")
        return cls(roots, crawler.stats)

    def process_request(self, request, spider=None):
        if urlparse_cached(request).scheme not in HTTP_SCHEMES:
            return None  # data: URIs and the like need no network
        try:
            stored = replay.load_layered(self.roots, request.url)
        except replay.OutsideRoot as exc:
            logger.warning("replay: %s; answering 404", exc)
            self.stats.inc_value("peruwire/replay/refused")
            stored = replay.StoredResponse(status=404, body=b"")
        if stored is None:
            logger.warning(
                "replay: no fixture for %s (looked for %s); answering 404",
                request.url,
                replay.url_to_path(self.roots[-1], request.url),
            )
            self.stats.inc_value("peruwire/replay/missing")
            stored = replay.StoredResponse(status=404, body=b"")
        self.stats.inc_value("peruwire/replay/responses")
        headers = dict(stored.headers)
        if stored.status == 200 and stored.body:
            # Like most servers: an ETag from the content, and 304 to a matching If-None-Match.
            headers.setdefault("ETag", '"%s"' % hashlib.sha1(stored.body).hexdigest()[:16])
            if request.headers.get("If-None-Match", b"").decode("latin-1") == headers["ETag"]:
                stored = replay.StoredResponse(status=304, body=b"")
                self.stats.inc_value("peruwire/replay/not_modified")
        if self.fetched_at and "Date" not in headers:
            headers["Date"] = _http_date(self.fetched_at)
        if stored.body and "Content-Type" not in headers:
            guessed = responsetypes.from_args(url=request.url, body=stored.body[:4096])
            if guessed.__name__ == "HtmlResponse":
                headers["Content-Type"] = "text/html"
        response_class = responsetypes.from_args(headers=headers, url=request.url, body=stored.body)
        return response_class(
            url=request.url,
            status=stored.status,
            headers=headers,
            body=stored.body,
            request=request,
            flags=["replayed"],
        )


class RecordMiddleware:
    """Save every response of a live crawl under ``PERUWIRE_RECORD`` in the fixture format."""

    def __init__(self, root: Path, stats):
        self.root = root
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler):
        root = crawler.settings.get("PERUWIRE_RECORD")
        if not root:
            raise NotConfigured
        middleware = cls(Path(root), crawler.stats)
        crawler.signals.connect(middleware.spider_closed, signal=signals.spider_closed)
        return middleware

    def process_request(self, request, spider=None):
        # A recording must hold whole pages: a 304 saved as a fixture would replay as an
        # empty answer to a request that never asked "changed since?".
        for header in ("If-None-Match", "If-Modified-Since"):
            request.headers.pop(header, None)
        return None

    def process_response(self, request, response: Response, spider=None):
        if "replayed" in response.flags or urlparse_cached(request).scheme not in HTTP_SCHEMES:
            return response
        headers = {
            name: response.headers.get(name).decode("latin-1")
            for name in RECORDED_HEADERS
            if response.headers.get(name) is not None
        }
        body = _decoded_body(response, headers)
        try:
            replay.save(self.root, request.url, replay.StoredResponse(response.status, headers, body))
        except replay.OutsideRoot as exc:
            logger.warning("record: %s", exc)
            self.stats.inc_value("peruwire/record/refused")
            return response
        self.stats.inc_value("peruwire/record/responses")
        return response

    def spider_closed(self, spider):
        logger.info(
            "record: saved %s responses under %s",
            self.stats.get_value("peruwire/record/responses", 0),
            self.root,
        )


def _decoded_body(response: Response, headers: dict[str, str]) -> bytes:
    """The body as a browser shows it: recordings stay readable and greppable."""
    encoding = (response.headers.get("Content-Encoding") or b"").decode("latin-1").lower()
    try:
        if encoding == "gzip":
            return gzip.decompress(response.body)
        if encoding == "deflate":
            return zlib.decompress(response.body)
    except (OSError, zlib.error):
        pass
    if encoding and encoding != "identity":
        headers["Content-Encoding"] = encoding  # kept as sent; replay hands it back as is
    return response.body


def _http_date(iso_timestamp: str) -> str:
    return format_datetime(to_utc(iso_timestamp), usegmt=True)


class BackoffRetryMiddleware(RetryMiddleware):
    """Scrapy's retry, waiting before a retry of a 429 or 503 instead of retrying at once.

    The wait is what the server asked for in ``Retry-After`` (seconds or an HTTP date),
    capped at ``PERUWIRE_RETRY_AFTER_MAX``; without the header it doubles with each retry,
    from ``PERUWIRE_RETRY_BACKOFF_BASE`` seconds. Replaces Scrapy's RetryMiddleware in
    settings, so every other retry rule (RETRY_TIMES, RETRY_HTTP_CODES, dont_retry) holds.
    """

    BACKOFF_STATUSES = (429, 503)

    def __init__(self, settings):
        super().__init__(settings)
        self.max_wait = settings.getfloat("PERUWIRE_RETRY_AFTER_MAX")
        self.backoff_base = settings.getfloat("PERUWIRE_RETRY_BACKOFF_BASE")

    async def process_response(self, request, response, spider=None):
        if (
            response.status in self.BACKOFF_STATUSES
            and response.status in self.retry_http_codes
            and not request.meta.get("dont_retry", False)
            and request.meta.get("retry_times", 0) < request.meta.get("max_retry_times", self.max_retry_times)
        ):
            wait = self._wait_seconds(request, response)
            logger.info("%s answered %s; retrying in %.1f s", request.url, response.status, wait)
            self.crawler.stats.inc_value("peruwire/retry/backoff_seconds", wait)
            from twisted.internet import reactor  # the one Scrapy installed, not a default

            await deferred_to_future(deferLater(reactor, wait))
        return super().process_response(request, response)

    def _wait_seconds(self, request, response) -> float:
        asked = _retry_after_seconds(response.headers.get("Retry-After"))
        if asked is None:
            asked = self.backoff_base * 2 ** request.meta.get("retry_times", 0)
        return max(0.0, min(asked, self.max_wait))


def _retry_after_seconds(header: bytes | None) -> float | None:
    """Retry-After is either a number of seconds or an HTTP date (RFC 9110 §10.2.3)."""
    if not header:
        return None
    value = header.decode("latin-1").strip()
    if value.isdigit():
        return float(value)
    when = http_date_to_utc(value)
    return None if when is None else (when - datetime.now(timezone.utc)).total_seconds()
