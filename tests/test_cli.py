"""The `peruwire` command, on SQLite and PostgreSQL: what an analyst types and sees."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys

import pytest

from peruwire_crawl.cli import main
from peruwire_crawl.db.migrate import head_revision
from peruwire_crawl.db.store import ArticleStore, record_from_item

ARTICLES = [
    {"url": "https://peoplesdispatch.org/2023/06/16/perus-de-facto-president-blames-protesters/",
     "source": "peoplesdispatch", "sections": ["https://peoplesdispatch.org/tag/new-peru-left/"],
     "title": "Peru’s de facto president blames protesters for their own deaths",
     "summary": "Dina Boluarte said the protesters were to blame.", "language": "en",
     "published_at": "2023-06-16T00:00:00+00:00", "date_precision": "day", "authors": ["Peoples Dispatch"],
     "body": "Families of the victims demand justice.\n\nThe strike continues in Puno."},
    {"url": "https://peoplesdispatch.org/2023/03/16/enver-leon-la-mayoria-de-los-peruanos/",
     "source": "peoplesdispatch", "sections": ["https://peoplesdispatch.org/tag/new-peru-left/",
                                               "https://peoplesdispatch.org/tag/moquegua-department/"],
     "title": "Enver León: “La mayoría de los peruanos quieren un cambio de Constitución”",
     "summary": "=HYPERLINK(\"http://evil.example\")", "language": "es",
     "published_at": "2023-03-16T00:00:00+00:00", "date_precision": "day", "authors": ["Zoe Alexandra"],
     "body": "Las protestas continúan en todo el país.",
     "translations": ["https://peoplesdispatch.org/2023/03/16/enver-leon-the-majority/"]},
    {"url": "https://peoplesdispatch.org/2022/06/30/castillo-leaves-free-peru/", "source": "peoplesdispatch",
     "title": "Peruvian President Pedro Castillo leaves Free Peru party", "summary": None, "language": "en",
     "published_at": "2022-06-30T00:00:00+00:00", "date_precision": "day",
     "body": "-5 ministers resigned."},
]


@pytest.fixture
def filled(db_engine):
    """The URL of a database holding ARTICLES, stored by one finished run."""
    store = ArticleStore(db_engine)
    run_id = store.open_run("peru")
    store.write([record_from_item(a) for a in ARTICLES], run_id=run_id)
    store.close_run(run_id, new=3, pages_fetched=5)
    return db_engine.url.render_as_string(hide_password=False)


def run(capsys, *argv):
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_db_upgrade_creates_then_reports_up_to_date(db_url, capsys):
    status, out, _ = run(capsys, "db", "upgrade", "--db", db_url)
    assert status == 0 and f"upgraded from schema revision (empty) to {head_revision()}" in out
    status, out, _ = run(capsys, "db", "upgrade", "--db", db_url)
    assert status == 0 and f"is up to date (schema revision {head_revision()})" in out
    assert run(capsys, "db", "current", "--db", db_url)[1].startswith(head_revision())


def test_stats_counts_per_source_section_language_month_and_lists_runs(filled, capsys):
    status, out, _ = run(capsys, "stats", "--db", filled)
    assert status == 0
    assert "articles: 3" in out
    assert "  peoplesdispatch  3" in out
    sections = out.split("articles per section:\n")[1].split("\n\n")[0].splitlines()
    assert [line.split() for line in sections] == [
        ["https://peoplesdispatch.org/tag/new-peru-left/", "2"],
        ["https://peoplesdispatch.org/tag/moquegua-department/", "1"],
    ]
    assert "  en  2\n  es  1" in out
    assert "  2023-06  1\n  2023-03  1\n  2022-06  1" in out
    assert "finished" in out.split("last 10 crawl runs:")[1]

    data = json.loads(run(capsys, "stats", "--json", "--db", filled)[1])
    assert data["articles"] == 3 and data["language"] == {"en": 2, "es": 1}
    assert data["runs"][0]["new"] == 3 and data["runs"][0]["status"] == "finished"


def test_search_finds_words_in_body_with_filters(filled, capsys):
    status, out, _ = run(capsys, "search", "país", "--db", filled)
    lines = out.splitlines()
    assert status == 0 and lines[0] == "published_at\tlanguage\tsource\ttitle\turl"
    assert len(lines) == 2 and lines[1].startswith("2023-03-16T00:00:00+00:00\tes\tpeoplesdispatch\tEnver León")

    assert len(run(capsys, "search", "strike Puno", "--db", filled)[1].splitlines()) == 2
    assert len(run(capsys, "search", "país", "--language", "en", "--db", filled)[1].splitlines()) == 1
    assert len(run(capsys, "search", "Peru", "--db", filled)[1].splitlines()) == 3
    assert len(run(capsys, "search", "Peru", "--since", "2023-01-01", "--db", filled)[1].splitlines()) == 2
    assert len(run(capsys, "search", "Constitución", "--db", filled)[1].splitlines()) == 2
    hits = [json.loads(line) for line in run(capsys, "search", "Castillo", "--json", "--db", filled)[1].splitlines()]
    assert [hit["url"] for hit in hits] == [ARTICLES[2]["url"]]


def test_search_survives_query_syntax_characters(filled, capsys):
    status, out, _ = run(capsys, "search", 'Constitución" OR (NEAR -', "--db", filled)
    assert status == 0


def test_export_csv_has_stable_columns_iso_dates_and_no_formulas(filled, capsys, tmp_path):
    target = tmp_path / "out.csv"
    status, _, err = run(capsys, "export", "--format", "csv", "--output", str(target), "--db", filled)
    assert status == 0 and f"3 articles written to {target}" in err
    raw = target.read_bytes().decode("utf-8")
    rows = list(csv.DictReader(io.StringIO(raw)))
    assert list(rows[0]) == ["id", "url", "source", "language", "published_at", "date_precision", "modified_at",
                             "title", "summary", "authors", "sections", "translation_of", "translations",
                             "complete", "first_seen_at", "last_seen_at", "changed_at", "body"]
    by_url = {row["url"]: row for row in rows}
    spanish = by_url[ARTICLES[1]["url"]]
    assert spanish["published_at"] == "2023-03-16T00:00:00+00:00"
    assert spanish["summary"] == "'=HYPERLINK(\"http://evil.example\")"
    assert json.loads(spanish["sections"]) == sorted(ARTICLES[1]["sections"])
    assert spanish["authors"] == '["Zoe Alexandra"]' and spanish["complete"] == "true"
    assert by_url[ARTICLES[2]["url"]]["body"] == "'-5 ministers resigned."
    assert "La mayoría" in spanish["title"]


def test_export_jsonl_filters_by_dates_and_section(filled, capsys):
    status, out, _ = run(capsys, "export", "--format", "jsonl", "--since", "2023-01-01", "--until", "2023-03-16",
                         "--section", "https://peoplesdispatch.org/tag/moquegua-department/", "--db", filled)
    [row] = [json.loads(line) for line in out.splitlines()]
    assert status == 0 and row["url"] == ARTICLES[1]["url"]
    assert row["authors"] == ["Zoe Alexandra"] and row["translations"] == ARTICLES[1]["translations"]
    assert row["summary"].startswith("=HYPERLINK")  # only CSV is neutralised
    out = run(capsys, "export", "--format", "jsonl", "--until", "2023-03-15", "--db", filled)[1]
    assert [json.loads(line)["url"] for line in out.splitlines()] == [ARTICLES[2]["url"]]


@pytest.mark.parametrize("argv, message", [
    (["stats", "--db", "sqlite:////nonexistent/peru.db"], "there is no database at /nonexistent/peru.db"),
    (["stats", "--db", "postgresql+psycopg://a:s3cret@127.0.0.1:1/x"], "cannot connect to the database postgresql+psycopg://a:***@127.0.0.1:1/x"),
    (["export", "--format", "csv", "--since", "yesterday", "--db", "sqlite://"], "'yesterday' is not a date"),
    (["ingest", "/nonexistent.jsonl", "--db", "sqlite://"], "there is no file /nonexistent.jsonl"),
])
def test_errors_are_one_plain_sentence(argv, message, capsys):
    status, out, err = run(capsys, *argv)
    assert status == 1 and out == ""
    assert err.startswith("peruwire: error: ") and message in err
    assert err.count("\n") == 1 and "s3cret" not in err and "Traceback" not in err


def test_reading_an_unmigrated_database_says_what_to_do(db_url, capsys):
    from peruwire_crawl.db.engine import make_engine
    from peruwire_crawl.db.migrate import upgrade

    upgrade(make_engine(db_url), "0001")
    status, _, err = run(capsys, "stats", "--db", db_url)
    assert status == 1 and f"is at schema revision 0001, this peruwire reads {head_revision()}: run `peruwire db upgrade`" in err


def test_ingest_reports_a_bad_line_by_number_and_stores_the_good_ones(db_url, tmp_path, capsys):
    source = tmp_path / "items.jsonl"
    lines = [json.dumps(ARTICLES[0]), "{not json", json.dumps(ARTICLES[1])]
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    status, out, err = run(capsys, "ingest", str(source), "--db", db_url)
    assert status == 1 and f"{source} line 2 is not a stored item" in err
    assert "stored 2 articles" in out and "1 lines skipped" in out


def test_every_command_has_help_with_an_example(capsys):
    for argv in (["--help"], ["stats", "--help"], ["search", "--help"], ["export", "--help"],
                 ["ingest", "--help"], ["db", "upgrade", "--help"]):
        with pytest.raises(SystemExit) as exit_:
            main(argv)
        assert exit_.value.code == 0
        assert "example:\n  peruwire " in capsys.readouterr().out


def test_the_console_script_pipes_utf8(filled, tmp_path):
    """As a shell runs it: `python -m peruwire_crawl.cli export ... | head -1`."""
    result = subprocess.run(
        [sys.executable, "-m", "peruwire_crawl.cli", "export", "--format", "jsonl", "--db", filled],
        capture_output=True, env={"PYTHONIOENCODING": "ascii", "PATH": "/usr/bin:/bin"}, check=True)
    assert "La mayoría".encode("utf-8") in result.stdout
    assert result.stderr == b""


def test_the_console_scripts_quick_exit_loses_no_output_and_keeps_the_status(filled):
    """The console script exits without Python's last garbage collection (teardown.py)."""
    command = [sys.executable, "-m", "peruwire_crawl.cli"]
    exported = subprocess.run([*command, "export", "--format", "jsonl", "--db", filled], capture_output=True)
    assert exported.returncode == 0
    assert sorted(json.loads(line)["url"] for line in exported.stdout.splitlines()) == sorted(a["url"] for a in ARTICLES)
    missing = subprocess.run([*command, "show", "999999", "--db", filled], capture_output=True, text=True)
    assert missing.returncode == 1 and missing.stderr.startswith("peruwire: error: ")
    assert subprocess.run([*command, "--help"], capture_output=True).returncode == 0
    assert subprocess.run([*command, "no-such-command"], capture_output=True).returncode == 2
