"""Configuration mistakes: one plain sentence naming the setting and the fix, no traceback,
exit status 78 (EX_CONFIG) before any request, and the run recorded as failed wherever the
database itself is usable."""

from __future__ import annotations

import sqlite3

import pytest

from tests.crawling import crawl

pytestmark = pytest.mark.slow

CONFIG_ERROR = 78

# name -> (crawl arguments, settings, the name the message must give); {tmp} is tmp_path.
MISTAKES = {
    "sections not a URL": (["-a", "sections=notaurl"], {}, "sections"),
    "unknown mode": (["-a", "mode=fulll"], {}, "mode"),
    "unknown spider argument": (["-a", "section=https://peoplesdispatch.org/tag/peru/"], {}, "section"),
    "days not a number": ([], {"PERUWIRE_REFETCH_RECENT_DAYS": "abc"}, "PERUWIRE_REFETCH_RECENT_DAYS"),
    "coverage not JSON": ([], {"PERUWIRE_HEALTH_MIN_COVERAGE": "title:1"}, "PERUWIRE_HEALTH_MIN_COVERAGE"),
    "coverage not a share": ([], {"PERUWIRE_HEALTH_MIN_COVERAGE": '{"title": "all"}'}, "PERUWIRE_HEALTH_MIN_COVERAGE"),
    "batch size not a number": ([], {"PERUWIRE_STORE_BATCH_SIZE": "many"}, "PERUWIRE_STORE_BATCH_SIZE"),
    "earliest date not a date": ([], {"PERUWIRE_EARLIEST_DATE": "soon"}, "PERUWIRE_EARLIEST_DATE"),
    "missing sections file": ([], {"PERUWIRE_SECTIONS_FILE": "{tmp}/no-such.toml"}, "PERUWIRE_SECTIONS_FILE"),
    "missing replay directory": ([], {"PERUWIRE_REPLAY": "{tmp}/no-such-dir"}, "PERUWIRE_REPLAY"),
    "missing log directory": (["--logfile", "{tmp}/no-such-dir/crawl.log"], {}, "LOG_FILE"),
}


def error_lines(log: str) -> list[str]:
    return [line for line in log.splitlines() if " ERROR: " in line or line.startswith("ERROR")]


def assert_one_plain_config_error(result, name: str) -> str:
    assert result.returncode == CONFIG_ERROR, result.log[-3000:]
    assert "Traceback" not in result.log, result.log[-3000:]
    assert "Crawled (" not in result.log, "a request was sent"
    (line,) = error_lines(result.log)
    assert name in line
    return line


@pytest.mark.parametrize("mistake", MISTAKES, ids=list(MISTAKES))
def test_a_configuration_mistake_is_one_line_exit_78_and_a_failed_run(tmp_path, mistake):
    args, settings, name = MISTAKES[mistake]
    args = [arg.replace("{tmp}", str(tmp_path)) for arg in args]
    settings = {key: value.replace("{tmp}", str(tmp_path)) for key, value in settings.items()}
    result = crawl(tmp_path, *args, settings={"LOG_LEVEL": "DEBUG", **settings})
    line = assert_one_plain_config_error(result, name)
    with sqlite3.connect(tmp_path / "peruwire.db") as db:
        runs = db.execute("SELECT status, finish_reason, notes, pages_fetched FROM crawl_runs").fetchall()
    assert len(runs) == 1, runs
    status, reason, notes, pages = runs[0]
    assert (status, reason, pages) == ("failed", "configuration_error", 0)
    assert name in notes and notes in line


@pytest.mark.parametrize("url, why", [
    ("postgresql+psycopg://postgres@127.0.0.1:5544x/peruwire", "port"),
    ("sqlite://", "memory"),
    ("sqlite:///:memory:", "memory"),
    ("mysql://u@127.0.0.1/peruwire", "SQLite nor PostgreSQL"),
    ("not a url", "not a database URL"),
    # Nothing listens on port 1 of this machine: connection refused at once.
    ("postgresql+psycopg://postgres@127.0.0.1:1/peruwire", "cannot connect"),
])
@pytest.mark.parametrize("given_by", ["setting", "environment"])
def test_a_database_url_that_cannot_work_is_one_line_and_exit_78(tmp_path, url, why, given_by, monkeypatch):
    if given_by == "environment":
        monkeypatch.setenv("PERUWIRE_DB_URL", url)
        result = crawl_with_env_db(tmp_path)
    else:
        result = crawl(tmp_path, db_url=url, settings={"LOG_LEVEL": "DEBUG"})
    line = assert_one_plain_config_error(result, "PERUWIRE_DB_URL")
    assert why in line
    assert "healthy" not in result.log.replace("UNHEALTHY", "")


def crawl_with_env_db(tmp_path):
    """A crawl whose database comes from the PERUWIRE_DB_URL environment variable only."""
    import os
    import subprocess

    from tests.crawling import REPO, CrawlFiles, crawl_command

    files = CrawlFiles.next_in(tmp_path)
    command = crawl_command(tmp_path, files, settings={"LOG_LEVEL": "DEBUG"})
    at = command.index(next(a for a in command if a.startswith("PERUWIRE_DB_URL=")))
    del command[at - 1:at + 1]
    done = subprocess.run(command, cwd=REPO, env=dict(os.environ), capture_output=True, text=True, timeout=120)
    return files.result(done.returncode, done.stderr + done.stdout)
