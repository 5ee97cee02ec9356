"""End to end, on SQLite and PostgreSQL: `scrapy crawl peru` (replayed) into the database,
then what an analyst sees through `peruwire search`, `stats` and `export`."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
import time

import pytest
from sqlalchemy import create_engine, text

from tests.crawling import REPO, crawl

pytestmark = pytest.mark.slow

SITE = "https://peoplesdispatch.org"
LISTED_THRICE = f"{SITE}/2020/11/12/why-are-peruvians-protesting-president-vizcarras-impeachment/"
OLD_SLUG = f"{SITE}/2023/01/19/peru-national-strike-january-19/"
NEW_SLUG = f"{SITE}/2023/01/19/tens-of-thousands-on-the-streets-of-peru-in-national-strike/"
SPANISH = f"{SITE}/2023/03/16/enver-leon-la-mayoria-de-los-peruanos-quieren-un-cambio-de-constitucion/"


def peruwire(db_url: str, *args: str) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "-m", "peruwire_crawl.cli", *args, "--db", db_url],
                            cwd=REPO, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result


def query(db_url: str, sql: str) -> list[tuple]:
    engine = create_engine(db_url)
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(text(sql))]
    finally:
        engine.dispose()


@pytest.fixture
def crawled(db_url, tmp_path):
    first = crawl(tmp_path, db_url=db_url)
    assert first.returncode == 0, first.log[-3000:]
    return db_url


def test_the_crawl_stores_every_article_once_with_all_its_sections(crawled):
    urls = [url for (url,) in query(crawled, "SELECT url FROM articles")]
    assert len(urls) == len(set(urls)) == 18
    assert OLD_SLUG not in urls and NEW_SLUG in urls
    assert not any("utm_" in url for url in urls)
    sections = query(crawled, f"""SELECT s.section_url FROM article_sections s
                                   JOIN articles a ON a.id = s.article_id WHERE a.url = '{LISTED_THRICE}'""")
    assert len(sections) == 3
    assert query(crawled, "SELECT url, article_url FROM article_aliases") == [(OLD_SLUG, NEW_SLUG)]
    [(status, new, duplicates)] = query(crawled, "SELECT status, new, duplicates FROM crawl_runs")
    assert (status, new, duplicates) == ("finished", 18, 1)


def test_a_second_full_run_adds_nothing_and_moves_last_seen_at(crawled, tmp_path):
    before = dict(query(crawled, "SELECT url, last_seen_at FROM articles"))
    first_seen = dict(query(crawled, "SELECT url, first_seen_at FROM articles"))
    time.sleep(1.1)  # times are stored to the second
    again = crawl(tmp_path, "-a", "mode=full", db_url=crawled)
    assert again.returncode == 0, again.log[-3000:]
    assert again.stat("peruwire/store/new", 0) == 0 and again.stat("peruwire/store/updated", 0) == 0
    after = dict(query(crawled, "SELECT url, last_seen_at FROM articles"))
    assert after.keys() == before.keys()
    assert all(after[url] > before[url] for url in before)
    assert dict(query(crawled, "SELECT url, first_seen_at FROM articles")) == first_seen
    assert query(crawled, "SELECT count(*) FROM article_revisions") == [(0,)]


def test_analysts_see_the_crawl_through_search_stats_and_export(crawled):
    found = peruwire(crawled, "search", "Fujimori").stdout
    assert "Outrage in Peru following Court’s decision to release former dictator Alberto Fujimori" in found
    header, *spanish = peruwire(crawled, "search", "Constitución", "--language", "es").stdout.splitlines()
    assert header.split("\t") == ["published_at", "language", "source", "title", "url"]
    assert len(spanish) == 1 and SPANISH in spanish[0]
    stats = peruwire(crawled, "stats").stdout
    assert "articles: 18" in stats and "peoplesdispatch" in stats
    exported = peruwire(crawled, "export", "--format", "csv", "--since", "2023-01-01").stdout
    rows = list(csv.DictReader(io.StringIO(exported)))
    assert len(rows) == 7  # the fixture articles published in 2023
    assert all(row["published_at"].startswith("2023-") for row in rows)
    assert list(rows[0])[:3] == ["id", "url", "source"]
