"""The change signals' parts: reading the REST API's and sitemaps' answers, the re-check's
slice. (End to end, against a local site: tests/test_changes_e2e.py.)"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

import pytest

from peruwire_crawl import replay
from peruwire_crawl.changes import recheck, sitemaps, wordpress
from tests.crawling import FIXTURES

SITE = "https://peoplesdispatch.org"
UTC = timezone.utc


@pytest.mark.parametrize("section, term", [
    (f"{SITE}/tag/new-peru-left/", ("tags", "new-peru-left")),
    (f"{SITE}/tag/peru/page/2/", ("tags", "peru")),
    ("https://noticias.example.org/category/america/peru/", ("categories", "peru")),
    (f"{SITE}/author/zoe/", None), (f"{SITE}/?s=peru", None), (f"{SITE}/tag/", None),
])
def test_a_section_names_the_term_the_rest_api_selects_by(section, term):
    assert wordpress.section_term(section) == term


def test_the_posts_query_asks_what_changed_a_day_before_the_last_answer():
    url = wordpress.posts_url(SITE, "tags", [412, 57], datetime(2023, 7, 1, 12, tzinfo=UTC), page=2)
    parts = urlsplit(url)
    query = {name: values[0] for name, values in parse_qs(parts.query).items()}
    assert parts.path == "/wp-json/wp/v2/posts"
    assert query == {"tags": "57,412", "modified_after": "2023-06-30T12:00:00", "orderby": "modified",
                     "order": "desc", "per_page": "100", "page": "2", "_fields": "link,modified_gmt"}


def test_a_posts_answer_gives_links_and_utc_modification_times():
    posts = json.loads((FIXTURES / "peoplesdispatch-edited" / "wordpress.json").read_text("utf-8"))["posts"]
    answer = json.dumps([{"link": p["link"], "modified_gmt": p["modified_gmt"]} for p in posts]).encode()
    changed = dict(wordpress.changed_posts(answer))
    url = f"{SITE}/2022/06/30/peruvian-president-pedro-castillo-leaves-free-peru-party/"
    assert changed[url] == datetime(2023, 7, 8, 9, 30, tzinfo=UTC)


@pytest.mark.parametrize("body", [b"<html>Not found</html>", b'{"code": "rest_no_route"}', b"[1, 2]"])
def test_what_is_not_a_rest_answer_says_so(body):
    with pytest.raises(wordpress.NotAnAnswer):
        wordpress.changed_posts(body)


def test_wordpress_core_sitemaps_before_and_after_the_edit():
    roots = {"before": [FIXTURES / "peoplesdispatch-wp"], "after": [FIXTURES / "peoplesdispatch-edited",
                                                                    FIXTURES / "peoplesdispatch-wp"]}
    kind, index = sitemaps.read(replay.load_layered(roots["before"], f"{SITE}/wp-sitemap.xml").body)
    assert kind == "sitemapindex"
    assert sitemaps.post_sitemaps(index, since=None) == [f"{SITE}/wp-sitemap-posts-post-1.xml"]
    lastmods = {}
    for name, layered in roots.items():
        kind, urls = sitemaps.read(replay.load_layered(layered, f"{SITE}/wp-sitemap-posts-post-1.xml").body)
        assert kind == "urlset" and len(urls) == 19
        lastmods[name] = dict(urls)
    edited = {url for url in lastmods["after"] if lastmods["after"][url] != lastmods["before"][url]}
    assert edited == {f"{SITE}/2022/06/30/peruvian-president-pedro-castillo-leaves-free-peru-party/",
                      f"{SITE}/2020/11/17/peru-has-a-new-interim-president-but-social-movements-demand-refoundation/"}


YOAST_INDEX = b"""<?xml version="1.0" encoding="UTF-8"?><?xml-stylesheet type="text/xsl" href="//example.org/main-sitemap.xsl"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<sitemap><loc>https://example.org/post-sitemap.xml</loc><lastmod>2023-06-20T08:00:00+00:00</lastmod></sitemap>
<sitemap><loc>https://example.org/post-sitemap2.xml</loc><lastmod>2023-07-08T09:30:00+00:00</lastmod></sitemap>
<sitemap><loc>https://example.org/page-sitemap.xml</loc><lastmod>2023-07-08T10:00:00+00:00</lastmod></sitemap>
<sitemap><loc>https://example.org/post_tag-sitemap.xml</loc><lastmod>2023-07-08T10:00:00+00:00</lastmod></sitemap>
</sitemapindex>"""


def test_a_yoast_index_gives_only_the_post_sitemaps_changed_since_the_last_run():
    kind, entries = sitemaps.read(YOAST_INDEX)
    since = datetime(2023, 7, 1, 12, tzinfo=UTC)
    assert kind == "sitemapindex"
    assert sitemaps.post_sitemaps(entries, since) == ["https://example.org/post-sitemap2.xml"]
    assert sitemaps.post_sitemaps(entries, None) == ["https://example.org/post-sitemap.xml",
                                                      "https://example.org/post-sitemap2.xml"]


@pytest.mark.parametrize("body", [b"<html><body>Page not found</body></html>", b"", b"\x89PNG"])
def test_what_is_not_a_sitemap_says_so(body):
    with pytest.raises(sitemaps.NotASitemap):
        sitemaps.read(body)


def test_lastmod_dates_come_in_utc():
    assert sitemaps.lastmod("2023-07-08") == datetime(2023, 7, 8, tzinfo=UTC)
    assert sitemaps.lastmod("2023-07-08T04:30:00-05:00") == datetime(2023, 7, 8, 9, 30, tzinfo=UTC)
    assert sitemaps.lastmod("yesterday") is None


def test_the_rolling_recheck_reaches_every_article_within_the_period():
    """317 articles, a run every 6 hours for 60 days, each run re-checking its slice of the
    oldest-checked and carrying the fraction it owes: no article goes unchecked for longer
    than the period, and the whole round costs no more checks than there are articles."""
    period, interval, stored = timedelta(days=30), timedelta(hours=6), 317
    last_checked = {n: timedelta(0) for n in range(stored)}  # all read by the full crawl at 0
    now, sizes, owed = timedelta(0), [], 0.0
    while now < 2 * period:
        now += interval
        size, owed = recheck.slice_size(stored, interval, period, max_per_run=50, owed=owed)
        sizes.append(size)
        for article in sorted(last_checked, key=last_checked.get)[:size]:
            last_checked[article] = now
        assert all(now - checked <= period for checked in last_checked.values())
    assert set(sizes) == {2, 3}
    assert sum(sizes) == 2 * stored


def test_a_run_minutes_after_the_previous_one_owes_no_recheck_and_carries_the_fraction():
    size, owed = recheck.slice_size(2000, timedelta(minutes=1), timedelta(days=30), 50)
    assert (size, round(owed, 3)) == (0, 0.046)
    assert recheck.slice_size(2000, timedelta(minutes=1), timedelta(days=30), 50, owed=0.99)[0] == 1


def test_the_slice_is_bounded_and_grows_after_a_pause():
    assert recheck.slice_size(317, timedelta(days=3), timedelta(days=30), 50) == (31, pytest.approx(0.7))
    assert recheck.slice_size(317, timedelta(days=300), timedelta(days=30), 50) == (50, 267)
    assert recheck.slice_size(0, timedelta(hours=6), timedelta(days=30), 50) == (0, 0.0)
    assert recheck.slice_size(317, None, timedelta(days=30), 50)[0] == 10  # a first run counts as a day


# --- falling back, signal by signal ---------------------------------------------------------

from itemadapter import ItemAdapter  # noqa: E402
from scrapy import Spider  # noqa: E402
from scrapy.exceptions import IgnoreRequest  # noqa: E402
from scrapy.http import Response, TextResponse  # noqa: E402
from scrapy.spidermiddlewares.httperror import HttpError  # noqa: E402
from scrapy.utils.test import get_crawler  # noqa: E402
from twisted.python.failure import Failure  # noqa: E402

from peruwire_crawl.changes import ChangeSignals, Refetch  # noqa: E402
from peruwire_crawl.changes.state import SignalState  # noqa: E402
from peruwire_crawl.db.store import ArticleStore, record_from_item  # noqa: E402
from peruwire_crawl.items import ArticleItem  # noqa: E402

SECTION = f"{SITE}/tag/new-peru-left/"
ARTICLE = f"{SITE}/2022/06/30/peruvian-president-pedro-castillo-leaves-free-peru-party/"


def signals_on(db_engine, **settings) -> ChangeSignals:
    ArticleStore(db_engine).write([record_from_item(ItemAdapter(ArticleItem(
        url=ARTICLE, source="peoplesdispatch", title="Castillo leaves Free Peru", body="Text.",
        fetched_at="2023-07-01T12:00:00+00:00", etag='"v1"')))])
    for _ in range(2):
        ArticleStore(db_engine).open_run("peru")
    crawler = get_crawler(Spider, {"PERUWIRE_CHANGE_SIGNALS": "wp_rest,sitemap,recheck", "PERUWIRE_RECHECK_DAYS": 30,
                                   "PERUWIRE_RECHECK_MAX_PER_RUN": 50, "PERUWIRE_CHANGE_SIGNALS_REPROBE_DAYS": 30,
                                   "PERUWIRE_STORE_ENABLED": True,
                                   **settings})
    signals = ChangeSignals.from_crawler(crawler)
    signals.state = SignalState(lambda: db_engine)
    return signals


def failed(request, status=None, error=None) -> Failure:
    """The failure an errback gets, as Scrapy hands it over (with its request)."""
    failure = Failure(error or HttpError(Response(request.url, status=status, request=request)))
    failure.request = request
    return failure


def ask(signals: ChangeSignals) -> list:
    return signals.start([SECTION], lambda url: "peoplesdispatch", callback=print, errback=print)


def test_a_refused_rest_api_and_a_missing_sitemap_fall_back_to_the_recheck_and_are_remembered(db_engine):
    whole_period_passed = {"PERUWIRE_RECHECK_DAYS": 0}  # a period of 0: every run re-checks everything
    signals = signals_on(db_engine, **whole_period_passed)
    [terms] = ask(signals)
    assert terms.url.startswith(f"{SITE}/wp-json/wp/v2/tags?slug=new-peru-left")
    [index] = signals.read(failure=failed(terms, 403))
    assert index.url == f"{SITE}/wp-sitemap.xml"
    [other_index] = signals.read(failure=failed(index, 404))
    assert other_index.url == f"{SITE}/sitemap_index.xml"
    soft_404 = TextResponse(other_index.url, body=b"<html>Nothing here</html>", request=other_index)
    assert signals.read(response=soft_404) == [Refetch(ARTICLE, "recheck", '"v1"', None)]
    assert signals.stats.get_value("peruwire/changes/summary") == (
        "change signals: peoplesdispatch re-check (REST API refused, sitemaps missing)")
    signals.run_judged(None, healthy=True)

    again = signals_on(db_engine, **whole_period_passed)  # the next run asks neither
    assert ask(again) == [Refetch(ARTICLE, "recheck", '"v1"', None)]


def test_a_robots_refusal_counts_as_refused(db_engine):
    signals = signals_on(db_engine, PERUWIRE_CHANGE_SIGNALS="wp_rest")
    [terms] = ask(signals)
    assert signals.read(failure=failed(terms, error=IgnoreRequest("Forbidden by robots.txt"))) == []
    assert signals.stats.get_value("peruwire/changes/summary") == (
        "change signals: peoplesdispatch none (REST API refused)")


def test_no_answer_from_the_site_falls_back_for_this_run_only(db_engine):
    """A DNS failure or a 5xx says nothing about what the site offers: not remembered."""
    from twisted.internet.error import DNSLookupError

    signals = signals_on(db_engine, PERUWIRE_CHANGE_SIGNALS="wp_rest")
    [terms] = ask(signals)
    assert signals.read(failure=failed(terms, error=DNSLookupError("no results"))) == []
    assert signals.stats.get_value("peruwire/changes/summary") == (
        "change signals: peoplesdispatch none (REST API unreachable)")
    signals.run_judged(None, healthy=True)

    again = signals_on(db_engine, PERUWIRE_CHANGE_SIGNALS="wp_rest")
    [asked_again] = ask(again)  # the next run asks the site again
    assert asked_again.url == terms.url
    assert again.read(failure=failed(asked_again, 503)) == []
    again.run_judged(None, healthy=True)
    assert [request.url for request in ask(signals_on(db_engine, PERUWIRE_CHANGE_SIGNALS="wp_rest"))] == [terms.url]


def test_the_stored_articles_are_asked_for_as_needed_never_loaded_whole(db_engine, monkeypatch):
    """The re-check takes the few checked longest ago; a signal's report is looked up in
    chunks; an incomplete article or another source's is none of them."""
    from peruwire_crawl.changes.state import StoredArticles

    urls = [f"{SITE}/2023/07/0{day}/article-{day}/" for day in range(1, 6)]
    for day, url in enumerate(urls, start=1):
        ArticleStore(db_engine).write([record_from_item(ItemAdapter(ArticleItem(
            url=url, source="peoplesdispatch", title=f"Article {day}", body="Text.",
            fetched_at=f"2023-07-0{6 - day}T12:00:00+00:00", etag=f'"e{day}"')))])  # the last URL read first
    ArticleStore(db_engine).write([record_from_item(ItemAdapter(ArticleItem(
        url=f"{SITE}/incomplete/", source="peoplesdispatch", title="Listed only", complete=False,
        fetched_at="2023-07-01T00:00:00+00:00")))])
    monkeypatch.setattr(StoredArticles, "LOOKUP_CHUNK", 2)

    stored = SignalState(lambda: db_engine).stored_articles("peoplesdispatch")
    assert len(stored) == 5
    assert [article.url for article in stored.oldest_checked(2)] == [urls[4], urls[3]]
    assert stored.oldest_checked(0) == []
    assert stored.checked_by(datetime(2023, 7, 2, 12, tzinfo=UTC)) == 2  # read on 1 and 2 July
    assert stored.checked_by(None) == 0
    assert SignalState(lambda: db_engine).newest_check("peoplesdispatch") == datetime(2023, 7, 5, 12, tzinfo=UTC)
    found = stored.find([urls[0], f"{SITE}/never-stored/", urls[2], urls[4], f"{SITE}/incomplete/", urls[0]])
    assert sorted(found) == sorted([urls[0], urls[2], urls[4]])
    assert found[urls[2]].etag == '"e3"'
    assert len(SignalState(lambda: db_engine).stored_articles("another-source")) == 0
    nothing = SignalState(lambda: db_engine).stored_articles(None)  # a full walk: as if none were stored
    assert (len(nothing), nothing.oldest_checked(3), nothing.find(urls)) == (0, [], {})
