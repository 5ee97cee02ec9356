"""End to end: the safety faults of issue 13 (hostile headers, paths and databases).

Each test runs a real ``scrapy crawl peru`` subprocess against the fault site of
``tests/faultsite.py`` (or a local server the test starts) and checks what reached the
database, the file system and the log. docs/reliability.md lists each fault with its test.
"""

from __future__ import annotations

import pytest

from faultsite import FaultPlan, FaultSite, WithDate
from sqlalchemy import create_engine, text

from test_faults_e2e import FIXTURES, SITE, TARGETS, assert_stored_correctly, crawl, peruwire, rows

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
    assert "Storage unavailable" in run.log
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
