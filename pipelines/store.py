"""The storage pipeline: articles into the analysts' database, in batched transactions.

At spider open it connects, brings the schema up to date (refusing a database newer than
the code) and opens a ``crawl_runs`` row; a database that cannot be used stops the crawl at
once with one plain log line (``finish_reason`` ``storage_unavailable``, exit status 78).

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
``items_failed`` (items written to the dead-letter file), ``run_id``.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from itemadapter import ItemAdapter
from scrapy import signals
from scrapy.exceptions import CloseSpider, DropItem, NotConfigured
from scrapy.utils.defer import deferred_from_coro
from sqlalchemy.exc import DBAPIError, OperationalError, StatementError

from peruwire_crawl import settings as project_defaults
from peruwire_crawl.db.engine import (
    DatabaseBusy,
    DatabaseError,
    check_connection,
    database_error,
    engine_options,
    describe_url,
    first_line,
    crawl_engine,
    resolve_db_url,
)
from peruwire_crawl.db.migrate import upgrade_to_head
from peruwire_crawl.db.schema import FAILED, FINISHED, UNHEALTHY
from peruwire_crawl.db.store import ArticleStore, BadRecord, record_from_item, record_to_json
from peruwire_crawl.exitcodes import (
    ALREADY_RUNNING,
    ALREADY_RUNNING_REASON,
    CONFIG_ERROR,
    DATABASE_BUSY_REASON,
    EXIT_CODE_STAT,
    RUN_LOCK_LOST_REASON,
    STORAGE_UNAVAILABLE_REASON,
)
from peruwire_crawl.exitcodes import UNHEALTHY as UNHEALTHY_EXIT  # schema.UNHEALTHY is a run status
from peruwire_crawl.extensions import HEALTH_REASONS_STAT
from peruwire_crawl.health import run_errors
from peruwire_crawl.runlock import DEFAULT_KEEPALIVE, RunLock, RunLockBusy, RunLockLost
from pipelines.dedup import DuplicateItem, dropped_total

logger = logging.getLogger(__name__)

STATS = "peruwire/store/"

# The pipeline's settings; their defaults live in settings.py (docs/operations.md), and are
# read from there when a crawler was built without the project settings (tests, benchmarks).
DEFAULTS = {
    name: getattr(project_defaults, name)
    for name in ("PERUWIRE_STORE_ENABLED", "PERUWIRE_STORE_BATCH_SIZE", "PERUWIRE_STORE_RETRY_DELAY",
                 "PERUWIRE_STORE_CLOSE_RETRIES", "PERUWIRE_DEAD_LETTER_FILE")
}


class StorePipeline:
    def __init__(self, crawler, *, db_url: str, batch_size: int,
                 retry_delay: float, close_retries: int, dead_letter_file: str,
                 run_lock: RunLock | None = None):
        self.crawler = crawler
        self.stats = crawler.stats
        self.db_url = db_url
        self.batch_size = max(1, batch_size)
        self.retry_delay = retry_delay
        self.close_retries = close_retries
        self.dead_letter_file = Path(dead_letter_file)
        self.store: ArticleStore | None = None
        self.run_lock = run_lock or RunLock(db_url)
        self.run_id: int | None = None
        self.pending: list[dict[str, Any]] = []
        # A dropped duplicate's URL -> (the article it duplicates, the sections that listed it).
        self.pending_duplicates: dict[str, tuple[str, list[str]]] = {}
        self._next_try = 0.0

    @classmethod
    def from_crawler(cls, crawler):
        settings = crawler.settings

        def get(name: str, kind=None):
            getter = {int: settings.getint, float: settings.getfloat, bool: settings.getbool}.get(kind, settings.get)
            return getter(name, DEFAULTS[name])

        if not get("PERUWIRE_STORE_ENABLED", bool):
            raise NotConfigured("PERUWIRE_STORE_ENABLED is off")
        pipeline = cls(
            crawler,
            db_url=resolve_db_url(settings),
            batch_size=get("PERUWIRE_STORE_BATCH_SIZE", int),
            retry_delay=get("PERUWIRE_STORE_RETRY_DELAY", float),
            close_retries=get("PERUWIRE_STORE_CLOSE_RETRIES", int),
            dead_letter_file=get("PERUWIRE_DEAD_LETTER_FILE"),
            run_lock=RunLock(resolve_db_url(settings), engine_options=engine_options(settings),
                             keepalive=settings.getfloat("PERUWIRE_DB_LOCK_KEEPALIVE", DEFAULT_KEEPALIVE)),
        )
        crawler.signals.connect(pipeline.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(pipeline.item_dropped, signal=signals.item_dropped)
        return pipeline

    # --- the run: opened, items, closed ----------------------------------------------------
    def spider_opened(self, spider=None) -> None:
        """Connect, lock, migrate, open the run row. A signal handler rather than the
        pipeline's open_spider: Scrapy honours a CloseSpider raised here once every
        component has started, so they all get stopped cleanly."""
        spider = spider or self.crawler.spider
        engine = None
        try:
            engine = crawl_engine(self.crawler)
            check_connection(engine)
            # Before any migration or write: one run at a time per database.
            self.run_lock.acquire()
            upgrade_to_head(engine)
            store = ArticleStore(engine)
            self.run_id = store.open_run(spider.name)
        except RunLockBusy as exc:
            engine.dispose()
            logger.warning("Not crawling: %s; this run exits with status %d", exc, ALREADY_RUNNING)
            self._stop(ALREADY_RUNNING, ALREADY_RUNNING_REASON)
        except DatabaseError as exc:
            self._unavailable(exc, engine)
        except DBAPIError as exc:
            self._unavailable(database_error(exc, describe_url(engine.url)), engine)
        except Exception as exc:  # why: a crawl that cannot store must not run on, storing nothing
            logger.error("Storage unavailable, stopping the crawl: %s: %s",
                         describe_url(self.db_url), first_line(exc))
            self._stop(CONFIG_ERROR, STORAGE_UNAVAILABLE_REASON, engine)
        self.store = store
        self.stats.set_value(STATS + "run_id", self.run_id)
        logger.info("Storing articles in %s (crawl run %d)", describe_url(engine.url), self.run_id)

    def _unavailable(self, exc: DatabaseError, engine) -> None:
        if isinstance(exc, DatabaseBusy):  # e.g. an analyst's open write transaction
            logger.warning("Not crawling: %s; the database is busy, this run exits with status %d "
                           "(try again later)", exc, ALREADY_RUNNING)
            self._stop(ALREADY_RUNNING, DATABASE_BUSY_REASON, engine)
        logger.error("Storage unavailable, stopping the crawl: %s", exc)
        self._stop(CONFIG_ERROR, STORAGE_UNAVAILABLE_REASON, engine)

    def _stop(self, exit_code: int, reason: str, engine=None):
        if engine is not None:
            engine.dispose()
        self.run_lock.release()
        self.stats.set_value(EXIT_CODE_STAT, exit_code)
        raise CloseSpider(reason) from None

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
            self.pending_duplicates[adapter["url"]] = (exception.duplicate_of, list(adapter.get("sections") or []))

    def close_spider(self, spider=None) -> None:
        if self.store is None:
            return
        for attempt in range(self.close_retries + 1):
            if not (self.pending or self.pending_duplicates) or self.flush():
                break
            if attempt < self.close_retries:
                time.sleep(self.retry_delay)
        if self.pending:
            self._dead_letter(self.pending, "the database kept refusing them")
            self.pending = []

    def spider_closed(self, spider, reason: str) -> None:
        try:
            self._close_run(reason)
        finally:
            self.run_lock.release()

    def _close_run(self, reason: str) -> None:
        if self.store is None:
            return
        stats = self.stats.get_stats()
        failed = stats.get(STATS + "items_failed", 0)
        status = FINISHED if reason == "finished" and not failed else FAILED
        notes = [f"{failed} items written to {self.dead_letter_file}"] if failed else []
        # Health checks (peruwire_crawl/extensions.py), when they have already run.
        health = stats.get(HEALTH_REASONS_STAT) or []
        if health and status == FINISHED:
            status = UNHEALTHY
        notes += [f"health check failed: {reason}" for reason in health]
        try:
            self.store.close_run(
                self.run_id,
                status=status,
                finish_reason=reason,
                pages_fetched=stats.get("downloader/response_count", 0),
                new=stats.get(STATS + "new", 0),
                updated=stats.get(STATS + "updated", 0),
                unchanged=stats.get(STATS + "unchanged", 0),
                duplicates=dropped_total(stats),
                errors=run_errors(stats),
                notes="\n".join(notes) or None,
            )
        except DBAPIError as exc:
            logger.error("Could not close crawl run %d in %s: %s", self.run_id,
                         describe_url(self.store.engine.url), first_line(exc.orig))
        finally:
            self.store.engine.dispose()
            self.store = None

    # --- batches ----------------------------------------------------------------------
    def flush(self) -> bool:
        """Store the pending items; True when none is left pending."""
        if not self._still_locked():
            return True
        batch, self.pending = self.pending, []
        try:
            self._count(self.store.write(batch, run_id=self.run_id))
        except OperationalError as exc:
            self._refused(batch, exc)
            return False
        except (DBAPIError, StatementError):
            # One item the database cannot take spoils its batch: store them one by one.
            self._write_one_by_one(batch)
        except Exception as exc:  # why: whatever went wrong, the batch is kept, never dropped
            self._refused(batch, exc)
            return False
        self._write_duplicates()
        return not self.pending

    def _still_locked(self) -> bool:
        """Whether this run still holds the run lock; if not, it writes nothing more: what
        is pending goes to the dead-letter file and the crawl stops, unhealthy."""
        try:
            self.run_lock.check()
            return True
        except RunLockLost as exc:
            if not self.stats.get_value(STATS + "run_lock_lost"):
                self.stats.set_value(STATS + "run_lock_lost", 1)
                self.stats.set_value(EXIT_CODE_STAT, UNHEALTHY_EXIT)
                logger.error("Stopping the crawl's writes: %s; another run may be writing to the "
                             "database. This run exits with status %d", exc, UNHEALTHY_EXIT)
                deferred_from_coro(self.crawler.engine.close_spider_async(reason=RUN_LOCK_LOST_REASON))
            if self.pending:
                self._dead_letter(self.pending, "the run lock was lost")
                self.pending = []
            self.pending_duplicates = {}
            return False

    def _write_duplicates(self) -> None:
        """A dropped duplicate's URL becomes an alias and its sections are added to the
        article it duplicates. A saving, not data: one that cannot be written is logged
        and let go (the next run then fetches that URL once more)."""
        duplicates, self.pending_duplicates = self.pending_duplicates, {}
        try:
            self.store.record_duplicates(duplicates)
        except Exception as exc:  # why: losing an alias costs one request next run, nothing more
            logger.warning("could not record %d duplicate URLs: %s", len(duplicates),
                           first_line(getattr(exc, "orig", None) or exc))

    def _write_one_by_one(self, batch: list[dict[str, Any]]) -> None:
        for record in batch:
            try:
                self._count(self.store.write([record], run_id=self.run_id))
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

    def _count(self, outcomes) -> None:
        self.stats.inc_value(STATS + "batches")
        for outcome, count in outcomes.items():
            self.stats.inc_value(STATS + outcome, count)

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
