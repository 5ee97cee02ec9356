"""scrapy-redis's scheduler, on the keys of the cluster run this worker joined.

scrapy-redis names its keys from settings at start-up; a cluster run's keys carry the run's
token, known only once the worker has joined (at ``spider_opened``, see :mod:`.worker`), so
the queue and the duplicate filter are made on first use. Enqueueing checks the duplicate
filter and pushes in one atomic step (:meth:`ReliableQueue.push_unseen`); popping moves the
request into the worker's taken set. The queue (scrapy-redis's priority queue), the request
encoding and the fingerprints (scrapy-redis's duplicate filter) are scrapy-redis's.
"""

from __future__ import annotations

from scrapy_redis.dupefilter import RFPDupeFilter
from scrapy_redis.scheduler import Scheduler

from peruwire_crawl.cluster.queue import ReliableQueue


class ClusterScheduler(Scheduler):
    @classmethod
    def from_crawler(cls, crawler):
        from peruwire_crawl.cluster.worker import ClusterWorker

        worker = crawler.get_extension(ClusterWorker)
        worker.attach()  # the run lock and the crawl_runs row become the cluster's
        # Redis is reached through the worker's connection; whether it answers is checked
        # when the worker joins, which refuses an unreachable server in one log line.
        scheduler = cls(server=worker.server, persist=True)
        scheduler.worker = worker
        scheduler.stats = crawler.stats
        scheduler.debug = crawler.settings.getbool("DUPEFILTER_DEBUG")
        return scheduler

    def open(self, spider):
        # The queue and the fingerprints belong to the run, joined later (spider_opened).
        self.spider = spider
        self._queue = None

    @property
    def queue(self) -> ReliableQueue:
        if self._queue is None:
            registry = self.worker.registry
            self._queue = ReliableQueue(self.server, self.spider, registry, serializer=self.serializer)
            self.df = RFPDupeFilter(self.server, key=registry.dupefilter_key, debug=self.debug)
        return self._queue

    def close(self, reason):
        # The queue outlives any one worker: the run's last worker retires it.
        pass

    def enqueue_request(self, request):
        queue = self.queue
        if request.dont_filter:
            queue.push(request)
        elif not queue.push_unseen(request, self.df.request_fingerprint(request)):
            self.df.log(request, self.spider)
            return False
        self.stats.inc_value("scheduler/enqueued/redis")
        return True

    def has_pending_requests(self):
        if not self.worker.joined:
            return False
        return super().has_pending_requests()

    def next_request(self):
        if not self.worker.joined:
            return None
        request = self.queue.pop()
        if request is not None:
            self.stats.inc_value("scheduler/dequeued/redis")
        return request
