"""Article pages read in the worker process (peruwire_crawl/worker.py): the same items and the
same database as in one process, and nothing lost when the worker is."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import time
from pathlib import Path

import pytest
from scrapy.settings import Settings
from scrapy.statscollectors import MemoryStatsCollector

from peruwire_crawl.pages import article as article_module
from peruwire_crawl.pages.article import ArticleReading, read_article
from peruwire_crawl.pages.sites import rules_for
from peruwire_crawl.worker import IN_PROCESS_STAT, IN_WORKER_STAT, LOST_STAT, WorkerConnection, WorkerProcess
from tests.crawling import FIXTURES, crawl

ARTICLE_URL = ("https://peoplesdispatch.org/2023/06/16/perus-de-facto-president-blames-protesters-for-their-own-"
               "deaths-at-the-hands-of-state-forces/")
# What two crawls of the same pages write differently whoever reads them: when they ran.
# (The row ids stay in: the same ids are the same order of writing.)
RUN_COLUMNS = {"fetched_at", "first_seen_at", "last_seen_at", "changed_at", "checked_at"}


def _rows(db: Path) -> dict[str, dict]:
    with sqlite3.connect(db) as connection:
        connection.row_factory = sqlite3.Row
        rows = connection.execute("SELECT * FROM articles").fetchall()
    return {row["url"]: {k: row[k] for k in row.keys() if k not in RUN_COLUMNS} for row in rows}


@pytest.fixture(scope="module")
def two_crawls(tmp_path_factory):
    """The fixture site crawled twice: in the worker (the default), and in one process."""
    in_worker, in_process = tmp_path_factory.mktemp("in-worker"), tmp_path_factory.mktemp("in-process")
    return (crawl(in_worker), in_worker), (crawl(in_process, settings={"PERUWIRE_WORKER_PROCESS": False}), in_process)


def test_the_worker_reads_every_article_page(two_crawls):
    (worker_run, _), _ = two_crawls
    assert worker_run.returncode == 0, worker_run.log[-2000:]
    fetched = worker_run.stat("peruwire/articles/fetched")
    assert fetched > 5
    assert worker_run.stat(IN_WORKER_STAT) == fetched
    assert worker_run.stat(IN_PROCESS_STAT) == 0
    assert worker_run.stat(LOST_STAT) == 0


def test_one_process_when_the_setting_says_so(two_crawls):
    _, (process_run, _) = two_crawls
    assert process_run.returncode == 0, process_run.log[-2000:]
    assert process_run.stat(IN_WORKER_STAT) == 0
    assert process_run.stat(IN_PROCESS_STAT) == 0  # no worker was asked, none failed


def test_same_items_and_same_database_either_way(two_crawls):
    (worker_run, worker_dir), (process_run, process_dir) = two_crawls

    def by_url(items):
        return {item["url"]: {k: v for k, v in item.items() if k not in RUN_COLUMNS} for item in items}

    assert by_url(worker_run.items) == by_url(process_run.items)
    assert [item["url"] for item in worker_run.items] == [item["url"] for item in process_run.items]
    assert _rows(worker_dir / "peruwire.db") == _rows(process_dir / "peruwire.db")


# --- the worker itself, on asyncio's loop as in a crawl ----------------------------------------

class FakeCrawler:
    def __init__(self):
        self.settings = Settings({"PERUWIRE_WORKER_PROCESS": True})
        self.stats = MemoryStatsCollector(self)


def _page() -> tuple:
    """read_article's arguments for the seed article, as the spider passes them."""
    body = (FIXTURES / "peoplesdispatch" / ARTICLE_URL.removeprefix("https://") / "index.html").read_bytes()
    return body, "utf-8", ARTICLE_URL, rules_for(ARTICLE_URL)


def _with_worker(scenario):
    """Run ``await scenario(worker)`` on asyncio's loop with a started worker; (its result, the worker)."""
    async def run():
        worker = WorkerProcess(FakeCrawler())
        worker.connection = WorkerConnection()
        try:
            return await scenario(worker), worker
        finally:
            worker.spider_closed(None)

    return asyncio.run(run())


def test_the_worker_gives_what_the_page_object_gives():
    page = _page()
    expected = read_article(*page)
    readings, worker = _with_worker(lambda worker: asyncio.gather(*(worker.run(read_article, *page) for _ in range(3))))
    assert all(isinstance(reading, ArticleReading) for reading in readings)
    assert readings == [expected] * 3
    assert expected.fields["title"] and expected.fields["body"]
    assert worker.crawler.stats.get_value(IN_WORKER_STAT) == 3


def test_a_worker_that_dies_loses_no_page():
    page = _page()

    async def read_across_a_death(worker):
        first = await worker.run(read_article, *page)
        os.kill(worker.connection.process.pid, signal.SIGKILL)  # as the kernel's OOM killer would
        worker.connection.process.join(5)
        return [first, *await asyncio.gather(*(worker.run(read_article, *page) for _ in range(3)))]

    readings, worker = _with_worker(read_across_a_death)
    assert readings == [read_article(*page)] * 4
    stats = worker.crawler.stats
    assert stats.get_value(LOST_STAT) == 1
    assert stats.get_value(IN_WORKER_STAT) == 1
    assert stats.get_value(IN_PROCESS_STAT) == 3


def test_a_page_the_worker_cannot_read_is_read_in_process(monkeypatch):
    page = _page()
    expected = read_article(*page)
    crawl_pid = os.getpid()

    def fails_in_the_worker(*page):
        assert os.getpid() != crawl_pid, "only the worker runs this"
        raise MemoryError("no room for this page")

    # The worker is forked with this in place of the page reader; the crawl keeps the real one.
    monkeypatch.setattr(article_module, "read_article", fails_in_the_worker)
    reading, worker = _with_worker(lambda worker: worker.run(read_article, *page))
    assert reading == expected
    assert worker.crawler.stats.get_value(IN_PROCESS_STAT) == 1
    assert worker.crawler.stats.get_value(LOST_STAT) is None  # the worker goes on


def test_what_cannot_be_sent_is_run_in_process():
    answer, worker = _with_worker(lambda worker: worker.run(len, [lambda: None]))  # a lambda does not pickle
    assert answer == 1
    assert worker.crawler.stats.get_value(IN_PROCESS_STAT) == 1


def test_ctrl_c_leaves_the_worker_to_the_crawl_and_closing_stops_it():
    connection = WorkerConnection()
    connection.start()
    try:
        os.kill(connection.process.pid, signal.SIGINT)  # Ctrl-C reaches the whole process group
        time.sleep(0.3)
        assert connection.process.is_alive()
    finally:
        started = time.monotonic()
        connection.stop()
    assert not connection.process.is_alive()
    assert connection.process.exitcode == 0  # it saw the end of the connection; it was not killed
    assert time.monotonic() - started < 4


def test_a_run_that_reads_no_page_starts_no_worker():
    answer, worker = _with_worker(lambda worker: asyncio.sleep(0, "nothing new"))
    assert answer == "nothing new"
    assert worker.connection.process is None
