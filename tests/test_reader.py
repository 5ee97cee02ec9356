"""Article pages read in the worker process (peruwire_crawl/reader.py): the same items and the
same database as when the crawl reads them itself, and nothing lost when the worker is."""

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
from peruwire_crawl.reader import (
    READ_IN_PROCESS_STAT,
    READ_IN_WORKER_STAT,
    WORKER_LOST_STAT,
    ArticleReader,
    ReadingWorker,
)
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
    """The fixture site crawled twice: pages read in the worker (the default), and in process."""
    in_worker, in_process = tmp_path_factory.mktemp("in-worker"), tmp_path_factory.mktemp("in-process")
    return (crawl(in_worker), in_worker), (crawl(in_process, settings={"PERUWIRE_READ_IN_WORKER": False}), in_process)


def test_the_worker_reads_every_article_page(two_crawls):
    (worker_run, _), _ = two_crawls
    assert worker_run.returncode == 0, worker_run.log[-2000:]
    fetched = worker_run.stat("peruwire/articles/fetched")
    assert fetched > 5
    assert worker_run.stat(READ_IN_WORKER_STAT) == fetched
    assert worker_run.stat(READ_IN_PROCESS_STAT) == 0
    assert worker_run.stat(WORKER_LOST_STAT) == 0


def test_in_process_when_the_setting_says_so(two_crawls):
    _, (process_run, _) = two_crawls
    assert process_run.returncode == 0, process_run.log[-2000:]
    assert process_run.stat(READ_IN_WORKER_STAT) == 0
    assert process_run.stat(READ_IN_PROCESS_STAT) == process_run.stat("peruwire/articles/fetched")


def test_same_items_and_same_database_either_way(two_crawls):
    (worker_run, worker_dir), (process_run, process_dir) = two_crawls

    def by_url(items):
        return {item["url"]: {k: v for k, v in item.items() if k not in RUN_COLUMNS} for item in items}

    assert by_url(worker_run.items) == by_url(process_run.items)
    assert [item["url"] for item in worker_run.items] == [item["url"] for item in process_run.items]
    assert _rows(worker_dir / "peruwire.db") == _rows(process_dir / "peruwire.db")


# --- the worker itself, on asyncio's loop as in a crawl ----------------------------------------

class FakeResponse:
    def __init__(self, url: str, body: bytes):
        self.url, self.body, self.encoding = url, body, "utf-8"


class FakeCrawler:
    def __init__(self):
        self.settings = Settings({"PERUWIRE_READ_IN_WORKER": True})
        self.stats = MemoryStatsCollector(self)


def _article() -> FakeResponse:
    path = FIXTURES / "peoplesdispatch" / ARTICLE_URL.removeprefix("https://") / "index.html"
    return FakeResponse(ARTICLE_URL, path.read_bytes())


def _reader_with_worker() -> ArticleReader:
    reader = ArticleReader(FakeCrawler())
    reader.worker = ReadingWorker()
    reader.worker.start()
    return reader


def test_the_worker_gives_what_the_page_object_gives():
    response = _article()
    rules = rules_for(response.url)
    expected = read_article(response.body, "utf-8", response.url, rules)

    async def read_three():
        reader = _reader_with_worker()
        try:
            return await asyncio.gather(*(reader.read(response, rules) for _ in range(3))), reader
        finally:
            reader.spider_closed(None)

    readings, reader = asyncio.run(read_three())
    assert all(isinstance(reading, ArticleReading) for reading in readings)
    assert readings == [expected] * 3
    assert expected.fields["title"] and expected.fields["body"]
    assert reader.crawler.stats.get_value(READ_IN_WORKER_STAT) == 3


def test_a_worker_that_dies_loses_no_page():
    response = _article()
    rules = rules_for(response.url)
    expected = read_article(response.body, "utf-8", response.url, rules)

    async def read_across_a_death():
        reader = _reader_with_worker()
        try:
            first = await reader.read(response, rules)
            os.kill(reader.worker._process.pid, signal.SIGKILL)  # as the kernel's OOM killer would
            reader.worker._process.join(5)
            after = await asyncio.gather(*(reader.read(response, rules) for _ in range(3)))
            return [first, *after], reader
        finally:
            reader.spider_closed(None)

    readings, reader = asyncio.run(read_across_a_death())
    assert readings == [expected] * 4
    stats = reader.crawler.stats
    assert stats.get_value(WORKER_LOST_STAT) == 1
    assert stats.get_value(READ_IN_WORKER_STAT) == 1
    assert stats.get_value(READ_IN_PROCESS_STAT) == 3


def test_a_page_the_worker_cannot_read_is_read_in_process(monkeypatch):
    response = _article()
    rules = rules_for(response.url)
    crawl_pid = os.getpid()

    def fails_in_the_worker(*page):
        if os.getpid() != crawl_pid:
            raise MemoryError("no room for this page")
        return ArticleReading({"title": "read in process"}, [], False)

    monkeypatch.setattr(article_module, "read_article", fails_in_the_worker)

    async def read_one():
        reader = _reader_with_worker()  # forked now: it has the failing reader
        try:
            return await reader.read(response, rules), reader
        finally:
            reader.spider_closed(None)

    reading, reader = asyncio.run(read_one())
    assert reading.fields == {"title": "read in process"}
    assert reader.crawler.stats.get_value(READ_IN_PROCESS_STAT) == 1
    assert reader.crawler.stats.get_value(WORKER_LOST_STAT) is None  # the worker goes on


def test_ctrl_c_leaves_the_worker_to_the_crawl_and_closing_stops_it():
    worker = ReadingWorker()
    worker.start()
    try:
        os.kill(worker._process.pid, signal.SIGINT)  # Ctrl-C reaches the whole process group
        time.sleep(0.3)
        assert worker._process.is_alive()
    finally:
        started = time.monotonic()
        worker.stop()
    assert not worker._process.is_alive()
    assert worker._process.exitcode == 0  # it saw the end of the connection; it was not killed
    assert time.monotonic() - started < 4
