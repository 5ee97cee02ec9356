"""The issue's scenario, end to end with `scrapy crawl peru` against a modelled WordPress
site on 127.0.0.1 (tests/wpsite.py): a full crawl; a week later a paragraph is added to a
year-old article (its listing unchanged) and another old article, listed only on a second
page, gets a new title; the next scheduled run stores both, each with a revision holding the
earlier text, in a few dozen requests when the site offers the REST API or sitemaps, and
within the re-check period when it offers neither."""

from __future__ import annotations

import sqlite3

import pytest

from peruwire_crawl.db.engine import make_engine
from peruwire_crawl.db.revisions import history
from tests.crawling import FIXTURES, crawl
from tests.wpsite import WordPressSite

SECTIONS = ("/tag/new-peru-left/", "/tag/impeachment-of-martin-vizcarra/", "/tag/peru/")
BODY_EDITED = "/2022/06/30/peruvian-president-pedro-castillo-leaves-free-peru-party/"
TITLE_EDITED = "/2020/11/17/peru-has-a-new-interim-president-but-social-movements-demand-refoundation/"
BEFORE = [FIXTURES / "peoplesdispatch-wp", FIXTURES / "peoplesdispatch"]
AFTER = [FIXTURES / "peoplesdispatch-edited", *BEFORE]
ADDED = ("Update, July 8, 2023: this article was corrected to add that Free Peru’s congressional bench "
         "said it would stay in the governing coalition until the end of the legislative session.")
OLD_TITLE = "Peru has a new interim president but social movements demand ‘refoundation’"
NEW_TITLE = "Francisco Sagasti sworn in as Peru’s interim president as social movements demand ‘refoundation’"
FAST = {"AUTOTHROTTLE_ENABLED": False, "CONCURRENT_REQUESTS_PER_DOMAIN": 8, "PERUWIRE_CHANGE_SIGNALS": "wp_rest,sitemap,recheck"}


def run(tmp_path, site, **settings):
    result = crawl(tmp_path, "-a", "sections=" + ",".join(site.url(s) for s in SECTIONS), replay=None,
                   settings={**FAST, **settings})
    assert result.returncode == 0, result.log[-3000:]
    return result


def revisions(tmp_path):
    with sqlite3.connect(tmp_path / "peruwire.db") as db:
        return db.execute(
            "SELECT a.url, r.changed, r.signal, r.title, a.title FROM article_revisions r "
            "JOIN articles a ON a.id = r.article_id ORDER BY a.url").fetchall()


def versions(tmp_path, url):
    engine = make_engine(f"sqlite:///{tmp_path / 'peruwire.db'}")
    try:
        with engine.connect() as connection:
            article_id = connection.exec_driver_sql("SELECT id FROM articles WHERE url = ?", (url,)).scalar_one()
            return history(connection, article_id)
    finally:
        engine.dispose()


def assert_both_edits_stored(tmp_path, site, signal):
    body_url, title_url = site.url(BODY_EDITED), site.url(TITLE_EDITED)
    found = {url: (changed, used, old_title, title) for url, changed, used, old_title, title in revisions(tmp_path)}
    assert set(found) == {body_url, title_url}, found
    assert found[body_url][:2] == ('["body", "modified_at"]', signal)
    assert found[title_url][:2] == ('["title", "modified_at"]', signal)
    assert (found[title_url][2], found[title_url][3]) == (OLD_TITLE, NEW_TITLE)
    earlier, now = versions(tmp_path, body_url)
    assert ADDED not in earlier.values["body"] and now.values["body"].endswith(ADDED)
    assert now.values["body"].replace("\n\n" + ADDED, "") == earlier.values["body"]


@pytest.mark.parametrize("offers, signal", [({"rest": True, "sitemaps": True}, "wp_rest"),
                                            ({"rest": False, "sitemaps": True}, "sitemap")])
def test_an_edit_deep_in_the_archive_is_stored_by_the_next_run(tmp_path, offers, signal):
    with WordPressSite(BEFORE, **offers) as site:
        full = run(tmp_path, site)
        assert full.stat("peruwire/store/new") == 18

        # The first run, which read everything anyway, learnt what the site offers.
        assert full.stat(f"peruwire/changes/requests/{signal}") >= 1
        quiet = run(tmp_path, site)  # nothing changed: three 304s and the signal's question, no probe
        assert quiet.stat("peruwire/store/updated", 0) == 0 and revisions(tmp_path) == []
        question = {"wp_rest": 1, "sitemap": 2}[signal]  # the posts query; the index and its one post sitemap
        assert quiet.stat(f"peruwire/changes/requests/{signal}") == question
        assert quiet.stat("downloader/request_count") == 1 + 3 + question, quiet.stats  # and robots.txt, 3 pages

        site.roots = AFTER
        edited = run(tmp_path, site)
        assert edited.stat(f"peruwire/articles/fetch_reason/{signal}") == 2
        assert edited.stat("peruwire/store/updated") == 2
        assert edited.stat("downloader/request_count") <= 12
        assert_both_edits_stored(tmp_path, site, signal)

        again = run(tmp_path, site)  # the edits are not fetched a second time
        assert again.stat(f"peruwire/articles/fetch_reason/{signal}", 0) == 0
        assert f"change signals: 127.0.0.1 {'REST API' if signal == 'wp_rest' else 'sitemaps'}" in again.log


def test_a_site_with_neither_is_corrected_within_the_recheck_period(tmp_path):
    with WordPressSite(BEFORE, rest=False, sitemaps=False) as site:
        run(tmp_path, site)
        # A re-check period shorter than the time between runs: a share of every stored article
        # is owed, but the previous run read them all moments ago, so none is re-checked yet;
        # and the first run learnt that the site offers neither: no probe either.
        quiet = run(tmp_path, site, PERUWIRE_RECHECK_DAYS=1e-6, PERUWIRE_RECHECK_MAX_PER_RUN=100)
        assert "change signals: 127.0.0.1 re-check (REST API missing, sitemaps missing)" in quiet.log
        assert quiet.stat("peruwire/changes/refetch/recheck") == 0
        assert quiet.stat("downloader/request_count") == 1 + 3  # robots.txt, three first pages

        site.roots = AFTER
        probes = len(site.asked("/wp-json/")) + len(site.asked("/wp-sitemap.xml"))
        # Now every article was last read before the previous run: this run's slice is all of them.
        edited = run(tmp_path, site, PERUWIRE_RECHECK_DAYS=1e-6, PERUWIRE_RECHECK_MAX_PER_RUN=100)
        assert edited.stat("peruwire/changes/refetch/recheck") == 17  # every complete article
        assert edited.stat("peruwire/articles/not_modified") == 15
        # A 304 of an article no listing page of this run showed carries no title: it is
        # stored as a check (unchanged), not dropped, or the re-check would never move on.
        assert edited.stat("peruwire/normalize/dropped/no_title", 0) == 0
        assert edited.stat("peruwire/store/unchanged") == 15
        assert_both_edits_stored(tmp_path, site, "recheck")
        # What the site lacks was remembered: neither is asked again until the re-probe is due.
        assert len(site.asked("/wp-json/")) + len(site.asked("/wp-sitemap.xml")) == probes


def test_a_full_walk_asks_the_signals_only_to_learn_the_sites_clock(tmp_path):
    with WordPressSite(BEFORE, rest=True, sitemaps=True) as site:
        run(tmp_path, site)
        site.roots = AFTER
        walk = crawl(tmp_path, "-a", "mode=full", "-a", "sections=" + ",".join(site.url(s) for s in SECTIONS),
                     replay=None, settings={**FAST, "PERUWIRE_CHANGE_SIGNALS": "wp_rest"})
        assert walk.returncode == 0, walk.log[-3000:]
        assert walk.stat("peruwire/changes/requests/wp_rest") == 1  # the posts query: the site's clock
        assert walk.stat("peruwire/changes/refetch/wp_rest", 0) == 0  # the walk reads every article anyway
