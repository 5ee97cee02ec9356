"""Runs that keep what they read and tell cron the truth (docs/reliability.md, rows 40-49).

Each test crawls a generated news site on 127.0.0.1 (``tests.faultsite.NewsPlan``) with a
real `scrapy crawl peru` subprocess into a SQLite file: a stop in the middle of a section,
pagination that never ends, items lost inside the pipelines, pages that declare another
article's URL as theirs, articles that keep failing, and a video post with no text.
"""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.faultsite import FaultSite, NewsArticle, NewsPlan, Status

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "tests" / "fixtures_faults"  # served for paths the generated site leaves
CRAWL_TIMEOUT = 120


@dataclass
class Run:
    returncode: int
    log: str
    stats: dict

    def stat(self, name: str) -> int:
        return self.stats.get(name, 0)


def command(site: FaultSite, db: Path, plan: NewsPlan, settings: dict[str, object],
            spider_args: tuple[str, ...] = ()) -> list[str]:
    sections = ",".join(site.url(path) for path in plan.section_url_paths())
    base = {
        "PERUWIRE_DB_URL": f"sqlite:///{db}",
        "PERUWIRE_STATS_FILE": db.with_suffix(".stats.json"),
        "PERUWIRE_DEAD_LETTER_FILE": db.with_name("dead-letter.jsonl"),
        "DOWNLOAD_TIMEOUT": 5, "RETRY_TIMES": 2, "AUTOTHROTTLE_ENABLED": False,
        "PERUWIRE_RETRY_BACKOFF_BASE": 0.1, "CONCURRENT_REQUESTS_PER_DOMAIN": 8,
        "ROBOTSTXT_OBEY": False, "LOG_LEVEL": "INFO", **settings,
    }
    args = [sys.executable, "-m", "scrapy", "crawl", "peru", "-a", f"sections={sections}", *spider_args]
    for name, value in base.items():
        args += ["-s", f"{name}={value}"]
    return args


def environment() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("PERUWIRE_")}


def finish(process: subprocess.Popen, db: Path) -> Run:
    log, _ = process.communicate(timeout=CRAWL_TIMEOUT)
    stats_file = db.with_suffix(".stats.json")
    stats = json.loads(stats_file.read_text("utf-8")) if stats_file.exists() else {}
    return Run(process.returncode, log, stats)


def start(site: FaultSite, db: Path, plan: NewsPlan, spider_args: tuple[str, ...] = (), **settings) -> subprocess.Popen:
    return subprocess.Popen(command(site, db, plan, settings, spider_args), cwd=REPO, env=environment(),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def crawl(site: FaultSite, db: Path, plan: NewsPlan, spider_args: tuple[str, ...] = (), **settings) -> Run:
    return finish(start(site, db, plan, spider_args, **settings), db)


def articles(db: Path) -> dict[str, dict]:
    """Stored articles by path."""
    with sqlite3.connect(db) as connection:
        connection.row_factory = sqlite3.Row
        found = connection.execute("SELECT * FROM articles").fetchall()
    return {re.sub(r"^https?://[^/]+", "", row["url"]): dict(row) for row in found}


def sections_of(db: Path, path: str) -> set[str]:
    with sqlite3.connect(db) as connection:
        return {section.rsplit("/tag/", 1)[1] for (section,) in connection.execute(
            "SELECT s.section_url FROM article_sections s JOIN articles a ON a.id = s.article_id "
            "WHERE a.url LIKE ?", (f"%{path}",))}


def article_hits(site: FaultSite) -> int:
    return sum(1 for hit in site.requests if hit.path.startswith("/2023/"))


# --- 40: a stop keeps every article whose page was read -----------------------------------------


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_stop_in_the_middle_of_a_section_keeps_every_article_read(tmp_path, stop):
    plan = NewsPlan({"peru": 12}, per_page=5, listing_delay=0.4, article_delay=0.2)
    db = tmp_path / "x.db"
    with FaultSite(FIXTURES, "faults.example", plan=plan) as site:
        process = start(site, db, plan, PERUWIRE_STORE_BATCH_SIZE=7)
        deadline = time.monotonic() + 60
        while article_hits(site) < 12 and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.1)
        assert process.poll() is None, "the crawl ended before it could be stopped"
        stopped_at = time.monotonic()
        process.send_signal(stop)
        run = finish(process, db)
        took = time.monotonic() - stopped_at
    read = run.stat("peruwire/articles/fetched")
    stored = [row for row in articles(db).values() if row["complete"]]
    assert read >= 10 and len(stored) == read, run.log[-3000:]
    assert read < 12 * 5  # it did stop early
    assert run.returncode == 1 and "the run was stopped (SIGTERM or Ctrl-C)" in run.log
    assert took < 20, "the stop took too long"
    with sqlite3.connect(db) as connection:
        [(status, reason)] = connection.execute("SELECT status, finish_reason FROM crawl_runs").fetchall()
    assert (status, reason) == ("failed", "shutdown")


# --- 41-42: every walk is bounded -------------------------------------------------------------


def test_endless_pagination_stops_at_the_section_bound_with_what_it_read_stored(tmp_path):
    plan = NewsPlan({"endless": None}, per_page=3)
    db = tmp_path / "x.db"
    with FaultSite(FIXTURES, "faults.example", plan=plan) as site:
        run = crawl(site, db, plan, PERUWIRE_MAX_SECTION_PAGES=15)
        listing_hits = sum(1 for hit in site.requests if hit.path.startswith("/tag/"))
    assert listing_hits == 15
    assert len(articles(db)) == 15 * 3 and all(row["complete"] for row in articles(db).values())
    assert run.returncode == 1
    assert "health check failed: section http://127.0.0.1" in run.log
    assert "stopped after 15 listing pages (PERUWIRE_MAX_SECTION_PAGES)" in run.log


def test_the_run_bound_on_listing_pages_holds_across_sections(tmp_path):
    plan = NewsPlan({"one": None, "two": None}, per_page=2)
    db = tmp_path / "x.db"
    with FaultSite(FIXTURES, "faults.example", plan=plan) as site:
        run = crawl(site, db, plan, PERUWIRE_MAX_LISTING_PAGES=10)
        listing_hits = sum(1 for hit in site.requests if hit.path.startswith("/tag/"))
    assert listing_hits == 10 and len(articles(db)) == 10 * 2
    assert run.returncode == 1 and "after 10 pages (PERUWIRE_MAX_LISTING_PAGES)" in run.log


def listing_hits(site: FaultSite) -> list:
    return [hit for hit in site.requests if hit.path.startswith("/tag/")]


def test_a_full_walk_asks_for_numbered_listing_pages_side_by_side_and_none_twice(tmp_path):
    """The pagination prints the last page (9): a full walk asks for the next page and up to
    PERUWIRE_LISTING_PAGES_AHEAD more at once, never one past the last or one twice."""
    plan = NewsPlan({"peru": 9}, per_page=2, listing_delay=1.0, numbered_pages=True)
    db = tmp_path / "x.db"
    with FaultSite(FIXTURES, "faults.example", plan=plan) as site:
        run = crawl(site, db, plan, ("-a", "mode=full"), PERUWIRE_LISTING_PAGES_AHEAD=3)
        hits = listing_hits(site)
    assert run.returncode == 0, run.log[-3000:]
    assert sorted(hit.path for hit in hits) == sorted(["/tag/peru/", *(f"/tag/peru/page/{n}/" for n in range(2, 10))])
    assert len(articles(db)) == 9 * 2 and all(row["complete"] for row in articles(db).values())
    # Pages 2 to 5 were asked for together, once page 1 had answered: one after the other,
    # each would wait for the answer before it (1 s each), 3 s from the first to the fourth.
    arrivals = sorted(hit.at for hit in hits[1:])
    assert arrivals[3] - arrivals[0] < 1.0, [round(t - arrivals[0], 2) for t in arrivals]


def test_an_incremental_walk_and_a_walk_told_not_to_read_ahead_ask_one_page_after_the_other(tmp_path):
    plan = NewsPlan({"peru": 4}, per_page=2, listing_delay=0.6, numbered_pages=True)
    for name, spider_args, settings in [("incremental", (), {}),
                                        ("full", ("-a", "mode=full"), {"PERUWIRE_LISTING_PAGES_AHEAD": 0})]:
        db = tmp_path / f"{name}.db"
        with FaultSite(FIXTURES, "faults.example", plan=plan) as site:
            run = crawl(site, db, plan, spider_args, **settings)
            arrivals = [hit.at for hit in listing_hits(site)]
        assert run.returncode == 0 and len(articles(db)) == 4 * 2, run.log[-3000:]
        assert len(arrivals) == 4
        assert min(later - earlier for earlier, later in zip(arrivals, arrivals[1:], strict=False)) >= 0.55, name


def test_the_run_time_budget_ends_a_crawl_trap_with_what_it_read_stored(tmp_path):
    plan = NewsPlan({"trap": None}, per_page=2, listing_delay=0.3)
    db = tmp_path / "x.db"
    started = time.monotonic()
    with FaultSite(FIXTURES, "faults.example", plan=plan) as site:
        run = crawl(site, db, plan, CLOSESPIDER_TIMEOUT=5)
    assert time.monotonic() - started < 40
    read = run.stat("peruwire/articles/fetched")
    assert read > 0 and len([r for r in articles(db).values() if r["complete"]]) == read
    assert run.returncode == 1 and "time budget (CLOSESPIDER_TIMEOUT) ran out" in run.log


# --- 43: what the pipelines lose is counted -------------------------------------------------------


def test_items_the_pipelines_drop_or_fail_make_the_run_unhealthy(tmp_path):
    untitled = [NewsArticle(f"/2023/06/02/untitled-{n}/", title="") for n in range(5)]
    failing = [NewsArticle(f"/2023/06/03/failing-{n}/", title=f"Report {n} pipeline-fails") for n in range(3)]
    plan = NewsPlan({"peru": 1}, per_page=4, articles=untitled + failing)
    db = tmp_path / "x.db"
    pipelines = {"pipelines.normalize.NormalizePipeline": 300, "tests.faultsite.FailingPipeline": 350,
                 "pipelines.dedup.DedupPipeline": 400, "pipelines.store.StorePipeline": 800}
    with FaultSite(FIXTURES, "faults.example", plan=plan) as site:
        run = crawl(site, db, plan, ITEM_PIPELINES=json.dumps(pipelines))
    assert len(articles(db)) == 4  # only the titled, unbroken ones
    assert run.stat("peruwire/items/dropped") == 5 and run.stat("peruwire/items/failed") == 3
    assert run.returncode == 1, run.log[-3000:]
    assert ("health check failed: 8 items left the pipelines without being stored: "
            "5 dropped (no usable title after cleanup), 3 failed (OverflowError)") in run.log


# --- 44: a declared canonical URL is trusted only for the article itself -------------------------


def test_articles_declaring_the_home_page_canonical_keep_their_own_urls(tmp_path):
    home = [NewsArticle(f"/2023/06/04/home-{n}/", f"Home claimant {n}", declares="/") for n in range(5)]
    plan = NewsPlan({"peru": 1}, per_page=0, articles=home)
    db = tmp_path / "x.db"
    with FaultSite(FIXTURES, "faults.example", plan=plan) as site:
        run = crawl(site, db, plan)
    assert sorted(articles(db)) == sorted(article.path for article in home)
    assert run.stat("peruwire/articles/key_rejected/not_an_article_page") == 5
    assert "not using rel=canonical/og:url" in run.log


def test_an_article_declaring_another_listed_article_never_overwrites_it(tmp_path):
    a = NewsArticle("/2023/06/05/article-a/", "Article A, the original")
    b = NewsArticle("/2023/06/05/article-b/", "Article B, another story", declares=a.path)
    moved = NewsArticle("/2023/06/05/old-slug/", "A story whose slug changed", declares="/2023/06/05/new-slug/")
    plan = NewsPlan({"peru": 1}, per_page=0, articles=[b, a, moved])
    db = tmp_path / "x.db"
    with FaultSite(FIXTURES, "faults.example", plan=plan) as site:
        runs = []
        for _ in range(2):  # whichever page is read first, on either run (all are re-read)
            runs.append(crawl(site, db, plan, PERUWIRE_REFETCH_RECENT_DAYS=100000))
            stored = articles(db)
            assert stored[a.path]["title"] == a.title and stored[b.path]["title"] == b.title
            assert "/2023/06/05/new-slug/" in stored and moved.path not in stored  # a real canonical is used
    assert runs[0].stat("peruwire/articles/key_rejected/another_listed_article") == 1


# --- 45-46: health counts articles, not requests ------------------------------------------------------


def test_four_of_ten_articles_failing_is_unhealthy_however_often_they_were_retried(tmp_path):
    plan = NewsPlan({"peru": 2}, per_page=5)
    failing = {article.path: Status(503) for article in plan.listed_on("peru", 1)[:4]}
    plan = NewsPlan({"peru": 2}, per_page=5, faults=failing)
    db = tmp_path / "x.db"
    with FaultSite(FIXTURES, "faults.example", plan=plan) as site:
        run = crawl(site, db, plan)
        retried = sum(site.hits(path) for path in failing)
    assert retried == 4 * 3  # every attempt was made...
    assert run.returncode == 1  # ...and counted once per article
    assert "health check failed: 4 of 10 articles could not be read (40%, maximum 20%)" in run.log


def test_a_video_post_is_read_once_and_a_steady_incremental_run_is_healthy(tmp_path):
    video = NewsArticle("/2023/06/06/video-the-march/", "Video: the march on Lima", media_only=True)
    plan = NewsPlan({"peru": 1}, per_page=2, articles=[video])
    db = tmp_path / "x.db"
    with FaultSite(FIXTURES, "faults.example", plan=plan) as site:
        first = crawl(site, db, plan)
        site.reset_counts()
        second = crawl(site, db, plan)
        video_hits = site.hits(video.path)
    row = articles(db)[video.path]
    assert row["complete"] == 1 and row["body"] is None
    assert first.returncode == 0 and second.returncode == 0, first.log[-2000:] + second.log[-2000:]
    assert video_hits == 0  # known, complete: the listing is enough
    assert first.stat("peruwire/articles/media_only") == 1


def test_one_failure_in_a_small_run_is_below_the_sample_a_ratio_needs(tmp_path):
    plan = NewsPlan({"peru": 1}, per_page=3)
    broken = plan.listed_on("peru", 1)[0].path
    plan = NewsPlan({"peru": 1}, per_page=3, faults={broken: Status(500)})
    db = tmp_path / "x.db"
    with FaultSite(FIXTURES, "faults.example", plan=plan) as site:
        run = crawl(site, db, plan)
    assert run.stat("peruwire/articles/incomplete") == 1
    assert run.returncode == 0, run.log[-2000:]  # 1 of 3 is no rate: PERUWIRE_HEALTH_MIN_SAMPLE


# --- 47: a section listed later adds itself by an update ---------------------------------------------


def test_an_article_listed_by_a_later_section_gains_it_in_the_database(tmp_path):
    shared = NewsArticle("/2023/06/07/shared-story/", "A story two sections list")
    db = tmp_path / "x.db"
    second_last_page = "/tag/second/page/3/"

    class Both(NewsPlan):
        def listed_on(self, name, page):
            found = super().listed_on(name, page)
            return found + [shared] if (name, page) == ("second", 3) else found

    plan = Both({"first": 1, "second": 3}, per_page=2, articles=[shared], listing_delay=0.2)
    with FaultSite(FIXTURES, "faults.example", plan=plan) as site:
        run = crawl(site, db, plan, PERUWIRE_STORE_BATCH_SIZE=1)
        assert site.hits(second_last_page) == 1
    assert run.returncode == 0, run.log[-2000:]
    assert sections_of(db, shared.path) == {"first/", "second/"}
