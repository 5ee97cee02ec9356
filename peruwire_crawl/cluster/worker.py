"""One worker's part in a cluster run: join or seed, heartbeats, idle, the shared verdict.

``ClusterWorker`` is a Scrapy extension (enabled by the cluster add-on). The storage side of
the crawl uses it in place of the single-process run lock:

- ``run_lock(db_url)``: itself, as the run lock on ``db_url``;
- ``acquire()``: the cluster's share of the PostgreSQL run lock (:mod:`.lock`), then joining
  the run in progress or, with none, starting one (``seeds``);
- ``open_run(open_row)``: the seeding worker opens the run's one ``crawl_runs`` row and tells
  the others its id; a joining worker gets that id;
- ``close_run(close_row)``: at the end exactly one worker closes the row, with the counts of
  every worker added up and one line per worker in its notes;
- ``release()``.

While the crawl runs it sends a heartbeat (and its counts) every few seconds, hands the
taken requests of workers whose heartbeat stopped back to the queue, and, whenever its own
engine has nothing left, reports itself idle: the run ends when the queue is empty and every
live worker is idle. Then each worker publishes its final counts, waits for the others', and
judges the *cluster's* counts, so every worker exits with the same verdict.

``ClusterSpiderMiddleware`` finds when everything a response produced has gone on (new
requests queued, items through the pipelines); the worker acknowledges the request once
storage has also committed those items (``store_caught_up``), a batch of requests at a time.
The middleware also lets only the seeding worker emit the spider's start requests.
"""

from __future__ import annotations

import logging
import time
from urllib.parse import urlsplit, urlunsplit

import redis
from scrapy import Request, signals
from scrapy.exceptions import CloseSpider, DontCloseSpider, NotConfigured
from sqlalchemy.engine import make_url
from twisted.internet import task

from peruwire_crawl.cluster.config import ClusterConfig
from peruwire_crawl.cluster.lock import ClusterRunLock
from peruwire_crawl.cluster.queue import TAKEN_META_KEY
from peruwire_crawl.cluster.registry import CLOSING, ClusterRegistry, Membership
from peruwire_crawl.db.crawl import CrawlDatabase
from peruwire_crawl.db.engine import DatabaseError, describe_url
from peruwire_crawl.db.runlock import RunLockBusy
from peruwire_crawl.health import CONFIG_ERROR, EXIT_CODE_STAT, RunMonitor, dropped_total, run_errors
from peruwire_crawl.signals import store_caught_up

logger = logging.getLogger(__name__)

STATS = "peruwire/cluster/"
# Counts that are the same on every worker (or a status), not to be added up.
NOT_ADDITIVE = {"peruwire/store/run_id", "peruwire/exit_code"}


class ClusterUnavailable(DatabaseError):
    """The cluster's Redis cannot be used (told in one sentence, exit status 78)."""


def describe_redis_url(url: str) -> str:
    """The Redis URL fit for a log line: the password replaced by ***."""
    parts = urlsplit(url)
    if parts.password:
        netloc = f"{parts.username or ''}:***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
        parts = parts._replace(netloc=netloc)
    return urlunsplit(parts)


class ClusterWorker:
    def __init__(self, crawler, config: ClusterConfig):
        self.crawler = crawler
        self.config = config
        self.registry = ClusterRegistry.from_url(
            config.redis_url, config.key_prefix, config.worker, config.worker_timeout
        )
        self.server = self.registry.server
        self.membership: Membership | None = None
        self.crawl_run_id: int | None = None
        self.run_ended = False
        self.lock: ClusterRunLock | None = None
        # At the end: the counts of the whole cluster, and what the cluster's run lacked.
        self.cluster_stats: dict | None = None
        self.cluster_failures: list[str] = []
        self.worker_records: dict[str, dict] = {}
        self._loops: list[task.LoopingCall] = []
        self._concluded = False
        # Finished requests whose items may still wait in the storage pipeline's batch: they
        # are acknowledged (taken off this worker's taken set) once storage has caught up.
        self._finished: list[bytes] = []
        self._storage_wait_started: float | None = None

    @classmethod
    def from_crawler(cls, crawler):
        config = ClusterConfig.from_settings(crawler.settings)
        if config is None:
            raise NotConfigured("no PERUWIRE_REDIS_URL: single-process mode")
        worker = cls(crawler, config)
        crawler.signals.connect(worker.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(worker.spider_idle, signal=signals.spider_idle)
        crawler.signals.connect(worker.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(worker.store_caught_up, signal=store_caught_up)
        return worker

    def attach(self) -> None:
        """Take over the run lock and the crawl_runs row of the crawl's database, and give the
        run monitor the cluster's counts. Called by the scheduler when the engine opens (the
        extensions cannot look each other up while they are being built)."""
        database = self.crawler.get_extension(CrawlDatabase)
        if database is not None and database.shared_run is None:
            database.share_run(self)
        monitor = self.crawler.get_extension(RunMonitor)
        if monitor is not None and monitor.shared_run is None:
            monitor.share_run(self)

    @property
    def joined(self) -> bool:
        return self.membership is not None

    @property
    def seeds(self) -> bool:
        return self.joined and self.membership.seeds

    def describe(self) -> str:
        return f"the cluster at {describe_redis_url(self.config.redis_url)} (prefix {self.config.key_prefix!r})"

    # --- entering the run (called by the crawl's database, in place of the run lock) ------
    def check_database(self, db_url: str) -> None:
        """Workers on several machines share one database: PostgreSQL, not a SQLite file."""
        if make_url(db_url).get_backend_name() == "sqlite":
            raise DatabaseError(
                f"cluster mode (PERUWIRE_REDIS_URL) needs PostgreSQL, and {describe_url(db_url)} is SQLite: "
                "set PERUWIRE_DB_URL=postgresql+psycopg://user@host/dbname")

    def run_lock(self, db_url: str) -> "ClusterWorker":
        self.lock = ClusterRunLock(db_url, identity=self.describe())
        return self

    def check(self) -> None:
        """The run lock's check before a write batch: this worker's share of the lock."""
        self.lock.check()

    def acquire(self) -> None:
        """Take the cluster's share of the run lock and join the cluster run (or seed a new
        one). Raises RunLockBusy (exit 75) or ClusterUnavailable (78)."""
        self.lock.acquire()
        try:
            self._join()
        except BaseException:
            self.lock.release()
            raise

    def _join(self) -> None:
        try:
            self.server.ping()
        except redis.RedisError as exc:
            raise ClusterUnavailable(
                f"cannot reach the cluster's Redis at {describe_redis_url(self.config.redis_url)}: {exc}"
            ) from None
        deadline = time.monotonic() + self.config.close_wait
        membership = self.registry.join()
        while membership.role == CLOSING:
            if time.monotonic() >= deadline:
                raise RunLockBusy(f"the previous run of {self.describe()} is still closing")
            time.sleep(0.5)
            membership = self.registry.join()
        if membership.abandoned:
            logger.warning("cluster run %s had no live worker left; starting a new run in its place",
                           membership.abandoned)
        if not membership.seeds:
            self.crawl_run_id = self.registry.crawl_run_id(timeout=2 * self.config.worker_timeout)
            if self.crawl_run_id is None:
                self.registry.leave({"stats": {}, "finish_reason": "no_crawl_run"})
                raise RunLockBusy(f"the first worker of the run of {self.describe()} never opened its "
                                  "crawl_runs row")
        self.membership = membership
        stats = self.crawler.stats
        stats.set_value(STATS + "worker", self.config.worker)
        stats.set_value(STATS + "role", membership.role)
        stats.set_value(STATS + "run_token", membership.token)
        logger.info("Cluster worker %s %s cluster run %s (%s)", self.config.worker,
                    "seeds" if membership.seeds else "joins", membership.token, self.describe())

    def open_run(self, open_row) -> int:
        """The run's crawl_runs id: opened by the seeding worker, shared with the others."""
        if self.seeds:
            self.crawl_run_id = open_row()
            self.registry.publish_crawl_run_id(self.crawl_run_id)
        return self.crawl_run_id

    def release(self) -> None:
        if self.lock is not None:
            self.lock.release()

    # --- during the run -----------------------------------------------------------------
    def spider_opened(self, spider):
        if not self.crawler.settings.getbool("PERUWIRE_STORE_ENABLED"):
            # The run's lock, its crawl_runs row and the shared database live in storage.
            logger.error("Cluster mode (PERUWIRE_REDIS_URL) needs storage: PERUWIRE_STORE_ENABLED is off")
            self.crawler.stats.set_value(EXIT_CODE_STAT, CONFIG_ERROR)
            raise CloseSpider("config_error")
        self._start_loop(self._beat, self.config.heartbeat)
        self._start_loop(self._poke_engine, self.config.idle_poll)

    def _start_loop(self, function, interval: float) -> None:
        loop = task.LoopingCall(function)
        loop.start(interval, now=False).addErrback(
            lambda failure: logger.error("cluster %s stopped: %s", function.__name__, failure.value))
        self._loops.append(loop)

    def _beat(self) -> None:
        if not self.joined:
            return
        try:
            self.registry.heartbeat(shareable_stats(self.crawler.stats.get_stats()))
            self._reclaim()
        except redis.RedisError as exc:
            # The heartbeat goes on; if Redis stays away the others take this worker for dead
            # and hand its taken requests out again: fetched twice at worst, never lost.
            logger.warning("cluster heartbeat failed: %s", exc)

    def _reclaim(self) -> int:
        moved, dead = self.registry.reclaim()
        for worker in dead:
            logger.warning("cluster worker %s stopped answering; its taken requests go back to the queue",
                           worker)
        if moved:
            logger.warning("%d requests taken by stopped workers were put back in the queue", moved)
            self.crawler.stats.inc_value(STATS + "reclaimed_requests", moved)
        return moved

    def _poke_engine(self) -> None:
        """Let the engine look at the shared queue again. It does so by itself every 5 s
        (its heartbeat); an idle worker waiting for the others' new requests looks sooner.
        Scrapy has no public call for this, hence the guarded private one."""
        slot = getattr(self.crawler.engine, "_slot", None)
        nextcall = getattr(slot, "nextcall", None)
        if self.joined and nextcall is not None:
            nextcall.schedule()

    def ack(self, request) -> None:
        """This worker has finished with ``request``: its new requests are queued and its
        items are through the pipelines. It stays taken until they are committed too."""
        encoded = request.meta.pop(TAKEN_META_KEY, None)
        if encoded is not None and self.joined:
            self._finished.append(encoded)

    def store_caught_up(self) -> None:
        """Every item so far is committed: the finished requests are safe to let go of, in
        one round trip. Until then a killed worker's requests go to another worker."""
        if not (self._finished and self.joined):
            return
        finished, self._finished = self._finished, []
        try:
            self.registry.ack(*finished)
        except redis.RedisError as exc:
            # Still taken: another worker may fetch them once more, stored once by URL.
            logger.warning("cluster acknowledgement of %d requests failed: %s", len(finished), exc)

    def spider_idle(self, spider):
        """Nothing left in this worker: the run ends once that is true of every worker and
        the queue is empty; until then wait for the others' new requests."""
        if not self.joined:
            return
        self._reclaim()
        if self._waiting_for_storage():
            raise DontCloseSpider
        if self.registry.idle():
            self.run_ended = True
            return
        raise DontCloseSpider

    def _waiting_for_storage(self) -> bool:
        """Not idle while this worker's items wait to be committed (storage writes them on
        this same idle signal) unless the database has refused them for ``close_wait``
        seconds: then the end of the run stores them or writes them to the dead-letter file."""
        if not self._finished:
            self._storage_wait_started = None
            return False
        now = time.monotonic()
        if self._storage_wait_started is None:
            self._storage_wait_started = now
        if now - self._storage_wait_started < self.config.close_wait:
            return True
        logger.warning("storage has not committed this worker's last items for %.0f s; this worker "
                       "counts as idle, and the end of the run stores them or keeps them in the "
                       "dead-letter file", self.config.close_wait)
        return False

    # --- the end ------------------------------------------------------------------------
    def spider_closed(self, spider, reason):
        self.conclude(reason)

    def shared_stats(self, own_stats: dict) -> tuple[dict, list[str]]:
        """For the run monitor: the cluster's counts and what only the cluster can see
        failing (this worker's own when it did not see the run end)."""
        self.conclude(own_stats.get("finish_reason", "finished"))
        if self.cluster_stats is None:
            return own_stats, []
        return dict(self.cluster_stats), list(self.cluster_failures)

    def conclude(self, reason: str) -> None:
        """Once, at the end: publish this worker's final counts, wait for the others', add
        them up. A worker stopped before the run ended just leaves it to the others."""
        if self._concluded:
            return
        self._concluded = True
        for loop in self._loops:
            if loop.running:
                loop.stop()
        if not self.joined:
            return
        record = {"stats": shareable_stats(self.crawler.stats.get_stats()), "finish_reason": reason}
        if not self.run_ended:
            # Stopped before the run ended (a shutdown, a storage failure): the others go on
            # and take over what this worker had taken.
            self.registry.leave(record)
            return
        self.registry.finish({**record, "final": True})
        missing = self.registry.wait_for_workers(self.config.close_wait)
        self.worker_records = self.registry.records()
        self.cluster_stats = merge_records(self.worker_records)
        self.cluster_failures = [
            f"cluster worker {worker} did not report its final counts within "
            f"{self.config.close_wait:.0f} s" for worker in missing
        ]
        lost = self.registry.lost_workers()
        self.crawler.stats.set_value(STATS + "workers", len(self.worker_records))
        self.crawler.stats.set_value(STATS + "lost_workers", lost)

    def close_run(self, close_row) -> None:
        """Exactly one worker closes the run's crawl_runs row, with the cluster's counts;
        then the run's queue and fingerprints are dropped and the next run may start."""
        if not (self.run_ended and self.cluster_stats is not None):
            return
        if not self.registry.claim_closer():
            return
        try:
            close_row(self.cluster_stats, worker_lines(self.worker_records, self.registry.lost_workers()))
        finally:
            self.registry.retire()


class ClusterSpiderMiddleware:
    """Acknowledges a response's request once everything it produced is safe: its new
    requests queued in Redis and its items through the item pipelines (stored). Only the
    seeding worker runs the spider's ``start()``.

    Scrapy handles a callback's output in parallel tasks, so the end of the callback is not
    the end of its output. Hence new requests are queued here, at once, as the scraper would
    (``engine.crawl``), and items are counted until the item signals say each is through.
    Enabled closest to the engine (the lowest order), it sees the final output."""

    def __init__(self, crawler, worker: ClusterWorker):
        self.crawler = crawler
        self.worker = worker
        self._items_in_pipeline: dict = {}  # a response's request -> its items not yet through
        self._output_done: set = set()  # requests whose callback output has been read whole
        for signal in (signals.item_scraped, signals.item_dropped, signals.item_error):
            crawler.signals.connect(self._item_through, signal=signal)

    @classmethod
    def from_crawler(cls, crawler):
        worker = crawler.get_extension(ClusterWorker)
        if worker is None:
            raise NotConfigured("single-process mode")
        return cls(crawler, worker)

    async def process_start(self, start):
        if not self.worker.seeds:
            return  # the run is seeded by its first worker; the others take from the queue
        async for item_or_request in start:
            yield item_or_request

    def process_spider_output(self, response, result):
        request = response.request
        try:
            for output in result:
                if self._pass_on(request, output):
                    yield output
        finally:
            self._read_whole(request)

    async def process_spider_output_async(self, response, result):
        request = response.request
        try:
            async for output in result:
                if self._pass_on(request, output):
                    yield output
        finally:
            self._read_whole(request)

    def _pass_on(self, request, output) -> bool:
        if isinstance(output, Request):
            self.crawler.engine.crawl(output)  # in Redis before its parent is acknowledged
            return False
        if output is not None:
            self._items_in_pipeline[request] = self._items_in_pipeline.get(request, 0) + 1
        return True

    def _read_whole(self, request) -> None:
        self._output_done.add(request)
        self._ack_when_safe(request)

    def _item_through(self, item, response, spider=None, **kwargs):
        request = getattr(response, "request", None)
        if request in self._items_in_pipeline:
            self._items_in_pipeline[request] -= 1
            self._ack_when_safe(request)

    def _ack_when_safe(self, request) -> None:
        if request in self._output_done and not self._items_in_pipeline.get(request):
            self._output_done.discard(request)
            self._items_in_pipeline.pop(request, None)
            self.worker.ack(request)


def shareable_stats(stats: dict) -> dict:
    """The stats that add up across workers: counts, and lists (e.g. the empty sections)."""
    return {k: v for k, v in stats.items()
            if (isinstance(v, (int, float)) and not isinstance(v, bool)) or isinstance(v, list)}


def merge_records(records: dict[str, dict]) -> dict:
    """The cluster's counts: every worker's added up (a worker that stopped early or died
    counts with its last counts); the finish reason is 'finished' only when every worker
    present at the end of the run finished (the others' work was taken over)."""
    total: dict = {}
    for record in records.values():
        for name, value in record.get("stats", {}).items():
            if name in NOT_ADDITIVE:
                total[name] = max(total.get(name, value), value)
            elif isinstance(value, list):
                total[name] = total.get(name, []) + [v for v in value if v not in total.get(name, [])]
            else:
                total[name] = total.get(name, 0) + value
    reasons = sorted({r.get("finish_reason") for r in records.values() if r.get("final")} - {"finished"})
    total["finish_reason"] = reasons[0] if reasons else "finished"
    return total


def worker_lines(records: dict[str, dict], lost: list[str]) -> list[str]:
    """One line per worker for crawl_runs.notes: what each did."""
    lines = []
    # A worker killed before its first heartbeat left no counts, but it was in the run.
    records = {**{worker: {} for worker in lost}, **records}
    for worker, record in sorted(records.items()):
        stats = record.get("stats", {})
        state = ""
        if worker in lost:
            state = f" (stopped during the run: {'last counts' if stats else 'no counts reported'})"
        lines.append(
            f"worker {worker}{state}: {stats.get('downloader/response_count', 0)} pages, "
            f"{stats.get('peruwire/store/new', 0)} new, {stats.get('peruwire/store/updated', 0)} updated, "
            f"{stats.get('peruwire/store/unchanged', 0)} unchanged, {dropped_total(stats)} duplicates, "
            f"{run_errors(stats)} errors"
        )
    return lines
