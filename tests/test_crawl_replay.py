"""End to end: `scrapy crawl peru` replaying the fixture sites, as an operator runs it."""

from __future__ import annotations

import sqlite3

import pytest

from tests.crawling import FIXTURES, crawl

pytestmark = pytest.mark.slow

SITE = "https://peoplesdispatch.org"
SECTIONS = {
    f"{SITE}/tag/new-peru-left/",
    f"{SITE}/tag/impeachment-of-martin-vizcarra/",
    f"{SITE}/tag/peru/",
}
# Every distinct article of the fixture site (fixtures/README.md), with its publication day.
ARTICLES = {
    "/2023/06/27/communities-in-moquegua-demand-water-guarantees-from-mining-project/": "2023-06-27",
    "/2023/06/16/perus-de-facto-president-blames-protesters-for-their-own-deaths-at-the-hands-of-state-forces/": "2023-06-16",
    "/2023/04/09/families-of-those-killed-in-perus-protests-hold-vigil-in-lima/": "2023-04-09",
    "/2023/03/16/enver-leon-la-mayoria-de-los-peruanos-quieren-un-cambio-de-constitucion/": "2023-03-16",
    "/2023/03/16/enver-leon-the-majority-of-peruvians-want-a-change-in-the-constitution/": "2023-03-16",
    "/2023/01/19/tens-of-thousands-on-the-streets-of-peru-in-national-strike/": "2023-01-19",
    "/2023/01/12/rondas-campesinas-from-cajamarca-travel-to-lima-to-join-protests/": "2023-01-12",
    "/2022/06/30/peruvian-president-pedro-castillo-leaves-free-peru-party/": "2022-06-30",
    "/2022/03/18/outrage-in-peru-following-courts-decision-to-release-former-dictator-alberto-fujimori/": "2022-03-18",
    "/2021/06/07/photo-essay-peru-votes-in-the-second-round/": "2021-06-07",
    "/2021/04/14/finally-a-popular-left-born-in-peru/": "2021-04-14",
    "/2020/12/23/peruvian-agricultural-workers-strike-met-with-violent-repression/": "2020-12-23",
    "/2020/11/17/peru-has-a-new-interim-president-but-social-movements-demand-refoundation/": "2020-11-17",
    "/2020/11/12/why-are-peruvians-protesting-president-vizcarras-impeachment/": "2020-11-12",
    "/2020/11/11/manuel-merino-sworn-in-as-perus-president-amid-protests/": "2020-11-11",
    "/2020/11/10/perus-congress-removes-martin-vizcarra-from-the-presidency/": "2020-11-10",
    "/2020/09/19/martin-vizcarra-survives-impeachment-vote-in-perus-congress/": "2020-09-19",
    "/2020/09/14/is-peru-witnessing-a-parliamentary-coup/": "2020-09-14",
}
MISSING_PAGE = f"{SITE}/2020/11/11/manuel-merino-sworn-in-as-perus-president-amid-protests/"
SPANISH = f"{SITE}/2023/03/16/enver-leon-la-mayoria-de-los-peruanos-quieren-un-cambio-de-constitucion/"
ENGLISH_TWIN = f"{SITE}/2023/03/16/enver-leon-the-majority-of-peruvians-want-a-change-in-the-constitution/"


def seed_articles() -> list[tuple[str, str]]:
    """(title, standfirst) pairs of the seed page, in order; its first line is the heading."""
    lines = [line for line in (FIXTURES / "seeds/peoplesdispatch-new-peru-left.txt").read_text("utf-8").splitlines() if line.strip()]
    return list(zip(lines[1::2], lines[2::2], strict=False))


@pytest.fixture(scope="module")
def replay_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("replay")


@pytest.fixture(scope="module")
def replayed(replay_dir):
    result = crawl(replay_dir)
    assert result.stat("finish_reason") == "finished", result.log[-3000:]
    result.database = replay_dir / "peruwire.db"
    return result


@pytest.fixture(scope="module")
def replayed_db(replayed, replay_dir):
    """The database the replayed crawl stored into."""
    return replay_dir / "peruwire.db"


@pytest.fixture(scope="module")
def by_url(replayed):
    return {item["url"]: item for item in replayed.items}


def test_one_item_per_distinct_article(replayed):
    urls = [item["url"] for item in replayed.items]
    assert sorted(urls) == sorted(SITE + path for path in ARTICLES)


def test_every_seed_title_and_standfirst_exactly_as_published(by_url):
    stored = {(item["title"], item["summary"]) for item in by_url.values()}
    for title, standfirst in seed_articles():
        assert (title, standfirst) in stored


def test_the_section_heading_is_not_an_article(by_url):
    assert "New Peru left" not in {item["title"] for item in by_url.values()}


def test_every_article_has_its_publication_day(by_url):
    for path, day in ARTICLES.items():
        item = by_url[SITE + path]
        assert item["published_at"] and item["published_at"].startswith(day), (path, item["published_at"])
        assert item["published_at"].endswith("+00:00")


def test_spanish_article_is_es_and_linked_to_its_english_twin(by_url):
    spanish, english = by_url[SPANISH], by_url[ENGLISH_TWIN]
    assert spanish["language"] == "es"
    assert english["language"] == "en"
    assert spanish["translation_of"] == ENGLISH_TWIN
    assert SPANISH in english["translations"]


def test_an_article_listed_by_three_sections_records_them_all(replayed_db):
    # Items go out as soon as their page is read, so the sections that list an article later
    # reach the database by an update: what is recorded is there.
    url = f"{SITE}/2020/11/12/why-are-peruvians-protesting-president-vizcarras-impeachment/"
    with sqlite3.connect(replayed_db) as connection:
        sections = {section for (section,) in connection.execute(
            "SELECT s.section_url FROM article_sections s JOIN articles a ON a.id = s.article_id "
            "WHERE a.url = ?", (url,))}
    assert sections == SECTIONS


def test_a_missing_article_page_keeps_the_listing_data_marked_incomplete(by_url, replayed):
    item = by_url[MISSING_PAGE]
    assert item["complete"] is False
    # The feed holds the article as `peruwire export` gives it; the reason is in its row.
    with sqlite3.connect(replayed.database) as db:
        (reason,) = db.execute("SELECT incomplete_reason FROM articles WHERE url = ?", (MISSING_PAGE,)).fetchone()
    assert reason == "HTTP 404"
    assert item["title"] and item["body"] is None


def test_article_without_standfirst_has_null_summary(by_url):
    assert by_url[f"{SITE}/2021/06/07/photo-essay-peru-votes-in-the-second-round/"]["summary"] is None


def test_bylines_become_authors(by_url):
    assert by_url[SPANISH]["authors"] == ["Zoe Alexandra"]
    assert by_url[f"{SITE}/2023/06/16/perus-de-facto-president-blames-protesters-for-their-own-deaths-at-the-hands-of-state-forces/"]["authors"] == ["Peoples Dispatch"]


def test_the_old_slug_copy_is_dropped_as_a_duplicate(replayed):
    assert replayed.stat("peruwire/dedup/dropped/same_title") == 1


def test_the_replay_never_left_the_fixtures(replayed):
    assert replayed.stat("peruwire/replay/responses") == replayed.stat("downloader/request_count")
    assert replayed.stat("peruwire/replay/missing") == 1  # the one missing article page


def test_another_wordpress_site_with_a_stock_theme(tmp_path):
    """`-a sections=` on another host: a Spanish site on a stock theme, no site rules."""
    section = "https://noticias.example.org/category/peru/"
    result = crawl(tmp_path, "-a", f"sections={section}", replay="stockwp")
    assert result.returncode == 0, result.log[-3000:]
    assert len(result.items) == 5
    for item in result.items:
        assert item["url"].startswith("https://noticias.example.org/20")
        assert item["source"] == "noticias.example.org"
        assert item["sections"] == [section]
        assert item["title"] and item["body"] and item["published_at"]
        assert item["language"] == "es"
    assert not any(item["summary"] and item["summary"].endswith("[…]") for item in result.items)
