"""The storage pipeline: articles into the analysts' database, in batched transactions.

The database itself (engine, run lock, migrations, the ``crawl_runs`` row) belongs to the
crawl's :class:`~peruwire_crawl.db.crawl.CrawlDatabase`; this pipeline only writes items
through its :class:`~peruwire_crawl.db.store.ArticleStore`.

Items are written ``PERUWIRE_STORE_BATCH_SIZE`` at a time, each batch in one transaction, so
a crash loses at most the batch in flight and never leaves half an article. A batch the
database refuses for a passing reason (locked past the busy timeout, connection lost) is
logged as an error and kept; it is retried with the next batch, no sooner than
``PERUWIRE_STORE_RETRY_DELAY`` seconds later, and ``PERUWIRE_STORE_CLOSE_RETRIES`` more times
at close. What still cannot be stored then is appended to the dead-letter file
``PERUWIRE_DEAD_LETTER_FILE`` (named in the log), which ``peruwire ingest FILE`` stores later.
An item the database refuses for itself (e.g. a value it cannot take) goes to the dead-letter
file at once, and its batch-mates are stored.

Stats (``peruwire/store/...``): ``new``, ``updated``, ``unchanged``, ``batches``,
``batches_failed``, ``item_errors`` (items that cannot be stored as they are),
``items_failed`` (items written to the dead-letter file); ``run_id`` is set by the database.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from itemadapter import ItemAdapter
from scrapy import signals
from scrapy.exceptions import DropItem, NotConfigured
from scrapy.utils.defer import deferred_from_coro
from sqlalchemy.exc import DBAPIError, OperationalError, StatementError

from peruwire_crawl.db.crawl import CrawlDatabase
from peruwire_crawl.db.engine import first_line
from peruwire_crawl.db.runlock import RunLockLost
from peruwire_crawl.db.store import BadRecord, record_from_item, record_to_json
from peruwire_crawl.health import EXIT_CODE_STAT, RUN_LOCK_LOST_REASON, UNHEALTHY
from peruwire_crawl.identity import DuplicateItem
from peruwire_crawl.signals import article_listed_again, articles_stored, store_caught_up

logger = logging.getLogger(__name__)

STATS = "peruwire/store/"


class StorePipeline:
    def __init__(self, crawler, database: CrawlDatabase, *, batch_size: int,
                 retry_delay: float, close_retries: int, dead_letter_file: str):
        self.crawler = crawler
        self.stats = crawler.stats
        self.database = database
        self.batch_size = max(1, batch_size)
        self.retry_delay = retry_delay
        self.close_retries = close_retries
        self.dead_letter_file = Path(dead_letter_file)
        self.pending: list[dict[str, Any]] = []
        # Sightings of stored articles to record with the next batch: a URL -> (the article
        # it is, the sections that listed it). A dropped duplicate's URL becomes an alias of
        # the article; an article listed again by a later section gains that section.
        self.pending_sightings: dict[str, tuple[str, list[str]]] = {}
        self._next_try = 0.0

    @classmethod
    def from_crawler(cls, crawler):
        database = crawler.get_extension(CrawlDatabase)
        if database is None:
            raise NotConfigured("PERUWIRE_STORE_ENABLED is off")
        settings = crawler.settings
        pipeline = cls(
            crawler,
            database,
            batch_size=settings.getint("PERUWIRE_STORE_BATCH_SIZE"),
            retry_delay=settings.getfloat("PERUWIRE_STORE_RETRY_DELAY"),
            close_retries=settings.getint("PERUWIRE_STORE_CLOSE_RETRIES"),
            dead_letter_file=settings.get("PERUWIRE_DEAD_LETTER_FILE"),
        )
        crawler.signals.connect(pipeline.item_dropped, signal=signals.item_dropped)
        crawler.signals.connect(pipeline.article_listed_again, signal=article_listed_again)
        crawler.signals.connect(pipeline.spider_idle, signal=signals.spider_idle)
        return pipeline

    @property
    def store(self):
        """The database's article store; None until the run is open (or when it never was)."""
        return self.database.store

    def process_item(self, item, spider=None):
        if self.store is None:
            return item
        try:
            record = record_from_item(ItemAdapter(item))
        except BadRecord as exc:
            self.stats.inc_value(STATS + "item_errors")
            raise DropItem(f"not stored: {exc}") from None
        self.pending.append(record)
        if len(self.pending) >= self.batch_size and time.monotonic() >= self._next_try:
            self.flush()
        return item

    def item_dropped(self, item, response, exception, spider=None) -> None:
        """A dropped duplicate still tells something: its URL is another of the article's
        (an alias), and the sections that listed it list the article."""
        if self.store is not None and isinstance(exception, DuplicateItem):
            adapter = ItemAdapter(item)
            self._sighted(adapter["url"], exception.duplicate_of, adapter.get("sections") or [])

    def article_listed_again(self, url: str, section: str) -> None:
        """A later section page lists an article whose item already went by: an update of
        its sections, written with the next batch."""
        if self.store is not None:
            self._sighted(url, url, [section])

    def _sighted(self, url: str, article_url: str, sections: list[str]) -> None:
        _, known = self.pending_sightings.get(url, (article_url, []))
        self.pending_sightings[url] = (article_url, list(dict.fromkeys([*known, *sections])))

    def spider_idle(self, spider=None) -> None:
        """The crawl has nothing else to do (at the end, or a cluster worker waiting for the
        others): write the part batch now rather than keep it in memory meanwhile."""
        if self.store is None or time.monotonic() < self._next_try:
            return
        if self.pending or self.pending_sightings:
            self.flush()
        else:
            self._caught_up()

    def close_spider(self, spider=None) -> None:
        if self.store is None:
            return
        for attempt in range(self.close_retries + 1):
            if not (self.pending or self.pending_sightings) or self.flush():
                break
            if attempt < self.close_retries:
                time.sleep(self.retry_delay)
        if self.pending:
            self._dead_letter(self.pending, "the database kept refusing them")
            self.pending = []
        self._caught_up()

    def _caught_up(self) -> None:
        self.crawler.signals.send_catch_log(signal=store_caught_up)

    # --- batches ----------------------------------------------------------------------
    def flush(self) -> bool:
        """Store the pending items; True when none is left pending."""
        if not self._still_locked():
            return True
        batch, self.pending = self.pending, []
        try:
            self._stored(self.store.write(batch, run_id=self.database.run_id))
        except OperationalError as exc:
            self._refused(batch, exc)
            return False
        except (DBAPIError, StatementError):
            # One item the database cannot take spoils its batch: store them one by one.
            self._write_one_by_one(batch)
        except Exception as exc:  # why: whatever went wrong, the batch is kept, never dropped
            self._refused(batch, exc)
            return False
        self._write_sightings()
        if self.pending:
            return False
        self._caught_up()
        return True

    def _still_locked(self) -> bool:
        """Whether this run still holds the run lock; if not, it writes nothing more: what
        is pending goes to the dead-letter file and the crawl stops, unhealthy."""
        try:
            self.database.run_lock.check()
            return True
        except RunLockLost as exc:
            if not self.stats.get_value(STATS + "run_lock_lost"):
                self.stats.set_value(STATS + "run_lock_lost", 1)
                self.stats.set_value(EXIT_CODE_STAT, UNHEALTHY)
                logger.error("Stopping the crawl's writes: %s; another run may be writing to the "
                             "database. This run exits with status %d", exc, UNHEALTHY)
                deferred_from_coro(self.crawler.engine.close_spider_async(reason=RUN_LOCK_LOST_REASON))
            if self.pending:
                self._dead_letter(self.pending, "the run lock was lost")
                self.pending = []
            self.pending_sightings = {}
            return False

    def _write_sightings(self) -> None:
        """Aliases and sections of stored articles. One that cannot be written is logged and
        let go: the next run fetches that URL once more, or lists the article again."""
        sightings, self.pending_sightings = self.pending_sightings, {}
        try:
            self.store.record_sightings(sightings)
        except Exception as exc:  # why: losing an alias or a section costs a request next run, nothing more
            logger.warning("could not record %d sightings of stored articles: %s", len(sightings),
                           first_line(getattr(exc, "orig", None) or exc))

    def _write_one_by_one(self, batch: list[dict[str, Any]]) -> None:
        for record in batch:
            try:
                self._stored(self.store.write([record], run_id=self.database.run_id))
            except OperationalError as exc:
                self._refused([record], exc)
            except (DBAPIError, StatementError) as exc:
                self.stats.inc_value(STATS + "item_errors")
                self._dead_letter([record], first_line(getattr(exc, "orig", None) or exc))

    def _refused(self, batch: list[dict[str, Any]], exc: Exception) -> None:
        self.pending[:0] = batch
        self._next_try = time.monotonic() + self.retry_delay
        self.stats.inc_value(STATS + "batches_failed")
        logger.error(
            "The database refused a batch of %d items (%s); %d items are kept and will be retried",
            len(batch), first_line(getattr(exc, "orig", None) or exc), len(self.pending),
        )

    def _stored(self, outcomes) -> None:
        """A committed write: counted, and its new and changed articles announced (feeds)."""
        self.stats.inc_value(STATS + "batches")
        for outcome, count in outcomes.items():
            self.stats.inc_value(STATS + outcome, count)
        if outcomes.changed:
            self.crawler.signals.send_catch_log(signal=articles_stored, urls=outcomes.changed)

    def _dead_letter(self, records: list[dict[str, Any]], why: str) -> None:
        self.stats.inc_value(STATS + "items_failed", len(records))
        lines = [record_to_json(record) for record in records]
        try:
            self.dead_letter_file.parent.mkdir(parents=True, exist_ok=True)
            with self.dead_letter_file.open("a", encoding="utf-8") as handle:
                handle.writelines(line + "\n" for line in lines)
        except OSError as exc:
            # Last resort: the log is then the only copy. One line per item, re-ingestable.
            logger.error("cannot write the dead-letter file %s (%s); the %d items follow, one per line",
                         self.dead_letter_file, exc, len(lines))
            for line in lines:
                logger.error("unstored item: %s", line)
            return
        logger.error(
            "%d items could not be stored (%s); they were appended to %s: "
            "store them later with `peruwire ingest %s`",
            len(records), why, self.dead_letter_file, self.dead_letter_file,
        )
