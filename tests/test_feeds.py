"""Feeds that tell the truth: a run's `-o/-O` file holds exactly the articles the run added
or changed, each exactly as stored after the run (its `peruwire export` line), never a
listing-only stub; an article the run saw unchanged does not appear."""

from __future__ import annotations

import csv
import json
import sqlite3
import subprocess
import sys

import pytest

from tests.crawling import REPO, crawl

pytestmark = pytest.mark.slow


def exported(tmp_path) -> dict[str, dict]:
    """Every stored article as `peruwire export --format jsonl` gives it, by URL."""
    done = subprocess.run(
        [sys.executable, "-m", "peruwire_crawl.cli", "export", "--format", "jsonl",
         "--db", f"sqlite:///{tmp_path / 'peruwire.db'}"],
        cwd=REPO, capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in done.stdout.splitlines() if line]
    return {row["url"]: row for row in rows}


def changed_since(before: dict[str, dict], after: dict[str, dict]) -> set[str]:
    """URLs of articles a run added, or whose stored content it changed."""
    return {url for url, row in after.items()
            if url not in before or row["changed_at"] != before[url]["changed_at"]}


def by_url(items: list[dict]) -> dict[str, dict]:
    urls = [item["url"] for item in items]
    assert len(urls) == len(set(urls)), "an article appears twice in the feed"
    return {item["url"]: item for item in items}


@pytest.fixture(scope="module")
def three_runs(tmp_path_factory):
    """The site, the same site again, and the site three weeks later, into one database."""
    tmp_path = tmp_path_factory.mktemp("feeds")
    runs = []
    snapshots = [{}]
    for replay in ("peoplesdispatch", "peoplesdispatch", ("peoplesdispatch-later", "peoplesdispatch")):
        result = crawl(tmp_path, replay=replay)
        assert result.returncode == 0, result.log[-3000:]
        runs.append(result)
        snapshots.append(exported(tmp_path))
    return runs, snapshots


def test_the_first_run_feed_holds_every_article_as_stored(three_runs):
    (first, _, _), (before, after, _, _) = three_runs
    feed = by_url(first.items)
    assert set(feed) == set(after) and len(feed) == 18
    for url, item in feed.items():
        assert item == after[url]


def test_a_run_that_changed_nothing_writes_an_empty_feed(three_runs):
    (_, second, _), _ = three_runs
    assert second.stat("peruwire/store/new") == second.stat("peruwire/store/updated", 0) == 0
    assert second.items == []


def test_an_incremental_runs_feed_holds_exactly_the_new_and_changed_articles_complete(three_runs):
    (_, _, later), (_, _, before, after) = three_runs
    feed = by_url(later.items)
    expected = changed_since(before, after)
    assert expected, "the later fixture adds and changes articles"
    assert set(feed) == expected
    assert len(feed) == later.stat("peruwire/store/new") + later.stat("peruwire/store/updated")
    for url, item in feed.items():
        assert item == after[url]  # as stored: no listing-only stub, no date cut to the day
        assert item["body"] and item["complete"]


def test_a_csv_feed_has_the_export_columns(tmp_path):
    result = crawl(tmp_path, "-a", "sections=https://peoplesdispatch.org/tag/impeachment-of-martin-vizcarra/",
                   "-O", str(tmp_path / "run.csv"))
    assert result.returncode == 0, result.log[-3000:]
    with (tmp_path / "run.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    stored = exported(tmp_path)
    assert {row["url"] for row in rows} == set(stored) and len(rows) == 4
    assert all(row["body"] == stored[row["url"]]["body"] for row in rows)


def test_pause_and_resume_feeds_together_hold_every_article_once(tmp_path):
    jobdir = tmp_path / "job"
    paused = crawl(tmp_path, settings={"JOBDIR": jobdir, "CLOSESPIDER_ITEMCOUNT": 5})
    assert paused.stat("finish_reason") == "closespider_itemcount", paused.log[-2000:]
    assert paused.returncode == 1  # the run did not finish
    with sqlite3.connect(tmp_path / "peruwire.db") as db:
        stored_when_paused = {url for (url,) in db.execute("SELECT url FROM articles")}
    assert {item["url"] for item in paused.items} == stored_when_paused
    resumed = crawl(tmp_path, settings={"JOBDIR": jobdir})
    assert resumed.stat("finish_reason") == "finished", resumed.log[-2000:]
    urls = [item["url"] for item in paused.items + resumed.items]
    assert len(urls) == len(set(urls)) == 18
    stored = exported(tmp_path)
    for item in resumed.items:
        assert item == stored[item["url"]]


def test_a_closespider_limit_stops_the_run_and_the_feed_holds_what_was_stored(tmp_path):
    result = crawl(tmp_path, settings={"CLOSESPIDER_PAGECOUNT": 6})
    with sqlite3.connect(tmp_path / "peruwire.db") as db:
        stored = {url for (url,) in db.execute("SELECT url FROM articles")}
        runs = db.execute("SELECT status, finish_reason FROM crawl_runs").fetchall()
    assert result.stat("finish_reason") == "closespider_pagecount"
    assert result.returncode == 1  # cut short: not a healthy run
    assert runs == [("failed", "closespider_pagecount")]
    assert stored and {item["url"] for item in result.items} == stored
