"""The storage pipeline, on SQLite and PostgreSQL: what a crawl leaves in the database."""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from contextlib import contextmanager
from dataclasses import replace

import pytest
from scrapy import Spider, signals
from scrapy.exceptions import CloseSpider, DropItem
from scrapy.utils.test import get_crawler
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from peruwire_crawl.addon import Peruwire
from peruwire_crawl.db.crawl import CrawlDatabase
from peruwire_crawl.db.engine import make_engine
from peruwire_crawl.db.schema import (
    article_revisions,
    article_search,
    article_sections,
    article_translations,
    articles,
    crawl_runs,
)
from peruwire_crawl.db.store import ArticleStore, record_from_item
from peruwire_crawl.health import RunMonitor
from peruwire_crawl.items import ArticleItem
from pipelines.store import StorePipeline

URL = "https://peoplesdispatch.org/2023/03/16/enver-leon-the-majority-of-peruvians-want-a-change-in-the-constitution/"
URL_ES = "https://peoplesdispatch.org/2023/03/16/enver-leon-la-mayoria-de-los-peruanos-quieren-un-cambio-de-constitucion/"
SECTION = "https://peoplesdispatch.org/tag/new-peru-left/"


def article(**changes) -> ArticleItem:
    item = ArticleItem(
        url=URL,
        source="peoplesdispatch",
        sections=[SECTION],
        title="Enver León: “The majority of Peruvians want a change in the Constitution”",
        summary="Peoples Dispatch spoke to Enver León of Nuevo Perú.",
        published_at="2023-03-16T00:00:00+00:00",
        date_precision="day",
        date_signal="dateline",
        authors=["Zoe Alexandra"],
        language="en",
        body="The protests continue.\n\nThe Congress refuses early elections.",
        translations=[URL_ES],
    )
    return replace(item, **changes)


class Crawl:
    """One crawl's worth of pipeline calls, as Scrapy makes them."""

    def __init__(self, db_url: str, **settings):
        self.crawler = get_crawler(Spider, {
            "ADDONS": {Peruwire: 0},
            "EXTENSIONS": {CrawlDatabase: 100},
            "PERUWIRE_DB_URL": db_url,
            "PERUWIRE_STORE_BATCH_SIZE": 2,
            "PERUWIRE_STORE_RETRY_DELAY": 0,
            "PERUWIRE_DB_BUSY_TIMEOUT": 0.2,
            **settings,
        })
        self.crawler.spider = Spider.from_crawler(self.crawler, name="peru")
        self.database = self.crawler.get_extension(CrawlDatabase)
        self.pipeline = StorePipeline.from_crawler(self.crawler)
        self.stats = self.crawler.stats

    def open(self):
        self.database.spider_opened(self.crawler.spider)
        return self

    def feed(self, *items):
        for item in items:
            self.pipeline.process_item(item, self.crawler.spider)
        return self

    def close(self, reason: str = "finished"):
        self.pipeline.close_spider(self.crawler.spider)
        self.crawler.signals.send_catch_log(signals.spider_closed, spider=self.crawler.spider, reason=reason)
        return self

    def stat(self, name: str):
        return self.stats.get_value(f"peruwire/store/{name}", 0)


def crawl(db_url, *items, **settings) -> Crawl:
    return Crawl(db_url, **settings).open().feed(*items).close()


def rows(db_engine, table, *order):
    with db_engine.connect() as connection:
        return connection.execute(select(table).order_by(*order)).mappings().all()


@contextmanager
def write_lock(db_url):
    """Another writer holding the lock on the articles table (readers still read)."""
    url = make_url(db_url)
    if url.get_backend_name() == "sqlite":
        connection = sqlite3.connect(url.database, isolation_level=None)
        connection.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            connection.execute("ROLLBACK")
            connection.close()
    else:
        engine = create_engine(url)
        with engine.connect() as connection:
            connection.execute(text("LOCK TABLE articles IN EXCLUSIVE MODE"))
            yield
            connection.rollback()
        engine.dispose()


def test_a_new_article_is_stored_with_its_sections_translations_and_run(db_engine):
    run = crawl(db_engine.url.render_as_string(hide_password=False), article())

    [stored] = rows(db_engine, articles)
    assert stored["url"] == URL and stored["source"] == "peoplesdispatch"
    assert stored["title"].startswith("Enver León: “The majority")
    assert stored["published_at"].isoformat() == "2023-03-16T00:00:00+00:00"
    assert stored["authors"] == ["Zoe Alexandra"] and stored["complete"] is True
    assert stored["first_seen_at"] == stored["last_seen_at"] == stored["changed_at"]
    assert [(r["article_id"], r["section_url"]) for r in rows(db_engine, article_sections)] == [(stored["id"], SECTION)]
    assert [r["translation_url"] for r in rows(db_engine, article_translations)] == [URL_ES]
    [run_row] = rows(db_engine, crawl_runs)
    assert run_row["id"] == run.stat("run_id")
    assert (run_row["spider"], run_row["status"], run_row["finish_reason"]) == ("peru", "finished", "finished")
    assert (run_row["new"], run_row["updated"], run_row["unchanged"]) == (1, 0, 0)
    assert run_row["finished_at"] >= run_row["started_at"]


def test_an_edited_title_makes_one_revision(db_engine):
    url = db_engine.url.render_as_string(hide_password=False)
    crawl(url, article(title="Enver León: majority want a new Constitution"))
    run = crawl(url, article())

    [stored] = rows(db_engine, articles)
    assert stored["title"] == article().title
    [revision] = rows(db_engine, article_revisions)
    assert revision["article_id"] == stored["id"]
    assert revision["title"] == "Enver León: majority want a new Constitution"
    assert revision["summary"] == article().summary
    assert revision["crawl_run_id"] == run.stat("run_id")
    assert revision["replaced_at"] == stored["changed_at"]
    assert (run.stat("new"), run.stat("updated"), run.stat("unchanged")) == (0, 1, 0)


def test_an_unchanged_article_only_gets_last_seen_at(db_engine):
    url = db_engine.url.render_as_string(hide_password=False)
    crawl(url, article())
    with db_engine.begin() as connection:  # pretend the first crawl was a day earlier
        connection.execute(articles.update().values(
            first_seen_at="2023-03-16T10:00:00+00:00", last_seen_at="2023-03-16T10:00:00+00:00",
            changed_at="2023-03-16T10:00:00+00:00"))
    run = crawl(url, article())

    [stored] = rows(db_engine, articles)
    assert stored["first_seen_at"].isoformat() == stored["changed_at"].isoformat() == "2023-03-16T10:00:00+00:00"
    assert stored["last_seen_at"] > stored["first_seen_at"]
    assert rows(db_engine, article_revisions) == []
    assert (run.stat("new"), run.stat("updated"), run.stat("unchanged")) == (0, 0, 1)


def test_sections_accumulate_over_runs(db_engine):
    url = db_engine.url.render_as_string(hide_password=False)
    other = "https://peoplesdispatch.org/tag/moquegua-department/"
    crawl(url, article())
    crawl(url, article(sections=[other, SECTION]))
    assert sorted(r["section_url"] for r in rows(db_engine, article_sections)) == sorted([SECTION, other])


def test_an_incomplete_item_never_blanks_a_stored_body_or_date(db_engine):
    url = db_engine.url.render_as_string(hide_password=False)
    crawl(url, article())
    failed_fetch = ArticleItem(url=URL, source="peoplesdispatch", sections=[SECTION],
                               title="Enver León: listing title", listed_title="Enver León: listing title",
                               complete=False, incomplete_reason="HTTP 503")
    run = crawl(url, failed_fetch)

    [stored] = rows(db_engine, articles)
    assert stored["body"] == article().body and stored["title"] == article().title
    assert stored["published_at"].isoformat() == "2023-03-16T00:00:00+00:00"
    assert stored["authors"] == ["Zoe Alexandra"] and stored["language"] == "en"
    assert stored["complete"] is True and stored["incomplete_reason"] is None
    assert stored["listed_title"] == "Enver León: listing title"
    assert rows(db_engine, article_revisions) == []
    assert run.stat("updated") == 1  # the listing's title is new information


def test_a_complete_item_fills_an_article_first_stored_incomplete(db_engine):
    url = db_engine.url.render_as_string(hide_password=False)
    crawl(url, ArticleItem(url=URL, source="peoplesdispatch", title=article().title,
                           complete=False, incomplete_reason="HTTP 503"))
    assert rows(db_engine, articles)[0]["complete"] is False
    crawl(url, article())
    [stored] = rows(db_engine, articles)
    assert stored["complete"] is True and stored["incomplete_reason"] is None
    assert stored["body"] == article().body


def test_times_are_iso_8601_utc_text_and_authors_json_text_in_sqlite(tmp_path):
    url = f"sqlite:///{tmp_path / 'peruwire.db'}"
    crawl(url, article(published_at="2023-03-15T21:30:00-05:00", authors=["Zoë Alexandra"]))
    connection = sqlite3.connect(tmp_path / "peruwire.db")
    published, first_seen, authors = connection.execute(
        "SELECT published_at, first_seen_at, authors FROM articles").fetchone()
    assert published == "2023-03-16T02:30:00+00:00"
    assert first_seen.endswith("+00:00") and len(first_seen) == 25
    assert authors == '["Zoë Alexandra"]'
    assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_the_run_row_counts_pages_duplicates_and_errors(db_engine):
    url = db_engine.url.render_as_string(hide_password=False)
    run = Crawl(url).open()
    run.stats.set_value("downloader/response_count", 12)
    run.stats.set_value("peruwire/dedup/dropped/by_url", 3)
    run.stats.set_value("peruwire/dedup/dropped/by_title", 1)
    run.stats.set_value("log_count/ERROR", 2)
    with pytest.raises(DropItem, match="without url"):
        run.feed(ArticleItem(url="", source="peoplesdispatch"))
    run.feed(article(), article(url=URL_ES, translations=[URL])).close(reason="shutdown")

    [run_row] = rows(db_engine, crawl_runs)
    assert (run_row["pages_fetched"], run_row["duplicates"], run_row["errors"]) == (12, 4, 3)
    assert (run_row["new"], run_row["status"], run_row["finish_reason"]) == (2, "failed", "shutdown")


def test_one_url_twice_in_a_batch_is_stored_then_updated_as_if_written_one_after_the_other(db_engine):
    store = ArticleStore(db_engine)
    first = record_from_item(vars(article(title="Enver León: majority want a new Constitution")))
    outcomes = store.write([first, record_from_item(vars(article()))])

    assert (outcomes["new"], outcomes["updated"]) == (1, 1)
    [stored] = rows(db_engine, articles)
    assert stored["title"] == article().title
    [revision] = rows(db_engine, article_revisions)
    assert revision["title"] == "Enver León: majority want a new Constitution"
    [terms] = rows(db_engine, article_search)
    assert terms["article_id"] == stored["id"] and " change " in terms["words"]  # the second title's


def test_an_article_another_writer_inserted_after_our_read_is_updated_not_doubled(db_engine, monkeypatch):
    """PostgreSQL's race (SQLite writers lock the whole database first): our read found no
    row, a concurrent writer inserted the URL, our insert does nothing; the row is read
    again and the record applied to it."""
    store = ArticleStore(db_engine)
    store.write([record_from_item(vars(article(title="Enver León: majority want a new Constitution")))])
    monkeypatch.setattr(store, "_stored_articles", lambda connection, urls: {})  # the read before theirs

    outcomes = store.write([record_from_item(vars(article()))])

    assert (outcomes["new"], outcomes["updated"]) == (0, 1)
    [stored] = rows(db_engine, articles)
    assert stored["title"] == article().title
    assert len(rows(db_engine, article_revisions)) == 1


def test_a_batch_is_all_or_nothing(db_engine, monkeypatch):
    import peruwire_crawl.db.store as store_module

    store = ArticleStore(db_engine)
    records = [record_from_item(vars(article())), record_from_item(vars(article(url=URL_ES)))]

    def crash(connection, texts):
        # Both articles and their sections are written by now, in the batch's transaction.
        assert connection.execute(select(func.count()).select_from(articles)).scalar() == 2
        raise RuntimeError("the process died here")

    monkeypatch.setattr(store_module, "index_texts", crash)
    with pytest.raises(RuntimeError):
        store.write(records)
    assert rows(db_engine, articles) == []


def test_a_locked_database_fails_the_batch_loudly_and_keeps_its_items(db_engine, caplog):
    url = db_engine.url.render_as_string(hide_password=False)
    run = Crawl(url, PERUWIRE_STORE_BATCH_SIZE=1).open()
    with write_lock(url), caplog.at_level(logging.ERROR):
        run.feed(article())
    assert run.stat("batches_failed") == 1
    assert "refused a batch of 1 items" in caplog.text and "kept and will be retried" in caplog.text
    run.close()  # the lock is gone: the kept item is stored
    assert [r["url"] for r in rows(db_engine, articles)] == [URL]
    assert run.stat("new") == 1 and run.stat("items_failed") == 0


def test_items_still_refused_at_close_go_to_the_dead_letter_file(db_engine, tmp_path, caplog):
    from peruwire_crawl.cli import main

    url = db_engine.url.render_as_string(hide_password=False)
    dead_letter = tmp_path / "dead.jsonl"
    run = Crawl(url, PERUWIRE_STORE_CLOSE_RETRIES=1, PERUWIRE_DEAD_LETTER_FILE=str(dead_letter)).open()
    with write_lock(url), caplog.at_level(logging.ERROR):
        run.feed(article(), article(url=URL_ES))
        run.pipeline.close_spider()
    run.crawler.signals.send_catch_log(signals.spider_closed, spider=run.crawler.spider, reason="finished")

    assert f"appended to {dead_letter}" in caplog.text
    assert [json.loads(line)["url"] for line in dead_letter.read_text("utf-8").splitlines()] == [URL, URL_ES]
    assert run.stat("items_failed") == 2
    [run_row] = rows(db_engine, crawl_runs)
    assert run_row["status"] == "failed" and str(dead_letter) in run_row["notes"]

    assert main(["ingest", str(dead_letter), "--db", url]) == 0
    assert sorted(r["url"] for r in rows(db_engine, articles)) == sorted([URL, URL_ES])
    assert rows(db_engine, articles)[0]["published_at"].isoformat() == "2023-03-16T00:00:00+00:00"


@pytest.mark.parametrize("bad_url, expected", [
    ("postgresql+psycopg://analyst:s3cret@127.0.0.1:1/peruwire", "cannot connect to the database postgresql+psycopg://analyst:***@127.0.0.1:1/peruwire"),
    ("sqlite:////nonexistent-dir/peruwire.db", "cannot connect to the database sqlite:////nonexistent-dir/peruwire.db"),
    ("peruwire.db", "'peruwire.db' is not a database URL"),
    ("mysql://analyst:s3cret@localhost/peruwire", "mysql://analyst:***@localhost/peruwire is neither SQLite nor PostgreSQL"),
])
def test_an_unusable_database_stops_the_crawl_with_one_clear_line(bad_url, expected, caplog):
    run = Crawl(bad_url)
    with caplog.at_level(logging.DEBUG, logger="pipelines.store"), pytest.raises(CloseSpider) as stopped:
        run.open()
    assert stopped.value.reason == "storage_unavailable"
    [record] = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert expected in record.getMessage() and "\n" not in record.getMessage()
    assert record.exc_info is None and "s3cret" not in caplog.text
    assert run.stats.get_value("peruwire/exit_code") == 78
    run.close(reason="storage_unavailable")  # Scrapy still closes the pipeline: nothing happens


def test_a_database_newer_than_the_code_is_refused(db_engine, caplog):
    with db_engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    with caplog.at_level(logging.ERROR), pytest.raises(CloseSpider):
        Crawl(db_engine.url.render_as_string(hide_password=False)).open()
    assert "is at schema revision 9999, newer than this peruwire knows" in caplog.text


def test_the_crawl_creates_and_migrates_a_fresh_database(db_url):
    crawl(db_url, article())
    engine = make_engine(db_url)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM articles")).scalar() == 1
    engine.dispose()


def test_several_writers_at_once_store_each_article_once(db_engine):
    """Four crawls storing the same 40 articles at the same moment: no error, no twin row."""
    store = ArticleStore(db_engine)
    items = [record_from_item(vars(article(url=f"{URL}?n={n}", sections=[SECTION]))) for n in range(40)]
    outcomes, errors = [], []
    start = threading.Barrier(4)

    def writer():
        start.wait()
        try:
            for first in range(0, len(items), 5):
                for _attempt in range(50):
                    try:
                        outcomes.append(store.write(items[first:first + 5]))
                        break
                    except Exception as exc:  # locked: retry, as the pipeline does
                        if "lock" not in str(exc):
                            raise
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sum(o["new"] for o in outcomes) == 40 and sum(o["unchanged"] for o in outcomes) == 120
    assert len(rows(db_engine, articles)) == 40 and len(rows(db_engine, article_sections)) == 40


def test_storage_can_be_switched_off():
    from scrapy.exceptions import NotConfigured

    with pytest.raises(NotConfigured):
        Crawl("sqlite://", PERUWIRE_STORE_ENABLED=False)


def test_failed_health_checks_mark_the_run_unhealthy(db_engine):
    url = db_engine.url.render_as_string(hide_password=False)
    run = Crawl(url, EXTENSIONS={CrawlDatabase: 100, RunMonitor: 500}).open().feed(article())
    # What the run monitor saw: a section page read, 10 complete articles, 1 with a body.
    for stat, value in {"peruwire/sections/pages": 1, "peruwire/health/complete_items": 10,
                        "peruwire/health/coverage/title": 10, "peruwire/health/coverage/published_at": 10,
                        "peruwire/health/coverage/body": 1}.items():
        run.stats.set_value(stat, value)
    run.close()
    [run_row] = rows(db_engine, crawl_runs)
    assert run_row["status"] == "unhealthy"
    assert run_row["notes"] == "health check failed: only 10% of 10 fetched articles have body (minimum 80%)"
