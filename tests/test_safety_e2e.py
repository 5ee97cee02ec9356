"""End to end: the safety faults of issue 13 (hostile headers, paths and databases).

Each test runs a real ``scrapy crawl peru`` subprocess against the fault site of
``tests/faultsite.py`` (or a local server the test starts) and checks what reached the
database, the file system and the log. docs/reliability.md lists each fault with its test.
"""

from __future__ import annotations

import json
import re
import signal
import sqlite3
import subprocess
import threading
import time
from pathlib import Path

import pytest
from dbproxy import FreezableProxy
from faultsite import Body, Call, FaultPlan, FaultSite, ListingWithLinks, Ok, Redirect, Slow, WithDate
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from test_faults_e2e import (
    ARTICLES,
    CRAWL_TIMEOUT,
    FIXTURES,
    REPO,
    SITE,
    TARGETS,
    assert_stored_correctly,
    crawl,
    crawl_command,
    crawl_env,
    peruwire,
    rows,
    wait_for,
)
from test_runlock import lock_backends, terminate

from peruwire_crawl.db.engine import make_engine
from peruwire_crawl.db.migrate import upgrade_to_head
from peruwire_crawl.health import ALREADY_RUNNING, CONFIG_ERROR

pytestmark = pytest.mark.slow

ABSURD_DATES = {
    TARGETS[0]: "Fri, 31 Dec 9999 23:59:59 GMT",
    TARGETS[1]: "Fri, 31 Dec 9999 23:59:59 -0500",  # overflows when turned into UTC
    TARGETS[2]: "Wed, 01 Jan 1800 00:00:00 GMT",
    TARGETS[3]: "not a date at all",
    TARGETS[4]: "Thu, 01 Jan 2099 00:00:00 GMT",  # a server clock 70 years fast
}


def test_absurd_date_headers_are_ignored_and_no_article_is_lost(tmp_path):
    db = tmp_path / "x.db"
    plan = FaultPlan({path: WithDate(date) for path, date in ABSURD_DATES.items()})
    with FaultSite(FIXTURES, SITE["host"], plan=plan) as site:
        run = crawl(site, db)
    assert "OverflowError" not in run.log
    assert run.returncode == 0, run.log[-3000:]
    stored = rows(db)
    for path in ABSURD_DATES:
        assert_stored_correctly(stored[path], path)
        fetched_year = int(stored[path]["last_seen_at"][:4])
        assert 2020 <= fetched_year < 2099, stored[path]["last_seen_at"]


# --- passwords in every form of database URL -----------------------------------------------------

PASSWORD = "S3cret-Passw0rd-xyzzy"
UNREACHABLE_FORMS = {
    "user-info": f"postgresql+psycopg://peruwire:{PASSWORD}@127.0.0.1:1/peruwire",
    "query": f"postgresql+psycopg://peruwire@127.0.0.1:1/peruwire?password={PASSWORD}",
    "no scheme": f"peruwire:{PASSWORD}@127.0.0.1:1/peruwire",
}


@pytest.mark.parametrize("form", UNREACHABLE_FORMS)
def test_no_form_of_database_password_is_printed_by_the_crawl_or_the_cli(tmp_path, form):
    url = UNREACHABLE_FORMS[form]
    with FaultSite(FIXTURES, SITE["host"]) as site:
        run = crawl(site, tmp_path / "x.db", f"PERUWIRE_DB_URL={url}")
    assert run.returncode == 78, run.log[-2000:]
    # One line says why: the storage check, or (a URL that lost its scheme) the settings check
    # that names PERUWIRE_DB_URL before anything is opened.
    assert "Storage unavailable" in run.log or "PERUWIRE_DB_URL" in run.log
    assert PASSWORD not in run.log
    for command in (("stats", "--db", url), ("db", "upgrade", "--db", url)):
        cli = peruwire(*command)
        assert cli.returncode != 0
        assert PASSWORD not in cli.stdout + cli.stderr, command


@pytest.mark.postgres
def test_a_password_in_the_query_is_masked_in_the_log_the_stats_and_crawl_runs(tmp_path, postgres_url):
    # The test server trusts local connections, so the password is carried and ignored.
    url = f"{postgres_url}?password={PASSWORD}"
    stats_file = tmp_path / "stats.json"
    with FaultSite(FIXTURES, SITE["host"]) as site:
        run = crawl(site, tmp_path / "x.db", f"PERUWIRE_DB_URL={url}", f"PERUWIRE_STATS_FILE={stats_file}")
    assert run.returncode == 0, run.log[-2000:]
    assert "Storing articles in" in run.log and "password=***" in run.log
    assert PASSWORD not in run.log
    assert PASSWORD not in stats_file.read_text("utf-8")
    engine = create_engine(postgres_url)
    with engine.connect() as connection:
        runs = connection.execute(text("SELECT * FROM crawl_runs")).mappings().all()
    engine.dispose()
    assert runs and PASSWORD not in repr(runs)
    cli = peruwire("runs", "--db", url)
    assert cli.returncode == 0, cli.stderr
    assert PASSWORD not in cli.stdout + cli.stderr


# --- a database that is locked, or not peruwire's --------------------------------------------------


def migrated_sqlite(db: Path, journal_mode: str = "wal") -> None:
    engine = make_engine(f"sqlite:///{db}")
    upgrade_to_head(engine)
    engine.dispose()
    with sqlite3.connect(db) as connection:
        connection.execute(f"PRAGMA journal_mode = {journal_mode}")


@pytest.mark.parametrize("journal_mode", ["wal", "delete"])
def test_a_database_locked_at_start_is_temporary_exit_75(tmp_path, journal_mode):
    db = tmp_path / "x.db"
    migrated_sqlite(db, journal_mode)
    analyst = sqlite3.connect(db, isolation_level=None)
    analyst.execute("BEGIN IMMEDIATE")  # an analyst's write transaction left open
    try:
        with FaultSite(FIXTURES, SITE["host"]) as site:
            run = crawl(site, db, "PERUWIRE_DB_BUSY_TIMEOUT=0.5")
            article_hits = sum(site.hits(path) for path in ARTICLES)
    finally:
        analyst.execute("ROLLBACK")
        analyst.close()
    assert run.returncode == ALREADY_RUNNING, run.log[-3000:]
    assert "database is busy" in run.log and "database is locked" in run.log
    assert article_hits == 0

    with FaultSite(FIXTURES, SITE["host"]) as site:  # the lock gone, the next run does it all
        assert crawl(site, db).returncode == 0
    assert set(ARTICLES) <= set(rows(db))


def foreign_sqlite(path: Path) -> bytes:
    """Another application's SQLite file (rollback journal, as most applications keep it)."""
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)")
        connection.execute("INSERT INTO invoices (total) VALUES (12.5), (99.0)")
    connection.close()
    return path.read_bytes()


def test_another_applications_sqlite_file_is_refused_and_left_byte_for_byte(tmp_path):
    db = tmp_path / "theirs.db"
    before = foreign_sqlite(db)
    with FaultSite(FIXTURES, SITE["host"]) as site:
        run = crawl(site, db)
        article_hits = sum(site.hits(path) for path in ARTICLES)
    assert run.returncode == CONFIG_ERROR, run.log[-3000:]
    assert "another application's tables (invoices)" in run.log and "PERUWIRE_DB_ADOPT" in run.log
    assert article_hits == 0
    assert db.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("theirs")) == ["theirs.db"]

    cli = peruwire("db", "upgrade", "--db", f"sqlite:///{db}")
    assert cli.returncode != 0 and "another application's tables" in cli.stderr
    assert db.read_bytes() == before


def test_a_file_that_is_not_sqlite_is_refused_untouched(tmp_path):
    db = tmp_path / "notes.db"
    db.write_bytes(b"my notes, not a database\n" * 200)
    with FaultSite(FIXTURES, SITE["host"]) as site:
        run = crawl(site, db)
    assert run.returncode == CONFIG_ERROR, run.log[-3000:]
    assert "is not a SQLite database" in run.log
    assert db.read_bytes() == b"my notes, not a database\n" * 200


def test_the_adopt_setting_adds_peruwire_tables_to_a_foreign_file(tmp_path):
    db = tmp_path / "theirs.db"
    foreign_sqlite(db)
    with FaultSite(FIXTURES, SITE["host"]) as site:
        run = crawl(site, db, "PERUWIRE_DB_ADOPT=true")
    assert run.returncode == 0, run.log[-3000:]
    assert set(ARTICLES) <= set(rows(db))
    with sqlite3.connect(db) as connection:
        assert connection.execute("SELECT COUNT(*) FROM invoices").fetchone()[0] == 2


# --- record and replay stay in their directory -------------------------------------------------------

UP = "..%2F" * 7  # from <record>/<host>/2023/06/1x/ well past the test's directory
LISTED_ATTACK = f"/2023/06/10/{UP}escaped-by-link.html"
REDIRECTING = "/2023/06/11/moved-article/"
REDIRECT_ATTACK = f"/2023/06/11/{UP}escaped-by-redirect.html"


def test_recording_never_writes_outside_its_directory(tmp_path):
    recording = tmp_path / "a" / "b" / "recording"
    plan = FaultPlan({
        SITE["section"]: ListingWithLinks({LISTED_ATTACK: "A listed link that climbs out",
                                           REDIRECTING: "An article that moved"}),
        LISTED_ATTACK: Body(b"<html><body><h1>written by the server</h1></body></html>"),
        REDIRECTING: Redirect(REDIRECT_ATTACK),
        REDIRECT_ATTACK: Body(b"<html><body><h1>written by the server</h1></body></html>"),
    })
    before = set(tmp_path.parent.iterdir())
    with FaultSite(FIXTURES, SITE["host"], plan=plan) as site:
        run = crawl(site, tmp_path / "x.db", f"PERUWIRE_RECORD={recording}")
        assert site.hits(LISTED_ATTACK) >= 1 and site.hits(REDIRECT_ATTACK) >= 1  # the crawl met both
    assert "Traceback" not in run.log, run.log[-3000:]
    written = {path for path in tmp_path.rglob("*") if path.is_file()}
    outside = {path for path in written if not path.is_relative_to(recording)}
    assert {path.name for path in outside} <= {"x.db", "x.db-wal", "x.db-shm", "x.db.lock", "dead-letter.jsonl"}
    assert set(tmp_path.parent.iterdir()) == before
    # What the server sent is kept inside, under a name that cannot climb.
    climbers = {path.name for path in written if "escaped-by" in path.name}
    assert {f"{UP}escaped-by-link.html", f"{UP}escaped-by-redirect.html"} <= climbers


# --- the run lock cannot vanish -------------------------------------------------------------------


def test_a_second_run_through_a_symlink_to_the_same_sqlite_file_is_refused(tmp_path):
    db = tmp_path / "data" / "x.db"
    db.parent.mkdir()
    link = tmp_path / "link.db"
    link.symlink_to(db)
    first_may_go_on = threading.Event()
    # The first run waits on its section page (holding the lock) until the second is done.
    plan = FaultPlan({SITE["section"]: [Call(lambda: first_may_go_on.wait(CRAWL_TIMEOUT)), Ok()]})
    with FaultSite(FIXTURES, SITE["host"], plan=plan) as site:
        first = subprocess.Popen(crawl_command(site, db, f"DOWNLOAD_TIMEOUT={CRAWL_TIMEOUT}"), cwd=REPO,
                                 env=crawl_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            assert wait_for(lambda: site.hits(SITE["section"]) >= 1, timeout=60)
            second = crawl(site, link)  # through the symlink
        finally:
            first_may_go_on.set()
            first_log, _ = first.communicate(timeout=CRAWL_TIMEOUT)
    assert second.returncode == ALREADY_RUNNING, second.log[-3000:]
    assert "another run is using" in second.log
    assert site.hits(SITE["section"]) == 1  # the second run fetched nothing
    assert first.returncode == 0, first_log[-3000:]


def postgres_article_urls(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return set(connection.execute(text("SELECT url FROM articles")).scalars())
    except Exception:  # not created yet
        return set()
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_a_run_whose_lock_session_is_terminated_stops_writing_and_loses_nothing(tmp_path, postgres_url):
    db = tmp_path / "x.db"  # only names the dead-letter file's directory
    dead_letter = tmp_path / "dead-letter.jsonl"
    plan = FaultPlan({path: Slow(0.3 + 0.15 * number) for number, path in enumerate(TARGETS)})
    with FaultSite(FIXTURES, SITE["host"], plan=plan) as site:
        process = subprocess.Popen(
            crawl_command(site, db, f"PERUWIRE_DB_URL={postgres_url}", "PERUWIRE_STORE_BATCH_SIZE=1",
                          "CONCURRENT_REQUESTS_PER_DOMAIN=2"),
            cwd=REPO, env=crawl_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            assert wait_for(lambda: len(postgres_article_urls(postgres_url)) >= 2, timeout=60)
            [pid] = lock_backends(postgres_url)
            terminate(postgres_url, pid)  # as a DBA, idle_session_timeout or a restart would
            log, _ = process.communicate(timeout=CRAWL_TIMEOUT)
        finally:
            if process.poll() is None:
                process.kill()
        assert process.returncode == 1, log[-3000:]
        assert "Run lock lost" in log and "Stopping the crawl's writes" in log
        stored = postgres_article_urls(postgres_url)
        parked = {json.loads(line)["url"] for line in dead_letter.read_text("utf-8").splitlines()}
        assert parked and not stored & parked
        assert len(stored) < len(ARTICLES)  # writes stopped...
    # ...and every item the crawl produced is stored or parked for `peruwire ingest` (pages
    # still in flight when the crawl stopped were never read: the next run fetches them).
    scraped = int(re.search(r"'item_scraped_count': (\d+)", log)[1])
    assert len(stored) + len(parked) == scraped
    engine = create_engine(postgres_url)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT finish_reason FROM crawl_runs")).scalar() == "run_lock_lost"
    engine.dispose()


# --- a frozen database ---------------------------------------------------------------------------

FROZEN_SETTINGS = (
    "PERUWIRE_DB_STATEMENT_TIMEOUT=1",  # the client gives up 5 s later on a silent server
    "PERUWIRE_DB_CONNECT_TIMEOUT=2",
    "PERUWIRE_DB_BUSY_TIMEOUT=0.5",
    "PERUWIRE_STORE_BATCH_SIZE=1",
    "PERUWIRE_STORE_RETRY_DELAY=0.5",
    "PERUWIRE_STORE_CLOSE_RETRIES=1",
)


@pytest.mark.postgres
def test_a_frozen_database_costs_bounded_waits_and_sigterm_is_honoured(tmp_path, postgres_url):
    db = tmp_path / "x.db"  # only names the dead-letter file's directory
    dead_letter = tmp_path / "dead-letter.jsonl"
    server = make_url(postgres_url)
    plan = FaultPlan({path: Slow(0.3 + 0.15 * number) for number, path in enumerate(TARGETS)})
    with FreezableProxy(server.host, server.port or 5432) as proxy, \
            FaultSite(FIXTURES, SITE["host"], plan=plan) as site:
        through_proxy = server.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
        process = subprocess.Popen(
            crawl_command(site, db, f"PERUWIRE_DB_URL={through_proxy}", *FROZEN_SETTINGS),
            cwd=REPO, env=crawl_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            assert wait_for(lambda: len(postgres_article_urls(postgres_url)) >= 2, timeout=60)
            proxy.freeze()  # every database call from now on meets a silent server
            frozen_at = time.monotonic()
            time.sleep(2)
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)  # systemd stopping the unit
            log, _ = process.communicate(timeout=CRAWL_TIMEOUT)
            stop_seconds = time.monotonic() - frozen_at
        finally:
            if process.poll() is None:
                process.kill()
                process.communicate()
    assert process.returncode != 0, log[-3000:]
    assert "did not answer within 6 s" in log, log[-3000:]
    # Bounded: each remaining call waits at most its deadline (the lock check before a batch,
    # the run row), never for ever. A generous bound for a loaded machine; without the
    # timeouts the crawl never ends at all.
    assert stop_seconds < 60, log[-3000:]
    stored = postgres_article_urls(postgres_url)
    parked = {json.loads(line)["url"] for line in dead_letter.read_text("utf-8").splitlines()}
    scraped = int(re.search(r"'item_scraped_count': (\d+)", log)[1])
    assert parked and len(stored | parked) == scraped  # nothing read was lost
