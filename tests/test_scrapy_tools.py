"""Scrapy's own tools on peruwire, run as a Scrapy user runs them: parse, shell, check,
settings. Debugging tools read pages; they never write to the database nor record a run."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from peruwire_crawl import replay
from tests.crawling import FIXTURES, REPO, crawl, crawl_env

pytestmark = pytest.mark.slow

SITE = "https://peoplesdispatch.org"
SECTION = f"{SITE}/tag/new-peru-left/"
ARTICLE = f"{SITE}/2023/06/16/perus-de-facto-president-blames-protesters-for-their-own-deaths-at-the-hands-of-state-forces/"
REPLAY = ("-s", f"PERUWIRE_REPLAY={FIXTURES / 'peoplesdispatch'}")


def scrapy(*args: str, env: dict[str, str] | None = None, python: str | None = None,
           timeout: float = 120) -> subprocess.CompletedProcess:
    """`scrapy ARGS` from the repository root (``python``: code to run first, e.g. a patch)."""
    if python:
        # execute() reads sys.argv[1:], which are the arguments after "-c CODE".
        command = [sys.executable, "-c", f"{python}\nfrom scrapy.cmdline import execute\nexecute()", *args]
    else:
        command = [sys.executable, "-m", "scrapy", *args]
    return subprocess.run(command, cwd=REPO, env={**crawl_env(), **(env or {})},
                          capture_output=True, text=True, timeout=timeout)


def database_dump(path: Path) -> list[str]:
    with sqlite3.connect(path) as db:
        return list(db.iterdump())


@pytest.fixture(scope="module")
def crawled_db(tmp_path_factory) -> Path:
    """A database one replayed crawl filled (one run, 18 articles)."""
    tmp_path = tmp_path_factory.mktemp("tools")
    result = crawl(tmp_path)
    assert result.returncode == 0, result.log[-2000:]
    return tmp_path / "peruwire.db"


@pytest.fixture
def untouched(crawled_db):
    """The crawled database, named by the environment variable a crawl honours; the test
    fails if the tool changed anything in it."""
    before = database_dump(crawled_db)
    yield {"PERUWIRE_DB_URL": f"sqlite:///{crawled_db}"}
    assert database_dump(crawled_db) == before


def printed_items(output: str) -> list[dict]:
    """The items `scrapy parse --nocolour` printed (a Python literal list)."""
    import ast

    block = output.split("# Scraped Items", 1)[1].split("\n", 1)[1].split("# Requests", 1)[0]
    return ast.literal_eval(block.strip())


def printed_requests(output: str) -> list[str]:
    return re.findall(r"<GET (\S+?)>", output.split("# Requests", 1)[1])


# --- scrapy parse -----------------------------------------------------------------------
def test_parse_a_section_url_without_a_callback_shows_its_articles_and_next_page(untouched):
    result = scrapy("parse", "--spider", "peru", "--nocolour", *REPLAY, SECTION, env=untouched)
    assert result.returncode == 0, result.stderr[-3000:]
    requests = printed_requests(result.stdout)
    assert f"{SECTION}page/2/" in requests
    assert ARTICLE in requests
    assert len([url for url in requests if "/tag/" not in url]) == 8
    assert "Traceback" not in result.stderr


def test_parse_an_article_url_without_a_callback_shows_the_item_with_every_field(untouched):
    result = scrapy("parse", "--spider", "peru", "--nocolour", *REPLAY, ARTICLE, env=untouched)
    assert result.returncode == 0, result.stderr[-3000:]
    (item,) = printed_items(result.stdout)
    assert item["url"] == ARTICLE
    assert item["source"] == "peoplesdispatch"
    assert item["complete"] is True
    for field in ("title", "summary", "published_at", "date_precision", "authors", "language", "body"):
        assert item[field], field
    assert item["published_at"].startswith("2023-06-16")
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("callback, url", [("parse_section", SECTION), ("parse_article", ARTICLE)])
def test_parse_with_a_named_callback_needs_no_hand_made_meta(untouched, callback, url):
    result = scrapy("parse", "--spider", "peru", "--nocolour", "-c", callback, *REPLAY, url, env=untouched)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Traceback" not in result.stderr and "KeyError" not in result.stderr
    if callback == "parse_section":
        assert f"{SECTION}page/2/" in printed_requests(result.stdout)
    else:
        assert len(printed_items(result.stdout)) == 1


def test_parse_following_links_to_the_articles_still_writes_nothing(untouched):
    result = scrapy("parse", "--spider", "peru", "--nocolour", "--depth", "2", *REPLAY, SECTION, env=untouched)
    assert result.returncode == 0, result.stderr[-3000:]
    items = printed_items(result.stdout)
    assert len(items) >= 8 and all(item["complete"] for item in items)


def test_parse_with_pipelines_stores_on_purpose(tmp_path):
    database = tmp_path / "parsed.db"
    result = scrapy("parse", "--spider", "peru", "--nocolour", "--pipelines", *REPLAY,
                    "-s", f"PERUWIRE_DB_URL=sqlite:///{database}", ARTICLE)
    assert result.returncode == 0, result.stderr[-3000:]
    with sqlite3.connect(database) as db:
        stored = db.execute("SELECT url, body IS NOT NULL FROM articles").fetchall()
        runs = db.execute("SELECT spider, status FROM crawl_runs").fetchall()
    assert stored == [(ARTICLE, 1)]
    assert runs == [("peru", "finished")]


# --- scrapy shell -----------------------------------------------------------------------
@pytest.mark.parametrize("spider", [(), ("--spider", "peru")], ids=["default spider", "peru"])
def test_shell_reads_a_page_and_leaves_no_run_behind(untouched, spider):
    result = scrapy("shell", *spider, *REPLAY, ARTICLE, "-c", "response.status, len(response.text) > 1000",
                    env=untouched)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip() == "(200, True)"


# --- scrapy check -----------------------------------------------------------------------
def test_check_runs_real_contracts_that_pass_on_the_fixtures(untouched):
    result = scrapy("check", "peru", *REPLAY, env=untouched)
    assert result.returncode == 0, result.stderr[-3000:]
    ran = [line for line in result.stderr.splitlines() if line.startswith("Ran ")]
    assert ran and int(ran[0].split()[1]) >= 3, result.stderr
    assert result.stderr.rstrip().endswith("OK")


BREAK_PAGE_OBJECTS = """
from peruwire_crawl.pages import ArticlePage, SectionPage
SectionPage.entries = property(lambda self: [])
SectionPage.next_page_url = property(lambda self: None)
ArticlePage.body = property(lambda self: None)
"""


def test_check_fails_when_the_page_objects_break(untouched):
    result = scrapy("check", "peru", *REPLAY, env=untouched, python=BREAK_PAGE_OBJECTS)
    assert result.returncode == 1, result.stderr[-3000:]
    assert "FAILED (failures=3)" in result.stderr
    assert "0 article requests, expected at least 8" in result.stderr
    assert "0 requests for a next page" in result.stderr
    assert "no readable body" in result.stderr  # the article contract: not read from its page


def test_check_fails_when_the_section_layout_changes(untouched, tmp_path):
    """The broken fixture's client-side listing, served as the checked section page."""
    broken = FIXTURES / "peoplesdispatch-broken"
    page = replay.url_to_path(broken, f"{SITE}/tag/impeachment-of-martin-vizcarra/")
    overlay = tmp_path / "overlay"
    target = replay.url_to_path(overlay, SECTION)
    target.parent.mkdir(parents=True)
    target.write_bytes(page.read_bytes())
    (overlay / replay.SNAPSHOT_FILE).write_text((broken / replay.SNAPSHOT_FILE).read_text())
    layered = os.pathsep.join([str(overlay), str(FIXTURES / "peoplesdispatch")])
    result = scrapy("check", "peru", "-s", f"PERUWIRE_REPLAY={layered}", env=untouched)
    assert result.returncode == 1
    assert "0 article requests, expected at least 8" in result.stderr


# --- scrapy settings --------------------------------------------------------------------
def test_settings_get_shows_the_database_a_crawl_would_use(tmp_path):
    from_env = f"sqlite:///{tmp_path / 'from-env.db'}"
    shown = scrapy("settings", "--get", "PERUWIRE_DB_URL", env={"PERUWIRE_DB_URL": from_env})
    assert shown.stdout.strip() == from_env, shown.stderr
    given = f"sqlite:///{tmp_path / 'given.db'}"
    shown = scrapy("settings", "--get", "PERUWIRE_DB_URL", "-s", f"PERUWIRE_DB_URL={given}",
                   env={"PERUWIRE_DB_URL": from_env})
    assert shown.stdout.strip() == given
    assert scrapy("settings", "--get", "PERUWIRE_DB_URL").stdout.strip() == "sqlite:///peruwire.db"
    # Every peruwire default is visible, not only those settings.py repeats.
    assert scrapy("settings", "--get", "PERUWIRE_REFETCH_RECENT_DAYS").stdout.strip() == "3"
    coverage = scrapy("settings", "--get", "PERUWIRE_HEALTH_MIN_COVERAGE").stdout.strip()
    assert json.loads(coverage.replace("'", '"'))["title"] == 1.0
