"""The cluster's shared state in a real Redis: joining, the reliable hand-over of taken
requests, end-of-run detection, the cluster's run lock on a real PostgreSQL, the add-on's
settings, and how the workers' counts are added up.

Workers here are registry handles in one process; tests/test_cluster_e2e.py runs real
``scrapy crawl`` workers.
"""

from __future__ import annotations

import time

import pytest
import redis
from scrapy.settings import Settings

from peruwire_crawl.cluster.addon import Cluster
from peruwire_crawl.cluster.lock import ClusterRunLock
from peruwire_crawl.cluster.registry import CLOSING, JOIN, SEED, ClusterRegistry
from peruwire_crawl.cluster.worker import merge_records
from peruwire_crawl.db.runlock import RunLock, RunLockBusy


@pytest.fixture
def make_worker(redis_url, cluster_prefix):
    made = []

    def make(name: str, timeout: float = 30.0) -> ClusterRegistry:
        registry = ClusterRegistry.from_url(redis_url, cluster_prefix, name, timeout)
        made.append(registry)
        return registry

    yield make
    for registry in made:
        registry.server.close()


def push(registry: ClusterRegistry, *requests: bytes, priority: int = 0) -> None:
    """What scrapy-redis's PriorityQueue.push does: score = -priority."""
    for request in requests:
        registry.server.zadd(registry.queue_key, {request: -priority})


def queued(registry: ClusterRegistry) -> set[bytes]:
    return set(registry.server.zrange(registry.queue_key, 0, -1))


def taken(registry: ClusterRegistry) -> set[bytes]:
    return set(registry.server.zrange(registry.taken_key, 0, -1))


def test_the_first_worker_seeds_and_the_others_join(make_worker):
    first, second, third = make_worker("a"), make_worker("b"), make_worker("c")
    seeded = first.join()
    assert seeded.role == SEED and seeded.seeds
    assert second.join() == third.join().__class__(JOIN, seeded.token, "")
    assert second.token == third.token == first.token
    first.publish_crawl_run_id(41)
    assert third.crawl_run_id(timeout=1) == 41


def test_a_pop_moves_the_request_into_the_workers_taken_set_until_acknowledged(make_worker):
    worker = make_worker("a")
    worker.join()
    push(worker, b"low", priority=0)
    push(worker, b"high", priority=10)
    assert worker.pop() == b"high"  # scrapy-redis's priority order is kept
    assert queued(worker) == {b"low"} and taken(worker) == {b"high"}
    worker.ack(b"high")
    assert taken(worker) == set()
    assert worker.pop() == b"low" and worker.pop() is None


def test_a_dead_workers_taken_requests_go_back_to_the_queue(make_worker):
    survivor, doomed = make_worker("survivor"), make_worker("doomed", timeout=0.3)
    survivor.join()
    doomed.join()
    push(survivor, b"r1", b"r2", b"r3")
    assert doomed.pop() and doomed.pop()
    assert survivor.reclaim() == (0, [])  # alive: nothing moves
    time.sleep(0.5)  # no heartbeat: the worker timeout runs out
    moved, dead = survivor.reclaim()
    assert (moved, dead) == (2, ["doomed"])
    assert queued(survivor) == {b"r1", b"r2", b"r3"}
    assert survivor.lost_workers() == ["doomed"]
    # Nothing is in two places, nothing was dropped.
    assert taken(doomed) == set()


def test_a_worker_taken_for_dead_that_comes_back_rejoins(make_worker):
    other, slow = make_worker("other"), make_worker("slow", timeout=0.3)
    other.join()
    slow.join()
    time.sleep(0.5)
    other.reclaim()
    assert b"slow" not in other.server.smembers(other.key("workers"))
    assert other.lost_workers() == ["slow"]
    slow.heartbeat({"downloader/response_count": 3})
    assert b"slow" in other.server.smembers(other.key("workers"))
    assert other.lost_workers() == []
    assert other.records()["slow"] == {"downloader/response_count": 3}


def test_the_run_ends_only_when_the_queue_is_empty_and_every_worker_is_idle(make_worker):
    a, b = make_worker("a"), make_worker("b")
    a.join()
    b.join()
    push(a, b"page-1")
    assert b.pop() == b"page-1"
    assert not a.idle()  # b is working on a request
    push(b, b"article-1")  # b's callback queued a new request, then b went idle
    assert not b.idle()  # the queue is not empty
    assert a.pop() == b"article-1"  # a pops: a is no longer idle
    assert not b.idle()
    assert a.idle()  # a finished: queue empty, both idle
    assert b.idle()  # and it stays ended for everyone


def test_a_new_worker_waits_while_a_run_closes_and_seeds_after(make_worker):
    a, b, late = make_worker("a"), make_worker("b"), make_worker("late")
    first = a.join()
    b.join()
    assert a.idle() is False and b.idle() and a.idle()
    assert late.join().role == CLOSING
    assert a.claim_closer() and not b.claim_closer()  # exactly one closes the run's row
    a.retire()
    second = late.join()
    assert second.role == SEED and second.token != first.token
    assert not late.server.exists(f"{late.prefix}:{first.token}:requests")


def test_a_run_whose_workers_all_died_is_replaced_by_a_new_one(make_worker):
    doomed = make_worker("doomed", timeout=0.2)
    old = doomed.join()
    push(doomed, b"stale")
    time.sleep(0.4)
    newcomer = make_worker("new")
    fresh = newcomer.join()
    assert fresh.role == SEED and fresh.abandoned == old.token
    assert queued(newcomer) == set()  # the new run starts afresh: the database knows what is stored
    assert not newcomer.server.exists(f"{newcomer.prefix}:{old.token}:requests")


def test_waiting_for_the_others_final_counts(make_worker):
    a, b = make_worker("a"), make_worker("b")
    a.join()
    b.join()
    a.finish({"stats": {"x": 1}})
    assert a.wait_for_workers(timeout=0.3) == ["b"]
    b.finish({"stats": {"x": 2}})
    assert a.wait_for_workers(timeout=0.3) == []
    assert merge_records(a.records())["x"] == 3


def test_counts_are_added_up_and_an_unfinished_worker_at_the_end_shows_in_the_reason():
    records = {
        "a": {"stats": {"downloader/response_count": 10, "peruwire/store/run_id": 7}, "finish_reason": "finished",
              "final": True},
        "b": {"stats": {"downloader/response_count": 5, "peruwire/store/run_id": 7}, "finish_reason": "finished",
              "final": True},
        "left": {"stats": {"downloader/response_count": 1}, "finish_reason": "shutdown"},  # taken over
        "dead": {"downloader/response_count": 2},  # a dead worker's last heartbeat snapshot
    }
    records["dead"] = {"stats": records["dead"]}
    records["a"]["stats"]["peruwire/sections/empty"] = ["http://a/tag/x/"]
    records["b"]["stats"]["peruwire/sections/empty"] = ["http://a/tag/x/", "http://b/tag/y/"]
    merged = merge_records(records)
    assert merged["peruwire/sections/empty"] == ["http://a/tag/x/", "http://b/tag/y/"]
    assert merged["downloader/response_count"] == 18
    assert merged["peruwire/store/run_id"] == 7
    assert merged["finish_reason"] == "finished"
    records["b"]["finish_reason"] = "shutdown"
    assert merge_records(records)["finish_reason"] == "shutdown"


# --- the run lock on PostgreSQL ---------------------------------------------------------------

@pytest.mark.postgres
def test_workers_of_one_cluster_share_the_lock_and_other_runs_are_refused(postgres_url):
    worker_1 = ClusterRunLock(postgres_url, "redis://host-a/0|peruwire")
    worker_2 = ClusterRunLock(postgres_url, "redis://host-a/0|peruwire")
    other_cluster = ClusterRunLock(postgres_url, "redis://host-b/0|peruwire")
    single = RunLock(postgres_url)
    worker_1.acquire()
    worker_2.acquire()  # joining is normal
    try:
        with pytest.raises(RunLockBusy, match="another cluster"):
            other_cluster.acquire()
        with pytest.raises(RunLockBusy):
            single.acquire()
    finally:
        worker_1.release()
        worker_2.release()
    single.acquire()  # the cluster's last worker gone: the lock is free
    try:
        with pytest.raises(RunLockBusy, match="single-process"):
            other_cluster.acquire()
    finally:
        single.release()
    other_cluster.acquire()
    other_cluster.release()


# --- the add-on -----------------------------------------------------------------------------

def addon_settings(values: dict | None = None) -> Settings:
    settings = Settings()
    settings.setdict(values or {}, priority="project")
    settings.setdefault("PERUWIRE_STORE_BATCH_SIZE", 100, priority="addon")  # as the peruwire add-on does
    Cluster().update_settings(settings)
    return settings


def test_without_a_redis_url_the_addon_changes_nothing(monkeypatch):
    monkeypatch.delenv("PERUWIRE_REDIS_URL", raising=False)
    settings = addon_settings()
    assert settings.get("SCHEDULER") == Settings().get("SCHEDULER")
    assert "peruwire_crawl.cluster.worker.ClusterWorker" not in settings.getdict("EXTENSIONS")
    assert settings.getint("PERUWIRE_STORE_BATCH_SIZE") == 100


def test_a_redis_url_switches_the_scheduler_and_keeps_batched_writes(monkeypatch):
    monkeypatch.delenv("PERUWIRE_REDIS_URL", raising=False)
    settings = addon_settings({"PERUWIRE_REDIS_URL": "redis://127.0.0.1:6379/0"})
    assert settings.get("SCHEDULER") == "peruwire_crawl.cluster.scheduler.ClusterScheduler"
    assert "peruwire_crawl.cluster.worker.ClusterWorker" in settings.getdict("EXTENSIONS")
    assert "peruwire_crawl.cluster.worker.ClusterSpiderMiddleware" in settings.getdict("SPIDER_MIDDLEWARES")
    # Requests are acknowledged once their items are committed, so batches stay safe.
    assert settings.getint("PERUWIRE_STORE_BATCH_SIZE") == 100


def test_the_environment_variable_switches_cluster_mode_on_too(monkeypatch):
    monkeypatch.setenv("PERUWIRE_REDIS_URL", "redis://127.0.0.1:6379/3")
    assert addon_settings().get("PERUWIRE_REDIS_URL") == "redis://127.0.0.1:6379/3"
    # ... and a setting, even an empty one, wins over it.
    assert not addon_settings({"PERUWIRE_REDIS_URL": ""}).get("PERUWIRE_REDIS_URL")


def test_unreachable_redis_is_reported_not_hung(redis_url):
    dead = ClusterRegistry(redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=1), "p", "w", 5)
    with pytest.raises(redis.ConnectionError):
        dead.join()
