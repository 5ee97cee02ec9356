"""The database-backed SeenStore: dedup recognises a stored article under a changed slug."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

import pytest
from scrapy import Spider
from scrapy.exceptions import DropItem
from scrapy.utils.test import get_crawler

from peruwire_crawl.addon import Peruwire
from peruwire_crawl.db.crawl import CrawlDatabase
from peruwire_crawl.db.seen import DatabaseSeenStore
from peruwire_crawl.db.store import ArticleStore, record_from_item
from peruwire_crawl.identity import title_key
from peruwire_crawl.items import ArticleItem
from pipelines.dedup import DedupPipeline

STORED = {
    "url": "https://peoplesdispatch.org/2023/01/19/tens-of-thousands-on-the-streets-of-peru/",
    "source": "peoplesdispatch", "title": "Tens of thousands on the streets of Peru in national strike",
    "published_at": "2023-01-19T00:00:00+00:00", "language": "en",
    "translations": ["https://peoplesdispatch.org/2023/01/19/decenas-de-miles-en-las-calles/"],
}
KEY = title_key(STORED["title"])
DAY = datetime(2023, 1, 19, tzinfo=timezone.utc)


@pytest.fixture
def stored(db_engine):
    ArticleStore(db_engine).write([record_from_item(STORED)])
    return db_engine.url.render_as_string(hide_password=False)


def test_find_by_title_answers_from_the_stored_title_key(stored):
    store = DatabaseSeenStore(stored)
    [found] = store.find_by_title("peoplesdispatch", KEY, DAY + timedelta(days=3), timedelta(days=7))
    assert found.url == STORED["url"] and found.title_key == KEY
    assert found.published_at == DAY and found.language == "en" and found.complete
    assert found.translations == tuple(STORED["translations"])
    assert store.find_by_title("peoplesdispatch", KEY, DAY + timedelta(days=8), timedelta(days=7)) == []
    assert store.find_by_title("otherpaper", KEY, DAY, timedelta(days=7)) == []
    assert store.find_by_title("peoplesdispatch", "another title", DAY, timedelta(days=7)) == []
    store.close()


def test_dedup_drops_a_stored_article_under_a_changed_slug(stored):
    crawler = get_crawler(Spider, {"ADDONS": {Peruwire: 0}, "EXTENSIONS": {CrawlDatabase: 100},
                                   "PERUWIRE_DB_URL": stored,
                                   "PERUWIRE_DEDUP_STORE": "peruwire_crawl.db.seen.DatabaseSeenStore"})
    crawler.spider = Spider.from_crawler(crawler, name="peru")
    dedup = DedupPipeline.from_crawler(crawler)
    moved = ArticleItem(url="https://peoplesdispatch.org/2023/01/20/tens-of-thousands-strike-peru/",
                        source="peoplesdispatch", title="Tens of thousands on the streets of Peru in national strike!",
                        published_at="2023-01-20T00:00:00+00:00", language="en")
    with pytest.raises(DropItem, match="duplicate of stored"):
        dedup.process_item(moved)
    same_url = ArticleItem(**{**STORED, "title": "Tens of thousands on the streets"})
    assert dedup.process_item(same_url) is same_url  # an update, for storage to record
    dedup.store.close()


def test_an_unreadable_database_means_nothing_stored_with_one_warning(caplog):
    store = DatabaseSeenStore("postgresql+psycopg://a:s3cret@127.0.0.1:1/x")
    with caplog.at_level(logging.WARNING):
        assert store.find_by_title("peoplesdispatch", KEY, DAY, timedelta(days=7)) == []
        assert store.find_by_title("peoplesdispatch", KEY, DAY, timedelta(days=7)) == []
    [warning] = caplog.records
    assert "Dedup cannot read stored articles" in warning.getMessage() and "s3cret" not in caplog.text


def _counting_queries(engine):
    from sqlalchemy import event

    statements = []
    def seen(conn, cursor, sql, *rest):
        if "FROM articles" in sql:
            statements.append(sql)

    event.listen(engine, "before_cursor_execute", seen)
    return statements


def test_a_title_no_stored_article_has_costs_no_query_after_the_first(stored, db_engine):
    """The source's stored title keys are read once; a key not among them needs no query,
    one among them is still asked of the database (it decides on dates and translations)."""
    store = DatabaseSeenStore(stored, connect=lambda: db_engine)
    statements = _counting_queries(db_engine)
    assert store.find_by_title("peoplesdispatch", "another title", DAY, timedelta(days=7)) == []
    read_keys = len(statements)
    for title in ("a third title", "and a fourth", "another title"):
        assert store.find_by_title("peoplesdispatch", title, DAY, timedelta(days=7)) == []
    assert len(statements) == read_keys
    [found] = store.find_by_title("peoplesdispatch", KEY, DAY, timedelta(days=7))
    assert found.url == STORED["url"] and len(statements) > read_keys


def test_with_other_writers_every_title_is_asked_of_the_database(stored, db_engine):
    store = DatabaseSeenStore(stored, connect=lambda: db_engine, only_writer=False)
    statements = _counting_queries(db_engine)
    for title in ("a third title", "and a fourth"):
        assert store.find_by_title("peoplesdispatch", title, DAY, timedelta(days=7)) == []
    assert len(statements) == 2
    # An article another writer stores meanwhile is found at once.
    ArticleStore(db_engine).write([record_from_item({**STORED, "url": STORED["url"] + "b/", "title": "A third title"})])
    [found] = store.find_by_title("peoplesdispatch", "a third title", DAY, timedelta(days=7))
    assert found.url == STORED["url"] + "b/"


def test_cluster_mode_asks_the_database_every_time():
    crawler = get_crawler(Spider, {"ADDONS": {Peruwire: 0}, "EXTENSIONS": {CrawlDatabase: 100},
                                   "PERUWIRE_DB_URL": "sqlite://", "PERUWIRE_REDIS_URL": "redis://127.0.0.1:1/0"})
    assert DatabaseSeenStore.from_crawler(crawler)._stored_keys is None
    crawler = get_crawler(Spider, {"ADDONS": {Peruwire: 0}, "EXTENSIONS": {CrawlDatabase: 100},
                                   "PERUWIRE_DB_URL": "sqlite://"})
    assert DatabaseSeenStore.from_crawler(crawler)._stored_keys == {}
