"""The crawl's database: one owner for the engine, the run lock, migrations and the run row.

``CrawlDatabase`` is a Scrapy extension (enabled by the peruwire add-on, switched off with
``PERUWIRE_STORE_ENABLED=False``). Components reach it with
``crawler.get_extension(CrawlDatabase)`` (None when storage is off) and use its
:attr:`~CrawlDatabase.engine`; none of them makes or disposes an engine of its own.

At ``spider_opened`` it connects, takes the run lock (one run at a time per database),
brings the schema up to date (refusing a database newer than the code) and opens the run's
``crawl_runs`` row. A database that cannot be used stops the crawl at once with one plain
log line (``finish_reason`` ``storage_unavailable``, exit status 78); another run holding
the lock stops it with status 75. At ``spider_closed`` (after the item pipelines have
flushed) it closes the row with the run's verdict (:mod:`peruwire_crawl.health`), releases
the lock and disposes the engine, once.
"""

from __future__ import annotations

import logging

from scrapy import signals
from scrapy.exceptions import CloseSpider, NotConfigured
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from peruwire_crawl.addon import DEFAULTS
from peruwire_crawl.db.engine import (
    DatabaseBusy,
    DatabaseError,
    check_connection,
    database_error,
    describe_url,
    engine_options,
    first_line,
    make_engine,
)
from peruwire_crawl.db.migrate import upgrade_to_head
from peruwire_crawl.db.runlock import RunLock, RunLockBusy
from peruwire_crawl.db.schema import FAILED, FINISHED, UNHEALTHY
from peruwire_crawl.db.store import ArticleStore
from peruwire_crawl.health import (
    ALREADY_RUNNING,
    ALREADY_RUNNING_REASON,
    CONFIG_ERROR,
    DATABASE_BUSY_REASON,
    EXIT_CODE_STAT,
    STORAGE_UNAVAILABLE_REASON,
    RunMonitor,
    dropped_total,
    run_errors,
)

logger = logging.getLogger(__name__)

STORE_STATS = "peruwire/store/"


class CrawlDatabase:
    def __init__(self, crawler, db_url: str, options: dict, lock_keepalive: float):
        self.crawler = crawler
        self.stats = crawler.stats
        self.db_url = db_url
        self.options = options  # make_engine's timeouts and adopt flag (engine_options)
        self.run_lock = RunLock(db_url, engine_options=options, keepalive=lock_keepalive)
        self.shared_run = None  # cluster mode: see share_run()
        self.store: ArticleStore | None = None  # set once the database is ready
        self.run_id: int | None = None
        self._engine: Engine | None = None
        self._closed = False
        # Where the dead-letter file is, for the run row's notes.
        self.dead_letter_file = crawler.settings.get("PERUWIRE_DEAD_LETTER_FILE")

    @classmethod
    def from_crawler(cls, crawler) -> "CrawlDatabase":
        settings = crawler.settings
        if not settings.getbool("PERUWIRE_STORE_ENABLED"):
            raise NotConfigured  # nothing stored, and no memory of earlier runs
        database = cls(crawler, settings.get("PERUWIRE_DB_URL"), engine_options(settings),
                       settings.getfloat("PERUWIRE_DB_LOCK_KEEPALIVE"))
        crawler.signals.connect(database.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(database.spider_closed, signal=signals.spider_closed)
        return database

    def share_run(self, coordinator) -> None:
        """Cluster mode (peruwire_crawl/cluster/): the run lock and the crawl_runs row belong
        to a run that several processes share. ``coordinator`` refuses a database the cluster
        cannot share (``check_database``), is the run lock (``run_lock``), opens the row once
        for all (``open_run``) and closes it once with every process's counts (``close_run``)."""
        self.shared_run = coordinator
        self.run_lock = coordinator.run_lock(self.db_url)

    @property
    def engine(self) -> Engine:
        """The crawl's one engine, made on first use; raises ``DatabaseError`` for a URL that
        cannot work. (The run lock keeps a connection of its own: see ``runlock``.)"""
        if self._closed:
            raise RuntimeError("the crawl's database is closed: the run has ended")
        if self._engine is None:
            self._engine = make_engine(self.db_url, **self.options)
        return self._engine

    @property
    def ready(self) -> bool:
        """Connected, locked, migrated and with an open run row."""
        return self.store is not None

    # --- the run: opened, closed ---------------------------------------------------------
    def spider_opened(self, spider=None) -> None:
        """A signal handler rather than a pipeline's open_spider: Scrapy honours a
        CloseSpider raised here once every component has started, so all stop cleanly."""
        spider = spider or self.crawler.spider
        try:
            if self.shared_run is not None:
                self.shared_run.check_database(self.db_url)
            check_connection(self.engine)
            # Before any migration or write: one run at a time per database.
            self.run_lock.acquire()
            upgrade_to_head(self.engine)
            store = ArticleStore(self.engine)
            self.run_id = (self.shared_run.open_run(lambda: store.open_run(spider.name)) if self.shared_run
                           else store.open_run(spider.name))
        except RunLockBusy as exc:
            logger.warning("Not crawling: %s; this run exits with status %d", exc, ALREADY_RUNNING)
            self._stop(ALREADY_RUNNING, ALREADY_RUNNING_REASON)
        except DatabaseError as exc:
            self._unavailable(exc)
        except DBAPIError as exc:
            self._unavailable(database_error(exc, describe_url(self.db_url)))
        except Exception as exc:  # why: a crawl that cannot store must not run on, storing nothing
            logger.error("Storage unavailable, stopping the crawl: %s: %s (check PERUWIRE_DB_URL and the "
                         "database it names)", describe_url(self.db_url), first_line(exc))
            self._stop(CONFIG_ERROR, STORAGE_UNAVAILABLE_REASON)
        self.store = store
        self.stats.set_value(STORE_STATS + "run_id", self.run_id)
        logger.info("Storing articles in %s (crawl run %d)", describe_url(self.db_url), self.run_id)

    def _unavailable(self, exc: DatabaseError) -> None:
        if isinstance(exc, DatabaseBusy):  # e.g. an analyst's open write transaction
            logger.warning("Not crawling: %s; the database is busy, this run exits with status %d "
                           "(try again later)", exc, ALREADY_RUNNING)
            self._stop(ALREADY_RUNNING, DATABASE_BUSY_REASON)
        logger.error("Storage unavailable, stopping the crawl: %s (check PERUWIRE_DB_URL and the "
                     "database it names)", exc)
        self._stop(CONFIG_ERROR, STORAGE_UNAVAILABLE_REASON)

    def _stop(self, exit_code: int, reason: str):
        self._release()
        self.stats.set_value(EXIT_CODE_STAT, exit_code)
        raise CloseSpider(reason) from None

    def spider_closed(self, spider, reason: str) -> None:
        try:
            if self.ready:
                self._close_run(reason)
        finally:
            self._release()

    def _close_run(self, reason: str) -> None:
        monitor = self.crawler.get_extension(RunMonitor)
        health = list(monitor.verdict(reason).failures) if monitor is not None else []
        if self.shared_run is None:
            self._write_run_row(reason, self.stats.get_stats(), health)
        else:  # one process closes the shared row, with every process's counts
            self.shared_run.close_run(
                lambda counts, lines: self._write_run_row(counts["finish_reason"], counts, health, lines))

    def _write_run_row(self, reason: str, stats: dict, health: list[str], extra_notes=()) -> None:
        failed = stats.get(STORE_STATS + "items_failed", 0)
        status = FINISHED if reason == "finished" and not failed else FAILED
        notes = [f"{failed} items written to {self.dead_letter_file}"] if failed else []
        notes += extra_notes
        if health and status == FINISHED:
            status = UNHEALTHY
        notes += [f"health check failed: {failure}" for failure in health]
        try:
            self.store.close_run(
                self.run_id,
                status=status,
                finish_reason=reason,
                pages_fetched=stats.get("downloader/response_count", 0),
                new=stats.get(STORE_STATS + "new", 0),
                updated=stats.get(STORE_STATS + "updated", 0),
                unchanged=stats.get(STORE_STATS + "unchanged", 0),
                duplicates=dropped_total(stats),
                errors=run_errors(stats),
                notes="\n".join(notes) or None,
            )
        except DBAPIError as exc:
            logger.error("Could not close crawl run %d in %s: %s", self.run_id,
                         describe_url(self.db_url), first_line(exc.orig))

    def _release(self) -> None:
        """The lock and the engine go, once: later calls find nothing to release."""
        self.store = None
        self._closed = True
        self.run_lock.release()
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None


def record_refused_run(settings, spider: str, reason: str, notes: str) -> bool:
    """A run stopped before it began (a configuration mistake), recorded as a ``failed``
    ``crawl_runs`` row so that ``peruwire runs`` shows it. Nothing else is written; False
    when the database itself cannot be used (then the log line is the only record)."""
    try:
        busy_timeout = settings.getfloat("PERUWIRE_DB_BUSY_TIMEOUT")
    except ValueError:  # the mistake being recorded may be this very setting
        busy_timeout = DEFAULTS["PERUWIRE_DB_BUSY_TIMEOUT"]
    try:
        engine = make_engine(settings.get("PERUWIRE_DB_URL"), busy_timeout=busy_timeout)
    except Exception:  # why: a URL that cannot work is itself the mistake being reported
        return False
    try:
        check_connection(engine)
        upgrade_to_head(engine)
        store = ArticleStore(engine)
        run_id = store.open_run(spider)
        store.close_run(run_id, status=FAILED, finish_reason=reason, notes=notes, pages_fetched=0,
                        new=0, updated=0, unchanged=0, duplicates=0, errors=1)
        return True
    except Exception:  # why: an unusable database only means the refusal goes unrecorded
        return False
    finally:
        engine.dispose()
