"""Feeds (`scrapy crawl peru -o/-O FILE`) that tell the truth about a run.

Scrapy's feed exporter writes every item a callback yields, as it was yielded. peruwire's
items are not the articles: an article whose listing was enough is yielded as a
listing-only item (no body, no authors) so that storage can record that it was seen, and
an article seen unchanged is yielded again on every run. A feed of those contradicts the
database.

``StoredFeedExporter`` is Scrapy's exporter fed by storage instead: storage tells it which
articles each committed batch added or changed, and when the run ends (a pause with
``JOBDIR`` or a ``CLOSESPIDER_*`` limit included) it reads them back and exports each once,
exactly as ``peruwire export`` gives it (its columns, its values). So a run's feed holds
exactly the articles the run added or changed, as stored after the run; an article the run
saw unchanged is not in it; an item the database refused is not in it either (it is in
the dead-letter file). A run killed outright (SIGKILL) writes no feed. Every feed option of Scrapy (formats,
``-o``/``-O``, ``FEEDS``, batches, storages) works as usual. With storage switched off
(``PERUWIRE_STORE_ENABLED=False``, and in ``scrapy parse``) there is nothing stored to
export, and the feed holds the items as scraped, as Scrapy's does.

To export everything stored, not one run's changes: ``peruwire export --format jsonl``.
"""

from __future__ import annotations

import logging
from datetime import datetime

from scrapy import signals
from scrapy.extensions.feedexport import FeedExporter
from sqlalchemy.exc import DBAPIError

from peruwire_crawl.db.crawl import CrawlDatabase
from peruwire_crawl.db.engine import first_line
from peruwire_crawl.db.queries import Filters, export_rows
from peruwire_crawl.signals import articles_stored
from peruwire_crawl.times import iso

logger = logging.getLogger(__name__)

URLS_PER_QUERY = 500  # under every SQLite build's limit on bound parameters


class StoredFeedExporter(FeedExporter):
    @classmethod
    def from_crawler(cls, crawler):
        exporter = cls(crawler)
        crawler.signals.connect(exporter.open_spider, signals.spider_opened)
        crawler.signals.connect(exporter.close_spider, signals.spider_closed)
        if crawler.settings.getbool("PERUWIRE_STORE_ENABLED"):
            crawler.signals.connect(exporter.articles_stored, signal=articles_stored)
        else:
            crawler.signals.connect(exporter.item_scraped, signals.item_scraped)
        return exporter

    def __init__(self, crawler):
        super().__init__(crawler)
        self.changed: dict[str, None] = {}  # URLs added or changed by this run, in order

    def articles_stored(self, urls: list[str]) -> None:
        self.changed.update(dict.fromkeys(urls))

    async def close_spider(self, spider) -> None:
        # Runs before the crawl's database closes its engine: extensions connect their
        # spider_closed handlers in EXTENSIONS order, and this one comes first (settings.py).
        self._export_changed(spider)
        await super().close_spider(spider)

    def _export_changed(self, spider) -> None:
        urls, self.changed = list(self.changed), {}
        database = self.crawler.get_extension(CrawlDatabase)
        if not urls or database is None:
            return
        try:
            with database.engine.connect() as connection:
                for start in range(0, len(urls), URLS_PER_QUERY):
                    for row in export_rows(connection, Filters(urls=urls[start:start + URLS_PER_QUERY])):
                        self.item_scraped({k: iso(v) if isinstance(v, datetime) else v for k, v in row.items()}, spider)
        except DBAPIError as exc:
            logger.error("the feed lacks articles this run stored: reading them back failed (%s); "
                         "`peruwire export` has them", first_line(exc.orig))
