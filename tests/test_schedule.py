"""Running on a schedule: one run at a time, pause/resume, the exit status and runs listing.

Every crawl is a real `scrapy crawl peru` subprocess. Request counts come from the crawl
stats; nothing here measures time.
"""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from peruwire_crawl import replay
from peruwire_crawl.health import ALREADY_RUNNING
from tests.crawling import REPO, crawl, start_crawl
from tests.faultsite import FaultPlan, FaultSite, Slow

pytestmark = pytest.mark.slow

FAULT_FIXTURES = REPO / "tests" / "fixtures_faults"
FAULT_HOST = "faults.example"
FAULT_SECTION = "/tag/peru/"


def wait_for(predicate, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def peruwire(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "peruwire_crawl.cli", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=60)


@pytest.fixture
def slow_site():
    """The fault site with a first section page that takes 8 s: a run that is still running."""
    with FaultSite(FAULT_FIXTURES, FAULT_HOST, plan=FaultPlan({FAULT_SECTION: Slow(8)})) as site:
        yield site


def test_a_second_run_exits_at_once_while_one_runs_and_a_killed_run_blocks_nothing(slow_site, db_url, tmp_path):
    section = f"sections={slow_site.url(FAULT_SECTION)}"
    first_log = tmp_path / "first.log"
    first = start_crawl(tmp_path, "-a", section, log_file=first_log, replay=None, db_url=db_url)
    try:
        wait_for(lambda: "Storing articles in" in first_log.read_text(), "the first run to start")
        second = crawl(tmp_path, "-a", section, replay=None, db_url=db_url, timeout=60)
        assert second.returncode == ALREADY_RUNNING, second.log[-2000:]
        assert "another run is using" in second.log
        assert second.stat("downloader/request_count") == 0
    finally:
        first.send_signal(signal.SIGKILL)  # killed mid-run: nothing may keep the lock
        first.wait(timeout=30)
    slow_site.plan.clear()
    third = crawl(tmp_path, "-a", section, replay=None, db_url=db_url, timeout=120)
    assert third.returncode != ALREADY_RUNNING, third.log[-2000:]
    assert third.stat("finish_reason") == "finished"
    assert third.stat("peruwire/store/new") > 0


def test_pause_and_resume_with_jobdir_stores_every_article_once(tmp_path):
    jobdir = tmp_path / "job"
    paused = crawl(tmp_path, settings={"JOBDIR": jobdir, "CLOSESPIDER_ITEMCOUNT": 5})
    assert paused.stat("finish_reason") == "closespider_itemcount", paused.log[-2000:]
    resumed = crawl(tmp_path, settings={"JOBDIR": jobdir})
    assert resumed.stat("finish_reason") == "finished", resumed.log[-2000:]
    with sqlite3.connect(tmp_path / "peruwire.db") as db:
        urls = [url for (url,) in db.execute("SELECT url FROM articles")]
    assert len(urls) == len(set(urls)) == 18


def test_healthy_run_exits_0_and_is_listed_by_peruwire_runs(tmp_path):
    result = crawl(tmp_path)
    assert result.returncode == 0, result.log[-2000:]
    assert "peru: 18 new, 0 updated, 0 unchanged, 1 duplicates, 0 errors" in result.log
    assert "— healthy" in result.log
    runs = peruwire("runs", "--db", f"sqlite:///{tmp_path / 'peruwire.db'}")
    assert runs.returncode == 0, runs.stderr
    assert "finished" in runs.stdout and "18" in runs.stdout


def test_a_section_that_suddenly_lists_nothing_fails_every_run_until_fixed(tmp_path):
    reason = ("section https://peoplesdispatch.org/tag/impeachment-of-martin-vizcarra/ "
              "lists no article on its first page")
    for _ in range(2):  # a 304 must not hide the broken page on the next run
        result = crawl(tmp_path, replay=("peoplesdispatch-broken", "peoplesdispatch"))
        assert result.returncode == 1, result.log[-2000:]
        assert f"health check failed: {reason}" in result.log
        assert "UNHEALTHY" in result.log
    with sqlite3.connect(tmp_path / "peruwire.db") as db:
        runs = db.execute("SELECT status, notes FROM crawl_runs ORDER BY id").fetchall()
    assert [status for status, _ in runs] == ["unhealthy", "unhealthy"]
    assert all(reason in notes for _, notes in runs)


def test_a_reused_finished_jobdir_reads_nothing_and_says_so(tmp_path):
    jobdir = tmp_path / "job"
    assert crawl(tmp_path, settings={"JOBDIR": jobdir}).returncode == 0
    again = crawl(tmp_path, settings={"JOBDIR": jobdir})
    assert again.returncode == 1
    assert "health check failed: the run read no section page" in again.log


def test_the_site_over_time_costs_requests_in_proportion_to_what_is_new(tmp_path):
    """Three runs: everything; the same site again; the site three weeks later."""
    first = crawl(tmp_path)
    assert first.returncode == 0, first.log[-2000:]
    assert first.stat("peruwire/store/new") == 18

    # Same snapshot: each section's first page answers 304, no article page is fetched (the
    # one missing page answered 404: gone, so not retried until a listing shows it again).
    second = crawl(tmp_path)
    assert second.returncode == 0, second.log[-2000:]
    assert second.stat("peruwire/sections/not_modified") == 3
    assert second.stat("peruwire/articles/fetch_reason/incomplete", 0) == 0
    assert second.stat("peruwire/articles/fetched", 0) == 0
    assert second.stat("downloader/request_count") == 1 + 3  # robots.txt + three first pages
    assert second.stat("peruwire/store/new", 0) == 0

    # Three weeks later: two new articles top /tag/new-peru-left/ (pushing old ones onto
    # page 2), one article listed on /tag/peru/ is retitled; the impeachment tag and
    # /tag/peru/page/2/ are unchanged.
    third = crawl(tmp_path, replay=("peoplesdispatch-later", "peoplesdispatch"))
    assert third.returncode == 0, third.log[-2000:]
    assert third.stat("peruwire/articles/fetch_reason/new") == 2
    assert third.stat("peruwire/articles/fetch_reason/listing_changed") == 1
    assert third.stat("peruwire/articles/fetched") == 3
    # robots.txt; new-peru-left pages 1 and 2 (both changed); impeachment page 1 (304);
    # peru page 1 (changed) and page 2 (304); three article pages.
    assert third.stat("downloader/request_count") == 1 + 2 + 1 + 2 + 3
    assert third.stat("peruwire/sections/not_modified") == 2
    assert third.stat("peruwire/store/new") == 2
    assert third.stat("peruwire/store/updated") == 1
    with sqlite3.connect(tmp_path / "peruwire.db") as db:
        revisions = db.execute(
            "SELECT r.title, a.title FROM article_revisions r JOIN articles a ON a.id = r.article_id"
        ).fetchall()
        total = db.execute("SELECT count(*) FROM articles").fetchone()[0]
    assert revisions == [(
        "Rondas campesinas from Cajamarca travel to Lima to join protests",
        "Rondas campesinas from Cajamarca arrive in Lima to join anti-government protests",
    )]
    assert total == 20


def test_full_mode_walks_every_page_again(tmp_path):
    crawl(tmp_path)
    full = crawl(tmp_path, "-a", "mode=full")
    assert full.returncode == 0, full.log[-2000:]
    assert full.stat("peruwire/sections/not_modified", 0) == 0
    assert full.stat("peruwire/articles/fetched") == 18  # every article page but the missing one
    assert full.stat("peruwire/store/new", 0) == 0


def test_an_article_that_failed_is_fetched_again_even_when_its_sections_answer_304(tmp_path):
    """A passing failure (a 503 past the retries) is retried by the next run, although no
    section page changed, so none lists the article again."""
    article = "https://peoplesdispatch.org/2022/06/30/peruvian-president-pedro-castillo-leaves-free-peru-party/"
    outage = tmp_path / "outage"
    replay.save(outage, article, replay.StoredResponse(status=503))
    first = crawl(tmp_path, replay=(outage, "peoplesdispatch"), settings={"RETRY_TIMES": 0})
    assert first.returncode == 0, first.log[-2000:]  # one failed page is within the error budget
    second = crawl(tmp_path)
    assert second.stat("peruwire/sections/not_modified") == 3
    assert second.stat("peruwire/articles/fetch_reason/incomplete") == 1
    assert second.stat("peruwire/articles/fetched") == 1
    with sqlite3.connect(tmp_path / "peruwire.db") as db:
        [(complete, reason, body)] = db.execute(
            "SELECT complete, incomplete_reason, body FROM articles WHERE url = ?", (article,)).fetchall()
    assert complete == 1 and reason is None and body


def test_recent_articles_are_fetched_again_even_when_their_sections_answer_304(tmp_path):
    """News gets corrected: articles published within PERUWIRE_REFETCH_RECENT_DAYS are
    re-read on every run. (The fixtures date from 2023, so a window of ~300 years makes
    every stored article recent.)"""
    assert crawl(tmp_path).returncode == 0
    again = crawl(tmp_path, settings={"PERUWIRE_REFETCH_RECENT_DAYS": 100_000})
    assert again.returncode == 0, again.log[-2000:]
    assert again.stat("peruwire/sections/not_modified") == 3
    assert again.stat("peruwire/articles/fetch_reason/recent") == 17  # every complete article
    assert again.stat("peruwire/articles/fetched") == 17
    assert again.stat("peruwire/store/new", 0) == 0
