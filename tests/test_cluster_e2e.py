"""End to end: two and three `scrapy crawl peru` workers sharing one crawl through Redis.

The site is tests/clustersite.py: three hosts (127.0.0.1, .2, .3) with a Peru tag archive
each. Every worker is the same command (tests/clusterrun.py), on a Redis key prefix of the
test's own and a fresh PostgreSQL database. Needs PERUWIRE_TEST_REDIS_URL and
PERUWIRE_TEST_POSTGRES_URL (skipped, saying so, without them).
"""

from __future__ import annotations

import time

import pytest
from clusterrun import start_cluster, start_worker, wait_all, wait_until_joined
from clustersite import PRIVATE_PREFIX, ClusterSite, SiteShape
from crawling import crawl
from sqlalchemy import create_engine, text

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


def stored_articles(db_url: str) -> dict[str, int]:
    """URL -> number of rows, for every complete article stored."""
    engine = create_engine(db_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(text(
                "SELECT url, count(*) FROM articles WHERE body IS NOT NULL GROUP BY url")).all()
    finally:
        engine.dispose()
    return {url: count for url, count in rows}


def crawl_runs(db_url: str) -> list:
    engine = create_engine(db_url)
    try:
        with engine.connect() as connection:
            return connection.execute(text("SELECT * FROM crawl_runs ORDER BY id")).mappings().all()
    finally:
        engine.dispose()


def pages(result) -> int:
    return result.stat("downloader/response_count")


def check_shared_crawl(site: ClusterSite, db_url: str, workers, results, fair_share: float) -> None:
    """Every article fetched once and stored once, every worker busy and healthy, one run row."""
    for worker, result in zip(workers, results, strict=True):
        assert result.returncode == 0, f"{worker.name} exited {result.returncode}:\n{result.log[-3000:]}"
        assert result.stat("robotstxt/response_status_count/200") == site.shape.hosts
    hits = site.article_hits()
    assert sorted(hits) == sorted(site.article_urls()), "some article was never fetched"
    assert {url: n for url, n in hits.items() if n != 1} == {}, "fetched more than once"
    assert site.hits_under(PRIVATE_PREFIX) == 0, "robots.txt was not obeyed"
    # Each worker reads robots.txt for each host itself (and obeys it).
    assert site.hits_under("/robots.txt") == len(workers) * site.shape.hosts
    assert stored_articles(db_url) == {url: 1 for url in site.article_urls()}
    total = sum(pages(r) for r in results)
    for worker, result in zip(workers, results, strict=True):
        assert pages(result) >= fair_share * total, f"{worker.name} did {pages(result)} of {total} pages"
    [run] = crawl_runs(db_url)
    assert run["status"] == "finished"
    assert run["pages_fetched"] == total
    assert run["new"] == len(site.article_urls()) + site.shape.hosts  # + each host's robots-refused article
    for worker in workers:
        assert f"worker {worker.name}: {pages(worker.result)} pages" in run["notes"]


@pytest.mark.parametrize("count", [2, 3])
def test_workers_share_one_crawl_of_three_sites(tmp_path, redis_url, cluster_prefix, postgres_url, count):
    # Article pages answer after a short wait, and only once every worker has joined: on a
    # busy machine one worker's start-up can take longer than the others' whole crawl, and
    # "each does a fair share" is about the sharing, not about who got a core first.
    # Four requests in flight per worker keep the shared queue deeper than all the workers'
    # free slots, so each finds work whenever it asks. With eight each (16 or 24 slots for
    # 16 requests per listing page) the worker that just parsed a page took most of it: one
    # of three did 21 of 153 pages on a machine busy with two other processes.
    with ClusterSite(SiteShape(hosts=3, pages=3, per_page=15), delay=0.2) as site:
        site.hold()
        workers = start_cluster(tmp_path, count, sections=site.section_urls(), redis_url=redis_url,
                                prefix=cluster_prefix, db_url=postgres_url,
                                settings={"CONCURRENT_REQUESTS": 4})
        wait_until_joined(workers, redis_url, cluster_prefix)
        site.release()
        results = wait_all(workers)
        check_shared_crawl(site, postgres_url, workers, results, fair_share=0.5 / count)
        # Each exits with the run's verdict, judged on every worker's counts together.
        assert {r.stat("peruwire/cluster/workers") for r in results} == {count}
        assert sum(r.stat("peruwire/cluster/role") == "seed" for r in results) == 1


def test_a_worker_killed_mid_run_loses_nothing(tmp_path, redis_url, cluster_prefix, postgres_url):
    shape = SiteShape(hosts=3, pages=4, per_page=10)
    with ClusterSite(shape, delay=0.15) as site:
        survivor, victim = start_cluster(tmp_path, 2, sections=site.section_urls(), redis_url=redis_url,
                                         prefix=cluster_prefix, db_url=postgres_url, settings={"LOG_LEVEL": "DEBUG"})
        deadline = time.monotonic() + 120
        while sum(site.article_hits().values()) < len(site.article_urls()) // 3:
            assert time.monotonic() < deadline, "the crawl never got going"
            assert survivor.process.poll() is None and victim.process.poll() is None
            time.sleep(0.1)
        victim.kill()
        result = survivor.wait(300)
        victim.wait(10)
        assert result.returncode == 0, result.log[-3000:]
        assert site.hits_under(PRIVATE_PREFIX) == 0, "robots.txt was not obeyed"
        assert "worker-2 stopped answering" in result.log
        # The survivor fetched what the victim had taken: every article is stored, once.
        assert stored_articles(postgres_url) == {url: 1 for url in site.article_urls()}
        hits = site.article_hits()
        assert sorted(hits) == sorted(site.article_urls())
        # Only what the victim had taken and not finished was fetched again.
        reclaimed = result.stat("peruwire/cluster/reclaimed_requests")
        assert 0 < reclaimed and sum(hits.values()) - len(hits) <= reclaimed
        [run] = crawl_runs(postgres_url)
        assert run["status"] == "finished"
        # Named in the run's notes, with its last counts if it lived to send one heartbeat.
        assert "worker worker-2 (stopped during the run: " in run["notes"]


def test_a_second_cluster_or_a_single_run_on_the_same_database_is_refused(
        tmp_path, redis_url, cluster_prefix, postgres_url):
    with ClusterSite(SiteShape(hosts=1, pages=1, per_page=5)) as site:
        site.hold()  # the cluster's run stays in progress until the other two have tried
        options = dict(sections=site.section_urls(), redis_url=redis_url, db_url=postgres_url)
        [running] = start_cluster(tmp_path, 1, prefix=cluster_prefix, **options)
        deadline = time.monotonic() + 120
        while not site.hits_under("/tag/"):
            assert time.monotonic() < deadline and running.process.poll() is None, running.log()
            time.sleep(0.1)
        other = start_worker(tmp_path, "other-cluster", prefix=cluster_prefix + "-other", **options).wait(120)
        single = crawl(tmp_path, "-a", "sections=" + site.section_urls()[0], replay=None, db_url=postgres_url)
        site.release()
        assert running.wait(300).returncode == 0, running.log()[-3000:]
    assert other.returncode == 75, other.log[-2000:]
    assert "another cluster (another Redis server or key prefix) is running on" in other.log
    assert single.returncode == 75, single.log[-2000:]
    assert len(crawl_runs(postgres_url)) == 1


def test_sqlite_is_refused_in_cluster_mode(tmp_path, redis_url, cluster_prefix):
    database = tmp_path / "cluster.db"
    result = start_worker(tmp_path, "w", sections=["http://127.0.0.1:9/tag/peru/"], redis_url=redis_url,
                          prefix=cluster_prefix, db_url=f"sqlite:///{database}").wait(120)
    assert result.returncode == 78, result.log[-2000:]
    [line] = [line for line in result.log.splitlines() if "needs PostgreSQL" in line]
    assert "cluster mode (PERUWIRE_REDIS_URL) needs PostgreSQL" in line
    assert not database.exists()
    assert result.stat("downloader/request_count") == 0
